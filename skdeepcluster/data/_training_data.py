"""The training data an estimator receives: in memory or streamed from disk."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial

import torch

from skdeepcluster._config import get_config
from skdeepcluster.data._folder import ImageFolder
from skdeepcluster.data._loader import ShardedBatchSampler, TensorBatchLoader

Batch = tuple[torch.Tensor, torch.Tensor]


class TrainingData:
    """Samples handed to an estimator's ``_build_module`` and ``_train``.

    One interface over data held in memory as a tensor (:class:`InMemoryData`)
    and images streamed from disk (:class:`StreamedData`), so an estimator
    never slices the raw data itself. Batches are ``(index, x)`` pairs: the
    positions of the samples in the data set (int64) and the samples as
    float32 on :attr:`device`, vectors of shape ``(b, n_features)`` or images
    of shape ``(b, C, H, W)`` with values in [0, 1] for decoded image files.

    Attributes
    ----------
    n_samples : int
        Number of samples.
    sample_shape : tuple of int
        ``(n_features,)`` for vectors, ``(C, H, W)`` for images.
    is_image : bool
        Whether the samples are images (``is_vector`` is its negation).
    device : torch.device
        Where batches are delivered.
    tensor : torch.Tensor or None
        All samples when the data is in memory, else ``None``: on
        :attr:`device`, or in host memory when they do not fit it
        (:func:`place_training_tensor`).
    """

    n_samples: int
    sample_shape: tuple[int, ...]
    is_image: bool
    device: torch.device
    tensor: torch.Tensor | None = None

    @property
    def is_vector(self) -> bool:
        return not self.is_image

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n_samples, *sample_shape)``, like an array's shape."""
        return (self.n_samples, *self.sample_shape)

    def __len__(self) -> int:
        return self.n_samples

    def loader(
        self,
        batch_size: int,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ):
        """Training batches ``(index, x)``, a new order each epoch drawn from ``generator``.

        Both implementations draw the same permutations from the same
        generator.

        Parameters
        ----------
        batch_size : int
            Mini-batch size; clipped to the number of samples.
        shuffle : bool, default=True
            Draw a new permutation of the samples each epoch; ``False`` keeps
            their order.
        generator : torch.Generator, optional
            CPU generator the permutations are drawn from.
        drop_last : bool, default=False
            Drop the last incomplete batch of an epoch. It is never dropped
            when that would leave the epoch empty (as
            :class:`~skdeepcluster.data.TensorBatchLoader`).

        Returns
        -------
        loader : iterable of (torch.Tensor, torch.Tensor)
            Has ``len()`` (batches per epoch) and is iterated once per epoch.
        """
        raise NotImplementedError

    def batches(self, batch_size: int, indices: torch.Tensor | None = None) -> Iterator[Batch]:
        """Batches ``(index, x)`` of ``indices`` (default: every sample), in order.

        Parameters
        ----------
        batch_size : int
            Samples per batch (the last batch may be smaller).
        indices : torch.Tensor of int, optional
            Positions of the samples to deliver, in this order; ``None``
            delivers every sample in order.

        Yields
        ------
        index : torch.Tensor of shape (b,), int64
            Positions of the batch's samples, on :attr:`device`.
        x : torch.Tensor, float32
            The samples, of shape ``(b, *sample_shape)``, on :attr:`device`.
        """
        raise NotImplementedError

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """The samples at ``indices``, stacked on :attr:`device`.

        Parameters
        ----------
        indices : torch.Tensor of int
            Positions of the samples, in the order wanted.

        Returns
        -------
        torch.Tensor, float32
            Of shape ``(len(indices), *sample_shape)``.
        """
        return torch.cat([x for _, x in self.batches(256, indices)])

    def example(self, n: int = 2) -> torch.Tensor:
        """The first ``n`` samples, e.g. to infer a module's output shape.

        Parameters
        ----------
        n : int, default=2
            Number of samples (at most :attr:`n_samples`).

        Returns
        -------
        torch.Tensor, float32
            Of shape ``(min(n, n_samples), *sample_shape)``.
        """
        return self.take(torch.arange(min(n, self.n_samples)))

    def map(
        self,
        fn: Callable[[torch.Tensor], torch.Tensor],
        batch_size: int,
        indices: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``torch.cat([fn(x) for each batch])`` over ``indices``, in order.

        Nothing is switched for the caller: wrap the call in
        :func:`torch.no_grad` and set the module's mode as needed.

        Parameters
        ----------
        fn : callable
            Maps a batch of samples to a tensor with one row per sample (for
            example a module's forward pass).
        batch_size : int
            Samples per call of ``fn``.
        indices : torch.Tensor of int, optional
            Positions of the samples, in order; ``None`` maps every sample.

        Returns
        -------
        torch.Tensor
            The outputs of ``fn`` concatenated along the first dimension.
        """
        return torch.cat([fn(x) for _, x in self.batches(batch_size, indices)])


class InMemoryData(TrainingData):
    """Samples held in one tensor; training batches are single ``index_select`` calls.

    Parameters
    ----------
    tensor : torch.Tensor
        The samples along the first dimension (float32).
    is_image : bool, default=False
        Whether the samples are images of shape (C, H, W).
    device : torch.device, optional
        Where batches are delivered; defaults to the tensor's device. The
        tensor may live elsewhere (on the CPU for inference, or for a fit
        whose data do not fit the device: :func:`place_training_tensor`), in
        which case each batch is moved.

    Examples
    --------
    >>> data = InMemoryData(torch.arange(12.0).reshape(6, 2))
    >>> data.shape, data.is_vector
    ((6, 2), True)
    >>> [idx.tolist() for idx, _ in data.batches(4)]
    [[0, 1, 2, 3], [4, 5]]
    >>> data.take(torch.tensor([5, 0])).tolist()
    [[10.0, 11.0], [0.0, 1.0]]
    """

    def __init__(
        self, tensor: torch.Tensor, is_image: bool = False, device: torch.device | None = None
    ) -> None:
        self.tensor = tensor
        self.n_samples = int(tensor.shape[0])
        self.sample_shape = tuple(int(s) for s in tensor.shape[1:])
        self.is_image = bool(is_image)
        self.device = torch.device(device) if device is not None else tensor.device

    def loader(self, batch_size, shuffle=True, generator=None, drop_last=False):
        return TensorBatchLoader(
            self.tensor, batch_size, shuffle, generator, drop_last, device=self.device
        )

    def batches(self, batch_size, indices=None):
        if indices is None:
            for start in range(0, self.n_samples, batch_size):
                index = torch.arange(start, min(start + batch_size, self.n_samples))
                yield index.to(self.device), self.tensor[start : start + batch_size].to(self.device)
            return
        indices = torch.as_tensor(indices, dtype=torch.long)
        for chunk in indices.split(batch_size):
            x = self.tensor.index_select(0, chunk.to(self.tensor.device))
            yield chunk.to(self.device), x.to(self.device)

    def take(self, indices):
        indices = torch.as_tensor(indices, dtype=torch.long).to(self.tensor.device)
        return self.tensor.index_select(0, indices).to(self.device)


class _EpochSampler(torch.utils.data.Sampler):
    """A permutation per epoch drawn from ``generator`` (or the identity order)."""

    def __init__(self, n: int, shuffle: bool, generator: torch.Generator | None) -> None:
        self.n, self.shuffle, self.generator = n, shuffle, generator

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        if self.shuffle:
            return iter(torch.randperm(self.n, generator=self.generator).tolist())
        return iter(range(self.n))


class _StreamLoader:
    """A DataLoader over an :class:`ImageFolder`, delivering float batches on the device.

    ``shard(rank, world_size)``, when given, builds the loader of one process
    under :mod:`torch.distributed` (see :meth:`shard`).
    """

    def __init__(
        self,
        loader: torch.utils.data.DataLoader,
        device: torch.device,
        shard: Callable[[int, int], _StreamLoader] | None = None,
    ) -> None:
        self.loader = loader
        self.device = device
        self._shard = shard

    def shard(self, rank: int, world_size: int) -> _StreamLoader:
        """The loader of process ``rank``: its part of every batch (same order, same steps)."""
        if self._shard is None:
            raise TypeError("this loader cannot be sharded.")
        return self._shard(rank, world_size)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        non_blocking = self.device.type == "cuda"
        for index, x in self.loader:
            x = x.to(self.device, non_blocking=non_blocking)
            yield index.to(self.device), x.float().div_(255.0)


class StreamedData(TrainingData):
    """Images decoded from disk by :class:`torch.utils.data.DataLoader` workers.

    Batches are decoded as uint8 in ``folder.num_workers`` worker processes
    (pinned memory on CUDA), moved to the device and only then converted to
    float32 in [0, 1]. Sample order is drawn in the main process from the
    generator passed to :meth:`loader`, exactly as
    :class:`~skdeepcluster.data.TensorBatchLoader` draws it; the workers get a
    seed from a separate generator (they do no random work), so the fit's
    generator advances the same way whatever the number of workers.

    Parameters
    ----------
    folder : ImageFolder
        The image files, their order and how they are decoded.
    device : torch.device or str, default="cpu"
        Where batches are delivered.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     Image.new("L", (4, 4), color=i).save(root / f"{i}.png")
    >>> data = StreamedData(ImageFolder(root, num_workers=0))
    >>> data.shape, data.tensor is None
    ((3, 1, 4, 4), True)
    >>> [idx.tolist() for idx, _ in data.loader(2, shuffle=False)]
    [[0, 1], [2]]
    """

    def __init__(self, folder: ImageFolder, device: torch.device | str = "cpu") -> None:
        self.folder = folder
        self.n_samples = len(folder)
        self.sample_shape = tuple(folder.image_shape)
        self.is_image = True
        self.device = torch.device(device)
        self.tensor = None

    def _dataloader(self, batch_sampler, persistent: bool, workers: int | None = None):
        workers = self.folder.num_workers if workers is None else workers
        return torch.utils.data.DataLoader(
            self.folder,
            batch_sampler=batch_sampler,
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=persistent and workers > 0,
            # Seeds the workers (which draw nothing); never the global RNG.
            generator=torch.Generator().manual_seed(0),
        )

    def loader(self, batch_size, shuffle=True, generator=None, drop_last=False):
        batch_size = max(1, min(int(batch_size), self.n_samples))
        sampler = _EpochSampler(self.n_samples, shuffle, generator)
        return self._epoch_loader(sampler, batch_size, drop_last)

    def _epoch_loader(self, sampler, batch_size, drop_last, rank=0, world_size=1):
        batches = torch.utils.data.BatchSampler(sampler, batch_size, drop_last)
        if world_size > 1:
            batches = ShardedBatchSampler(batches, rank, world_size)
        shard = partial(self._epoch_loader, sampler, batch_size, drop_last)
        return _StreamLoader(self._dataloader(batches, True), self.device, shard)

    def batches(self, batch_size, indices=None):
        if indices is None:
            order = range(self.n_samples)
        else:
            order = torch.as_tensor(indices, dtype=torch.long).cpu().tolist()
        if len(order) == 0:
            return iter(())
        batch_size = max(1, int(batch_size))
        # A single batch is not worth starting worker processes for.
        workers = 0 if math.ceil(len(order) / batch_size) == 1 else None
        batch_sampler = torch.utils.data.BatchSampler(list(order), batch_size, False)
        loader = self._dataloader(batch_sampler, False, workers)
        return iter(_StreamLoader(loader, self.device))


def as_training_data(data, is_image: bool | None = None) -> TrainingData:
    """Wrap a tensor as :class:`InMemoryData`; return a :class:`TrainingData` unchanged.

    Parameters
    ----------
    data : TrainingData or torch.Tensor
        The samples along the first dimension of a tensor (float32), or data
        already wrapped.
    is_image : bool, optional
        Whether a tensor holds images (N, C, H, W). By default a tensor with
        more than two dimensions is taken as images. Ignored for a
        :class:`TrainingData`.

    Returns
    -------
    TrainingData
        ``data`` itself when it is a :class:`TrainingData`, else an
        :class:`InMemoryData` on the tensor's device.

    Examples
    --------
    >>> as_training_data(torch.zeros(4, 3)).is_vector
    True
    >>> as_training_data(torch.zeros(4, 1, 8, 8)).sample_shape
    (1, 8, 8)
    """
    if isinstance(data, TrainingData):
        return data
    if isinstance(data, torch.Tensor):
        return InMemoryData(data, is_image=data.dim() > 2 if is_image is None else is_image)
    raise TypeError(f"expected a TrainingData or a torch.Tensor, got {type(data).__name__}.")


#: Largest share of the free memory of a CUDA device that ``data_placement="auto"``
#: lets the training data take; the network, its activations and the optimiser
#: state need the rest.
DEVICE_DATA_FRACTION = 0.5


def _free_device_memory(device: torch.device) -> int:
    """Free bytes on a CUDA ``device``."""
    return int(torch.cuda.mem_get_info(device)[0])


def data_placement(tensor: torch.Tensor, device: torch.device, placement: str = "auto") -> str:
    """``"device"`` or ``"host"``: where a fit on ``device`` keeps ``tensor``.

    Parameters
    ----------
    tensor : torch.Tensor
        The training samples.
    device : torch.device
        The training device.
    placement : {"auto", "device", "host"}, default="auto"
        A requested placement (see :func:`skdeepcluster.set_config`);
        ``"auto"`` is ``"device"`` on the CPU and, on CUDA, while ``tensor``
        takes at most :data:`DEVICE_DATA_FRACTION` of the free device memory.

    Returns
    -------
    str

    Examples
    --------
    >>> data_placement(torch.zeros(10, 2), torch.device("cpu"))
    'device'
    >>> data_placement(torch.zeros(10, 2), torch.device("cpu"), "host")
    'host'
    """
    if placement != "auto":
        return placement
    if torch.device(device).type != "cuda":
        return "device"
    size = tensor.numel() * tensor.element_size()
    return "device" if size <= DEVICE_DATA_FRACTION * _free_device_memory(device) else "host"


def place_training_tensor(
    tensor: torch.Tensor, device: torch.device, is_image: bool = False, placement: str | None = None
) -> InMemoryData:
    """The training data of a fit on ``device``: ``tensor`` moved there, or kept on the host.

    With the ``"device"`` placement the whole tensor is copied to ``device``
    once and batches are slices of it; with ``"host"`` it stays in CPU memory
    (pinned for a CUDA device) and each batch is copied to ``device`` as it
    is drawn (:class:`~skdeepcluster.data.TensorBatchLoader`). Both deliver
    the same batches in the same order.

    Parameters
    ----------
    tensor : torch.Tensor
        The samples along the first dimension (float32).
    device : torch.device
        The training device.
    is_image : bool, default=False
        Whether the samples are images (N, C, H, W).
    placement : {"auto", "device", "host"} or None, default=None
        ``None`` reads ``data_placement`` from :func:`skdeepcluster.get_config`;
        see :func:`data_placement`.

    Returns
    -------
    InMemoryData
        Batches on ``device``.

    Examples
    --------
    >>> data = place_training_tensor(torch.zeros(6, 2), torch.device("cpu"), placement="host")
    >>> data.device.type, data.tensor.device.type
    ('cpu', 'cpu')
    """
    device = torch.device(device)
    if placement is None:
        placement = get_config()["data_placement"]
    if data_placement(tensor, device, placement) == "device":
        return InMemoryData(tensor.to(device), is_image=is_image)
    host = tensor.cpu()
    if device.type == "cuda" and not host.is_pinned():
        host = host.pin_memory()
    return InMemoryData(host, is_image=is_image, device=device)
