"""Summary statistics of cluster sizes (balance, empty clusters)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from skdeepcluster.metrics._validation import _check_labels, _encode_labels


def cluster_size_stats(labels: ArrayLike, n_clusters: int | None = None) -> dict[str, Any]:
    """Summarise the sizes of the clusters of a labelling.

    Useful to detect degenerate solutions of deep clustering models (collapsed
    or empty clusters), which accuracy-type scores do not reveal directly.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Cluster label of each sample.
    n_clusters : int, default=None
        Number of clusters the model was asked for. When given, ``labels``
        must be integers in ``[0, n_clusters)`` and clusters that received no
        sample are counted (as size 0). When None, only the clusters present
        in ``labels`` are counted, in the order of ``numpy.unique(labels)``,
        and labels may take any values.

    Returns
    -------
    stats : dict
        With keys:

        - ``"sizes"``: ndarray of int of shape (n_clusters,), number of
          samples per cluster (``sizes[k]`` is the size of cluster ``k`` when
          ``n_clusters`` is given).
        - ``"n_clusters"``: int, number of clusters counted (``len(sizes)``).
        - ``"min"``, ``"max"``: int, smallest and largest size.
        - ``"mean"``, ``"std"``: float, mean and population standard
          deviation (``ddof=0``) of the sizes.
        - ``"n_empty"``: int, number of clusters of size 0 (always 0 when
          ``n_clusters`` is None).
        - ``"imbalance_ratio"``: float, ``max / min``; 1.0 for equal sizes and
          ``inf`` when a cluster is empty.
        - ``"entropy"``: float, entropy of the size distribution
          ``sizes / n_samples`` divided by ``log(n_clusters)``, in ``[0, 1]``;
          1.0 means perfectly balanced (by convention also for a single
          cluster), and empty clusters lower it.

    Raises
    ------
    ValueError
        If ``labels`` is None, not 1-D, empty or contains NaN; if
        ``n_clusters`` is not a positive integer; or if ``n_clusters`` is given
        and ``labels`` are not integers in ``[0, n_clusters)``.

    Examples
    --------
    >>> from skdeepcluster.metrics import cluster_size_stats
    >>> stats = cluster_size_stats([0, 0, 1, 2, 2, 2], n_clusters=4)
    >>> stats["sizes"]
    array([2, 1, 3, 0])
    >>> stats["n_empty"], stats["imbalance_ratio"]
    (1, inf)
    >>> round(stats["entropy"], 2)
    0.73
    >>> balanced = cluster_size_stats(["a", "b", "a", "b"])
    >>> balanced["sizes"], balanced["imbalance_ratio"], balanced["entropy"]
    (array([2, 2]), 1.0, 1.0)
    """
    labels = _check_labels(labels, "labels")
    n_samples = labels.shape[0]

    if n_clusters is None:
        _, codes = _encode_labels(labels, "labels")
        sizes = np.bincount(codes)
    else:
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
            raise ValueError(f"n_clusters must be a positive integer or None, got {n_clusters!r}.")
        if n_clusters < 1:
            raise ValueError(f"n_clusters must be >= 1, got {n_clusters}.")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                "labels must be integers in [0, n_clusters) when n_clusters is given, "
                f"got dtype {labels.dtype}; pass n_clusters=None for arbitrary labels."
            )
        low, high = labels.min(), labels.max()
        if low < 0 or high >= n_clusters:
            raise ValueError(
                f"labels must lie in [0, n_clusters) = [0, {n_clusters}) when n_clusters "
                f"is given, got values in [{low}, {high}]."
            )
        sizes = np.bincount(labels.astype(np.intp), minlength=int(n_clusters))

    sizes = sizes.astype(np.int64)
    k = sizes.shape[0]
    smallest, largest = int(sizes.min()), int(sizes.max())
    if smallest == largest:  # equal sizes (incl. a single cluster): exactly balanced
        entropy = 1.0
    else:
        p = sizes[sizes > 0] / n_samples
        entropy = float(min(-(p * np.log(p)).sum() / np.log(k), 1.0))
    return {
        "sizes": sizes,
        "n_clusters": int(k),
        "min": smallest,
        "max": largest,
        "mean": float(sizes.mean()),
        "std": float(sizes.std()),
        "n_empty": int((sizes == 0).sum()),
        "imbalance_ratio": float(largest / smallest) if smallest > 0 else float("inf"),
        "entropy": entropy,
    }
