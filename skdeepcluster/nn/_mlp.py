"""Multi-layer perceptrons: the default backbone for vectors and the projection head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    """Fully connected network ``Linear -> BatchNorm -> ReLU`` per hidden layer.

    Parameters
    ----------
    in_features : int
        Input dimension.
    hidden_dims : sequence of int, default=(512, 512)
        Width of each hidden layer.
    out_features : int or None, default=None
        Width of a final linear layer without normalisation or activation. ``None``
        ends the network after the last hidden layer, whose width is then
        :attr:`out_features`.
    batch_norm : bool, default=True
        Insert :class:`torch.nn.BatchNorm1d` after each hidden linear layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    Attributes
    ----------
    out_features : int
        Dimension of the output.

    Examples
    --------
    >>> net = MLP(8, hidden_dims=(16,), out_features=4)
    >>> net(torch.zeros(3, 8)).shape
    torch.Size([3, 4])
    >>> MLP(8, hidden_dims=(16, 32)).out_features
    32
    """

    def __init__(
        self,
        in_features: int,
        hidden_dims: Sequence[int] = (512, 512),
        out_features: int | None = None,
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if int(in_features) < 1:
            raise ValueError(f"in_features must be >= 1, got {in_features}.")
        layers: list[nn.Module] = []
        width = int(in_features)
        for hidden in hidden_dims:
            layers.append(nn.Linear(width, int(hidden), bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(int(hidden)))
            layers.append(nn.ReLU(inplace=True))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(hidden)
        if out_features is not None:
            layers.append(nn.Linear(width, int(out_features)))
            width = int(out_features)
        self.net = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class ProjectionHead(nn.Module):
    """MLP projection head whose output is L2-normalised.

    Parameters
    ----------
    in_features : int
        Dimension of the backbone output.
    hidden_dim : int, default=512
        Width of the hidden layers.
    out_features : int, default=128
        Dimension of the normalised embedding.
    n_layers : int, default=2
        Number of linear layers (``n_layers - 1`` hidden layers with batch
        normalisation and ReLU, then a linear output layer).

    Examples
    --------
    >>> head = ProjectionHead(16, hidden_dim=8, out_features=4)
    >>> z = head(torch.randn(5, 16))
    >>> torch.allclose(z.norm(dim=1), torch.ones(5))
    True
    """

    def __init__(
        self, in_features: int, hidden_dim: int = 512, out_features: int = 128, n_layers: int = 2
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}.")
        self.mlp = MLP(in_features, (hidden_dim,) * (n_layers - 1), out_features)
        self.out_features = int(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.mlp(x), dim=1)
