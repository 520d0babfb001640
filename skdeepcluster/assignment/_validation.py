"""Argument checks shared by the solvers."""

from __future__ import annotations

import torch


def check_matrix(name: str, value) -> torch.Tensor:
    """A floating (b, K) tensor with b >= 1 and K >= 1."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
    if value.dim() != 2:
        raise ValueError(f"{name} must be 2-D (batch, n_clusters), got shape {tuple(value.shape)}.")
    if value.shape[0] < 1 or value.shape[1] < 1:
        raise ValueError(f"{name} must be non-empty, got shape {tuple(value.shape)}.")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {value.dtype}.")
    return value


def check_vector(name: str, value, length: int) -> torch.Tensor:
    """A 1-D tensor of the given length."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
    if value.dim() != 1 or value.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},), got {tuple(value.shape)}.")
    return value
