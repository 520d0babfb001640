"""Batch whitening: zero mean and identity covariance over the mini-batch."""

from __future__ import annotations

import torch
from torch import nn


class BatchWhitening(nn.Module):
    r"""Whiten features over the batch (Cholesky whitening).

    In training mode a batch :math:`H` (b x d) is centred and multiplied by
    the inverse Cholesky factor of its covariance,

    .. math::

        Z = (H - \bar h) L^{-\top}, \qquad L L^\top = \Sigma_H + \epsilon \,
        \frac{\operatorname{tr} \Sigma_H}{d} I,

    so that :math:`Z` has zero mean and (up to :math:`\epsilon`) identity
    covariance; gradients flow through the statistics, as in batch
    normalisation. Unlike per-feature standardisation, whitening also
    decorrelates the features: the output cannot concentrate its variance
    on a few directions. The regulariser :math:`\epsilon` is relative to
    the mean variance, which makes the layer invariant to the scale of its
    input. Running estimates of the mean and covariance (exponential moving
    averages, like :class:`torch.nn.BatchNorm1d`) whiten in evaluation mode
    and for batches of a single sample.

    Parameters
    ----------
    num_features : int
        Feature dimension d.
    eps : float, default=1e-3
        Relative ridge added to the covariance before the factorisation.
    momentum : float, default=0.1
        Weight of the current batch in the running estimates.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> mix = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
    >>> h = torch.randn(500, 3, generator=g) @ mix + 3.0
    >>> z = BatchWhitening(3)(h)
    >>> cov = z.T @ z / (len(z) - 1)
    >>> bool(torch.allclose(z.mean(0), torch.zeros(3), atol=1e-5))
    True
    >>> bool(torch.allclose(cov, torch.eye(3), atol=2e-2))
    True
    """

    def __init__(self, num_features: int, eps: float = 1e-3, momentum: float = 0.1) -> None:
        super().__init__()
        if int(num_features) < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}.")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}.")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_cov", torch.eye(self.num_features))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.dim() != 2 or h.shape[1] != self.num_features:
            raise ValueError(
                f"expected input of shape (batch, {self.num_features}), got {tuple(h.shape)}."
            )
        # Covariance and Cholesky factor in full precision, whatever the autocast.
        if h.dtype in (torch.float16, torch.bfloat16):
            h = h.float()
        with torch.autocast(h.device.type, enabled=False):
            return self._whiten(h)

    def _whiten(self, h: torch.Tensor) -> torch.Tensor:
        if self.training and h.shape[0] > 1:
            mean = h.mean(dim=0)
            centred = h - mean
            cov = centred.T @ centred / (h.shape[0] - 1)
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), self.momentum)
                self.running_cov.lerp_(cov.detach().to(self.running_cov.dtype), self.momentum)
        else:
            mean = self.running_mean.to(h.dtype)
            cov = self.running_cov.to(h.dtype)
            centred = h - mean
        d = self.num_features
        ridge = self.eps * (torch.diagonal(cov).sum() / d).clamp_min(1e-12)
        eye = torch.eye(d, device=h.device, dtype=h.dtype)
        chol = torch.linalg.cholesky(cov + ridge * eye)
        return torch.linalg.solve_triangular(chol, centred.T, upper=False).T

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
