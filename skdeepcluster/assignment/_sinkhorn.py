"""Entropic optimal transport (Sinkhorn-Knopp) for balanced soft codes."""

from __future__ import annotations

import math

import torch

from skdeepcluster.assignment._validation import check_matrix, check_vector


def sinkhorn(
    scores: torch.Tensor,
    *,
    epsilon: float = 0.05,
    n_iters: int = 3,
    row_marginals: torch.Tensor | None = None,
    col_marginals: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Soft codes from entropic optimal transport of a batch onto the clusters.

    Finds the plan :math:`P = \operatorname{diag}(u) \exp(S/\varepsilon)
    \operatorname{diag}(v)` with row sums :math:`r` and column sums
    :math:`c`, i.e. the solution of

    .. math::

        \max_{P \ge 0} \; \langle P, S \rangle + \varepsilon H(P)
        \quad \text{s.t.} \quad P \mathbf 1 = r, \; P^\top \mathbf 1 = c,

    by alternating column and row scaling (Sinkhorn-Knopp), in the log domain
    so that small :math:`\varepsilon` does not overflow. The defaults are the
    equipartition of SwAV: uniform :math:`r = 1/b` and :math:`c = 1/K`.

    Parameters
    ----------
    scores : Tensor of shape (b, K)
        Similarities, higher is better.
    epsilon : float, default=0.05
        Entropic regularisation; smaller is closer to a hard assignment.
    n_iters : int, default=3
        Number of (column, row) scaling rounds.
    row_marginals : Tensor of shape (b,), optional
        :math:`r`, positive, summing to 1.
    col_marginals : Tensor of shape (K,), optional
        :math:`c`, positive, summing to 1 (e.g. a known class prior).

    Returns
    -------
    Tensor of shape (b, K)
        :math:`P / r` row-wise: each row sums to 1 (a soft code); the column
        sums approach :math:`b c` as ``n_iters`` grows.

    Notes
    -----
    The work is done in the input dtype (at least float32). In float32 the
    plan keeps about :math:`10^{-7} |S / \varepsilon|` relative precision, so
    for :math:`|S| / \varepsilon` beyond about :math:`10^3` pass float64 scores.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal
       Transport", NeurIPS 2013.
    .. [2] M. Caron et al., "Unsupervised Learning of Visual Features by
       Contrasting Cluster Assignments" (SwAV), NeurIPS 2020.

    Examples
    --------
    >>> scores = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> q = sinkhorn(scores, epsilon=0.1, n_iters=50)
    >>> [round(v, 3) for v in q.sum(0).tolist()], [round(v, 3) for v in q.sum(1).tolist()]
    ([1.0, 1.0], [1.0, 1.0])
    """
    scores = check_matrix("scores", scores)
    b, k = scores.shape
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}.")
    if n_iters < 1:
        raise ValueError(f"n_iters must be >= 1, got {n_iters}.")
    work = torch.promote_types(scores.dtype, torch.float32)
    logits = scores.to(work) / epsilon
    log_r = _log_marginal("row_marginals", row_marginals, b, logits)
    log_c = _log_marginal("col_marginals", col_marginals, k, logits)
    log_u = torch.zeros(b, dtype=work, device=scores.device)
    log_v = torch.zeros(k, dtype=work, device=scores.device)
    for _ in range(n_iters):
        log_v = log_c - torch.logsumexp(logits + log_u[:, None], dim=0)
        log_u = log_r - torch.logsumexp(logits + log_v[None, :], dim=1)
    log_plan = logits + log_u[:, None] + log_v[None, :]
    return torch.exp(log_plan - log_r[:, None]).to(scores.dtype)


def _log_marginal(name, value, length, like):
    if value is None:
        return torch.full((length,), -math.log(length), dtype=like.dtype, device=like.device)
    value = check_vector(name, value, length)
    if bool((value <= 0).any()):
        raise ValueError(f"{name} must be positive.")
    if abs(float(value.sum()) - 1.0) > 1e-4:
        raise ValueError(f"{name} must sum to 1, got {float(value.sum()):.6f}.")
    return torch.log(value.to(like.device, like.dtype))
