import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from torch.nn import functional as F

from skdeepcluster import PIPCDRClustering
from skdeepcluster._training import make_generator, run_training
from skdeepcluster.cluster import _pipcdr
from skdeepcluster.cluster._pipcdr import cosine_momentum, ema_update, spherical_kmeans

FAST = dict(
    max_iter=6,
    warmup_epochs=1,
    cdr_start=2,
    batch_size=32,
    projection_dim=16,
    projection_hidden=32,
    predictor_hidden=32,
    backbone_params={"hidden_dims": (32,)},
    device="cpu",
    neighbor_embedding=False,  # PIPCDR's own stage alone; the neighbour embedding is tested below
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.8, random_state=0)
    return X.astype(np.float32), y


def _setup(X, **params):
    est = PIPCDRClustering(3, random_state=0, **dict(FAST, **params))
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    est.module_.train()
    return (est, *est._setup_training(data, make_generator(0)))


# ------------------------------------------------------------------ target network
def test_target_starts_as_a_frozen_copy_of_the_online_encoder(blobs):
    est, *_ = _setup(blobs[0])
    net = est.module_
    online, target = net.online_parameters(), net.target_parameters()
    assert len(online) == len(target) > 0
    for o, t in zip(online, target, strict=True):
        assert torch.equal(o, t) and o is not t
        assert o.requires_grad and not t.requires_grad


def test_target_is_exactly_an_ema_of_the_online_network_after_a_step(blobs):
    est, loader, task, optimizer, scheduler = _setup(blobs[0], momentum_schedule="constant")
    net = est.module_
    # perturb the target so that old target and online parameters differ
    with torch.no_grad():
        for t in net.target_parameters():
            t.add_(0.1)
    index, x = next(iter(loader))
    target_old = [t.detach().clone() for t in net.target_parameters()]
    online_old = [o.detach().clone() for o in net.online_parameters()]
    loss, _ = task.training_step(index, x, epoch=0)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    for t in net.target_parameters():
        assert t.grad is None
    online_new = [o.detach().clone() for o in net.online_parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(online_old, online_new, strict=True))
    # the optimiser step did not touch the target
    for t, old in zip(net.target_parameters(), target_old, strict=True):
        assert torch.equal(t, old)
    task.after_optimizer_step(epoch=0)
    m = est.target_momentum
    assert task.momentum == m
    for t, old, new in zip(net.target_parameters(), target_old, online_new, strict=True):
        torch.testing.assert_close(t, m * old + (1 - m) * new, rtol=0, atol=1e-6)
        assert not torch.equal(t, old)


def test_cosine_momentum_schedule_rises_to_one(blobs):
    values = [cosine_momentum(s, 10, 0.9) for s in range(11)]
    assert values[0] == pytest.approx(0.9) and values[-1] == pytest.approx(1.0)
    assert values == sorted(values)
    assert cosine_momentum(5, 10, 0.9) == pytest.approx(0.95)
    est = PIPCDRClustering(3, random_state=0, **FAST).fit(blobs[0])
    assert est.n_iter_ == FAST["max_iter"]


def test_ema_update_in_place():
    t, o = [torch.tensor([1.0, 2.0])], [torch.tensor([3.0, 6.0])]
    ema_update(t, o, 0.5)
    assert t[0].tolist() == [2.0, 4.0]
    ema_update(t, o, 1.0)
    assert t[0].tolist() == [2.0, 4.0]


