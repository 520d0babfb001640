import itertools
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

from skdeepcluster import HardRegClustering
from skdeepcluster._training import make_generator
from skdeepcluster.assignment import hard_regularized_assignment, hard_regularized_objective
from skdeepcluster.cluster import _hardreg
from skdeepcluster.losses import hardreg_cost, hardreg_loss

FAST = dict(
    max_iter=5,
    batch_size=32,
    backbone_params={"hidden_dims": (32,)},
    device="cpu",
    neighbor_embedding=False,
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.8, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32)[:300], y[:300]


class _Recorder:
    """Wrap the solver the estimator calls and keep every call's input and output."""

    def __init__(self):
        self.calls = []

    def __call__(self, cost, **kwargs):
        labels, counts = hard_regularized_assignment(cost, **kwargs)
        self.calls.append((cost.clone(), dict(kwargs), labels.clone()))
        return labels, counts


def test_learns_blobs_and_attributes(blobs):
    X, y = blobs
    est = HardRegClustering(3, random_state=0, **dict(FAST, max_iter=15)).fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    assert est.labels_.dtype == np.int64 and est.labels_.shape == (150,)
    # default embedding: n_clusters + 2 dimensions, at most n_features: here 2
    assert est.cluster_centers_.shape == (3, 2)
    assert est.n_iter_ == 15 and len(est.history_) == 15
    # the last batch (150 = 4 * 32 + 22) is dropped each epoch
    assert sum(est.history_[-1]["cluster_sizes"]) == 128
    assert np.array_equal(est.predict(X), est.labels_)
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.array_equal(proba.argmax(1), est.labels_)
    emb = est.transform(X)
    assert emb.shape == (150, 2) and emb.dtype == np.float32
    # predict_proba is the softmax of minus the squared distance over sigma
    cost = hardreg_cost(torch.from_numpy(emb), torch.from_numpy(est.cluster_centers_), est.sigma)
    assert np.allclose(proba, torch.softmax(-cost, dim=1).numpy(), atol=1e-5)
    assert np.isfinite(est.score(X))


