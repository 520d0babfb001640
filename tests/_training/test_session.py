"""Checkpoint/resume, KeyboardInterrupt and warm start of every estimator (the fit session)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from skdeepcluster import (
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
)
from skdeepcluster._training import Hook

COMMON = dict(batch_size=32, device="cpu", random_state=0)
MLP = {"hidden_dims": (16,)}
HEAD = dict(projection_dim=8, projection_hidden=16)
#: SeCu on vectors without its neighbour-embedding stage: one stage, as the others.
ONE_STAGE = dict(neighbor_embedding=False)

#: name -> (factory of the estimator, data set name)
FITS = {
    "secu": (
        lambda **kw: SeCuClustering(
            3, max_iter=4, backbone_params=MLP, **ONE_STAGE, **HEAD, **COMMON, **kw
        ),
        "blobs",
    ),
    "secu_neighbor_embedding": (  # 3 epochs of 2 steps, then the clustering stage
        lambda **kw: SeCuClustering(
            3, max_iter=2, neighbor_embedding_steps=6, backbone_params=MLP, **HEAD, **COMMON, **kw
        ),
        "blobs",
    ),
    "secu_size_closed_form": (
        lambda **kw: SeCuClustering(
            3,
            max_iter=4,
            constraint="size",
            center_update="closed_form",
            backbone_params=MLP,
            **ONE_STAGE,
            **HEAD,
            **COMMON,
            **kw,
        ),
        "blobs",
    ),
    "secu_self_labeling": (
        lambda **kw: SeCuClustering(
            3,
            max_iter=3,
            self_labeling_epochs=3,
            self_labeling_warmup=1,
            self_labeling_threshold=0.5,
            backbone_params=MLP,
            **ONE_STAGE,
            **HEAD,
            **COMMON,
            **kw,
        ),
        "blobs",
    ),
    "hardreg": (
        lambda **kw: HardRegClustering(
            3, max_iter=4, backbone_params=MLP, **ONE_STAGE, **COMMON, **kw
        ),
        "blobs",
    ),
    "pipcdr": (
        lambda **kw: PIPCDRClustering(
            3,
            max_iter=4,
            predictor_hidden=16,
            warmup_epochs=1,
            cdr_start=1,
            reassign=2,
            backbone_params=MLP,
            **ONE_STAGE,
            **HEAD,
            **COMMON,
            **kw,
        ),
        "blobs",
    ),
    "entropy": (
        lambda **kw: EntropyClustering(3, max_iter=6, n_heads=2, **ONE_STAGE, **COMMON, **kw),
        "blobs",
    ),
    "secu_images": (
        lambda **kw: SeCuClustering(
            4,
            max_iter=3,
            backbone_params={"widths": (4, 8), "convs_per_block": 1},
            **HEAD,
            **dict(COMMON, batch_size=16),
            **kw,
        ),
        "images",
    ),
}


def dataset(name):
    if name == "blobs":
        X, _ = make_blobs(n_samples=120, centers=3, cluster_std=1.0, random_state=0)
        return X.astype(np.float32)
    return (load_digits().images[:48] / 16).astype(np.float32)


class Crash(Exception):
    """A simulated crash (the job killed) at the end of an epoch."""


class CrashAfter(Hook):
    """Raise :class:`Crash` at the end of the ``n``-th epoch (after its checkpoint)."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def on_epoch_end(self, record):
        self.seen += 1
        if self.seen == self.n:
            raise Crash


