"""scikit-learn's estimator checks on every estimator, with tiny settings, none expected to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

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
    SeCuClustering(**TINY, projection_dim=8, projection_hidden=16),
    SeCuClustering(
        **TINY,
        projection_dim=8,
        projection_hidden=16,
        self_labeling_epochs=2,
        self_labeling_warmup=1,
        self_labeling_threshold=0.5,
    ),
    HardRegClustering(**TINY),
    PIPCDRClustering(
        **TINY,
        projection_dim=8,
        projection_hidden=16,
        predictor_hidden=16,
        warmup_epochs=1,
        cdr_start=1,
    ),
    EntropyClustering(max_iter=10, n_heads=2, device="cpu", random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