def test_training_step_uses_the_solver_and_trains_on_its_labels(blobs, monkeypatch):
    X, _ = blobs
    recorder = _Recorder()
    monkeypatch.setattr(_hardreg, "hard_regularized_assignment", recorder)
    est = HardRegClustering(3, random_state=0, **dict(FAST, max_iter=2)).fit(X)
    assert len(recorder.calls) == 2 * (150 // 32)
    for cost, kwargs, labels in recorder.calls:
        assert kwargs["method"] == "greedy" and kwargs["counts"] is None
        assert not cost.requires_grad and cost.shape == (32, 3)
        again, _ = hard_regularized_assignment(cost, method="greedy")
        assert torch.equal(labels, again)
    # the per-epoch sizes in the history are the sizes of the solver's labels
    for epoch in range(2):
        calls = recorder.calls[epoch * 4 : (epoch + 1) * 4]
        sizes = sum(torch.bincount(lab, minlength=3) for _, _, lab in calls)
        assert est.history_[epoch]["cluster_sizes"] == sizes.tolist()


def test_loss_of_a_step_is_the_cost_of_the_assigned_centroids(blobs, monkeypatch):
    X, _ = blobs
    est = HardRegClustering(3, random_state=0, **FAST)
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    loader, task, _ = est._setup_training(data, make_generator(0))
    recorder = _Recorder()
    monkeypatch.setattr(_hardreg, "hard_regularized_assignment", recorder)
    index, x = next(iter(loader))
    est.module_.eval()  # fixed whitening statistics: the embedding can be recomputed
    loss, logs = task.training_step(index, x, 0)
    cost, _, labels = recorder.calls[0]
    expected = hardreg_cost(est.module_.embed(x), est.module_.centroids, est.sigma)
    assert torch.allclose(cost, expected.detach(), atol=1e-5)
    assert loss.item() == pytest.approx(hardreg_loss(expected, labels).item(), abs=1e-5)
    assert logs["loss"] == pytest.approx(loss.item())
    loss.backward()
    grad = est.module_.centroids.grad
    unused = torch.ones(3, dtype=torch.bool)
    unused[labels.unique()] = False
    assert grad[unused].abs().sum() == 0 and grad[~unused].abs().sum() > 0


def _brute_force_min(cost):
    b, k = cost.shape
    best = np.inf
    for labels in itertools.product(range(k), repeat=b):
        best = min(best, hard_regularized_objective(cost, torch.tensor(labels)))
    return best


@pytest.mark.parametrize("assignment", ["greedy", "exact"])
def test_batch_objective_against_brute_force(assignment, monkeypatch):
    X, _ = make_blobs(n_samples=24, centers=3, random_state=1)
    recorder = _Recorder()
    monkeypatch.setattr(_hardreg, "hard_regularized_assignment", recorder)
    settings = dict(FAST, max_iter=2, batch_size=6)
    HardRegClustering(3, assignment=assignment, random_state=0, **settings).fit(X)
    assert len(recorder.calls) == 8
    for cost, _, labels in recorder.calls:
        value = hard_regularized_objective(cost, labels)
        optimum = _brute_force_min(cost)
        if assignment == "exact":
            assert value == pytest.approx(optimum, abs=1e-6)
        else:  # the greedy is a heuristic: never below the optimum
            assert value >= optimum - 1e-6


def test_hard_regularisation_prevents_the_collapse_of_plain_nearest_centroid(digits):
    X, _ = digits
    # The paper's plain linear embedding (no whitening) trained fast: with
    # nearest-centroid assignments the encoder maps nearly every sample to one
    # centroid; with the size penalty every cluster keeps its share.
    settings = dict(
        max_iter=40, batch_size=50, lr=0.05, center_lr=0.05, whiten=False,
        backbone_params={"hidden_dims": (32,)}, device="cpu", random_state=2,
        neighbor_embedding=False,
    )  # fmt: skip
    collapsed = HardRegClustering(10, assignment="nearest", **settings).fit(X)
    sizes = np.array(collapsed.history_[-1]["cluster_sizes"])
    assert (sizes > 0).sum() <= 3 and sizes.max() >= 0.8 * len(X)
    assert np.bincount(collapsed.labels_, minlength=10).max() >= 0.8 * len(X)
    kept = HardRegClustering(10, **settings).fit(X)
    assert kept.history_[-1]["cluster_sizes"] == [30] * 10
    # with the default whitened embedding the final model uses every cluster too
    default = HardRegClustering(10, **dict(settings, whiten=True)).fit(X)
    assert np.bincount(default.labels_, minlength=10).min() >= 0.3 * len(X) / 10


def test_prior_skews_the_assignment(monkeypatch):
    X, _ = make_blobs(n_samples=64, centers=2, random_state=0)
    recorder = _Recorder()
    monkeypatch.setattr(_hardreg, "hard_regularized_assignment", recorder)
    prior = [0.8, 0.2]
    settings = dict(FAST, max_iter=1, batch_size=64, sigma=1e6)  # distances are negligible
    HardRegClustering(2, prior=prior, random_state=0, **settings).fit(X)
    _, kwargs, labels = recorder.calls[0]
    assert torch.allclose(kwargs["log_prior"], torch.log(torch.tensor(prior, dtype=torch.float64)))
    sizes = torch.bincount(labels, minlength=2).tolist()
    assert sizes[0] > 2 * sizes[1]


def test_keep_counts_carries_sizes_within_an_epoch(blobs, monkeypatch):
    X, _ = blobs
    recorder = _Recorder()
    monkeypatch.setattr(_hardreg, "hard_regularized_assignment", recorder)
    HardRegClustering(3, keep_counts=True, random_state=0, **dict(FAST, max_iter=2)).fit(X)
    per_epoch = 150 // 32
    for epoch in range(2):
        seen = torch.zeros(3, dtype=torch.float64)
        for _, kwargs, labels in recorder.calls[epoch * per_epoch : (epoch + 1) * per_epoch]:
            assert torch.equal(kwargs["counts"], seen)
            seen = seen + torch.bincount(labels, minlength=3)


def test_same_seed_same_model_and_global_rng_untouched(blobs):
    X, _ = blobs
    torch.manual_seed(1234)
    np.random.seed(99)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = HardRegClustering(3, random_state=7, **FAST).fit(X)
    b = HardRegClustering(3, random_state=7, **FAST).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    c = HardRegClustering(3, random_state=8, **FAST).fit(X)
    assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


def test_pca_projection_and_kmeanspp_initialisation(blobs):
    X, _ = blobs
    est = HardRegClustering(3, random_state=0, **FAST)
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    est._setup_training(data, make_generator(0))
    net = est.module_
    with torch.no_grad():
        h = net.features(data)
        z = net.projection(h)
    # the projection's outputs are uncorrelated (principal components), in decreasing variance
    cov = torch.cov(z.T)
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=1e-3 * cov.max())
    assert (torch.diagonal(cov)[:-1] >= torch.diagonal(cov)[1:] - 1e-4).all()
    # k-means++ seeds are embeddings of training samples
    with torch.no_grad():
        emb = net.embed(data)
    dist = torch.cdist(net.centroids.detach(), emb).min(dim=1).values
    assert torch.allclose(dist, torch.zeros(3), atol=1e-3)


