"""Online assignment under lower (and upper) bounds on cluster sizes."""

from __future__ import annotations

import torch

from skdeepcluster.assignment._validation import check_matrix, check_vector


def size_constrained_assignment(
    scores: torch.Tensor,
    lower_dual: torch.Tensor,
    upper_dual: torch.Tensor | None = None,
    *,
    gamma: float = 0.9,
    gamma_upper: float | None = None,
    dual_lr: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    r"""Assign a mini-batch under size bounds by online dual ascent.

    Solves, online over mini-batches, the assignment problem of SeCu Eq. 8 and
    Appendix B

    .. math::

        \min_{y_i \in \Delta} \sum_i -s_{i, y_i}
        \quad \text{s.t.} \quad
        \gamma N / K \le |\{i : y_i = j\}| \le \gamma' N / K \quad \forall j,

    where :math:`s_{ij}` is ``scores`` (higher is better: :math:`\log p_{ij}`,
    or the cosine :math:`x_i^\top w_j` as in the paper's experiments). With dual
    variables :math:`\rho_j, \rho'_j \ge 0` of the lower and upper bounds, each
    sample of the batch takes the closed-form label of Eq. 9

    .. math:: y_i = \arg\max_j \; s_{ij} + \rho_j - \rho'_j ,

    then the duals take one projected gradient step on the batch's label
    fractions :math:`\bar y_j = \frac1b \sum_i [y_i = j]`:

    .. math::

        \rho_j \leftarrow \max(0, \rho_j - \eta (\bar y_j - \gamma / K)), \qquad
        \rho'_j \leftarrow \max(0, \rho'_j + \eta (\bar y_j - \gamma' / K)).

    The duals carry the history of past batches: a cluster that has received
    too few samples gains a bonus until it is filled.

    Parameters
    ----------
    scores : Tensor of shape (b, K)
        Assignment scores, higher is better.
    lower_dual : Tensor of shape (K,)
        :math:`\rho` (zeros at the start of training).
    upper_dual : Tensor of shape (K,) or None, default=None
        :math:`\rho'`; give it together with ``gamma_upper``.
    gamma : float, default=0.9
        Lower bound as a fraction of the average size N/K, in (0, 1].
    gamma_upper : float or None, default=None
        Upper bound as a multiple of N/K, at least 1.
    dual_lr : float, default=0.1
        Step size :math:`\eta` of the dual ascent.

    Returns
    -------
    labels : Tensor of shape (b,), int64
    lower_dual : Tensor of shape (K,)
        Updated :math:`\rho`.
    upper_dual : Tensor of shape (K,) or None
        Updated :math:`\rho'`.

    References
    ----------
    .. [1] Q. Qian, "Stable Cluster Discrimination for Deep Clustering",
       ICCV 2023, Eq. 8-9 and Appendix B.
    .. [2] Q. Qian et al., "Unsupervised Visual Representation Learning by
       Online Constrained K-Means", CVPR 2022.

    Examples
    --------
    >>> scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    >>> rho = torch.zeros(2)
    >>> labels, rho, _ = size_constrained_assignment(scores, rho, dual_lr=1.0)
    >>> labels.tolist(), [round(v, 2) for v in rho.tolist()]
    ([0, 0, 0], [0.0, 0.45])
    >>> size_constrained_assignment(scores, rho)[0].tolist()
    [0, 0, 1]
    """
    scores = check_matrix("scores", scores)
    n_clusters = scores.shape[1]
    check_vector("lower_dual", lower_dual, n_clusters)
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}.")
    if dual_lr <= 0:
        raise ValueError(f"dual_lr must be > 0, got {dual_lr}.")
    if (upper_dual is None) != (gamma_upper is None):
        raise ValueError("upper_dual and gamma_upper must be given together.")
    offset = lower_dual.to(scores.dtype)
    if upper_dual is not None:
        check_vector("upper_dual", upper_dual, n_clusters)
        if gamma_upper < 1:
            raise ValueError(f"gamma_upper must be >= 1, got {gamma_upper}.")
        offset = offset - upper_dual.to(scores.dtype)
    adjusted = scores + offset  # a single b x K pass
    labels = adjusted.argmax(dim=1)
    fraction = torch.bincount(labels, minlength=n_clusters).to(lower_dual.dtype) / len(labels)
    new_lower = (lower_dual - dual_lr * (fraction - gamma / n_clusters)).clamp_min(0)
    new_upper = None
    if upper_dual is not None:
        new_upper = (upper_dual + dual_lr * (fraction - gamma_upper / n_clusters)).clamp_min(0)
    return labels, new_lower, new_upper
