import math

import numpy as np
import torch

from benchmarks.bench_hardreg_support import LENET, SoftSupportClustering, make
from skdeepcluster import HardRegClustering
from skdeepcluster.losses import hardreg_cost


def test_soft_support_adds_the_kl_of_the_mean_soft_assignment():
    X = torch.rand(64, 1, 8, 8)
    est = SoftSupportClustering(
        3,
        backbone="cnn",
        backbone_params={"widths": (4,)},
        neighbor_embedding=False,
        max_iter=1,
        batch_size=32,
        device="cpu",
        random_state=0,
    ).fit(X)
    loader, task, _ = est._setup_training(X, torch.Generator().manual_seed(0))
    x = X[:32]
    loss, _ = task.training_step(torch.arange(32), x, 0)
    with torch.no_grad():
        cost = hardreg_cost(est.module_.embed(x).float(), est.module_.centroids, est.sigma)
        mean = torch.softmax(-cost, dim=1).mean(0)
        expected = cost.min(dim=1).values.mean() + (mean * (mean.log() + math.log(3))).sum()
    assert torch.allclose(loss.detach(), expected, atol=1e-5)
    assert task.epoch_sizes.sum() == 32


def test_variants_share_the_network():
    hard, soft, none = (make(v, "end-to-end", 0, 2) for v in ("hard", "soft", "none"))
    assert type(hard) is HardRegClustering and hard.assignment == "greedy"
    assert isinstance(soft, SoftSupportClustering) and none.assignment == "nearest"
    for est in (hard, soft, none):
        assert est.backbone_params == LENET and est.neighbor_embedding is False
    assert np.all([make(v, "neighbour", 0, 2).neighbor_embedding for v in ("hard", "soft")])
