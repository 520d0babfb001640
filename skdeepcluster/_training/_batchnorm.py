"""Forward passes that leave batch-norm running statistics untouched."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[nn.Module]:
    """Batch-norm layers of ``module`` normalise without updating their running statistics.

    Inside the block, every batch-norm layer that tracks running statistics
    stops tracking them: in training mode it still normalises with the
    statistics of the current batch, but its ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` stay as they are (in
    evaluation mode nothing changes). Tracking is restored on exit, also
    after an exception.

    This is for an extra forward pass whose inputs are not the training
    distribution the running statistics should describe, such as the weak
    view that only provides targets in self-labeling.

    Parameters
    ----------
    module : torch.nn.Module

    Yields
    ------
    module : torch.nn.Module
        The same module.

    Examples
    --------
    >>> import torch
    >>> bn = torch.nn.BatchNorm1d(2)
    >>> with frozen_running_stats(bn):
    ...     _ = bn(torch.randn(8, 2) + 5.0)
    >>> bn.running_mean.tolist(), int(bn.num_batches_tracked), bn.track_running_stats
    ([0.0, 0.0], 0, True)
    """
    layers = [
        m
        for m in module.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]
    for layer in layers:
        layer.track_running_stats = False
    try:
        yield module
    finally:
        for layer in layers:
            layer.track_running_stats = True
