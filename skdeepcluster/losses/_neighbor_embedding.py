"""Neighbour embedding as contrastive learning: keep the neighbour graph in a few dimensions."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def cauchy_similarity_logits(e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
    """Log of the Cauchy (Student-t, one degree of freedom) kernel between two sets of points.

    ``logits[i, j] = -log(1 + ||e1_i - e2_j||^2)``, the similarity t-SNE uses
    in its low-dimensional space.

    Parameters
    ----------
    e1 : Tensor of shape (b1, d)
    e2 : Tensor of shape (b2, d)

    Returns
    -------
    Tensor of shape (b1, b2)

    Examples
    --------
    >>> e = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    >>> cauchy_similarity_logits(e, e).exp().tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    sq = (e1 * e1).sum(1, keepdim=True) - 2 * e1 @ e2.T + (e2 * e2).sum(1)[None, :]
    return -torch.log1p(sq.clamp_min(0))


def neighbor_embedding_loss(e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
    """InfoNCE with a Cauchy kernel between the embeddings of positive pairs.

    Row ``i`` of ``e1`` and row ``i`` of ``e2`` embed two neighbouring
    samples (a sample and a point near it on the neighbour graph); every
    other row of the batch is a negative. The loss is the symmetric
    cross-entropy of picking the partner among the batch under the Cauchy
    kernel :func:`cauchy_similarity_logits`:

    .. math::

        \\ell_i = -\\log \\frac{q(e_i, e'_i)}{\\sum_j q(e_i, e'_j)},
        \\qquad q(a, b) = \\frac{1}{1 + \\lVert a - b \\rVert^2},

    averaged over both directions. This is the contrastive form of t-SNE's
    objective (InfoNC-t-SNE in Damrich et al. [1]_): attraction between
    graph neighbours, repulsion from the rest of the batch, with the heavy
    tail of the kernel that lets separate groups of the graph drift apart.
    Trained through a network, it gives a parametric neighbour embedding.

    Parameters
    ----------
    e1, e2 : Tensor of shape (b, d)
        Embeddings of the two members of each positive pair, ``b >= 2``.

    Returns
    -------
    Tensor
        Scalar loss.

    References
    ----------
    .. [1] S. Damrich, J. N. Böhm, F. A. Hamprecht and D. Kobak, "From t-SNE to
       UMAP with contrastive learning", ICLR 2023.

    Examples
    --------
    >>> e = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    >>> near = neighbor_embedding_loss(e, e + 0.1)
    >>> far = neighbor_embedding_loss(e, e.flip(0))
    >>> bool(near < far)
    True
    """
    logits = cauchy_similarity_logits(e1, e2)
    target = torch.arange(len(e1), device=e1.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
