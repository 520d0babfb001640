import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score

from skdeepcluster import EntropyClustering
from skdeepcluster.assignment import fairness_em
from skdeepcluster.cluster import _entropy

# short fits: fewer, larger steps than the defaults
FAST = dict(max_iter=60, n_heads=2, lr=0.05, device="cpu", neighbor_embedding=False)
#: The linear model on the input itself (the paper's fixed-feature setting on given features).
LINEAR = dict(device="cpu", neighbor_embedding=False)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.8, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32)[:600], y[:600]


def test_learns_blobs_and_attributes(blobs):
    X, y = blobs
    est = EntropyClustering(3, random_state=0, **FAST).fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.9
    assert est.labels_.dtype == np.int64 and est.labels_.shape == (150,)
    assert np.array_equal(est.labels_, est.predict(X))
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert np.array_equal(proba.argmax(1), est.labels_)
    # no backbone: the embedding is the kept head's logits
    emb = est.transform(X)
    assert emb.shape == (150, 3) and emb.dtype == np.float32
    assert np.allclose(torch.from_numpy(emb).softmax(1).numpy(), proba, atol=1e-5)
    assert not hasattr(est, "cluster_centers_")
    assert est.module_.n_heads == 1 and est.module_.head.out_features == 3
    assert est.head_objectives_.shape == (2,)
    assert est.objective_ == pytest.approx(est.head_objectives_.min())
    assert est.n_iter_ == 60 and len(est.history_) == 60
    assert sum(est.history_[-1]["cluster_sizes"]) == 150
    assert est.history_[-1]["objective"] < est.history_[0]["objective"]
    assert np.isfinite(est.score(X))


def test_em_objective_decreases_monotonically_inside_a_fit(digits, monkeypatch):
    X, _ = digits
    traces = []

    def recording_em(*args, **kwargs):
        y, history = fairness_em(*args, return_objective=True, **kwargs)
        traces.append(history)
        return y

    monkeypatch.setattr(_entropy, "fairness_em", recording_em)
    est = EntropyClustering(10, random_state=0, **dict(FAST, max_iter=20)).fit(X)
    assert len(traces) == 20 * 2 + 2  # every step and head, then the final selection
    for history in traces:
        diffs = np.diff(history)
        # the memory of predictions is float32: allow its rounding, nothing more
        assert (diffs <= 1e-6 * np.abs(history[:-1])).all()
    assert any(history[-1] < history[0] - 1e-3 for history in traces)
    # and exactly (float64) on the final predictions of the fit
    probs = torch.as_tensor(est.predict_proba(X), dtype=torch.float64)
    _, history = fairness_em(probs, lam=est.lam, n_iters=300, tol=0, return_objective=True)
    assert (np.diff(history) <= 1e-12).all() and history[-1] < history[0]


def test_fairness_keeps_every_cluster_and_lam_zero_collapses():
    # Structureless data: without fairness the cheapest decisive model drops
    # clusters (the bias alone can make every prediction confident).
    X = np.random.default_rng(0).normal(size=(300, 2))
    kept = EntropyClustering(4, random_state=0, **LINEAR).fit(X)
    sizes = np.bincount(kept.labels_, minlength=4)
    assert sizes.min() > 0.5 * len(X) / 4
    assert np.allclose(kept.predict_proba(X).mean(0), 0.25, atol=0.05)
    collapsed = EntropyClustering(4, lam=0.0, random_state=0, **LINEAR).fit(X)
    assert (np.bincount(collapsed.labels_, minlength=4) == 0).sum() >= 1


def test_user_prior_sets_cluster_sizes_on_imbalanced_data():
    X, y = make_blobs(
        n_samples=[300, 150, 50],
        centers=[[0, 0], [5, 0], [0, 5]],
        cluster_std=1.0,
        random_state=0,
    )
    prior = np.array([0.6, 0.3, 0.1])
    est = EntropyClustering(3, prior=prior, random_state=0, **LINEAR).fit(X)
    sizes = np.bincount(est.labels_, minlength=3) / len(X)
    assert np.abs(sizes - prior).max() < 0.03  # cluster k has about prior[k] of the data
    assert adjusted_rand_score(y, est.labels_) > 0.9
    # the uniform default pulls the sizes toward equal ones instead
    uniform = EntropyClustering(3, random_state=0, **LINEAR).fit(X)
    assert np.bincount(uniform.labels_, minlength=3).min() > 0.2 * len(X)


def test_margin_term_bounds_the_head_norm(blobs):
    X, _ = blobs
    norms = [
        float(
            EntropyClustering(3, gamma=g, random_state=0, **FAST)
            .fit(X)
            .module_.head.weight.detach()
            .norm()
        )
        for g in (0.0, 0.1)
    ]
    assert norms[1] < 0.5 * norms[0]


