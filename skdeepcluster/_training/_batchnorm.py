"""Forward passes that leave running statistics (batch norm and others) untouched."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[nn.Module]:
    """Forward passes through ``module`` that leave its running statistics as they were.

    Inside the block, every batch-norm layer that tracks running statistics
    stops tracking them: in training mode it still normalises with the
    statistics of the current batch, but its ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` stay as they are (in
    evaluation mode nothing changes). Tracking is restored on exit, also
    after an exception.

    Other layers that keep running estimates in buffers, such as
    :class:`~skdeepcluster.nn.BatchWhitening` or a user's own layer, have no
    such switch: their buffers are copied on entry and written back in place
    on exit, so they may move during the block but not across it.

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
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    layers = [m for m in norms if m.track_running_stats]
    skip = {id(b) for m in norms for b in m.buffers(recurse=False)}
    saved = [(b, b.detach().clone()) for b in module.buffers() if id(b) not in skip]
    for layer in layers:
        layer.track_running_stats = False
    try:
        yield module
    finally:
        for layer in layers:
            layer.track_running_stats = True
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
