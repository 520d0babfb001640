"""What the base class gives every estimator: one-cluster fits and pandas output."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from tiny_estimators import NAMES, digit_images, make_tiny


@pytest.fixture(scope="module")
def X():
    X, _ = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_one_cluster_puts_everything_in_cluster_zero_quickly_and_silently(name, X):
    est = make_tiny(name, n_clusters=1, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(X)
        assert np.array_equal(est.labels_, np.zeros(60)) and est.labels_.dtype == np.int64
        assert est.n_iter_ == 0 and est.history_ == []  # no epoch is run
        assert np.array_equal(est.predict(X), np.zeros(60))
        assert np.allclose(est.predict_proba(X), 1.0)
        embedding = est.transform(X)
        assert embedding.shape[0] == 60 and np.isfinite(embedding).all()
        assert np.array_equal(est.fit_predict(X), np.zeros(60))
    if hasattr(est, "cluster_centers_"):
        assert est.cluster_centers_.shape == (1, embedding.shape[1])


@pytest.mark.parametrize("name", ["SeCu", "HardReg", "PIPCDR"])
def test_one_cluster_on_images(name):
    images, _ = digit_images(20)
    est = make_tiny(name, n_clusters=1, images=True, random_state=0).fit(images)
    assert np.array_equal(est.predict(images), np.zeros(20))
    assert est.transform(images).shape[0] == 20


@pytest.mark.parametrize("name", NAMES)
def test_transform_as_a_dataframe(name, X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"], index=range(100, 160))
    est = make_tiny(name, random_state=0).set_output(transform="pandas").fit(frame)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    out = est.transform(frame)
    prefix = type(est).__name__.lower()
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(frame.index)
    assert list(out.columns) == [f"{prefix}{i}" for i in range(out.shape[1])]
    assert list(est.get_feature_names_out()) == list(out.columns)
    assert np.allclose(out.to_numpy(), est.set_output(transform="default").transform(frame))
    fitted = make_tiny(name, random_state=0).set_output(transform="pandas")
    assert isinstance(fitted.fit_transform(frame), pd.DataFrame)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        est.get_feature_names_out(["x", "y", "z", "w"])


@pytest.mark.parametrize("mode", ["c", "r+"])
def test_a_writable_memmap_is_trained_on_in_place(tmp_path, mode):
    """A float32 memmap opened copy-on-write is read from disk, not copied into memory."""
    import torch

    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    mapped = np.load(tmp_path / "x.npy", mmap_mode=mode)
    est = make_tiny("SeCu", random_state=0)
    data = est._training_data(mapped, torch.device("cpu"))
    assert data.tensor.data_ptr() == mapped.ctypes.data
    assert np.array_equal(est.fit(mapped).labels_, make_tiny("SeCu", random_state=0).fit(X).labels_)