def test_same_seed_same_result_and_global_rng_untouched(blobs):
    X, _ = blobs
    torch.manual_seed(1234)
    np.random.seed(99)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = EntropyClustering(3, random_state=7, **FAST).fit(X)
    b = EntropyClustering(3, random_state=7, **FAST).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


def test_dataframe_input_matches_array(blobs):
    X, _ = blobs
    est = EntropyClustering(3, random_state=0, **FAST)
    a = est.fit_predict(X)
    b = est.fit_predict(pd.DataFrame(X, columns=["a", "b"]))
    assert list(est.feature_names_in_) == ["a", "b"]
    assert np.array_equal(a, b)
    assert np.array_equal(est.predict(pd.DataFrame(X, columns=["a", "b"])), b)


@pytest.mark.parametrize(
    "prior, match",
    [
        ([0.5, 0.5], "shape"),
        ([[0.2, 0.3, 0.5]], "shape"),
        ([0.5, 0.6, -0.1], "non-negative"),
        ([0.3, 0.3, 0.3], "sum to 1"),
        ([0.5, np.nan, 0.5], "finite"),
        (["a", "b", "c"], "prior"),
    ],
)
def test_bad_prior_raises(blobs, prior, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        EntropyClustering(3, prior=prior, **FAST).fit(X)


def test_other_errors(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="n_heads"):
        EntropyClustering(3, **dict(FAST, n_heads=0)).fit(X)
    with pytest.raises(ValueError, match="lam"):
        EntropyClustering(3, lam=-1.0, **FAST).fit(X)
    with pytest.raises(ValueError, match="backbone_params"):
        EntropyClustering(3, backbone_params={"hidden_dims": (8,)}, **FAST).fit(X)
    with pytest.raises(ValueError, match="n_clusters=200"):
        EntropyClustering(200, **FAST).fit(X)


def test_mlp_backbone_minibatches_and_augment(blobs):
    X, y = blobs
    calls = []

    def jitter(x, index, generator):
        calls.append(len(x))
        return x + 0.01 * torch.randn(x.shape, generator=generator)

    est = EntropyClustering(
        3,
        backbone="mlp",
        backbone_params={"hidden_dims": (16,)},
        batch_size=64,
        augment=jitter,
        random_state=0,
        **dict(FAST, max_iter=20, lr=0.01),
    ).fit(X)
    assert calls and max(calls) == 64
    assert est.transform(X).shape == (150, 16)
    assert np.array_equal(est.predict(X), est.labels_)
    assert adjusted_rand_score(y, est.labels_) > 0.8


def test_user_backbone_is_copied_and_pickle_roundtrip(blobs):
    X, _ = blobs
    user = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU())
    before = user[0].weight.detach().clone()
    est = EntropyClustering(3, backbone=user, random_state=0, **dict(FAST, max_iter=10)).fit(X)
    assert torch.equal(user[0].weight, before)
    assert est.module_.backbone is not user
    restored = pickle.loads(pickle.dumps(est))
    assert np.array_equal(restored.predict(X), est.predict(X))


# ------------------------------------------------------- neighbour-embedding stage
def test_neighbor_embedding_gives_the_fixed_features_of_the_linear_model(blobs):
    X, y = blobs
    params = dict(FAST, neighbor_embedding="auto", neighbor_embedding_steps=200)
    est = EntropyClustering(3, random_state=0, **params).fit(X)
    net = est.module_
    assert net.neighbor is not None and net.frozen and not net.has_backbone
    assert net.shift is None  # the embedding keeps its own units
    stages = [r for r in est.history_ if r.get("stage") == "neighbor_embedding"]
    assert len(stages) > 0 and est.history_[len(stages)]["epoch"] == 0
    assert net.head.in_features == 10
    assert not any(p.requires_grad for p in net.neighbor.parameters())
    # trained on features computed once, the head predicts the same through the encoder
    assert np.array_equal(est.labels_, est.predict(X))
    assert adjusted_rand_score(y, est.labels_) > 0.8


def test_neighbor_embedding_auto_only_for_the_linear_model():
    vectors = torch.rand(40, 5)
    auto = EntropyClustering(3, device="cpu")
    assert auto._build_module(vectors).neighbor is not None
    assert auto._build_module(torch.rand(40, 1, 8, 8)).neighbor is not None
    mlp = EntropyClustering(3, backbone="mlp", device="cpu")
    assert mlp._build_module(vectors).neighbor is None
    assert EntropyClustering(3, neighbor_embedding=False)._build_module(vectors).neighbor is None