# ------------------------------------------------------------------ k-means (first M-step)
def test_spherical_kmeans_recovers_planted_directions_and_is_deterministic():
    g = torch.Generator().manual_seed(0)
    directions = F.normalize(torch.randn(4, 6, generator=g), dim=1)
    truth = torch.arange(4).repeat_interleave(30)
    z = F.normalize(directions[truth] + 0.1 * torch.randn(120, 6, generator=g), dim=1)
    centers, labels = spherical_kmeans(z, 4, torch.Generator().manual_seed(1))
    assert adjusted_rand_score(truth.numpy(), labels.numpy()) == 1.0
    assert torch.allclose(centers.norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.equal(labels, (z @ centers.T).argmax(1))
    again = spherical_kmeans(z, 4, torch.Generator().manual_seed(1))
    assert torch.equal(again[0], centers) and torch.equal(again[1], labels)


def test_spherical_kmeans_keeps_every_cluster_with_duplicates():
    z = F.normalize(torch.tensor([[1.0, 0.0]] * 6 + [[0.0, 1.0]] * 2 + [[0.7, 0.7]]), dim=1)
    _, labels = spherical_kmeans(z, 3, torch.Generator().manual_seed(0), n_init=2)
    assert sorted(torch.unique(labels).tolist()) == [0, 1, 2]


def test_pseudo_labels_are_refreshed_every_reassign_epochs_after_warmup(blobs, monkeypatch):
    calls = []
    original = _pipcdr.spherical_kmeans

    def spy(z, *args, **kwargs):
        calls.append(len(z))
        return original(z, *args, **kwargs)

    monkeypatch.setattr(_pipcdr, "spherical_kmeans", spy)
    est, loader, task, optimizer, scheduler = _setup(blobs[0], reassign=2)
    epochs_with_kmeans = []
    for epoch in range(7):
        before = len(calls)
        task.on_epoch_start(epoch)
        if len(calls) > before:
            epochs_with_kmeans.append(epoch)
    assert epochs_with_kmeans == [2, 4, 6]  # cdr_start=2, reassign=2
    assert calls == [150, 150, 150]  # the whole training set each time
    assert task.pseudo_labels.shape == (150,)


def test_cdr_is_off_before_cdr_start_and_on_after(blobs):
    est = PIPCDRClustering(3, random_state=0, **FAST).fit(blobs[0])
    warm = est.history_[: FAST["cdr_start"]]
    rest = est.history_[FAST["cdr_start"] :]
    assert all(r["cdr"] == 0 and "cluster_sizes" not in r for r in warm)
    assert all(r["cdr"] > 0 and sum(r["cluster_sizes"]) == 150 for r in rest)


# ------------------------------------------------------------------ estimator behaviour
def test_learns_blobs_and_labels_equal_predict(blobs):
    X, y = blobs
    settings = dict(FAST, max_iter=12, cdr_start=6, lr=0.2)
    est = PIPCDRClustering(3, random_state=0, **settings).fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.8  # k-means on the raw 2-d input: 0.92
    assert est.labels_.dtype == np.int64 and est.labels_.shape == (150,)
    assert np.array_equal(est.labels_, est.predict(X))
    assert est.cluster_centers_.shape == (3, 16)
    assert np.allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1, atol=1e-5)
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.array_equal(proba.argmax(1), est.predict(X))
    emb = est.transform(X)
    assert emb.shape == (150, 16) and emb.dtype == np.float32
    # the embedding is the target network's and predict is its nearest centre
    nearest = (emb @ est.cluster_centers_.T).argmax(1)
    assert np.array_equal(nearest, est.labels_)
    assert np.isfinite(est.score(X))


def test_same_seed_same_result_and_global_rng_untouched(blobs):
    X, _ = blobs
    torch.manual_seed(1234)
    np.random.seed(99)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = PIPCDRClustering(3, random_state=7, **FAST).fit(X)
    b = PIPCDRClustering(3, random_state=7, **FAST).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    c = PIPCDRClustering(3, random_state=8, **FAST).fit(X)
    assert not np.array_equal(a.cluster_centers_, c.cluster_centers_)


@pytest.mark.parametrize(
    "params",
    [
        {"augment": None},
        {"pip_weight": 1.0},
        {"compactness": 0.0, "sigma": 0.0},
        {"momentum_schedule": "constant", "target_momentum": 0.9},
    ],
)
def test_variants_fit_and_keep_every_cluster(blobs, params):
    est = PIPCDRClustering(3, random_state=0, **FAST, **params).fit(blobs[0])
    assert len(np.unique(est.labels_)) == 3


def test_pickle_roundtrip(blobs):
    X, _ = blobs
    est = PIPCDRClustering(3, random_state=0, **FAST).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    assert np.array_equal(restored.predict(X), est.predict(X))
    assert np.allclose(restored.transform(X), est.transform(X))