class InterruptAt(Hook):
    """Raise KeyboardInterrupt after the ``n``-th batch (counted over the whole fit)."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def on_batch_end(self, logs):
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


class CountEpochs(Hook):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, record):
        self.epochs += 1


def with_hooks(est, *hooks):
    """``est`` with extra loop hooks for its next fits."""
    est._fit_hooks = lambda context=None: list(hooks)
    return est


def _params(est):
    return {k: v.detach().clone() for k, v in est.module_.named_parameters()}


def _same_state(a, b):
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _losses(est):
    return [r.get("loss") for r in est.history_]


@pytest.fixture(scope="module")
def references():
    """The uninterrupted fit of every case, computed once."""
    return {name: make().fit(dataset(data)) for name, (make, data) in FITS.items()}


# ------------------------------------------------------------ checkpoint/resume
@pytest.mark.parametrize("name", sorted(FITS))
def test_resumed_fit_ends_exactly_like_an_uninterrupted_one(name, references, tmp_path):
    make, data = FITS[name]
    X = dataset(data)
    crashed = with_hooks(make(checkpoint_dir=tmp_path), CrashAfter(2))
    with pytest.raises(Crash):
        crashed.fit(X)
    assert (tmp_path / "checkpoint.pt").exists()
    counter = CountEpochs()
    resumed = with_hooks(make(checkpoint_dir=tmp_path), counter).fit(X)
    ref = references[name]
    # it resumed (ran only the remaining epochs) and landed on the same state
    assert counter.epochs == len(ref.history_) - 2
    assert np.array_equal(resumed.labels_, ref.labels_)
    assert _same_state(resumed, ref)
    assert _losses(resumed) == _losses(ref)
    assert resumed.n_iter_ == ref.n_iter_
    assert np.array_equal(resumed.predict(X), ref.predict(X))


def test_a_fit_killed_in_the_self_labeling_stage_resumes_there(references, tmp_path):
    make, data = FITS["secu_self_labeling"]
    X = dataset(data)
    # 4 clustering epochs (the initialisation epoch included), then 2 of 3 self-labeling epochs
    crashed = with_hooks(make(checkpoint_dir=tmp_path), CrashAfter(6))
    with pytest.raises(Crash):
        crashed.fit(X)
    counter = CountEpochs()
    resumed = with_hooks(make(checkpoint_dir=tmp_path), counter).fit(X)
    ref = references["secu_self_labeling"]
    assert counter.epochs == 1
    assert [r.get("stage") for r in ref.history_][-3:] == ["self_labeling"] * 3
    assert _same_state(resumed, ref)
    assert _losses(resumed) == _losses(ref)
    assert np.array_equal(resumed.labels_, ref.labels_)


def test_resume_from_an_earlier_checkpoint_with_checkpoint_every(references, tmp_path):
    make, data = FITS["pipcdr"]
    X = dataset(data)
    # checkpoints after epochs 2 and 4; the crash after epoch 3 loses epoch 3
    with pytest.raises(Crash):
        with_hooks(make(checkpoint_dir=tmp_path, checkpoint_every=2), CrashAfter(3)).fit(X)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["n_done"] == 2
    counter = CountEpochs()
    resumed = with_hooks(make(checkpoint_dir=tmp_path, checkpoint_every=2), counter).fit(X)
    assert counter.epochs == 2
    assert np.array_equal(resumed.labels_, references["pipcdr"].labels_)
    assert _same_state(resumed, references["pipcdr"])


def test_checkpoint_holds_the_whole_training_state(tmp_path):
    make, data = FITS["secu"]
    X = dataset(data)
    with pytest.raises(Crash):
        with_hooks(make(checkpoint_dir=tmp_path), CrashAfter(3)).fit(X)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["stage"] == 0 and saved["n_done"] == 3 and saved["n_epochs"] == 5
    assert {"module", "optimizer", "scheduler", "task", "rng", "history"} <= set(saved)
    assert saved["scheduler"]["last_step"] == 3 * 4  # 3 epochs of 4 batches
    assert saved["optimizer"]["state"]  # momentum buffers
    assert {"generator", "torch"} <= set(saved["rng"])
    labels = saved["task"]["memory"][0]["labels"]
    assert labels.shape == (120,) and labels.min() >= 0
    assert [r["epoch"] for r in saved["history"]] == [-1, 0, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left


def test_a_completed_fit_is_resumed_without_training(references, tmp_path):
    make, data = FITS["hardreg"]
    X = dataset(data)
    make(checkpoint_dir=tmp_path).fit(X)
    counter = CountEpochs()
    again = with_hooks(make(checkpoint_dir=tmp_path), counter).fit(X)
    assert counter.epochs == 0
    assert np.array_equal(again.labels_, references["hardreg"].labels_)
    assert len(again.history_) == 4


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(params=dict(lr=0.01)), "lr: 0.003 in the checkpoint, 0.01 now"),
        (dict(params=dict(random_state=1)), "random_state: 0 in the checkpoint, 1 now"),
        (dict(rows=100), r"data shape: \(120, 2\) in the checkpoint, \(100, 2\) now"),
        (dict(shift=1.0), "same shape but different values"),
    ],
)
def test_a_checkpoint_of_another_fit_is_refused(change, message, tmp_path):
    make, data = FITS["hardreg"]
    X = dataset(data)
    with pytest.raises(Crash):
        with_hooks(make(checkpoint_dir=tmp_path), CrashAfter(1)).fit(X)
    X2 = X[: change.get("rows", len(X))] + change.get("shift", 0.0)
    est = make(checkpoint_dir=tmp_path).set_params(**change.get("params", {}))
    with pytest.raises(ValueError, match=message):
        est.fit(X2)
    # a new folder, or random_state=None (any seed: the RNG states are in it), is fine
    make(checkpoint_dir=tmp_path / "new").set_params(**change.get("params", {})).fit(X2)


def test_random_state_none_resumes_and_other_estimators_are_refused(tmp_path):
    make, data = FITS["hardreg"]
    X = dataset(data)
    with pytest.raises(Crash):
        est = make(checkpoint_dir=tmp_path).set_params(random_state=None)
        with_hooks(est, CrashAfter(1)).fit(X)
    counter = CountEpochs()
    with_hooks(make(checkpoint_dir=tmp_path).set_params(random_state=None), counter).fit(X)
    assert counter.epochs == 3
    with pytest.raises(ValueError, match="estimator: .*HardRegClustering in the checkpoint"):
        FITS["secu"][0](checkpoint_dir=tmp_path).fit(X)


def test_an_unreadable_checkpoint_is_reported(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="Cannot read the checkpoint"):
        FITS["hardreg"][0](checkpoint_dir=tmp_path).fit(dataset("blobs"))


def test_checkpoint_every_is_validated():
    with pytest.raises(ValueError, match="checkpoint_every"):
        FITS["hardreg"][0](checkpoint_every=0).fit(dataset("blobs"))


# --------------------------------------------------------------- interrupts
@pytest.mark.parametrize(
    "name", ["secu", "secu_neighbor_embedding", "hardreg", "pipcdr", "entropy"]
)
def test_keyboard_interrupt_keeps_the_last_completed_epoch(name, tmp_path):
    make, data = FITS[name]
    X = dataset(data)
    # the state after 2 epochs, as a checkpoint
    with pytest.raises(Crash):
        with_hooks(make(checkpoint_dir=tmp_path), CrashAfter(2)).fit(X)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    batches = {"secu": 4, "secu_neighbor_embedding": 2, "hardreg": 3, "pipcdr": 3, "entropy": 4}
    batches = batches[name]
    est = with_hooks(make(), InterruptAt(2 * batches + 2))  # in the middle of epoch 3
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert est.history_ == saved["history"]
    assert est.n_iter_ == sum(r["epoch"] >= 0 for r in saved["history"])
    assert est.labels_.shape == (len(X),) and est.predict(X).shape == (len(X),)
    state = est.module_.state_dict()
    if name == "secu_neighbor_embedding":
        # stopped in the neighbour-embedding stage: the encoder is that of the last
        # completed epoch, and the centres start from it (the k-means clusters of the
        # neighbour embedding) so that the model predicts something meaningful
        assert not torch.equal(state["centers.0"], saved["module"].pop("centers.0"))
    if name != "entropy":  # EntropyClustering keeps only its best head afterwards
        assert all(torch.equal(state[k], v) for k, v in saved["module"].items())
    if name.startswith("secu"):
        assert np.array_equal(est.labels_, est.predict(X))


def test_keyboard_interrupt_in_the_first_epoch_leaves_no_fit():
    make, data = FITS["hardreg"]
    est = with_hooks(make(), InterruptAt(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyboardInterrupt):
            est.fit(dataset(data))
    assert not hasattr(est, "module_")
    with pytest.raises(NotFittedError):
        est.predict(dataset(data))


def test_interrupted_fit_resumes_from_its_checkpoint(references, tmp_path):
    make, data = FITS["secu"]
    X = dataset(data)
    est = with_hooks(make(checkpoint_dir=tmp_path), InterruptAt(9))
    with pytest.warns(UserWarning), pytest.raises(KeyboardInterrupt):
        est.fit(X)
    resumed = make(checkpoint_dir=tmp_path).fit(X)
    assert np.array_equal(resumed.labels_, references["secu"].labels_)


# --------------------------------------------------------------- warm start
@pytest.mark.parametrize(
    "name", ["secu", "secu_neighbor_embedding", "hardreg", "pipcdr", "entropy"]
)
def test_warm_start_continues_the_fitted_state(name):
    make, data = FITS[name]
    X = dataset(data)
    est = make().fit(X)
    module, before, labels = est.module_, _params(est), est.labels_.copy()
    n_iter, n_records = est.n_iter_, len(est.history_)
    # a second fit that (almost) cannot move: it must start where the first ended
    frozen = {"lr": 1e-12}
    if "center_lr" in est.get_params():
        frozen["center_lr"] = 1e-12
    est.set_params(warm_start=True, max_iter=2, **frozen).fit(X)
    assert est.module_ is module
    after = _params(est)
    fresh = _params(make().set_params(max_iter=1, random_state=5).fit(X))
    moved = max(float((after[k] - before[k]).abs().max()) for k in before)
    apart = max(float((fresh[k] - before[k]).abs().max()) for k in before if k in fresh)
    assert moved < 0.05 * apart
    if name in ("hardreg", "entropy"):  # labels read from the (unchanged) network
        assert adjusted_rand_score(labels, est.labels_) > 0.9
    assert est.n_iter_ == n_iter + 2
    assert len(est.history_) == n_records + (3 if name.startswith("secu") else 2)


def test_warm_start_trains_further_and_needs_a_fit():
    make, data = FITS["hardreg"]
    X = dataset(data)
    est = make().fit(X)
    before = _params(est)
    est.set_params(warm_start=True).fit(X)
    assert any(not torch.equal(before[k], v) for k, v in _params(est).items())
    assert est.n_iter_ == 8 and len(est.history_) == 8
    # warm_start on an unfitted estimator is an ordinary fit
    cold = make(warm_start=True).fit(X)
    assert cold.n_iter_ == 4 and _same_state(cold, make().fit(X))


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(rows=100), r"of shape \(120, 2\); got data of shape \(100, 2\)"),
        (dict(columns=3), r"of shape \(120, 2\); got data of shape \(120, 3\)"),
        (dict(shift=0.5), "same shape but different values"),
        (dict(n_clusters=4), "n_clusters=3; got n_clusters=4"),
    ],
)
def test_warm_start_on_other_data_is_refused(change, message):
    make, data = FITS["secu"]
    X = dataset(data)
    est = make().fit(X)
    labels, module = est.labels_.copy(), est.module_
    X2 = X[: change.get("rows", len(X))] + change.get("shift", 0.0)
    if "columns" in change:
        X2 = np.hstack([X2, X2[:, :1]])
    est.set_params(warm_start=True, n_clusters=change.get("n_clusters", 3))
    with pytest.raises(ValueError, match=message):
        est.fit(X2)
    # the previous fit is intact and usable
    assert est.module_ is module and est.n_features_in_ == 2
    assert np.array_equal(est.labels_, labels) and est.predict(X).shape == (120,)


def test_warm_start_after_pickling():
    make, data = FITS["secu"]
    X = dataset(data)
    est = pickle.loads(pickle.dumps(make().fit(X)))
    est.set_params(warm_start=True, max_iter=1).fit(X)
    assert est.n_iter_ == 5 and est.labels_.shape == (120,)


def test_interrupted_warm_start_keeps_the_previous_fit():
    make, data = FITS["pipcdr"]
    X = dataset(data)
    est = make().fit(X)
    state = {k: v.clone() for k, v in est.module_.state_dict().items()}
    history = est.history_
    with_hooks(est.set_params(warm_start=True), InterruptAt(2))  # within the first epoch
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert all(torch.equal(v, state[k]) for k, v in est.module_.state_dict().items())
    assert est.history_ == history and est.n_iter_ == 4
    assert est.labels_.shape == (120,)


@pytest.mark.parametrize("warm", [False, True])
def test_interrupt_after_the_last_epoch_stops_without_a_result(warm, monkeypatch):
    import skdeepcluster.cluster._pipcdr as pipcdr

    make, data = FITS["pipcdr"]
    X = dataset(data)
    est = make().fit(X) if warm else make()
    previous = {k: getattr(est, k, None) for k in ("labels_", "n_iter_", "history_")}
    state = {k: v.clone() for k, v in est.module_.state_dict().items()} if warm else None

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipcdr, "spherical_kmeans", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(warm_start=warm, cdr_start=10).fit(X)  # k-means only at the end
    if warm:  # the previous fit, untouched
        assert all(torch.equal(v, state[k]) for k, v in est.module_.state_dict().items())
        assert all(getattr(est, k) is v for k, v in previous.items())
    else:
        assert not hasattr(est, "module_") and not hasattr(est, "labels_")


def test_resume_on_image_files(tmp_path):
    from PIL import Image

    from skdeepcluster.data import ImageFolder

    pixels = (load_digits().images[:40] * 255 / 16).astype(np.uint8)
    for i, p in enumerate(pixels):
        Image.fromarray(p).save(tmp_path / f"{i:02d}.png")
    folder = ImageFolder(tmp_path, num_workers=0)
    make = FITS["secu_images"][0]
    ref = make().fit(folder)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(Crash):
        with_hooks(make(checkpoint_dir=ckpt), CrashAfter(2)).fit(folder)
    resumed = make(checkpoint_dir=ckpt).fit(folder)
    assert np.array_equal(resumed.labels_, ref.labels_) and _same_state(resumed, ref)
