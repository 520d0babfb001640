"""Clustering metrics and scorers.

Metrics comparing a clustering with ground-truth classes:

- :func:`clustering_accuracy`: accuracy under the best one-to-one matching of
  clusters to classes (Hungarian matching).
- :func:`normalized_mutual_info_score`, :func:`adjusted_rand_score`:
  re-exported unchanged from :mod:`sklearn.metrics`, so that the three usual
  deep clustering metrics live in one place.

Label-free diagnostics:

- :func:`cluster_size_stats`: cluster sizes, empty clusters, imbalance and
  normalised entropy of the size distribution.

Scorers (``scorer(estimator, X, y)``, labelling ``X`` with ``estimator.predict``):

- :func:`get_scorer`, :func:`get_scorer_names`: our scorers
  (``"clustering_accuracy"``) plus all of scikit-learn's.

Using the scorers by name
-------------------------
Importing this module (which ``import skdeepcluster`` does) registers our
scorer names in scikit-learn's scorer registry, so that::

    GridSearchCV(estimator, param_grid, scoring="clustering_accuracy").fit(X, y)

works, and ``sklearn.metrics.get_scorer_names()`` / ``check_scoring`` know
the names. scikit-learn offers no public registration API, so this extends
two private structures, defensively: the name registry
``sklearn.metrics._scorer._SCORERS``, and the sets of valid ``scoring``
strings of the scikit-learn functions and estimators imported before us
(``check_scoring``, ``cross_validate``, ``GridSearchCV``, ...; their parameter
validation builds that set once, from the registry, when their module is
imported). If a scikit-learn version lacks these internals, importing still
works but the string may not be accepted; pass
``scoring=skdeepcluster.metrics.get_scorer("clustering_accuracy")`` instead,
which works with any version.

Missing labels
--------------
Supervised scorers need ``y``. scikit-learn (1.9) turns exceptions raised by a
scorer into NaN scores plus warnings under the default ``error_score=np.nan``
(``GridSearchCV(..., scoring="adjusted_rand_score").fit(X)`` "succeeds" with
all-NaN scores). Our scorers instead raise :class:`TrueLabelsRequiredError`
when ``y`` is None; it derives from :class:`BaseException` so that
scikit-learn's ``except Exception`` handlers let it through, and the search
stops with a clear message whatever ``error_score`` is. Catch it by name if
needed. (:func:`clustering_accuracy` itself, given ``y_true=None``, raises an
ordinary ``ValueError``.)
"""

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skdeepcluster.metrics._accuracy import clustering_accuracy
from skdeepcluster.metrics._scorers import (
    TrueLabelsRequiredError,
    _register_with_sklearn,
    get_scorer,
    get_scorer_names,
)
from skdeepcluster.metrics._stats import cluster_size_stats

_register_with_sklearn()

__all__ = [
    "TrueLabelsRequiredError",
    "adjusted_rand_score",
    "cluster_size_stats",
    "clustering_accuracy",
    "get_scorer",
    "get_scorer_names",
    "normalized_mutual_info_score",
]