def test_custom_backbone_module_is_copied(blobs):
    X, _ = blobs
    user = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU())
    before = user[0].weight.detach().clone()
    est = PIPCDRClustering(3, backbone=user, random_state=0, **dict(FAST, backbone_params=None))
    est.fit(X)
    assert torch.equal(user[0].weight, before)
    assert est.module_.backbone is not user and est.module_.target_backbone is not user


def test_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="pip_weight"):
        PIPCDRClustering(3, pip_weight=1.5, **FAST).fit(X)
    with pytest.raises(ValueError, match="sigma"):
        PIPCDRClustering(3, sigma=-0.1, **FAST).fit(X)
    with pytest.raises(ValueError, match="reassign"):
        PIPCDRClustering(3, reassign=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="momentum_schedule"):
        PIPCDRClustering(3, momentum_schedule="linear", **FAST).fit(X)
    with pytest.raises(ValueError, match="n_clusters=200"):
        PIPCDRClustering(200, **FAST).fit(X)
    est = PIPCDRClustering(3, random_state=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.predict(np.zeros((4, 3)))


def test_silent_by_default_and_verbose_progress(blobs, capsys):
    X, _ = blobs
    PIPCDRClustering(3, random_state=0, **dict(FAST, max_iter=3)).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    PIPCDRClustering(3, random_state=0, verbose=1, **dict(FAST, max_iter=3)).fit(X)
    err = capsys.readouterr().err
    assert "PIPCDRClustering" in err and "loss" in err


def test_run_training_drives_the_task(blobs):
    # the task is a plain TrainingTask: the shared loop runs it and the history logs both terms
    est, loader, task, optimizer, scheduler = _setup(blobs[0])
    history = run_training(task, loader, range(3), optimizer, scheduler)
    assert [r["epoch"] for r in history] == [0, 1, 2]
    assert all(r["pip"] > 0 for r in history) and history[2]["cdr"] > 0


# ------------------------------------------------------------------ neighbour embedding
def test_neighbor_embedding_stage_runs_first_on_vectors(blobs):
    params = dict(FAST, neighbor_embedding="auto", neighbor_embedding_steps=8)
    est = PIPCDRClustering(3, random_state=0, **params).fit(blobs[0])
    net = est.module_
    assert net.neighbor is not None and net.target_neighbor is not None
    stages = [r for r in est.history_ if r.get("stage") == "neighbor_embedding"]
    # 150 samples: batches of 75, 2 steps per epoch, 4 epochs numbered -4 to -1
    assert [r["epoch"] for r in stages] == [-4, -3, -2, -1]
    assert [r["epoch"] for r in est.history_[len(stages) :]] == list(range(FAST["max_iter"]))
    assert est.transform(blobs[0]).shape == (150, FAST["projection_dim"])
    assert np.array_equal(est.labels_, est.predict(blobs[0]))


def test_neighbor_embedding_off_for_images_and_without_views():
    images = torch.rand(40, 1, 8, 8)
    auto = PIPCDRClustering(3, **dict(FAST, neighbor_embedding="auto", backbone_params=None))
    assert auto._build_module(images).neighbor is None
    vectors = torch.rand(40, 5)
    assert auto._build_module(vectors).neighbor is not None
    none = PIPCDRClustering(3, **dict(FAST, neighbor_embedding="auto", augment=None))
    assert none._build_module(vectors).neighbor is None


def test_sync_target_copies_the_online_encoder():
    net = _pipcdr.PIPCDRNetwork(
        torch.nn.Linear(5, 6),
        6,
        projection_dim=4,
        projection_hidden=8,
        predictor_hidden=8,
        embedding_dim=3,
    )
    with torch.no_grad():
        for p in net.online_parameters():
            p.add_(1.0)
    x = torch.randn(7, 5)
    net.eval()
    assert not torch.allclose(net.online(x), net.target(x))
    net.sync_target()
    assert torch.equal(net.online(x), net.target(x))
    assert len(net.online_parameters()) == len(net.target_parameters())
    assert not any(p.requires_grad for p in net.target_parameters())


def test_neighbor_embedding_fit_is_deterministic(blobs):
    params = dict(FAST, neighbor_embedding=True, neighbor_embedding_steps=6)
    a = PIPCDRClustering(3, random_state=3, **params).fit(blobs[0])
    b = PIPCDRClustering(3, random_state=3, **params).fit(blobs[0])
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
