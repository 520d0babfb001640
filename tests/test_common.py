"""scikit-learn's estimator checks on every estimator, with tiny settings, none expected to fail."""

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from tiny_estimators import NAMES, digit_images, make_tiny

from skdeepcluster import (
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
)

TINY = dict(
    max_iter=3,
    batch_size=16,
    backbone_params={"hidden_dims": (16,)},
    device="cpu",
    random_state=0,
)

ESTIMATORS = [
    # six epochs: the first two hold the initial partition while the head learns it; after
    # three, one of them held, the head had not (check_clustering's blobs: ARI 0.33, 0.94
    # with the default 60)
    SeCuClustering(**dict(TINY, max_iter=6), projection_dim=8, projection_hidden=16),
    SeCuClustering(
        **TINY,
        projection_dim=8,
        projection_hidden=16,
        self_labeling_epochs=2,
        self_labeling_warmup=1,
        self_labeling_threshold=0.5,
    ),
    HardRegClustering(**TINY, neighbor_embedding_steps=10),
    PIPCDRClustering(
        **TINY,
        projection_dim=8,
        projection_hidden=16,
        predictor_hidden=16,
        warmup_epochs=1,
        cdr_start=1,
        neighbor_embedding_steps=10,
    ),
    EntropyClustering(
        max_iter=10, n_heads=2, device="cpu", random_state=0, neighbor_embedding_steps=10
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ------------------------------------------------------------ images, streams
# scikit-learn's checks fit 2-D arrays of their own. What they check of fitted
# estimators is checked here on estimators fitted on images, and on streams.
def _fitted(name, how):
    images, _ = digit_images(48)
    est = make_tiny(name, images=True, random_state=0)
    if how == "partial_fit":
        for start in range(0, 48, 16):
            est.partial_fit(images[start : start + 16])
    else:
        est.fit(images)
    return est, images


CASES = [(n, "fit") for n in NAMES] + [(n, "partial_fit") for n in ("SeCu", "HardReg")]


@pytest.mark.parametrize(("name", "how"), CASES)
def test_sklearn_invariants_on_images_and_streams(name, how):
    est, images = _fitted(name, how)
    assert est.n_features_in_ == 64 and est.image_shape_ == (1, 8, 8)
    # check_methods_subset_invariance and check_methods_sample_order_invariance
    order = np.random.RandomState(0).permutation(48)
    for method in ("predict", "predict_proba", "transform"):
        whole = getattr(est, method)(images)
        parts = np.concatenate([getattr(est, method)(images[i : i + 10]) for i in range(0, 48, 10)])
        assert np.allclose(whole, parts, atol=1e-5), method
        assert np.allclose(whole[order], getattr(est, method)(images[order]), atol=1e-5), method
    # check_transformer_preserve_dtypes, check_estimators_pickle
    assert est.transform(images).dtype == np.float32
    loaded = pickle.loads(pickle.dumps(est))
    assert np.array_equal(loaded.predict(images), est.predict(images))
    # check_fit_idempotent
    again, _ = _fitted(name, how)
    assert np.array_equal(again.predict(images), est.predict(images))
    assert np.allclose(again.transform(images), est.transform(images))
    # check_n_features_in_after_fitting, for images: another shape is refused
    with pytest.raises(ValueError, match="fitted on images of shape"):
        est.predict(images[:, :6, :6])
    if how == "fit":  # check_clustering: labels_ are fit_predict's
        assert np.array_equal(est.labels_, _fitted(name, how)[0].fit_predict(images))
