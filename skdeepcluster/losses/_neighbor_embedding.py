"""Neighbour embedding as contrastive learning: keep the neighbour graph in a few dimensions."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def student_t_similarity_logits(
    e1: torch.Tensor, e2: torch.Tensor, dof: float = 1.0
) -> torch.Tensor:
    """Log of the Student-t kernel with ``dof`` degrees of freedom between two sets of points.

    ``logits[i, j] = -dof * log(1 + ||e1_i - e2_j||^2 / dof)``. ``dof=1`` is
    the Cauchy kernel t-SNE uses in its low-dimensional space; smaller values
    give heavier tails (Kobak et al. [1]_), larger ones approach a Gaussian.

    Parameters
    ----------
    e1 : Tensor of shape (b1, d)
    e2 : Tensor of shape (b2, d)
    dof : float, default=1.0
        Degrees of freedom, > 0.

    Returns
    -------
    Tensor of shape (b1, b2)

    References
    ----------
    .. [1] D. Kobak, G. Linderman, S. Steinerberger, Y. Kluger and P. Berens,
       "Heavy-tailed kernels reveal a finer cluster structure in t-SNE
       visualisations", ECML PKDD 2019.

    Examples
    --------
    >>> e = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> student_t_similarity_logits(e, e).exp().tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    >>> round(student_t_similarity_logits(e, e, dof=0.5)[0, 1].exp().item(), 4)
    0.5774
    """
    if dof <= 0:
        raise ValueError(f"dof must be > 0, got {dof}.")
    sq = (e1 * e1).sum(1, keepdim=True) - 2 * e1 @ e2.T + (e2 * e2).sum(1)[None, :]
    return -dof * torch.log1p(sq.clamp_min(0) / dof)


def neighbor_embedding_loss(e1: torch.Tensor, e2: torch.Tensor, dof: float = 1.0) -> torch.Tensor:
    """InfoNCE with a Student-t kernel between the embeddings of positive pairs.

    Row ``i`` of ``e1`` and row ``i`` of ``e2`` embed two neighbouring
    samples (a sample and a point near it on the neighbour graph); every
    other row of the batch is a negative. The loss is the symmetric
    cross-entropy of picking the partner among the batch under the Student-t
    kernel :func:`student_t_similarity_logits`:

    .. math::

        \\ell_i = -\\log \\frac{q(e_i, e'_i)}{\\sum_j q(e_i, e'_j)},
        \\qquad q(a, b) = \\left(1 + \\frac{\\lVert a - b \\rVert^2}{\\alpha}\\right)^{-\\alpha},

    averaged over both directions, with :math:`\\alpha` = ``dof``. With
    ``dof=1`` (the Cauchy kernel) this is the contrastive form of t-SNE's
    objective (InfoNC-t-SNE in Damrich et al. [1]_): attraction between
    graph neighbours, repulsion from the rest of the batch, with the heavy
    tail of the kernel that lets separate groups of the graph drift apart;
    a smaller ``dof`` has a heavier tail, which separates groups that are
    joined by a few edges of the graph further (Kobak et al. [2]_).
    Trained through a network, it gives a parametric neighbour embedding.

    Parameters
    ----------
    e1, e2 : Tensor of shape (b, d)
        Embeddings of the two members of each positive pair, ``b >= 2``.
    dof : float, default=1.0
        Degrees of freedom of the kernel, > 0.

    Returns
    -------
    Tensor
        Scalar loss.

    References
    ----------
    .. [1] S. Damrich, J. N. Böhm, F. A. Hamprecht and D. Kobak, "From t-SNE to
       UMAP with contrastive learning", ICLR 2023.
    .. [2] D. Kobak, G. Linderman, S. Steinerberger, Y. Kluger and P. Berens,
       "Heavy-tailed kernels reveal a finer cluster structure in t-SNE
       visualisations", ECML PKDD 2019.

    Examples
    --------
    >>> e = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    >>> near = neighbor_embedding_loss(e, e + 0.1)
    >>> far = neighbor_embedding_loss(e, e.flip(0))
    >>> bool(near < far)
    True
    """
    logits = student_t_similarity_logits(e1, e2, dof)
    target = torch.arange(len(e1), device=e1.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
