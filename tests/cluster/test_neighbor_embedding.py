"""The neighbour-embedding stage of SeCuClustering on vectors."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score
from tiny_estimators import make_tiny

from skdeepcluster import SeCuClustering
from skdeepcluster._training import make_generator, run_training
from skdeepcluster.cluster._hardreg import fixed_feature_partition
from skdeepcluster.cluster._neighbor_embedding import (
    NEIGHBOR_EMBEDDING_MAX_EPOCHS,
    NeighborEmbeddingTask,
    neighbor_embedding_batch_size,
    neighbor_embedding_epochs,
)
from skdeepcluster.cluster._secu import _SeCuTask


def tiny(**params):
    """SeCu for the six blobs: an MLP of 32, a head of 32 to 16 dimensions."""
    return make_tiny("SeCu", 6, width=32, **dict(dict(random_state=0), **params))


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=6, n_features=20, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


def test_epochs_follow_the_steps_asked_for_within_bounds():
    assert neighbor_embedding_epochs(10_000, 0) == 0
    per_epoch = 10_000 // 512
    assert neighbor_embedding_epochs(10_000, 2500) == -(-2500 // per_epoch)
    assert neighbor_embedding_epochs(100, 10**6) == NEIGHBOR_EMBEDDING_MAX_EPOCHS
    assert neighbor_embedding_epochs(10**7, 10) == 1
    assert neighbor_embedding_batch_size(10**6) == 512
    assert neighbor_embedding_batch_size(40) == 20 and neighbor_embedding_batch_size(3) == 2


def test_the_task_separates_groups_its_views_pair_within():
    # two groups whose views stay in their group, and a wide nuisance feature that
    # k-means on the inputs splits instead: the trained embedding keeps the groups apart
    g = torch.Generator().manual_seed(0)
    groups = torch.arange(64) % 2
    x = torch.randn(64, 4, generator=g) * 0.3 + groups[:, None] * 2.0
    x[:, 0] = 6.0 * torch.randint(2, (64,), generator=g) + 0.3 * torch.randn(64, generator=g)

    def views(batch, index, generator):
        partner = torch.stack(
            [index[(groups[index] == groups[i]).nonzero().flatten()[0]] for i in index]
        )
        return batch, x[partner] + 0.05 * torch.randn(batch.shape, generator=generator)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    task = NeighborEmbeddingTask(net, views, g)
    batches = [(idx, x[idx]) for idx in torch.arange(64).split(32)]
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    history = run_training(task, batches, range(150), opt)
    assert history[-1]["loss"] < history[0]["loss"]
    with torch.no_grad():
        e = net(x).numpy()
    found = KMeans(2, n_init=10, random_state=0).fit_predict(e)
    raw = KMeans(2, n_init=10, random_state=0).fit_predict(x.numpy())
    assert adjusted_rand_score(groups.numpy(), found) > 0.9
    assert adjusted_rand_score(groups.numpy(), raw) < 0.1


def test_vectors_get_the_stage_and_images_partial_fit_and_opt_outs_do_not(blobs):
    X, _ = blobs
    est = tiny(max_iter=2).fit(X)
    assert est.module_.neighbor is not None
    n = neighbor_embedding_epochs(len(X), est.neighbor_embedding_steps)
    stages = [r.get("stage") for r in est.history_]
    assert stages[:n] == ["neighbor_embedding"] * n and "neighbor_embedding" not in stages[n:]
    assert [r["epoch"] for r in est.history_[: n + 1]] == list(range(-1 - n, 0))
    assert est.n_iter_ == 2 and len(est.history_) == n + 3
    for params in ({"neighbor_embedding": False}, {"augment": None}):
        other = tiny(max_iter=1, **params).fit(X)
        assert other.module_.neighbor is None and len(other.history_) == 2
    streamed = tiny().partial_fit(X)
    assert streamed.module_.neighbor is None
    images = (load_digits().images[:40] / 16).astype(np.float32)
    est = make_tiny("SeCu", 4, max_iter=1, images=True, random_state=0).fit(images)
    assert est.module_.neighbor is None


def test_no_steps_keeps_the_layer_untrained(blobs):
    X, _ = blobs
    est = tiny(max_iter=1, neighbor_embedding_steps=0).fit(X)
    assert est.module_.neighbor is not None and len(est.history_) == 2


def test_centres_start_at_the_hardreg_partition_of_the_neighbour_embedding(blobs):
    X, _ = blobs
    est = tiny()
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    net = est.module_
    net.eval()
    with torch.no_grad():
        e, z = net.encode(data)
    net.train()
    initial = est._init_centers(data, make_generator(3))
    # the same draws: the pool (all 300 samples here), then the partition's seed
    g = make_generator(3)
    pool = torch.randperm(len(X), generator=g)
    seed = int(torch.randint(2**31 - 1, (1,), generator=g))
    labels = fixed_feature_partition(e[pool], 6, seed, predict_on=e)
    assert len(initial) == 1 and torch.equal(initial[0], labels)
    assert len(labels.unique()) == 6
    means = torch.stack([z[pool][labels[pool] == c].mean(0) for c in range(6)])
    expected = torch.nn.functional.normalize(means, dim=1)
    assert torch.allclose(net.centers[0], expected, atol=1e-5)


def test_the_initial_partition_is_kept_until_the_given_epoch(blobs):
    X, _ = blobs
    est = tiny(max_iter=4)
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    task = _SeCuTask(est, data, None, make_generator(0))
    # a partition the centres disagree with: every sample in cluster 0 but one per cluster
    initial = torch.zeros(len(X), dtype=torch.long)
    initial[:6] = torch.arange(6)
    task.start_from([initial], until_epoch=2)
    assert torch.equal(task.memory[0].labels, initial)
    index = torch.arange(len(X))
    z = est.module_.embed(torch.cat([data, data])).detach()
    task.on_epoch_start(1)
    task._objective(index, z, epoch=1)
    assert torch.equal(task.memory[0].labels, initial)
    task.on_epoch_start(2)
    task._objective(index, z, epoch=2)
    assert not torch.equal(task.memory[0].labels, initial)
    assert task.state_dict()["fixed_until"] == 2


def test_fixed_feature_partition_labels_new_samples_by_its_model():
    X, y = make_blobs(n_samples=900, centers=3, n_features=4, random_state=0)
    x = torch.as_tensor(X, dtype=torch.float32)
    labels = fixed_feature_partition(x, 3, random_state=0)
    assert adjusted_rand_score(y, labels.numpy()) == 1.0
    again = fixed_feature_partition(x, 3, random_state=0, predict_on=x[::7])
    assert torch.equal(again, labels[::7])


def test_labels_are_the_predictions_and_separated_blobs_are_found(blobs):
    X, y = blobs
    est = tiny(max_iter=10).fit(X)
    assert np.array_equal(est.labels_, est.predict(X))
    assert adjusted_rand_score(y, est.labels_) > 0.95


@pytest.mark.parametrize(
    "batches, stream, expected",
    [
        (5, False, (60, 10)),  # small data: the paper's 60 epochs, 10 of warm-up
        (80, False, (60, 10)),
        (300, False, (17, 3)),
        (547, False, (10, 2)),  # MNIST 70k in batches of 128
        (10**5, False, (10, 2)),
        (300, True, (17, 10)),  # a stream warms up over 10 passes
    ],
)
def test_auto_epochs_aim_at_a_number_of_steps(batches, stream, expected):
    assert SeCuClustering()._epochs(batches, stream) == expected
    assert SeCuClustering(max_iter=7, warmup_epochs=3)._epochs(batches, stream) == (7, 3)
