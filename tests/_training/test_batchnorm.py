import pytest
import torch
from torch import nn

from skdeepcluster._training import frozen_running_stats


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.BatchNorm1d(4))


def test_training_mode_uses_batch_statistics_and_keeps_the_buffers():
    net = _net().train()
    x = torch.randn(16, 3) * 3 + 7
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with frozen_running_stats(net):
        out = net(x)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    reference = _net().train()(x)  # same weights, ordinary batch-norm forward
    assert torch.allclose(out, reference)
    assert all(m.track_running_stats for m in net.modules() if isinstance(m, nn.BatchNorm1d))
    net(x)  # tracking is back
    assert int(net[1].num_batches_tracked) == 1
    assert not torch.equal(net[1].running_mean, before["1.running_mean"])


def test_evaluation_mode_is_unchanged():
    net = _net()
    net.train()(torch.randn(16, 3) + 2)
    net.eval()
    x = torch.randn(5, 3)
    expected = net(x)
    with frozen_running_stats(net):
        assert torch.equal(net(x), expected)


def test_restores_tracking_after_an_error_and_leaves_untracked_layers_alone():
    net = _net()
    net[3].track_running_stats = False
    with pytest.raises(RuntimeError, match="boom"), frozen_running_stats(net):
        raise RuntimeError("boom")
    assert net[1].track_running_stats and not net[3].track_running_stats


def test_other_running_buffers_are_restored_in_place():
    from skdeepcluster.nn import BatchWhitening

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), BatchWhitening(4), nn.BatchNorm1d(4)).train()
    buffers = {name: b for name, b in net.named_buffers()}
    before = {name: b.clone() for name, b in buffers.items()}
    with frozen_running_stats(net):
        net(torch.randn(32, 3) * 2 + 3)
        assert not torch.equal(net[1].running_mean, before["1.running_mean"])  # moved inside
    for name, b in net.named_buffers():
        assert b is buffers[name]  # the same tensors, written back in place
        assert torch.equal(b, before[name]), name
    net(torch.randn(32, 3))  # outside the block everything tracks again
    assert not torch.equal(net[1].running_cov, before["1.running_cov"])
    assert not torch.equal(net[2].running_mean, before["2.running_mean"])