@pytest.mark.parametrize(
    "params",
    [
        {"assignment": "exact"},
        {"keep_counts": True},
        {"init": "random"},
        {"whiten": False},
        {"projection_init": "random"},
        {"embedding_dim": 3},
        {"prior": [0.5, 0.3, 0.2]},
        {"augment": "auto"},
    ],
)
def test_variants_fit(blobs, params):
    X, _ = blobs
    est = HardRegClustering(3, random_state=0, **FAST, **params).fit(X)
    assert len(np.unique(est.labels_)) == 3
    assert np.all(np.isfinite(est.transform(X)))


def test_augment_callable_views_are_trained_on(blobs):
    X, _ = blobs
    calls = []

    def two_views(x, index, generator):
        calls.append(len(x))
        noise = torch.randn(x.shape, generator=generator)
        return x + 0.01 * noise, x - 0.01 * noise

    est = HardRegClustering(3, augment=two_views, random_state=0, **dict(FAST, max_iter=1))
    est.fit(X)
    assert calls == [32] * 4
    # both views are assigned: twice the samples in the epoch's sizes
    assert sum(est.history_[0]["cluster_sizes"]) == 2 * 128


@pytest.mark.parametrize("n_features, n_clusters, expected", [(8, 3, 5), (2, 3, 2), (64, 10, 12)])
def test_default_embedding_dim(n_features, n_clusters, expected):
    X, _ = make_blobs(n_samples=60, n_features=n_features, centers=n_clusters, random_state=0)
    est = HardRegClustering(n_clusters, random_state=0, **dict(FAST, max_iter=1)).fit(X)
    assert est.cluster_centers_.shape == (n_clusters, expected)
    assert est.transform(X).shape == (60, expected)


@pytest.mark.parametrize("n_clusters, dim, expected", [(3, 10, 2), (2, 10, 1), (12, 10, 10)])
def test_default_embedding_dim_on_the_neighbor_embedding(n_clusters, dim, expected):
    est = HardRegClustering(n_clusters, neighbor_embedding_dim=dim, **FAST)
    net = est._network(torch.rand(40, 6), neighbor_embedding=True)
    assert net.projection.in_features == dim and net.projection.out_features == expected


def test_pickle_roundtrip(blobs):
    X, _ = blobs
    est = HardRegClustering(3, random_state=0, **FAST).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    assert np.array_equal(restored.predict(X), est.predict(X))
    assert np.allclose(restored.transform(X), est.transform(X))


def test_custom_backbone_module_is_copied(blobs):
    X, _ = blobs
    user = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU())
    before = user[0].weight.detach().clone()
    est = HardRegClustering(3, backbone=user, random_state=0, **dict(FAST, backbone_params=None))
    est.fit(X)
    assert torch.equal(user[0].weight, before)
    assert est.module_.backbone is not user


@pytest.mark.parametrize(
    "prior, match",
    [
        ([0.5, 0.5], "one probability per cluster"),
        ([[0.2, 0.3, 0.5]], "one probability per cluster"),
        ([0.5, 0.6, -0.1], "positive"),
        ([0.5, 0.5, 0.0], "positive"),
        ([0.2, 0.2, 0.2], "sum to 1"),
        ([0.2, float("nan"), 0.8], "positive, finite"),
        (["a", "b", "c"], "probabilities"),
    ],
)
def test_prior_errors(blobs, prior, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        HardRegClustering(3, prior=prior, **FAST).fit(X)


def test_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="n_clusters=200"):
        HardRegClustering(200, **FAST).fit(X)
    with pytest.raises(ValueError, match="assignment"):
        HardRegClustering(3, assignment="sinkhorn", **FAST).fit(X)
    with pytest.raises(ValueError, match="sigma"):
        HardRegClustering(3, sigma=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="init"):
        HardRegClustering(3, init="k-means", **FAST).fit(X)


