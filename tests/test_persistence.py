"""Fitted estimators survive pickle, joblib, clone and deepcopy; models on a GPU load on a CPU."""

import copy
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from tiny_estimators import (
    NAMES,
    STREAMING,
    digit_inputs,
    make_tiny,
    one_torch_thread,
    write_digit_pngs,
)

import skdeepcluster.base as base
from skdeepcluster.data import ImageFolder

METHODS = ["predict", "predict_proba", "transform", "score"]


def make(name, images=False):
    return make_tiny(name, images=images, entropy=dict(max_iter=3, n_heads=2), random_state=0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def digits():
    return digit_inputs(48)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, digits):
    root = tmp_path_factory.mktemp("digits")
    return write_digit_pngs(root, digits["images"][:24])


def _outputs(est, X):
    return {method: getattr(est, method)(X) for method in METHODS}


def _assert_same_outputs(a, b):
    for method in METHODS:
        assert np.array_equal(a[method], b[method]), method


def _joblib_round_trip(est, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["vectors", "images"])
def test_pickle_and_joblib_round_trips_predict_identically(name, kind, digits, tmp_path):
    X = digits[kind]
    est = make(name, images=kind == "images").fit(X)
    expected = _outputs(est, X)
    for restored in (pickle.loads(pickle.dumps(est)), _joblib_round_trip(est, tmp_path)):
        assert type(restored) is type(est) and restored.get_params() == est.get_params()
        assert np.array_equal(restored.labels_, est.labels_)
        assert restored.n_features_in_ == est.n_features_in_
        assert restored.image_shape_ == est.image_shape_
        _assert_same_outputs(_outputs(restored, X), expected)
    assert _outputs(est, X)["predict"].tolist() == expected["predict"].tolist()  # untouched


@pytest.mark.parametrize("name", STREAMING)
def test_fitted_on_a_folder_pickles_and_predicts_on_the_folder(name, folder, tmp_path):
    est = make(name, images=True).set_params(batch_size=8)
    est.fit(ImageFolder(folder, num_workers=0))
    expected = _outputs(est, folder)
    assert np.array_equal(expected["predict"], est.predict(str(folder)))
    for restored in (pickle.loads(pickle.dumps(est)), _joblib_round_trip(est, tmp_path)):
        _assert_same_outputs(_outputs(restored, folder), expected)
        from_folder = restored.predict(ImageFolder(folder, num_workers=0))
        assert np.array_equal(from_folder, expected["predict"])


def test_image_folder_pickles_with_its_scan(folder):
    images = ImageFolder(folder, resize=(6, 5), num_workers=2)
    restored = pickle.loads(pickle.dumps(images))
    assert restored.filenames == images.filenames and restored.image_shape == (1, 6, 5)
    assert restored.num_workers == 2 and restored.resize == (6, 5)
    assert torch.equal(restored[3][1], images[3][1])
    with_mode = pickle.loads(pickle.dumps(images.with_mode("RGB")))
    assert with_mode[0][1].shape == (3, 6, 5)


@pytest.mark.parametrize("name", NAMES)
def test_clone_after_fit_and_deepcopy(name, digits):
    X = digits["vectors"]
    est = make(name).fit(X)
    unfitted = clone(est)
    assert not hasattr(unfitted, "module_") and unfitted.get_params() == est.get_params()
    assert np.array_equal(unfitted.fit(X).labels_, est.labels_)  # same seed, same result
    twin = copy.deepcopy(est)
    _assert_same_outputs(_outputs(twin, X), _outputs(est, X))
    before = est.transform(X)
    with torch.no_grad():
        for p in twin.module_.parameters():
            p.add_(1.0)
    assert np.array_equal(est.transform(X), before)  # the copy shares no parameters


@pytest.mark.parametrize("name", NAMES)
def test_getstate_copies_modules_and_tensors_off_the_gpu(name, digits, monkeypatch):
    """The CUDA path of ``__getstate__`` with the device check faked (no GPU here).

    Every tensor is reported off the CPU: the pickled state must hold copies
    made by ``.cpu()``, while the fitted estimator keeps its own module, on
    its device, and keeps training and predicting as before.
    """
    X = digits["vectors"]
    est = make(name).fit(X)
    est._extra_state_ = [torch.ones(2), {"duals": torch.zeros(3)}]  # e.g. assignment state
    expected = _outputs(est, X)
    module = est.module_
    moved = []
    real_cpu = torch.nn.Module.cpu

    def spy_cpu(self):
        moved.append(self)
        return real_cpu(self)

    monkeypatch.setattr(base, "_on_cpu", lambda tensor: False)
    monkeypatch.setattr(torch.nn.Module, "cpu", spy_cpu)
    state = est.__getstate__()
    assert state is not est.__dict__
    assert state["module_"] is not module and moved == [state["module_"]]
    assert est.module_ is module  # the estimator itself is not moved
    assert state["_extra_state_"] is not est._extra_state_
    assert torch.equal(state["_extra_state_"][1]["duals"], torch.zeros(3))
    restored = pickle.loads(pickle.dumps(est))
    monkeypatch.undo()
    _assert_same_outputs(_outputs(restored, X), expected)
    _assert_same_outputs(_outputs(est, X), expected)


@pytest.mark.parametrize("name", NAMES)
def test_getstate_of_a_cpu_model_copies_nothing(name, digits):
    est = make(name).fit(digits["vectors"])
    state = est.__getstate__()
    assert state["module_"] is est.module_


def test_getstate_moves_cuda_for_real():
    """Run where a GPU exists: fit on CUDA, then the pickle holds CPU tensors only."""
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA; the CPU-only logic is covered with a faked device check")
    X = (load_digits().data[:64] / 16).astype(np.float32)
    est = make("SeCu").set_params(device="cuda").fit(X)
    state = pickle.loads(pickle.dumps(est)).__dict__
    assert all(p.device.type == "cpu" for p in state["module_"].parameters())
    assert next(est.module_.parameters()).device.type == "cuda"


@pytest.mark.parametrize("name", NAMES)
def test_a_model_whose_amp_dtype_the_device_lacks_predicts_in_float32(name, digits):
    """A model fitted on a GPU with ``amp="fp16"`` and loaded on a CPU predicts there.

    Training refuses float16 on the CPU; inference falls back to float32. The
    CPU fit with ``amp=None`` stands in for the GPU fit: both predict in
    float32 on the CPU, so the outputs are the same.
    """
    X = digits["images"]
    est = make(name, images=True).set_params(amp=None)
    if name == "Entropy":
        est.set_params(backbone="cnn", backbone_params={"widths": (4, 8), "convs_per_block": 1})
    est.fit(X)
    expected = _outputs(est, X)
    loaded = pickle.loads(pickle.dumps(est.set_params(amp="fp16")))
    _assert_same_outputs(_outputs(loaded, X), expected)
    with pytest.raises(ValueError, match="amp='fp16' needs a CUDA device"):
        clone(loaded).fit(X)
