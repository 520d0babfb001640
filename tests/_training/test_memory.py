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