def test_silent_by_default_and_verbose_progress(blobs, capsys):
    X, _ = blobs
    HardRegClustering(3, random_state=0, **dict(FAST, max_iter=2)).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    HardRegClustering(3, random_state=0, verbose=1, **dict(FAST, max_iter=2)).fit(X)
    assert "HardRegClustering" in capsys.readouterr().err


# ------------------------------------------------------- neighbour-embedding stage
def test_neighbor_embedding_stage_then_a_frozen_encoder(blobs):
    X = blobs[0]
    params = dict(FAST, neighbor_embedding="auto", neighbor_embedding_steps=200)
    est = HardRegClustering(3, random_state=0, **params)
    recorded = {}

    original = est._setup_training

    def setup(data, generator, stream=False):
        # the encoder as the clustering starts: after the stage, before any clustering step
        recorded["encoder"] = [
            t.clone() for part in est.module_._encoder_parts() for t in part.state_dict().values()
        ]
        return original(data, generator, stream)

    est._setup_training = setup
    est.fit(X)
    net = est.module_
    assert net.neighbor is not None and net.frozen
    stages = [r for r in est.history_ if r.get("stage") == "neighbor_embedding"]
    # 150 samples: batches of 75, 2 steps per epoch, 100 epochs numbered -100 to -1
    assert [r["epoch"] for r in stages] == list(range(-100, 0))
    assert [r["epoch"] for r in est.history_[len(stages) :]] == list(range(FAST["max_iter"]))
    # the clustering epochs left the encoder (batch-norm statistics included) as the stage made it
    after = [t for part in net._encoder_parts() for t in part.state_dict().values()]
    assert all(torch.equal(a, b) for a, b in zip(recorded["encoder"], after, strict=True))
    assert not any(p.requires_grad for part in net._encoder_parts() for p in part.parameters())
    # the projection reads the 10-dim neighbour embedding; K - 1 = 2 dims
    assert net.projection.in_features == 10 and est.cluster_centers_.shape == (3, 2)
    assert np.array_equal(est.labels_, est.predict(X))
    assert adjusted_rand_score(blobs[1], est.labels_) > 0.9


@pytest.mark.parametrize(
    ("batches", "expected"), [(1, 60), (7, 60), (39, 60), (41, 59), (273, 9), (3906, 1), (10**6, 1)]
)
def test_auto_epochs_give_a_fixed_step_budget(batches, expected):
    assert _hardreg.auto_epochs(batches) == expected


def test_auto_max_iter_shortens_only_the_frozen_encoder_fit(blobs, monkeypatch):
    # 150 samples in batches of 16: 9 steps per epoch
    monkeypatch.setattr(_hardreg, "AUTO_STEPS", 27)
    monkeypatch.setattr(_hardreg, "AUTO_MAX_EPOCHS", 5)
    params = dict(FAST, max_iter="auto", batch_size=16, neighbor_embedding_steps=2)
    frozen = HardRegClustering(3, random_state=0, **dict(params, neighbor_embedding=True))
    frozen.fit(blobs[0])
    assert frozen.module_.frozen and frozen.n_iter_ == 3
    clustering = [r for r in frozen.history_ if r.get("stage") != "neighbor_embedding"]
    assert [r["epoch"] for r in clustering] == [0, 1, 2]
    end_to_end = HardRegClustering(3, random_state=0, **params).fit(blobs[0])
    assert not end_to_end.module_.frozen and end_to_end.n_iter_ == 5
    with pytest.raises(ValueError, match="max_iter"):
        HardRegClustering(3, max_iter="long").fit(blobs[0])


def test_neighbor_embedding_on_for_arrays_off_for_streams():
    auto = HardRegClustering(3, **dict(FAST, neighbor_embedding="auto", backbone_params=None))
    # image arrays: the stage's encoder is an MLP on the pixels, as for vectors
    images = auto._build_module(torch.rand(40, 1, 8, 8))
    assert images.neighbor is not None and type(images.backbone).__name__ == "MLP"
    cnn = HardRegClustering(3, **dict(FAST, backbone="cnn", backbone_params={"widths": (4,)}))
    assert type(cnn._build_module(torch.rand(40, 1, 8, 8)).backbone).__name__ == "SmallCNN"
    assert cnn._build_stream_module(torch.rand(40, 1, 8, 8)).neighbor is None
    vectors = torch.rand(40, 5)
    assert auto._build_module(vectors).neighbor is not None
    assert auto._build_stream_module(vectors).neighbor is None
    off = HardRegClustering(3, **dict(FAST, neighbor_embedding=False))
    assert off._build_module(vectors).neighbor is None
