import itertools

import numpy as np
import pandas as pd
import pytest

from skdeepcluster.metrics import clustering_accuracy


def brute_force_accuracy(y_true, y_pred):
    """Best accuracy over every one-to-one (partial) matching, by enumeration."""
    y_true, y_pred = list(y_true), list(y_pred)
    classes = sorted(set(y_true), key=repr)
    clusters = sorted(set(y_pred), key=repr)
    best = 0
    if len(clusters) <= len(classes):
        for image in itertools.permutations(classes, len(clusters)):
            mapping = dict(zip(clusters, image, strict=True))
            best = max(best, sum(mapping[p] == t for t, p in zip(y_true, y_pred, strict=True)))
    else:
        for preimage in itertools.permutations(clusters, len(classes)):
            mapping = dict(zip(preimage, classes, strict=True))
            best = max(
                best,
                sum(mapping.get(p, object()) == t for t, p in zip(y_true, y_pred, strict=True)),
            )
    return best / len(y_true)


TRUE_VALUES = np.array(["a", "b", "c", "d", "e"])
PRED_VALUES = np.array([-7, 3, 100, 0, 42])


@pytest.mark.parametrize(
    "k_true, k_pred",
    [(1, 1), (1, 4), (4, 1), (2, 5), (5, 2), (3, 3), (3, 4), (5, 5)],
)
def test_matches_brute_force(k_true, k_pred):
    rng = np.random.default_rng(1000 * k_true + k_pred)
    n_checked = 0
    for _ in range(25):
        n = int(rng.integers(1, 13))
        # arbitrary, non-contiguous label values on both sides
        y_true = TRUE_VALUES[rng.integers(0, k_true, n)]
        y_pred = PRED_VALUES[rng.integers(0, k_pred, n)]
        expected = brute_force_accuracy(y_true, y_pred)
        assert clustering_accuracy(y_true, y_pred) == pytest.approx(expected, abs=1e-12)
        n_checked += len(set(y_true)) != len(set(y_pred))
    if k_true != k_pred:
        assert n_checked > 0  # the draws did exercise unequal numbers of groups


def test_invariant_to_relabelling_and_sample_order_and_symmetric():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 50)
    y_pred = rng.integers(0, 5, 50)
    reference = clustering_accuracy(y_true, y_pred)
    assert reference < 1.0
    relabel_pred = rng.permutation(5) + 10
    relabel_true = np.array(["w", "x", "y", "z"])[rng.permutation(4)]
    order = rng.permutation(50)
    assert clustering_accuracy(y_true, relabel_pred[y_pred]) == reference
    assert clustering_accuracy(relabel_true[y_true], y_pred) == reference
    assert clustering_accuracy(y_true[order], y_pred[order]) == reference
    assert clustering_accuracy(y_pred, y_true) == reference


def test_perfect_clustering_under_renaming():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    assert clustering_accuracy(y_true, np.array([2, 0, 1])[y_true]) == 1.0


def test_single_cluster_scores_largest_class_share():
    y_true = [0, 1, 2] * 4 + [0]
    assert clustering_accuracy(y_true, [7] * 13) == pytest.approx(5 / 13)


def test_one_cluster_per_sample_scores_n_classes_over_n():
    y_true = [0, 0, 0, 1, 1, 2]
    assert clustering_accuracy(y_true, np.arange(6)) == pytest.approx(3 / 6)


def test_unmatched_clusters_and_classes_count_as_wrong():
    # 3 clusters, 2 classes: cluster 9 (2 samples) stays unmatched
    assert clustering_accuracy([0, 0, 0, 1, 1, 1], [5, 5, 9, 6, 6, 9]) == pytest.approx(4 / 6)
    # 2 clusters, 3 classes: class "c" stays unmatched
    assert clustering_accuracy(["a", "a", "b", "b", "c"], [0, 0, 1, 1, 1]) == pytest.approx(4 / 5)


def test_label_types():
    assert clustering_accuracy(["cat", "cat", "dog"], ["x", "x", "y"]) == 1.0
    assert clustering_accuracy([-1, -1, 3], [0.5, 0.5, 2.5]) == 1.0
    assert clustering_accuracy([True, False, True], [1, 0, 0]) == pytest.approx(2 / 3)
    assert clustering_accuracy(pd.Series(["a", "b", "b"]), pd.Series([1, 2, 2])) == 1.0


def test_returns_python_float():
    assert type(clustering_accuracy([0, 1], [1, 0])) is float


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        ([0, 1, 1], [0, 1], "same length, got 3 and 2"),
        ([], [], "y_true is empty"),
        ([[0, 1], [1, 0]], [0, 1], r"y_true must be 1-D.*shape \(2, 2\)"),
        ([0, 1], np.zeros((2, 1)), "y_pred must be 1-D"),
        (3, [0], "y_true must be 1-D"),
        (None, [0, 1], "y_true is None"),
        ([0, 1], None, "y_pred is None"),
        ([0.0, np.nan], [0, 1], "NaN"),
        (np.array([1, "a"], dtype=object), [0, 1], "cannot be compared"),
    ],
)
def test_validation_errors(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        clustering_accuracy(y_true, y_pred)
