"""Training under :mod:`torch.distributed`: sharding, reductions and agreement between ranks.

Every process (rank) runs the same ``fit`` on the whole data set. The fit's
generator is seeded identically everywhere, so all ranks draw the same batch
order; each rank trains on its part of every batch (:func:`shard_index`) and
:class:`DistributedHook` keeps the ranks in step: gradients are averaged
before every optimiser step (a manual all-reduce, since the tasks call several
methods of their multi-part networks, which
:class:`torch.nn.parallel.DistributedDataParallel` cannot wrap), module
buffers (batch-norm statistics) and the generator follow rank 0, and each
task reduces its own assignment state through :class:`DistributedContext`.
The solvers of :mod:`skdeepcluster.assignment` never see
:mod:`torch.distributed`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
from torch import distributed as dist
from torch import nn

from skdeepcluster._training._hooks import Hook


def current_context() -> DistributedContext | None:
    """A :class:`DistributedContext` when a process group of two or more ranks is up.

    Examples
    --------
    >>> current_context() is None  # a plain process
    True
    """
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return DistributedContext()
    return None


class DistributedContext:
    """This rank's view of the default process group, with the reductions the fit needs.

    Collectives run on the CPU with gloo (and other CPU backends) and on the
    training device with NCCL; tensors are moved there and back as needed.

    Attributes
    ----------
    rank, world_size : int
    backend : str
    comm_device : torch.device
        Where tensors go for a collective.
    """

    def __init__(self) -> None:
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.backend = str(dist.get_backend())
        self.comm_device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the rank that writes checkpoints and shows progress."""
        return self.rank == 0

    # ------------------------------------------------------------- placement
    def training_device(self, device: torch.device) -> torch.device:
        """The device of this rank: ``cuda`` without an index becomes ``cuda:LOCAL_RANK``.

        Where the launcher shows each process only its own GPU
        (``CUDA_VISIBLE_DEVICES`` set per process), that GPU is ``cuda:0``
        whatever ``LOCAL_RANK`` says. With NCCL the collectives run on the
        device.
        """
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", local_cuda_index())
        if "nccl" in self.backend:
            if device.type != "cuda":
                raise ValueError(
                    f"the NCCL process group needs a CUDA training device, got device={device}; "
                    "use the gloo backend to train on CPUs."
                )
            self.comm_device = device
        return device

    def _send(self, t: torch.Tensor) -> torch.Tensor:
        return t.to(self.comm_device)

    # ------------------------------------------------------------ primitives
    def broadcast_(self, t: torch.Tensor, src: int = 0) -> torch.Tensor:
        """Overwrite ``t`` (in place) with rank ``src``'s values and return it."""
        buf = self._send(t.detach())
        dist.broadcast(buf, src)
        if buf is not t:
            with torch.no_grad():
                t.copy_(buf)
        return t

    def broadcast_int(self, value: int) -> int:
        """Rank 0's ``value`` (e.g. a seed drawn from fresh entropy)."""
        t = torch.tensor([int(value)], dtype=torch.int64)
        return int(self.broadcast_(t)[0])

    def all_reduce_(self, t: torch.Tensor, op: str = "sum") -> torch.Tensor:
        """In place sum (``op="sum"``) or mean (``op="mean"``) of ``t`` over the ranks."""
        buf = self._send(t.detach())
        dist.all_reduce(buf, dist.ReduceOp.SUM)
        if op == "mean":
            buf = buf / self.world_size if buf.is_floating_point() else buf // self.world_size
        with torch.no_grad():
            t.copy_(buf)
        return t

    def all_gather(self, t: torch.Tensor) -> torch.Tensor:
        """The ``t`` of every rank (equal shapes), concatenated along dim 0 in rank order."""
        buf = self._send(t.detach().contiguous())
        parts = [torch.empty_like(buf) for _ in range(self.world_size)]
        dist.all_gather(parts, buf)
        return torch.cat(parts).to(t.device)

    def check_agree(self, values: list[int], what: str) -> None:
        """Raise a RuntimeError unless every rank holds the same integers ``values``."""
        gathered = self.all_gather(torch.tensor([values], dtype=torch.int64))
        if not bool((gathered == gathered[0]).all()):
            raise RuntimeError(
                f"the ranks of the process group disagree on {what}: {gathered.tolist()}. "
                "Every rank must call fit with the same data, parameters and checkpoint "
                "directory."
            )

    # ---------------------------------------------------------------- models
    def _coalesced(self, tensors: list[torch.Tensor], fn) -> None:
        """Apply the collective ``fn`` to ``tensors`` flattened per dtype, then copy back."""
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for group in by_dtype.values():
            flat = torch.cat([t.detach().reshape(-1) for t in group])
            flat = fn(self._send(flat))
            offset = 0
            with torch.no_grad():
                for t in group:
                    n = t.numel()
                    t.copy_(flat[offset : offset + n].view_as(t))
                    offset += n

    def average_gradients(self, params: Iterable[nn.Parameter]) -> None:
        """Replace every gradient by its mean over the ranks (what DDP does)."""
        grads = [p.grad for p in params if p.grad is not None]
        if grads:

            def mean(flat):
                dist.all_reduce(flat, dist.ReduceOp.SUM)
                return flat / self.world_size

            self._coalesced(grads, mean)

    def _broadcast_flat(self, flat: torch.Tensor) -> torch.Tensor:
        dist.broadcast(flat, 0)
        return flat

    def broadcast_buffers(self, module: nn.Module) -> None:
        """Every rank takes rank 0's buffers (batch-norm statistics), as DDP does."""
        buffers = list(module.buffers())
        if buffers:
            self._coalesced(buffers, self._broadcast_flat)

    def broadcast_module(self, module: nn.Module) -> None:
        """Every rank takes rank 0's parameters and buffers."""
        self._coalesced(list(module.parameters()) + list(module.buffers()), self._broadcast_flat)

    def broadcast_generator(self, generator: torch.Generator) -> None:
        """Every rank's generator continues from rank 0's state."""
        state = generator.get_state()
        generator.set_state(self.broadcast_(state.clone()).cpu())

    def broadcast_state(self, state):
        """Rank 0's version of a nested state (dicts, lists, tensors) of equal structure."""
        if isinstance(state, torch.Tensor):
            return self.broadcast_(state.clone())
        if isinstance(state, dict):
            return {k: self.broadcast_state(v) for k, v in state.items()}
        if isinstance(state, (list, tuple)):
            return type(state)(self.broadcast_state(v) for v in state)
        return state

    # ------------------------------------------------------------- task state
    def sync_label_memory(self, memory, index: torch.Tensor) -> None:
        """Give every rank's :class:`LabelMemory` the labels all ranks just wrote.

        ``index`` is this rank's part of the batch, whose labels it has just
        stored. A sample that several ranks hold (the padding of an uneven
        batch) keeps the label of the lowest rank. Counts stay consistent.
        """
        all_index, all_labels = self.gather_batch(index, memory.get(index))
        memory.update(all_index, all_labels)

    def gather_batch(self, index: torch.Tensor, values: torch.Tensor):
        """Every rank's batch part ``(index, values)``, each sample once.

        A sample that several ranks hold (the padding of an uneven batch)
        keeps the values of the lowest rank, so the result is the same on
        every rank.
        """
        all_index = self.all_gather(index)
        all_values = self.all_gather(values)
        keep = first_occurrences(all_index)
        return all_index[keep], all_values[keep]

    def shard(self, loader):
        """This rank's loader: ``loader.shard(rank, world_size)``."""
        if not hasattr(loader, "shard"):
            raise TypeError(
                f"a {type(loader).__name__} cannot be split between processes; training "
                "under torch.distributed needs the loaders of skdeepcluster.data."
            )
        return loader.shard(self.rank, self.world_size)


