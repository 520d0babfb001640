"""SeCuClustering on images: mixed precision, channels-last, self-labeling, default views."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError
from tiny_estimators import digit_images, fast_image_params

from skdeepcluster import SeCuClustering
from skdeepcluster._training import _amp
from skdeepcluster.augment import NeighborSwap, RandomAffine

FAST = fast_image_params(batch_size=32)


@pytest.fixture(scope="module")
def digits():
    return digit_images(120)


def _finite_losses(est):
    return all(np.isfinite(h["loss"]) for h in est.history_)


def test_bf16_fit_on_cpu_is_finite_and_uses_channels_last(digits):
    X, _ = digits
    est = SeCuClustering(4, amp="bf16", **FAST).fit(X)
    assert _finite_losses(est)
    assert est._amp_dtype(torch.device("cpu")) == torch.bfloat16
    conv = est.module_.backbone.features[0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert est.predict(X).shape == (120,) and np.isfinite(est.transform(X)).all()
    # the forward pre-hook travels with the pickle
    loaded = pickle.loads(pickle.dumps(est))
    assert np.array_equal(loaded.predict(X), est.predict(X))


def test_auto_amp_is_bf16_for_cnns_and_float32_for_vectors(digits, monkeypatch):
    monkeypatch.setattr(_amp, "cpu_has_native_bf16", lambda: True)
    X, _ = digits
    image = SeCuClustering(4, **dict(FAST, max_iter=1)).fit(X)
    assert image._amp_dtype(torch.device("cpu")) == torch.bfloat16
    fp32 = SeCuClustering(4, amp=None, **dict(FAST, max_iter=1)).fit(X)
    assert fp32._amp_dtype(torch.device("cpu")) is None and _finite_losses(fp32)
    vec = SeCuClustering(4, **dict(FAST, max_iter=1, backbone_params={"hidden_dims": (16,)})).fit(
        X.reshape(120, -1)
    )
    assert vec._amp_dtype(torch.device("cpu")) is None


def test_auto_amp_keeps_float32_on_cpus_without_native_bf16(digits, monkeypatch):
    monkeypatch.setattr(_amp, "cpu_has_native_bf16", lambda: False)
    X, _ = digits
    image = SeCuClustering(4, **dict(FAST, max_iter=1)).fit(X)
    assert image._amp_dtype(torch.device("cpu")) is None and _finite_losses(image)


def test_amp_parameter_validation(digits):
    X, _ = digits
    with pytest.raises(InvalidParameterError, match="amp"):
        SeCuClustering(4, amp="float16", **FAST).fit(X)
    with pytest.raises(ValueError, match="fp16.*CUDA"):
        SeCuClustering(4, amp="fp16", **FAST).fit(X)


def test_default_views_of_grey_arrays_walk_neighbours(digits):
    X, _ = digits
    est = SeCuClustering(4, **FAST)
    from skdeepcluster.data import InMemoryData

    views = est._make_views(InMemoryData(torch.as_tensor(X)[:, None], is_image=True))
    walk, warp = views.view1.transforms
    assert isinstance(walk, NeighborSwap) and walk.neighbors_.shape == (120, 5)
    assert isinstance(warp, RandomAffine)
    rgb = InMemoryData(torch.rand(20, 3, 8, 8), is_image=True)
    assert not isinstance(est._make_views(rgb).view1.transforms[0], NeighborSwap)


def test_self_labeling_sets_labels_to_the_fine_tuned_predictions(digits):
    X, _ = digits
    est = SeCuClustering(
        4, self_labeling_epochs=3, self_labeling_warmup=1, self_labeling_threshold=0.5, **FAST
    ).fit(X)
    assert est.n_iter_ == 5 and len(est.history_) == 1 + 2 + 3
    stages = [h.get("stage") for h in est.history_]
    assert stages == [None] * 3 + ["self_labeling"] * 3
    assert [h["epoch"] for h in est.history_[3:]] == [2, 3, 4]
    assert est.history_[3]["confident_fraction"] == 1.0  # warm-up: every sample, fixed labels
    assert all(sum(h["cluster_sizes"]) == 120 for h in est.history_[3:])
    assert np.array_equal(est.labels_, est.predict(X))
    assert _finite_losses(est)


def test_self_labeling_weak_view_does_not_move_the_running_statistics(digits):
    # The weak view only provides targets: its forward pass normalises with its
    # own batch statistics but leaves the running ones, which predict uses, to
    # the strong view (on MNIST 70k the mixture lowered predict's ACC from 0.98
    # to 0.95 in two epochs).
    X, _ = digits
    calls = []

    class Recorded(SeCuClustering):
        def _self_label(self, data, secu_labels, generator, hooks, first):
            bn = next(m for m in self.module_.modules() if isinstance(m, torch.nn.BatchNorm2d))

            def before(module, args):
                calls.append([torch.is_grad_enabled(), module.running_mean.clone()])

            def after(module, args, output):
                calls[-1].append(torch.equal(calls[-1][1], module.running_mean))
                if not module.training:  # predict's pass at the end
                    calls.pop()

            handles = [bn.register_forward_pre_hook(before), bn.register_forward_hook(after)]
            try:
                return super()._self_label(data, secu_labels, generator, hooks, first)
            finally:
                for handle in handles:
                    handle.remove()

    params = dict(self_labeling_epochs=2, self_labeling_warmup=1, self_labeling_threshold=0.0)
    Recorded(4, **params, **FAST).fit(X)
    training = [unchanged for grad, _, unchanged in calls if grad]
    targets = [unchanged for grad, _, unchanged in calls if not grad]
    assert len(training) == 2 * 4  # strong views: 4 batches of 32 in each of 2 epochs
    assert len(targets) == 4  # weak views: the epoch after the warm-up
    assert not any(training) and all(targets)


def test_self_labeling_changes_the_network_only_after_clustering(digits):
    X, _ = digits
    base = SeCuClustering(4, **FAST).fit(X)
    tuned = SeCuClustering(4, self_labeling_epochs=2, self_labeling_warmup=0, **FAST).fit(X)
    assert [h["loss"] for h in tuned.history_[:3]] == [h["loss"] for h in base.history_]
    assert not np.allclose(tuned.transform(X), base.transform(X))


def test_no_confident_sample_warns_and_does_not_crash(digits):
    X, _ = digits
    # temperature 5: logits within +-0.2, no prediction comes near 0.99 confidence
    est = SeCuClustering(
        4,
        temperature=5.0,
        self_labeling_epochs=2,
        self_labeling_warmup=0,
        self_labeling_threshold=0.99,
        **FAST,
    )
    before = SeCuClustering(4, temperature=5.0, **FAST).fit(X)
    with pytest.warns(UserWarning, match="no training sample.*2 of 2 epochs"):
        est.fit(X)
    assert all(h["confident_fraction"] == 0.0 for h in est.history_[3:])
    # no step was taken: the weights are the clustering stage's (batch-norm
    # statistics still follow the forward passes)
    pairs = zip(est.module_.named_parameters(), before.module_.parameters(), strict=True)
    for (name, p), q in pairs:
        assert torch.allclose(p, q, atol=1e-6), name
    assert np.array_equal(est.labels_, est.predict(X))


def test_self_labeling_on_vectors_and_with_given_views(digits):
    X, _ = digits
    vec = dict(FAST, backbone_params={"hidden_dims": (16,)})
    est = SeCuClustering(4, self_labeling_epochs=2, self_labeling_warmup=1, **vec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(X.reshape(120, -1))
    assert np.array_equal(est.labels_, est.predict(X.reshape(120, -1)))
    calls = []

    def views(x, index, generator):
        calls.append(len(x))
        return x, x

    est = SeCuClustering(4, self_labeling_epochs=1, self_labeling_augment=views, **FAST)
    est.fit(X)
    assert calls == [32, 32, 32, 24]
