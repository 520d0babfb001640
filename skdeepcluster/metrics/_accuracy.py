"""Clustering accuracy: accuracy under the best one-to-one cluster-to-class matching."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from skdeepcluster.metrics._validation import _check_labels, _encode_labels


def clustering_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Accuracy of a clustering under the best one-to-one cluster-to-class matching.

    Cluster labels are arbitrary, so they are first matched to classes: each
    cluster is assigned to at most one class and each class to at most one
    cluster, so as to maximise the number of samples whose cluster is matched
    to their class. The score is the fraction of samples so matched:

    .. math::

        \\mathrm{ACC} = \\max_{m} \\frac{1}{n} \\sum_{i=1}^{n}
        \\mathbb{1}\\{y_i = m(c_i)\\}

    where :math:`m` ranges over the one-to-one (partial) mappings from
    clusters to classes. The optimal matching is the assignment problem on
    the cluster/class contingency matrix, classically solved by the Hungarian
    algorithm; it is computed exactly with
    :func:`scipy.optimize.linear_sum_assignment`.

    The numbers of clusters and classes may differ: with more clusters than
    classes the samples of the unmatched clusters count as errors, with fewer
    clusters the samples of the unmatched classes do. Both label vectors may
    hold arbitrary values (strings, negative or non-contiguous integers, ...);
    a noise label such as ``-1`` is treated as one more cluster.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels to evaluate.

    Returns
    -------
    accuracy : float
        Fraction of correctly matched samples, in ``(0, 1]``; ``1.0`` means the
        clustering equals the classes up to a renaming of the labels. The score
        is symmetric in its two arguments and invariant to relabelling either.

    Raises
    ------
    ValueError
        If an input is None, not 1-D, empty, contains NaN/infinite values or
        labels of mutually incomparable types, or if the two lengths differ.

    See Also
    --------
    sklearn.metrics.adjusted_rand_score : Chance-adjusted pair-counting index.
    sklearn.metrics.normalized_mutual_info_score : Normalised mutual information.

    Notes
    -----
    The matching is recomputed for every call, i.e. on whatever set is scored
    (for a cross-validation scorer, on each test fold), as is standard for this
    metric. It is not adjusted for chance: a single cluster scores the share of
    the largest class, and one cluster per sample scores
    ``n_classes / n_samples``.

    References
    ----------
    .. [1] Y. Yang, D. Xu, F. Nie, S. Yan and Y. Zhuang, "Image clustering
       using local discriminant models and global integration", IEEE
       Transactions on Image Processing, 19(10), 2761-2773, 2010.
    .. [2] J. Xie, R. Girshick and A. Farhadi, "Unsupervised deep embedding
       for clustering analysis", ICML, 2016.
    .. [3] H. W. Kuhn, "The Hungarian method for the assignment problem",
       Naval Research Logistics Quarterly, 2(1-2), 83-97, 1955.

    Examples
    --------
    >>> from skdeepcluster.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 2])
    1.0
    >>> clustering_accuracy(["cat", "cat", "dog", "dog"], [5, 5, 5, -1])
    0.75

    More clusters than classes: the third cluster stays unmatched.

    >>> clustering_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 1, 2, 2, 2])
    0.8333...
    """
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            "y_true and y_pred must have the same length, got "
            f"{y_true.shape[0]} and {y_pred.shape[0]}."
        )
    classes, true_codes = _encode_labels(y_true, "y_true")
    clusters, pred_codes = _encode_labels(y_pred, "y_pred")
    n_classes, n_clusters = len(classes), len(clusters)

    # contingency[k, c] = number of samples in cluster k with class c
    contingency = np.bincount(
        pred_codes * n_classes + true_codes, minlength=n_clusters * n_classes
    ).reshape(n_clusters, n_classes)
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / y_true.shape[0])