def local_cuda_index() -> int:
    """This process's CUDA device: ``LOCAL_RANK`` among the devices it sees.

    Without ``LOCAL_RANK`` it is the current device; when the process sees a
    single device (the launcher gave each process its own), that one.

    Raises
    ------
    ValueError
        When ``LOCAL_RANK`` is beyond the visible devices and there are several.
    """
    local = os.environ.get("LOCAL_RANK")
    if local is None:
        return torch.cuda.current_device()
    count = torch.cuda.device_count()
    if int(local) < count:
        return int(local)
    if count == 1:
        return 0
    raise ValueError(
        f"LOCAL_RANK={local} but this process sees {count} CUDA devices (cuda:0 to "
        f"cuda:{count - 1}); start at most {count} processes per machine, or show each "
        "process its own GPU with CUDA_VISIBLE_DEVICES."
    )


def first_occurrences(index: torch.Tensor) -> torch.Tensor:
    """Positions of the first occurrence of each distinct value of ``index``.

    Examples
    --------
    >>> first_occurrences(torch.tensor([4, 2, 4, 9, 2])).tolist()
    [1, 0, 3]
    """
    unique, inverse = torch.unique(index, return_inverse=True)
    positions = torch.arange(len(index), device=index.device)
    first = torch.full((len(unique),), len(index), dtype=positions.dtype, device=index.device)
    return first.scatter_reduce_(0, inverse, positions, reduce="amin")


class DistributedHook(Hook):
    """Keeps the ranks of a fit in step around the shared loop.

    After every backward pass the gradients are averaged over the ranks;
    after every step the module buffers follow rank 0; at the end of every
    epoch the generator follows rank 0 (so the next epoch's batch order is the
    same everywhere) and the epoch record's scalar logs are averaged.

    Parameters
    ----------
    context : DistributedContext
    module : torch.nn.Module
    generator : torch.Generator
    """

    def __init__(self, context: DistributedContext, module: nn.Module, generator) -> None:
        self.context = context
        self.module = module
        self.generator = generator

    def on_after_backward(self) -> None:
        self.context.average_gradients(self.module.parameters())

    def on_batch_end(self, logs: dict) -> None:
        self.context.broadcast_buffers(self.module)

    def on_epoch_end(self, record: dict) -> None:
        self.context.broadcast_generator(self.generator)
        keys = sorted(k for k, v in record.items() if isinstance(v, float) and k != "epoch")
        if keys:
            values = torch.tensor([record[k] for k in keys], dtype=torch.float64)
            self.context.all_reduce_(values, "mean")
            record.update(zip(keys, values.tolist(), strict=True))
