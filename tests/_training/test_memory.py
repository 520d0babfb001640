import pytest
import torch

from skdeepcluster._training import LabelMemory


def test_counts_follow_label_updates():
    mem = LabelMemory(6, 3)
    mem.update(torch.arange(6), torch.tensor([0, 0, 1, 1, 2, 2]))
    assert mem.counts.tolist() == [2, 2, 2]
    mem.update(torch.tensor([0, 2]), torch.tensor([2, 2]))
    assert mem.counts.tolist() == [1, 1, 4]
    before = mem.counts.clone()
    mem.recount()
    assert torch.equal(before, mem.counts)


def test_state_roundtrip():
    mem = LabelMemory(3, 2)
    mem.update(torch.tensor([1]), torch.tensor([1]))
    other = LabelMemory(3, 2)
    other.load_state_dict(mem.state_dict())
    assert other.labels.tolist() == [-1, 1, -1]
    assert other.counts.tolist() == [0, 1]


def test_running_counts_fill_then_age_to_the_window():
    from skdeepcluster._training import RunningCounts

    running = RunningCounts(3, window=10)
    running.add(torch.tensor([0, 0, 0, 0, 1, 1]))
    assert running.counts.tolist() == [4, 2, 0]  # below the window: plain counts
    running.add(torch.tensor([2, 2, 2, 2, 2, 2, 2, 2]))
    # the 6 old labels are scaled to 10 - 8 = 2, keeping their proportions
    assert torch.allclose(running.counts, torch.tensor([4 / 3, 2 / 3, 8], dtype=torch.float64))
    for _ in range(50):
        running.add(torch.tensor([1]))
    assert running.counts.sum().item() == pytest.approx(10)
    assert running.counts[1] > 9.5  # old labels fade: a moving average over ~10 labels
    other = RunningCounts(3, window=1)
    other.load_state_dict(running.state_dict())
    assert other.window == 10 and torch.equal(other.counts, running.counts)
    with pytest.raises(ValueError, match="window must be positive"):
        RunningCounts(3, window=0)
