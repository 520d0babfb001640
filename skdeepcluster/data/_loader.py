"""Mini-batch iteration over data held in memory as one tensor."""

from __future__ import annotations

from collections.abc import Iterator

import torch


def shard_index(index: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Process ``rank``'s part of one batch of sample indices, as a distributed sampler takes it.

    The batch is padded to a multiple of ``world_size`` by repeating its first
    indices (as :class:`torch.utils.data.DistributedSampler` pads an epoch),
    so every process gets the same number of samples and takes the same number
    of collective steps; process ``rank`` takes every ``world_size``-th index
    from position ``rank``.

    Parameters
    ----------
    index : Tensor of shape (b,)
    rank : int
    world_size : int

    Returns
    -------
    Tensor of shape (ceil(b / world_size),)

    Examples
    --------
    >>> idx = torch.tensor([7, 3, 5])
    >>> shard_index(idx, 0, 2).tolist(), shard_index(idx, 1, 2).tolist()
    ([7, 5], [3, 7])
    """
    n = len(index)
    if n == 0:
        raise ValueError("cannot shard an empty batch.")
    per = -(-n // world_size)
    total = per * world_size
    if total > n:
        index = index.repeat(-(-total // n))[:total]
    return index[rank:total:world_size]


class ShardedBatchSampler(torch.utils.data.Sampler):
    """Process ``rank``'s part of each batch of a batch sampler (see :func:`shard_index`).

    Parameters
    ----------
    batch_sampler : iterable of list of int
        The batches of all processes, e.g. a :class:`torch.utils.data.BatchSampler`.
    rank : int
        This process.
    world_size : int
        Number of processes.

    Examples
    --------
    >>> batches = torch.utils.data.BatchSampler(range(5), 4, drop_last=False)
    >>> list(ShardedBatchSampler(batches, 0, 2))
    [[0, 2], [4]]
    """

    def __init__(self, batch_sampler, rank: int, world_size: int) -> None:
        self.batch_sampler = batch_sampler
        self.rank, self.world_size = int(rank), int(world_size)

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self):
        for batch in self.batch_sampler:
            yield shard_index(torch.as_tensor(batch), self.rank, self.world_size).tolist()


class TensorBatchLoader:
    """Yield ``(index, x)`` mini-batches of a tensor, reshuffled every epoch.

    The whole tensor lives on the training device; a batch is a single
    ``index_select``, which is far cheaper than a :class:`torch.utils.data.DataLoader`
    collating single rows for small fixed-feature data. Shuffling draws from an
    explicit :class:`torch.Generator`, so iteration order is reproducible and the
    global RNG is never touched.

    Parameters
    ----------
    data : torch.Tensor
        Samples along the first dimension.
    batch_size : int
        Mini-batch size; clipped to the number of samples.
    shuffle : bool, default=True
        Draw a new permutation each epoch.
    generator : torch.Generator, optional
        CPU generator for the permutations.
    drop_last : bool, default=False
        Drop the last incomplete batch. It is never dropped when it would leave
        an epoch empty.
    rank, world_size : int, default=0 and 1
        This process's share of every batch under :mod:`torch.distributed`
        (see :meth:`shard`).
    device : torch.device, optional
        Where batches are delivered; ``None`` is ``data``'s device. When it
        differs (data kept in host memory for a GPU fit), each batch is
        gathered where ``data`` is and then copied, through pinned memory
        when ``data`` is pinned, so only one batch at a time is on the device.

    Examples
    --------
    >>> loader = TensorBatchLoader(torch.arange(10.0).reshape(5, 2), batch_size=2,
    ...                            shuffle=False)
    >>> [idx.tolist() for idx, _ in loader]
    [[0, 1], [2, 3], [4]]
    >>> len(loader)
    3
    >>> [x.device.type for _, x in TensorBatchLoader(torch.zeros(3, 2), 2, device="cpu")]
    ['cpu', 'cpu']
    """

    def __init__(
        self,
        data: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str | None = None,
    ) -> None:
        self.data = data
        self.device = torch.device(device) if device is not None else data.device
        self.n_samples = int(data.shape[0])
        self.batch_size = max(1, min(int(batch_size), self.n_samples))
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last and self.n_samples >= self.batch_size
        self.rank, self.world_size = int(rank), int(world_size)

    def shard(self, rank: int, world_size: int) -> TensorBatchLoader:
        """The loader of process ``rank`` of ``world_size``: its part of every batch.

        Every process draws the same permutation from the same generator state
        and takes its part of each batch (:func:`shard_index`), so the batches
        of all processes together are the batches of the unsharded loader and
        every process runs the same number of steps.

        Parameters
        ----------
        rank : int
            This process.
        world_size : int
            Number of processes.

        Returns
        -------
        TensorBatchLoader

        Examples
        --------
        >>> loader = TensorBatchLoader(torch.zeros(5, 1), batch_size=4, shuffle=False)
        >>> [idx.tolist() for idx, _ in loader.shard(1, 2)]
        [[1, 3], [4]]
        """
        return TensorBatchLoader(
            self.data,
            self.batch_size,
            self.shuffle,
            self.generator,
            self.drop_last,
            rank=rank,
            world_size=world_size,
            device=self.device,
        )

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return -(-self.n_samples // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.shuffle:
            order = torch.randperm(self.n_samples, generator=self.generator)
        else:
            order = torch.arange(self.n_samples)
        order = order.to(self.data.device)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if self.world_size > 1:
                idx = shard_index(idx, self.rank, self.world_size)
            x = self.data.index_select(0, idx)
            if self.device != self.data.device:
                copy = self.data.is_pinned() and self.device.type == "cuda"
                x = (x.pin_memory() if copy else x).to(self.device, non_blocking=copy)
                idx = idx.to(self.device)
            yield idx, x
