"""The neighbour-embedding stage: an encoder warm-up that keeps the neighbour graph."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from skdeepcluster._training import StatelessTask, full_precision
from skdeepcluster.losses import neighbor_embedding_loss

#: Mini-batch size of the stage: the other 511 pairs of a batch are the negatives of each pair.
NEIGHBOR_EMBEDDING_BATCH_SIZE = 512
#: Adam's step size in the stage (constant).
NEIGHBOR_EMBEDDING_LR = 1e-3


#: Most epochs of the stage: small data sets get fewer steps than asked for.
NEIGHBOR_EMBEDDING_MAX_EPOCHS = 200


def neighbor_embedding_epochs(n_samples: int, steps: int) -> int:
    """Epochs that give about ``steps`` optimisation steps, within 1 and
    :data:`NEIGHBOR_EMBEDDING_MAX_EPOCHS` (0 for 0 steps).

    A batch holds :data:`NEIGHBOR_EMBEDDING_BATCH_SIZE` samples, or half the
    data when it is smaller (the last incomplete batch of an epoch is dropped).

    Examples
    --------
    >>> neighbor_embedding_epochs(70_000, 2500), neighbor_embedding_epochs(1_797, 2500)
    (19, 200)
    """
    if steps <= 0:
        return 0
    per_epoch = max(n_samples // neighbor_embedding_batch_size(n_samples), 1)
    return min(max(math.ceil(steps / per_epoch), 1), NEIGHBOR_EMBEDDING_MAX_EPOCHS)


def neighbor_embedding_batch_size(n_samples: int) -> int:
    """The stage's batch size for ``n_samples`` training samples.

    Examples
    --------
    >>> neighbor_embedding_batch_size(70_000), neighbor_embedding_batch_size(300)
    (512, 150)
    """
    return max(min(NEIGHBOR_EMBEDDING_BATCH_SIZE, n_samples // 2), 2)


class NeighborEmbeddingTask(StatelessTask):
    """Train an encoder on :func:`~skdeepcluster.losses.neighbor_embedding_loss`.

    Each batch is turned into two views by ``views`` (for vectors, points on
    the way to neighbours on the input's nearest-neighbour graph); the two
    views of a sample are a positive pair and the other samples of the batch
    the negatives.

    Parameters
    ----------
    encode : callable
        ``encode(x) -> e``, the low-dimensional embedding being trained.
    views : callable
        ``views(x, index, generator) -> (view1, view2)``.
    generator : torch.Generator
    dof : float, default=1.0
        Degrees of freedom of the loss's Student-t kernel.

    Examples
    --------
    >>> from skdeepcluster._training import run_training
    >>> net = torch.nn.Linear(3, 2)
    >>> task = NeighborEmbeddingTask(net, lambda x, i, g: (x, x + 0.01), None)
    >>> data = [(torch.arange(8), torch.randn(8, 3))] * 4
    >>> opt = torch.optim.Adam(net.parameters(), 1e-2)
    >>> [r["stage"] for r in run_training(task, data, range(2), opt)]
    ['neighbor_embedding', 'neighbor_embedding']
    """

    def __init__(
        self,
        encode: Callable[[torch.Tensor], torch.Tensor],
        views,
        generator,
        dof: float = 1.0,
    ) -> None:
        self.encode = encode
        self.views = views
        self.generator = generator
        self.dof = dof

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        with full_precision(x.device):
            v1, v2 = self.views(x, index, self.generator)
        e = self.encode(torch.cat([v1, v2]))
        with full_precision(e.device):
            loss = neighbor_embedding_loss(*e.float().chunk(2), self.dof)
        return loss, {"loss": float(loss.detach())}

    def on_epoch_end(self, epoch: int) -> dict:
        return {"stage": "neighbor_embedding"}
