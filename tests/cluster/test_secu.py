import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdeepcluster import SeCuClustering
from skdeepcluster._training import make_generator, run_training

FAST = dict(
    max_iter=5,
    batch_size=32,
    projection_dim=16,
    projection_hidden=32,
    backbone_params={"hidden_dims": (32,)},
    device="cpu",
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.8, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32)[:600], y[:600]


def test_fit_predict_on_array_dataframe_and_tensor_agree(blobs):
    X, _ = blobs
    est = SeCuClustering(3, random_state=0, **FAST)
    a = est.fit_predict(X)
    b = est.fit_predict(pd.DataFrame(X, columns=["a", "b"]))
    assert list(est.feature_names_in_) == ["a", "b"]
    c = est.fit_predict(torch.from_numpy(X))
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 2
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_learns_blobs_and_attributes(blobs):
    X, y = blobs
    from sklearn.metrics import adjusted_rand_score

    # the paper's method itself (no neighbour-embedding stage, which on 150 points
    # of 2-D blobs that overlap does worse than k-means: ARI 0.76-0.83 against 0.92)
    est = SeCuClustering(3, random_state=0, neighbor_embedding=False, **dict(FAST, max_iter=10))
    est.fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.85
    assert est.labels_.dtype == np.int64 and est.labels_.shape == (150,)
    assert est.cluster_centers_.shape == (3, 16)
    assert np.allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1, atol=1e-5)
    assert est.n_iter_ == 10 and len(est.history_) == 11
    assert est.history_[0]["epoch"] == -1 and sum(est.history_[-1]["cluster_sizes"]) == 150
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.array_equal(proba.argmax(1), est.predict(X))
    emb = est.transform(X)
    assert emb.shape == (150, 16) and emb.dtype == np.float32
    assert np.isfinite(est.score(X)) and est.score(X) <= 0


def test_same_seed_same_labels_and_global_rng_untouched(blobs):
    X, _ = blobs
    torch.manual_seed(1234)
    np.random.seed(99)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = SeCuClustering(3, random_state=7, **FAST).fit(X).labels_
    b = SeCuClustering(3, random_state=7, **FAST).fit(X).labels_
    assert np.array_equal(a, b)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


def test_init_epoch_leaves_encoder_unchanged_and_labels_everything(blobs):
    X, _ = blobs
    est = SeCuClustering(3, random_state=0, **FAST)
    data = torch.as_tensor(X)
    est.module_ = est._build_module(data)
    encoder_before = {
        n: p.detach().clone()
        for n, p in est.module_.named_parameters()
        if not n.startswith("centers")
    }
    loader, task, optimizer, scheduler = est._setup_training(data, make_generator(0))
    centers_before = est.module_.centers[0].detach().clone()
    run_training(task, loader, [-1], optimizer, scheduler)
    for n, p in est.module_.named_parameters():
        if not n.startswith("centers"):
            assert torch.equal(p, encoder_before[n]), n
    assert not torch.equal(est.module_.centers[0], centers_before)
    assert (task.memory[0].labels >= 0).all()
    assert task.memory[0].counts.sum().item() == len(X)


@pytest.mark.parametrize(
    "params",
    [
        {"constraint": "size"},
        {"constraint": "size", "gamma_upper": 1.2},
        {"center_update": "closed_form"},
        {"loss": "ce"},
        {"n_heads": 3},
        {"augment": None},
    ],
)
def test_variants_fit_and_keep_every_cluster(blobs, params):
    X, _ = blobs
    # the paper's variants, on its own representation learning (no neighbour embedding)
    est = SeCuClustering(3, random_state=0, neighbor_embedding=False, **FAST, **params).fit(X)
    assert min(est.history_[-1]["cluster_sizes"]) > 0  # the constrained assignment's
    if params != {"loss": "ce"}:  # whose predictions lose a cluster here (paper, Table 2)
        assert len(np.unique(est.labels_)) == 3
    if "n_heads" in params:
        assert [tuple(w.shape) for w in est.module_.centers] == [(3, 16), (6, 16), (9, 16)]
        assert est.predict_proba(X).shape == (150, 3)


def test_constraint_prevents_collapse_and_alpha_zero_collapses(digits):
    X, _ = digits
    # the paper's own representation learning: with the neighbour embedding the
    # initial partition is held while the head learns it, and clusters die out later
    settings = dict(FAST, max_iter=16, batch_size=64, neighbor_embedding=False)
    kept = SeCuClustering(10, random_state=0, **settings).fit(X)
    assert np.bincount(kept.labels_, minlength=10).min() > 0.5 * len(X) / 10
    # Without the entropy term the assignment is greedy and clusters die out
    # (the paper's Table 4, alpha = 0); after 16 epochs some are already empty.
    collapsed = SeCuClustering(10, random_state=0, alpha=0.0, **settings).fit(X)
    assert np.bincount(collapsed.labels_, minlength=10).min() == 0


def test_size_constraint_meets_lower_bound(digits):
    X, _ = digits
    est = SeCuClustering(10, constraint="size", random_state=0, **dict(FAST, max_iter=8)).fit(X)
    sizes = np.bincount(est.labels_, minlength=10)
    assert sizes.min() >= 0.8 * 0.9 * len(X) / 10


def test_pipeline_and_pickle_roundtrip(blobs):
    X, _ = blobs
    pipe = Pipeline(
        [("scale", StandardScaler()), ("secu", SeCuClustering(3, random_state=0, **FAST))]
    )
    labels = pipe.fit_predict(X)
    assert labels.shape == (150,)
    restored = pickle.loads(pickle.dumps(pipe))
    assert np.array_equal(restored.predict(X), pipe.predict(X))
    assert np.allclose(restored.transform(X), pipe.transform(X))


def test_custom_backbone_module_is_copied(blobs):
    X, _ = blobs
    user = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU())
    before = user[0].weight.detach().clone()
    est = SeCuClustering(3, backbone=user, random_state=0, **dict(FAST, backbone_params=None))
    est.fit(X)
    assert torch.equal(user[0].weight, before)
    assert est.module_.backbone is not user


def test_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="n_clusters=200"):
        SeCuClustering(200, **FAST).fit(X)
    with pytest.raises(ValueError, match="constraint"):
        SeCuClustering(3, constraint="nope", **FAST).fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        SeCuClustering(0, **FAST).fit(X)
    est = SeCuClustering(3, random_state=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="1 sample"):
        SeCuClustering(2, **FAST).fit(X[:1])
    with pytest.raises(ValueError, match="2D array"):
        est.predict(X[:, 0])


def test_single_feature_input():
    X = np.concatenate([np.zeros(40), np.ones(40) * 5])[:, None] + np.linspace(0, 0.5, 80)[:, None]
    labels = SeCuClustering(2, random_state=0, **FAST).fit_predict(X)
    assert len(np.unique(labels)) == 2


def test_verbose_shows_progress(blobs, capsys):
    X, _ = blobs
    SeCuClustering(3, random_state=0, verbose=1, **dict(FAST, max_iter=2)).fit(X)
    err = capsys.readouterr().err
    assert "SeCuClustering" in err and "loss" in err


def test_silent_by_default(blobs, capsys):
    X, _ = blobs
    SeCuClustering(3, random_state=0, **dict(FAST, max_iter=2)).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_grid_search_by_clustering_accuracy(blobs):
    from sklearn.model_selection import GridSearchCV

    X, y = blobs
    est = SeCuClustering(random_state=0, **dict(FAST, max_iter=6))
    search = GridSearchCV(est, {"n_clusters": [2, 3]}, scoring="clustering_accuracy", cv=2)
    search.fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
