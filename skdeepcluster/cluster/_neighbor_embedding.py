"""The neighbour-embedding stage: an encoder warm-up that keeps the neighbour graph."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from skdeepcluster._training import StatelessTask, full_precision
from skdeepcluster.augment import default_vector_views
from skdeepcluster.data import as_training_data
from skdeepcluster.losses import neighbor_embedding_loss

#: Mini-batch size of the stage: the other 511 pairs of a batch are the negatives of each pair.
NEIGHBOR_EMBEDDING_BATCH_SIZE = 512
#: Adam's step size in the stage (constant).
NEIGHBOR_EMBEDDING_LR = 1e-3


#: Hidden width of the neighbour-embedding layer of the estimators whose encoder is frozen
#: after the stage (HardRegClustering, EntropyClustering).
NEIGHBOR_EMBEDDING_HIDDEN = 256

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


class NeighborEmbeddingMixin:
    """The neighbour-embedding stage shared by the estimators that have one.

    The estimator holds the parameters ``neighbor_embedding``,
    ``neighbor_embedding_dim``, ``neighbor_embedding_steps`` and
    ``neighbor_embedding_dof``, and its network a ``neighbor`` layer (``None``
    when the stage is off) between the backbone and the projection head.

    Examples
    --------
    >>> from skdeepcluster import PIPCDRClustering, SeCuClustering
    >>> issubclass(SeCuClustering, NeighborEmbeddingMixin)
    True
    >>> PIPCDRClustering(neighbor_embedding=False).neighbor_embedding
    False
    """

    _neighbor_embedding_constraints: dict = {
        "neighbor_embedding": [StrOptions({"auto"}), "boolean"],
        "neighbor_embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "neighbor_embedding_steps": [Interval(Integral, 0, None, closed="left")],
        "neighbor_embedding_dof": [Interval(Real, 0, None, closed="neither")],
    }

    def _uses_neighbor_embedding(self, data) -> bool:
        """``neighbor_embedding`` resolved for ``data`` in ``fit``: ``"auto"`` is on for
        vectors with views (``augment`` not ``None``)."""
        if self.neighbor_embedding == "auto":
            return data.is_vector and self.augment is not None
        return bool(self.neighbor_embedding)

    def _neighbor_embedding_stage(self, data, views, generator, hooks, end: int) -> list[dict]:
        """Train the backbone and the neighbour-embedding layer of ``module_`` on
        :func:`~skdeepcluster.losses.neighbor_embedding_loss` of its ``neighbor_embed``
        over the pairs of ``views``, as the epochs ``end - n`` to ``end - 1``.

        Adam (step size 0.001, constant), batches of 512 pairs (the other pairs
        are the negatives), about ``neighbor_embedding_steps`` steps. A warm
        start continues the trained encoder and runs no epoch of it.
        """
        session = getattr(self, "_fit_session", None)
        warm = session is not None and session.warm_states is not None
        n = 0 if warm else neighbor_embedding_epochs(len(data), self.neighbor_embedding_steps)
        loader = data.loader(
            neighbor_embedding_batch_size(len(data)),
            shuffle=True,
            generator=generator,
            drop_last=True,
        )
        net = self.module_
        parameters = [*net.backbone.parameters(), *net.neighbor.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=NEIGHBOR_EMBEDDING_LR)
        return self._run_training(
            NeighborEmbeddingTask(
                net.neighbor_embed, views, generator, self.neighbor_embedding_dof
            ),
            loader,
            range(end - n, end),
            optimizer,
            None,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )

    def _frozen_encoder_stage(self, data, generator, hooks) -> list[dict]:
        """The stage on the neighbour views of ``data`` (epochs ``-n`` to ``-1``),
        after which the encoder of ``module_`` (a :class:`FrozenEncoderMixin`) is
        frozen; the stage's history.

        The views are :func:`~skdeepcluster.augment.default_vector_views` for
        vectors and images alike (the methods with a frozen encoder train without
        augmentation: a pair is two training samples, neighbours in the input
        space, or a point between them); image files, which are not in memory,
        have no neighbour graph and get a ValueError.
        """
        views = self._fit_views(default_vector_views(len(data) / self.n_clusters), data)
        history = self._neighbor_embedding_stage(data, views, generator, hooks, end=0)
        self.module_.freeze_encoder()
        return history


class StagedNetworkMixin:
    """Network building of a streaming estimator with a neighbour-embedding stage.

    The estimator's ``_network(data, neighbor_embedding)`` builds its network
    with or without the neighbour-embedding layer; ``fit`` gets the layer
    where :meth:`NeighborEmbeddingMixin._uses_neighbor_embedding` says so, and
    ``partial_fit`` never does, since a stream has no stage to train it.

    Examples
    --------
    >>> from skdeepcluster import HardRegClustering, SeCuClustering
    >>> [issubclass(c, StagedNetworkMixin) for c in (SeCuClustering, HardRegClustering)]
    [True, True]
    >>> HardRegClustering(3)._build_stream_module(torch.rand(40, 5)).neighbor is None
    True
    """

    def _build_module(self, data):
        """``fit``'s network, from the estimator's ``_network(data, neighbor_embedding)``,
        with the neighbour-embedding layer when :meth:`_uses_neighbor_embedding`."""
        data = as_training_data(data)
        return self._network(data, self._uses_neighbor_embedding(data))

    def _build_stream_module(self, data):
        """No neighbour-embedding layer in a stream: ``partial_fit`` has no stage to
        train it before clustering."""
        return self._network(data, neighbor_embedding=False)


class FrozenEncoderMixin:
    """A network whose neighbour-embedding encoder becomes a fixed feature map.

    The network (an :class:`torch.nn.Module`) lists the modules of that encoder
    in :meth:`_encoder_parts` and computes it in ``neighbor_embed``. After
    :meth:`freeze_encoder` the encoder has no gradient, :meth:`encoder_features`
    runs it without autograd, and :meth:`train` keeps it in evaluation mode, so
    its batch-norm layers use the running statistics of the stage in training
    as in prediction.

    Examples
    --------
    >>> class Net(FrozenEncoderMixin, torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.neighbor = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ...     def _encoder_parts(self):
    ...         return [self.neighbor]
    ...     def neighbor_embed(self, x):
    ...         return self.neighbor(x)
    >>> net = Net()
    >>> net.freeze_encoder()
    >>> net.train().neighbor.training, net.encoder_features(torch.randn(4, 3)).requires_grad
    (False, False)
    """

    frozen: bool = False

    def _encoder_parts(self) -> list:
        raise NotImplementedError

    def encoder_features(self, x: torch.Tensor) -> torch.Tensor:
        """``neighbor_embed(x)``, without autograd once the encoder is frozen."""
        if not self.frozen:
            return self.neighbor_embed(x)
        with torch.no_grad():
            return self.neighbor_embed(x)

    def freeze_encoder(self) -> None:
        """Fix the encoder: no gradient, evaluation mode from now on."""
        self.frozen = True
        for part in self._encoder_parts():
            part.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            for part in self._encoder_parts():
                part.eval()
        return self
