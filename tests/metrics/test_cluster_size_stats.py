import numpy as np
import pytest

from skdeepcluster.metrics import cluster_size_stats


def test_with_n_clusters_counts_empty_clusters():
    stats = cluster_size_stats(np.array([0, 0, 1, 2, 2, 2]), n_clusters=4)
    np.testing.assert_array_equal(stats["sizes"], [2, 1, 3, 0])
    assert stats["n_clusters"] == 4
    assert (stats["min"], stats["max"], stats["n_empty"]) == (0, 3, 1)
    assert stats["mean"] == pytest.approx(1.5)
    assert stats["std"] == pytest.approx(np.std([2, 1, 3, 0]))
    assert stats["imbalance_ratio"] == np.inf
    p = np.array([2, 1, 3]) / 6
    assert stats["entropy"] == pytest.approx(-(p * np.log(p)).sum() / np.log(4))


def test_without_n_clusters_counts_present_labels_in_unique_order():
    stats = cluster_size_stats(["b", "a", "b", "b", "c", "a"])
    np.testing.assert_array_equal(stats["sizes"], [2, 3, 1])  # a, b, c
    assert stats["n_empty"] == 0
    assert stats["imbalance_ratio"] == pytest.approx(3.0)
    assert 0.0 < stats["entropy"] < 1.0


def test_balanced_clusters():
    stats = cluster_size_stats(np.repeat([0, 1, 2], 4), n_clusters=3)
    assert stats["entropy"] == 1.0
    assert stats["imbalance_ratio"] == 1.0
    assert stats["std"] == 0.0


def test_all_in_one_of_several_clusters_has_zero_entropy():
    stats = cluster_size_stats([1, 1, 1], n_clusters=3)
    np.testing.assert_array_equal(stats["sizes"], [0, 3, 0])
    assert stats["entropy"] == 0.0
    assert stats["n_empty"] == 2


def test_single_cluster_is_balanced_by_convention():
    stats = cluster_size_stats([0, 0], n_clusters=1)
    assert stats["entropy"] == 1.0
    assert stats["imbalance_ratio"] == 1.0


def test_entropy_decreases_with_imbalance():
    mild = cluster_size_stats([0] * 6 + [1] * 4)["entropy"]
    strong = cluster_size_stats([0] * 9 + [1] * 1)["entropy"]
    assert 1.0 > mild > strong > 0.0


@pytest.mark.parametrize(
    "labels, n_clusters, match",
    [
        ([0, 3], 3, r"\[0, 3\).*got values in \[0, 3\]"),
        ([-1, 0], 2, "got values in"),
        ([0.0, 1.0], 2, "must be integers"),
        (["a"], 2, "must be integers"),
        ([0, 1], 0, "n_clusters must be >= 1"),
        ([0, 1], 2.5, "positive integer"),
        ([0, 1], True, "positive integer"),
        ([], None, "labels is empty"),
        ([[0, 1]], None, "labels must be 1-D"),
        (None, None, "labels is None"),
    ],
)
def test_validation_errors(labels, n_clusters, match):
    with pytest.raises(ValueError, match=match):
        cluster_size_stats(labels, n_clusters=n_clusters)
