import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sklearn.metrics
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import check_scoring
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import get_scorer_names as sklearn_get_scorer_names
from sklearn.model_selection import GridSearchCV, cross_validate

import skdeepcluster.metrics
from skdeepcluster.metrics import (
    TrueLabelsRequiredError,
    _scorers,
    adjusted_rand_score,
    clustering_accuracy,
    get_scorer,
    get_scorer_names,
    normalized_mutual_info_score,
)

GRID = {"n_clusters": [2, 3, 4]}
MISSING_Y = "clustering_accuracy compares predicted clusters with true labels.*pass y"


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=90, centers=3, cluster_std=0.5, random_state=0)


@pytest.fixture(scope="module")
def fitted_kmeans(blobs):
    X, _ = blobs
    return KMeans(n_clusters=4, n_init=2, random_state=0).fit(X)


def _search(**kwargs):
    return GridSearchCV(KMeans(n_init=2, random_state=0), GRID, cv=3, **kwargs)


def test_public_api():
    assert sorted(skdeepcluster.metrics.__all__) == skdeepcluster.metrics.__all__
    for name in skdeepcluster.metrics.__all__:
        assert hasattr(skdeepcluster.metrics, name)
    assert normalized_mutual_info_score is sklearn.metrics.normalized_mutual_info_score
    assert adjusted_rand_score is sklearn.metrics.adjusted_rand_score


def test_registered_with_sklearn_by_name(blobs, fitted_kmeans):
    X, y = blobs
    expected = clustering_accuracy(y, fitted_kmeans.predict(X))
    assert expected < 1.0  # 4 clusters for 3 classes: a non-trivial value
    assert "clustering_accuracy" in sklearn_get_scorer_names()
    assert sklearn_get_scorer("clustering_accuracy")(fitted_kmeans, X, y) == expected
    assert check_scoring(KMeans(), scoring="clustering_accuracy")(fitted_kmeans, X, y) == expected
    multi = check_scoring(KMeans(), scoring=["clustering_accuracy", "adjusted_rand_score"])
    scores = multi(fitted_kmeans, X, y)
    assert scores["clustering_accuracy"] == expected
    assert scores["adjusted_rand_score"] == adjusted_rand_score(y, fitted_kmeans.predict(X))


