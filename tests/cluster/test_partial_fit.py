"""partial_fit on a stream of chunks: SeCuClustering and HardRegClustering."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from tiny_estimators import digit_images, fast_image_params, make_tiny

from skdeepcluster import EntropyClustering, PIPCDRClustering

ONLINE = ["SeCu", "HardReg"]
#: Per-estimator settings that train quickly on 2-D blobs.
BLOBS = {
    "SeCu": dict(warmup_epochs=1, batch_size=32, width=16),
    "HardReg": dict(batch_size=32, width=16),
}


def tiny(name, n_clusters=3, **params):
    settings = dict(BLOBS[name])
    width = settings.pop("width")
    settings.update(params)
    return make_tiny(name, n_clusters=n_clusters, width=width, random_state=0, **settings)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=600, centers=3, cluster_std=0.8, random_state=0)
    return X.astype(np.float32), y


def chunks(X, size=100, passes=1, seed=0):
    """The rows of ``X`` in shuffled chunks of ``size``, ``passes`` times."""
    rng = np.random.RandomState(seed)
    for _ in range(passes):
        order = rng.permutation(len(X))
        for start in range(0, len(X), size):
            yield X[order[start : start + size]]


def stream(est, X, **kwargs):
    for chunk in chunks(X, **kwargs):
        est.partial_fit(chunk)
    return est


def _state(est):
    return {k: v.clone() for k, v in est.module_.state_dict().items()}


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)


def test_only_the_online_methods_learn_online():
    assert hasattr(tiny("SeCu"), "partial_fit") and hasattr(tiny("HardReg"), "partial_fit")
    assert not hasattr(PIPCDRClustering(), "partial_fit")
    assert not hasattr(EntropyClustering(), "partial_fit")


@pytest.mark.parametrize("name", ONLINE)
def test_calls_continue_one_network(name, blobs):
    X, y = blobs
    est = tiny(name)
    first, *rest = list(chunks(X))
    est.partial_fit(first)
    module = est.module_
    assert est.n_iter_ == 1 and est.labels_.shape == (100,)
    before = _state(est)
    for chunk in rest:
        est.partial_fit(chunk)
    assert est.module_ is module and est.n_iter_ == 6
    assert any(not torch.equal(v, before[k]) for k, v in est.module_.state_dict().items())
    assert len(est.history_) == 1 and est.history_[0]["epoch"] == 5
    assert est.predict(X).shape == (600,)
    proba = est.predict_proba(X)
    assert proba.shape == (600, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert est.transform(X).shape[0] == 600 and np.isfinite(est.score(X))
    assert est.cluster_centers_.shape[0] == 3


@pytest.mark.parametrize("name", ONLINE)
def test_a_stream_clusters_blobs(name, blobs):
    X, y = blobs
    est = stream(tiny(name), X, passes=3)
    assert adjusted_rand_score(y, est.predict(X)) > 0.8  # a fit of 3 epochs: 0.83


@pytest.mark.parametrize("name", ONLINE)
def test_labels_are_the_last_chunks(name, blobs):
    X, _ = blobs
    est = stream(tiny(name), X[:300])
    last = X[-37:]
    est.partial_fit(last)
    assert est.labels_.shape == (37,) and est.labels_.dtype == np.int64
    if name == "HardReg":  # its labels are the model's predictions, as in fit
        assert np.array_equal(est.labels_, est.predict(last))
    else:  # SeCu's are the constrained assignment of the last pass
        assert set(np.unique(est.labels_)) <= {0, 1, 2}


@pytest.mark.parametrize("name", ONLINE)
@pytest.mark.parametrize("keep_counts", [False, True])
def test_nothing_kept_per_sample(name, keep_counts, blobs):
    X, _ = blobs
    params = {"keep_counts": keep_counts} if name == "HardReg" else {}
    if name == "SeCu" and keep_counts:
        params = {"constraint": "size", "gamma_upper": 1.5}
    short = stream(tiny(name, **params), X[:200])
    long = stream(tiny(name, **params), X, passes=2)
    sizes = [[t.shape for t in _tensors(e._stream_state["tasks"])] for e in (short, long)]
    assert sizes[0] == sizes[1]
    assert all(max(shape, default=0) < 100 for shape in sizes[1])


def test_secu_stream_keeps_aged_counts_and_duals(blobs):
    X, _ = blobs
    est = stream(tiny("SeCu"), X, passes=2)
    (running,) = est._stream_state["tasks"][0]["running"]
    assert running["window"] == 300 and running["counts"].sum().item() == pytest.approx(300)
    sized = stream(tiny("SeCu", constraint="size"), X)
    assert sized._stream_state["tasks"][0]["lower_duals"][0].abs().sum() > 0


def test_hardreg_kept_counts_carry_over_and_age(blobs):
    X, _ = blobs
    est = stream(tiny("HardReg", keep_counts=True), X, passes=2)
    running = est._stream_state["tasks"][0]["running"]
    # each 100-sample chunk is one batch of 100; the window holds 300 labels
    assert running["counts"].sum().item() == pytest.approx(300)


@pytest.mark.parametrize("name", ONLINE)
def test_more_passes_per_chunk(name, blobs):
    X, _ = blobs
    est = tiny(name, partial_fit_epochs=3)
    est.partial_fit(X[:100])
    first = len(est.history_)
    est.partial_fit(X[100:200])
    assert est.n_iter_ == 6 and len(est.history_) == 3
    assert [r["epoch"] for r in est.history_] == [3, 4, 5]
    assert first == (4 if name == "SeCu" else 3)  # SeCu's stream starts with its init epoch


@pytest.mark.parametrize("name", ONLINE)
def test_pickling_between_calls_changes_nothing(name, blobs):
    X, _ = blobs
    parts = list(chunks(X, passes=1))
    straight = tiny(name)
    for part in parts:
        straight.partial_fit(part)
    paused = tiny(name)
    for part in parts[:3]:
        paused.partial_fit(part)
    paused = pickle.loads(pickle.dumps(paused))
    for part in parts[3:]:
        paused.partial_fit(part)
    assert all(torch.equal(v, _state(straight)[k]) for k, v in paused.module_.state_dict().items())
    assert np.array_equal(paused.labels_, straight.labels_)
    assert np.array_equal(paused.predict(X), straight.predict(X))


@pytest.mark.parametrize("name", ONLINE)
def test_a_stream_is_reproducible_and_leaves_the_global_rng(name, blobs):
    X, _ = blobs
    torch.manual_seed(7)
    np.random.seed(7)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a = stream(tiny(name), X).predict(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)
    assert np.array_equal(a, stream(tiny(name), X).predict(X))


@pytest.mark.parametrize("name", ONLINE)
def test_chunk_sizes(name, blobs):
    X, _ = blobs
    est = tiny(name)
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        est.partial_fit(X[:2])
    assert not hasattr(est, "module_")
    est.partial_fit(X[:50])
    est.partial_fit(X[50:52])  # later chunks may be smaller than n_clusters
    assert est.labels_.shape == (2,) and est.n_iter_ == 2
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        est.partial_fit(X[52:53])
    assert est.n_iter_ == 2


@pytest.mark.parametrize("name", ONLINE)
def test_a_chunk_with_other_features_is_refused(name, blobs):
    X, _ = blobs
    est = tiny(name).partial_fit(X[:50])
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 2 features"):
        est.partial_fit(np.hstack([X[50:100], X[50:100, :1]]))
    with pytest.raises(ValueError, match="fitted on vectors"):
        est.partial_fit(np.zeros((4, 8, 8), dtype=np.float32))
    assert est.n_features_in_ == 2 and est.n_iter_ == 1


def test_dataframe_chunks_keep_their_feature_names(blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    frame = pd.DataFrame(X, columns=["a", "b"])
    est = tiny("SeCu").partial_fit(frame.iloc[:50])
    assert list(est.feature_names_in_) == ["a", "b"]
    est.partial_fit(frame.iloc[50:100])
    with pytest.raises(ValueError, match="feature names should match"):
        est.partial_fit(frame.iloc[100:150].rename(columns={"a": "c"}))


@pytest.mark.parametrize("name", ONLINE)
def test_fit_and_partial_fit_mix(name, blobs):
    X, _ = blobs
    fitted = tiny(name).fit(X)
    module, epochs = fitted.module_, fitted.n_iter_
    fitted.partial_fit(X[:100])  # continues the fitted network, as MiniBatchKMeans does
    assert fitted.module_ is module and fitted.n_iter_ == epochs + 1
    assert fitted.labels_.shape == (100,)
    streamed = stream(tiny(name), X[:200])
    with pytest.raises(ValueError, match="trained by partial_fit"):
        streamed.set_params(warm_start=True).fit(X)
    assert streamed.n_iter_ == 2  # refused without touching the stream
    streamed.set_params(warm_start=False).fit(X)  # starts over and ends the stream
    assert streamed.n_iter_ == 2 and not hasattr(streamed, "_stream_state")
    assert streamed.labels_.shape == (600,)
    streamed.partial_fit(X[:100])
    assert streamed.n_iter_ == 3
    for est in (streamed, fitted):  # a stream or a fit continues with its own clusters
        with pytest.raises(ValueError, match="has n_clusters=3; got n_clusters=4"):
            est.set_params(n_clusters=4).partial_fit(X[:100])


@pytest.mark.parametrize("name", ONLINE)
def test_an_interrupted_call_is_undone(name, blobs):
    from skdeepcluster._training import Hook

    class Interrupt(Hook):
        def on_batch_end(self, logs):
            raise KeyboardInterrupt

    X, _ = blobs
    est = stream(tiny(name), X[:300])
    state, kept = _state(est), est._stream_state
    est._fit_hooks = lambda context=None: [Interrupt()]
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(X[300:400])
    assert all(torch.equal(v, state[k]) for k, v in est.module_.state_dict().items())
    assert est._stream_state is kept and est.n_iter_ == 3
    fresh = tiny(name)
    fresh._fit_hooks = lambda context=None: [Interrupt()]
    with pytest.raises(KeyboardInterrupt):
        fresh.partial_fit(X[:100])
    assert not hasattr(fresh, "module_")


@pytest.mark.parametrize("name", ONLINE)
def test_one_cluster_stream(name, blobs):
    X, _ = blobs
    est = stream(tiny(name, n_clusters=1), X[:300])
    assert np.array_equal(est.labels_, np.zeros(100)) and est.n_iter_ == 0
    assert np.array_equal(est.predict(X), np.zeros(600))


@pytest.mark.parametrize("name", ONLINE)
def test_image_chunks(name):
    X, _ = digit_images(90)
    params = fast_image_params()
    if name == "HardReg":
        params = {k: v for k, v in params.items() if not k.startswith("projection")}
    est = make_tiny(name, n_clusters=3, images=True).set_params(**params)
    for start in range(0, 90, 30):
        est.partial_fit(X[start : start + 30])
    assert est.image_shape_ == (1, 8, 8) and est.n_iter_ == 3
    assert est.predict(X).shape == (90,) and est.labels_.shape == (30,)
    with pytest.raises(ValueError, match="fitted on images of shape"):
        est.partial_fit(np.zeros((4, 6, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="fitted on images"):
        est.partial_fit(X.reshape(90, 64))
