"""Scorers for supervised clustering metrics, usable by name in scikit-learn.

Why a missing ``y`` raises an exception that is not an ``Exception``
--------------------------------------------------------------------
In scikit-learn 1.9 a scorer that raises during
:class:`~sklearn.model_selection.GridSearchCV` / ``cross_validate`` is caught
with ``except Exception`` (``sklearn.model_selection._validation._score``, and
``_MultimetricScorer`` for several metrics) and, with the default
``error_score=np.nan``, its score is set to NaN with one ``UserWarning`` per
fold and candidate; the search then "succeeds" with all-NaN scores and an
arbitrary ``best_params_`` (only fit failures are turned into an error, and
only when all fits fail). That is what happens with scikit-learn's own
``scoring="adjusted_rand_score"`` when ``fit(X)`` is called without ``y``.
There is no public hook to make a scorer failure fatal other than
``error_score="raise"``.

Calling a supervised clustering scorer without true labels is a
configuration error that affects every fold, not a per-fold failure, so our
scorers raise :class:`TrueLabelsRequiredError`, which derives from
:class:`BaseException` rather than :class:`Exception` (as ``KeyboardInterrupt``
and ``SystemExit`` do, for the same reason: it must not be swallowed by
``except Exception`` handlers). It therefore stops the search with a clear
message whatever ``error_score`` is, including with ``n_jobs > 1`` (joblib
re-raises it in the parent process). Catch it explicitly with
``except TrueLabelsRequiredError`` if needed. Other scorer errors (e.g. an
estimator without ``predict``, a ``TypeError``) follow scikit-learn's usual
``error_score`` handling.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

from numpy.typing import ArrayLike
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names

from skdeepcluster.metrics._accuracy import clustering_accuracy


class TrueLabelsRequiredError(BaseException):
    """A supervised clustering scorer was called without true labels ``y``.

    Derives from :class:`BaseException`, not :class:`Exception`, so that
    scikit-learn's model selection tools (which turn scorer exceptions into
    NaN scores under the default ``error_score=np.nan``) do not swallow it:
    ``GridSearchCV(..., scoring="clustering_accuracy").fit(X)`` stops with
    this error instead of reporting NaN scores. Catch it by name.
    """


class _ClusteringScorer:
    """Score ``score_func(y, estimator.predict(X))``; greater is better."""

    # marks registry entries owned by this package (survives module reloads)
    _skdeepcluster_scorer = True

    def __init__(self, score_func: Callable[[ArrayLike, ArrayLike], float], name: str):
        self.score_func = score_func
        self.name = name

    def __call__(self, estimator: Any, X: ArrayLike, y_true: ArrayLike | None = None) -> float:
        if y_true is None:
            raise TrueLabelsRequiredError(
                f"{self.name} compares predicted clusters with true labels, but no y "
                "was given: pass y to fit / GridSearchCV.fit / cross_validate (or to "
                "the scorer), or use an unsupervised scorer (e.g. a callable based on "
                "sklearn.metrics.silhouette_score) when no labels are available."
            )
        predict = getattr(estimator, "predict", None)
        if not callable(predict):
            raise TypeError(
                f"The {self.name} scorer calls estimator.predict(X) to label the scored "
                f"samples, but {type(estimator).__name__} has no predict method. "
                "Clusterers that only offer fit_predict/labels_ cannot label held-out "
                "samples; score them directly with "
                f"{self.score_func.__name__}(y, estimator.fit_predict(X))."
            )
        return float(self.score_func(y_true, predict(X)))

    def __repr__(self) -> str:
        return f"get_scorer({self.name!r})"


_SCORERS: dict[str, _ClusteringScorer] = {
    "clustering_accuracy": _ClusteringScorer(clustering_accuracy, "clustering_accuracy"),
}


def get_scorer(name: str | Callable | None) -> Callable | None:
    """Get a scorer by name: ours, or any of scikit-learn's.

    A scorer is called as ``scorer(estimator, X, y)``: it labels ``X`` with
    ``estimator.predict(X)`` and compares the result with ``y``. Names defined
    here (see :func:`get_scorer_names`) return a fresh scorer; every other
    value (another name, a callable, None) is passed to
    :func:`sklearn.metrics.get_scorer`.

    Parameters
    ----------
    name : str, callable or None
        Scorer name, e.g. ``"clustering_accuracy"`` or ``"adjusted_rand_score"``.

    Returns
    -------
    scorer : callable
        A new scorer object on each call (None for None).

    Raises
    ------
    ValueError
        If ``name`` is a string that names no scorer.

    Notes
    -----
    **How to use with GridSearchCV.** Importing :mod:`skdeepcluster` (or
    :mod:`skdeepcluster.metrics`) registers our names with scikit-learn, so
    ``scoring="clustering_accuracy"`` works by name in
    :class:`~sklearn.model_selection.GridSearchCV`, ``cross_validate``, etc.
    That registration relies on scikit-learn internals (its private scorer
    registry and the name sets of its ``scoring`` parameter validation); should
    a scikit-learn version lack them, the string is not accepted there and you
    can pass the object instead: ``scoring=get_scorer("clustering_accuracy")``.

    The scorers need the true labels: fit the search with ``fit(X, y)``.
    Without ``y`` the scorers raise :class:`TrueLabelsRequiredError`, which,
    unlike ordinary exceptions, scikit-learn does not turn into NaN scores
    (see the :mod:`skdeepcluster.metrics` docstring), so the search stops with
    that error whatever ``error_score`` is.

    The scorers call ``predict``, so each test fold is labelled by a model
    fitted on the other folds; estimators without ``predict`` are rejected
    with a ``TypeError``.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skdeepcluster.metrics import get_scorer
    >>> X, y = make_blobs(n_samples=90, centers=3, cluster_std=0.5, random_state=0)
    >>> search = GridSearchCV(
    ...     KMeans(n_init=3, random_state=0),
    ...     {"n_clusters": [2, 3, 4]},
    ...     scoring="clustering_accuracy",
    ...     cv=3,
    ... ).fit(X, y)
    >>> search.best_params_
    {'n_clusters': 3}
    >>> scorer = get_scorer("clustering_accuracy")
    >>> scorer(search.best_estimator_, X, y)
    1.0

    Without ``y`` the search stops with a clear error instead of NaN scores:

    >>> search.fit(X)
    Traceback (most recent call last):
    ...
    skdeepcluster.metrics._scorers.TrueLabelsRequiredError: clustering_accuracy compares ...
    """
    if isinstance(name, str) and name in _SCORERS:
        return copy.deepcopy(_SCORERS[name])
    try:
        return _sklearn_get_scorer(name)
    except ValueError as exc:
        if isinstance(name, str):
            raise ValueError(
                f"{name!r} is not a valid scoring value. Use "
                "skdeepcluster.metrics.get_scorer_names() to get valid options."
            ) from exc
        raise


def get_scorer_names() -> list[str]:
    """Names of all scorers: ours and scikit-learn's.

    Returns
    -------
    names : list of str
        Sorted names accepted by :func:`get_scorer` (and, once the package is
        imported, by scikit-learn's ``scoring`` parameters).

    Examples
    --------
    >>> from skdeepcluster.metrics import get_scorer_names
    >>> "clustering_accuracy" in get_scorer_names()
    True
    >>> "adjusted_rand_score" in get_scorer_names()
    True
    """
    return sorted(set(_sklearn_get_scorer_names()) | set(_SCORERS))


def _register_with_sklearn() -> bool:
    """Make our scorer names usable as ``scoring=`` strings in scikit-learn.

    scikit-learn has no public API for this, so two private structures are
    extended, defensively (this function never raises):

    1. the name registry ``sklearn.metrics._scorer._SCORERS`` read by
       :func:`sklearn.metrics.get_scorer` and ``get_scorer_names``;
    2. the ``StrOptions`` constraints of the ``scoring`` parameter of the
       scikit-learn functions and estimators already imported
       (``check_scoring``, ``cross_validate``, ``GridSearchCV``, ...): their
       set of valid names is computed once, when their module is imported,
       so it lacks our names if that happened first. Modules imported later
       build it from the updated registry.

    A name scikit-learn already uses for another scorer is not shadowed.

    Returns
    -------
    registered : bool
        True if every name was registered; False if the registry is missing,
        a name was taken, or the constraints could not be extended (then the
        names may resolve only through our :func:`get_scorer`).
    """
    try:
        from sklearn.metrics import _scorer as sklearn_scorer_module

        registry = sklearn_scorer_module._SCORERS
    except (ImportError, AttributeError):
        return False
    if not isinstance(registry, MutableMapping):
        return False
    registered_all = True
    names = []
    for name, scorer in _SCORERS.items():
        current = registry.get(name)
        if current is not None and not getattr(current, "_skdeepcluster_scorer", False):
            registered_all = False
            continue
        registry[name] = scorer
        names.append(name)
    try:
        _allow_scoring_names(names)
    except Exception:  # private internals changed: strings may fail parameter validation
        registered_all = False
    return registered_all


def _allow_scoring_names(names: list[str]) -> None:
    """Add ``names`` to the valid ``scoring`` strings of imported sklearn validators."""
    if not names:
        return
    from sklearn.utils._param_validation import StrOptions

    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == "sklearn" or module_name.startswith("sklearn.")):
            continue
        for obj in list(vars(module).values()):
            if inspect.isclass(obj):
                constraints = vars(obj).get("_parameter_constraints")
            elif inspect.isfunction(obj):
                constraints = getattr(obj, "_skl_parameter_constraints", None)
            else:
                continue
            if not isinstance(constraints, dict):
                continue
            for constraint in constraints.get("scoring", ()):
                options = getattr(constraint, "options", None)
                # only the sets built from sklearn's scorer names, never other options
                if (
                    isinstance(constraint, StrOptions)
                    and isinstance(options, set)
                    and {"accuracy", "adjusted_rand_score"} <= options
                ):
                    options.update(names)