def test_registration_when_sklearn_modules_were_imported_first():
    # sklearn validates `scoring` strings against a set of names built when each
    # module is imported; importing model_selection before us must still work.
    code = textwrap.dedent(
        """
        from sklearn.cluster import KMeans
        from sklearn.datasets import make_blobs
        from sklearn.metrics import check_scoring
        from sklearn.model_selection import GridSearchCV, cross_val_score
        import skdeepcluster.metrics

        X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        check_scoring(KMeans(), scoring="clustering_accuracy")
        cross_val_score(KMeans(3, n_init=2), X, y, scoring="clustering_accuracy", cv=2)
        search = GridSearchCV(
            KMeans(n_init=2, random_state=0), {"n_clusters": [2, 3]},
            scoring="clustering_accuracy", cv=2,
        ).fit(X, y)
        print(search.best_params_["n_clusters"])
        """
    )
    root = Path(skdeepcluster.metrics.__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


def test_get_scorer_returns_ours_and_delegates_the_rest(blobs, fitted_kmeans):
    X, y = blobs
    ours = get_scorer("clustering_accuracy")
    assert ours(fitted_kmeans, X, y) == clustering_accuracy(y, fitted_kmeans.predict(X))
    assert get_scorer("clustering_accuracy") is not ours  # a fresh object per call
    ari = get_scorer("adjusted_rand_score")
    assert ari(fitted_kmeans, X, y) == adjusted_rand_score(y, fitted_kmeans.predict(X))
    assert get_scorer(ours) is ours
    assert get_scorer(None) is None


def test_get_scorer_unknown_name():
    with pytest.raises(ValueError, match=r"'no_such_score' is not a valid.*get_scorer_names"):
        get_scorer("no_such_score")


def test_get_scorer_names():
    names = get_scorer_names()
    assert names == sorted(names)
    assert set(names) == set(sklearn_get_scorer_names()) | {"clustering_accuracy"}


def test_grid_search_with_y_selects_true_number_of_clusters(blobs):
    X, y = blobs
    search = _search(scoring="clustering_accuracy").fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ > 0.95


@pytest.mark.parametrize("error_score", [np.nan, 0.0, "raise"])
def test_grid_search_without_y_raises_clear_error(blobs, error_score):
    X, _ = blobs
    with pytest.raises(TrueLabelsRequiredError, match=MISSING_Y):
        _search(scoring="clustering_accuracy", error_score=error_score).fit(X)


def test_multimetric_search_and_cross_validate_without_y_raise(blobs):
    X, _ = blobs
    scoring = ["clustering_accuracy", "adjusted_rand_score"]
    with pytest.raises(TrueLabelsRequiredError, match=MISSING_Y):
        _search(scoring=scoring, refit="clustering_accuracy").fit(X)
    with pytest.raises(TrueLabelsRequiredError, match=MISSING_Y):
        cross_validate(KMeans(3, n_init=2), X, scoring="clustering_accuracy", cv=2)


def test_parallel_search_without_y_raises(blobs):
    X, _ = blobs
    with pytest.raises(TrueLabelsRequiredError, match=MISSING_Y):
        _search(scoring="clustering_accuracy", n_jobs=2).fit(X)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_sklearn_turns_supervised_scorer_errors_into_nan(blobs):
    # The behaviour TrueLabelsRequiredError exists to avoid (scikit-learn's own
    # supervised clustering scorers, default error_score=np.nan).
    X, _ = blobs
    with pytest.warns(UserWarning, match="Scoring failed"):
        search = _search(scoring="adjusted_rand_score").fit(X)
    assert np.isnan(search.cv_results_["mean_test_score"]).all()


def test_missing_labels_error_is_not_an_exception(fitted_kmeans, blobs):
    X, _ = blobs
    assert issubclass(TrueLabelsRequiredError, BaseException)
    assert not issubclass(TrueLabelsRequiredError, Exception)
    with pytest.raises(TrueLabelsRequiredError, match=MISSING_Y):
        get_scorer("clustering_accuracy")(fitted_kmeans, X)


def test_clustering_accuracy_function_raises_value_error_for_missing_labels():
    with pytest.raises(ValueError, match="y_true is None"):
        clustering_accuracy(None, [0, 1])


def test_estimator_without_predict(blobs):
    X, y = blobs
    agglo = AgglomerativeClustering(n_clusters=3).fit(X)
    with pytest.raises(TypeError, match="AgglomerativeClustering has no predict method"):
        get_scorer("clustering_accuracy")(agglo, X, y)


def test_scorer_and_error_pickle(blobs, fitted_kmeans):
    X, y = blobs
    scorer = pickle.loads(pickle.dumps(get_scorer("clustering_accuracy")))
    assert scorer(fitted_kmeans, X, y) == clustering_accuracy(y, fitted_kmeans.predict(X))
    error = pickle.loads(pickle.dumps(TrueLabelsRequiredError("message")))
    assert isinstance(error, TrueLabelsRequiredError) and str(error) == "message"


def test_registration_is_idempotent():
    assert _scorers._register_with_sklearn()
    assert _scorers._register_with_sklearn()
    assert sklearn_get_scorer_names().count("clustering_accuracy") == 1


def test_registration_without_private_registry_does_not_crash(monkeypatch):
    import sklearn.metrics._scorer as sklearn_scorer_module

    monkeypatch.delattr(sklearn_scorer_module, "_SCORERS")
    assert _scorers._register_with_sklearn() is False
    assert get_scorer("clustering_accuracy").name == "clustering_accuracy"


def test_registration_does_not_shadow_a_sklearn_scorer(monkeypatch):
    import sklearn.metrics._scorer as sklearn_scorer_module

    foreign = sklearn_get_scorer("accuracy")
    monkeypatch.setattr(sklearn_scorer_module, "_SCORERS", {"clustering_accuracy": foreign})
    assert _scorers._register_with_sklearn() is False
    assert sklearn_scorer_module._SCORERS["clustering_accuracy"] is foreign


def test_registration_survives_changed_validation_internals(monkeypatch):
    def broken(names):
        raise AttributeError("internals changed")

    monkeypatch.setattr(_scorers, "_allow_scoring_names", broken)
    assert _scorers._register_with_sklearn() is False
