"""Mini-batch iteration over data held in memory as one tensor."""

from __future__ import annotations

from collections.abc import Iterator

import torch


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

    Examples
    --------
    >>> loader = TensorBatchLoader(torch.arange(10.0).reshape(5, 2), batch_size=2,
    ...                            shuffle=False)
    >>> [idx.tolist() for idx, _ in loader]
    [[0, 1], [2, 3], [4]]
    >>> len(loader)
    3
    """

    def __init__(
        self,
        data: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.data = data
        self.n_samples = int(data.shape[0])
        self.batch_size = max(1, min(int(batch_size), self.n_samples))
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last and self.n_samples >= self.batch_size

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
            yield idx, self.data.index_select(0, idx)
