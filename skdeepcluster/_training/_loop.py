"""The one training loop shared by every estimator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Protocol

import torch

from skdeepcluster._training._hooks import Hook


class TrainingTask(Protocol):
    """What an estimator supplies to :func:`run_training`.

    ``training_step`` returns the mini-batch loss (or ``None`` when the batch
    only updates non-gradient state) and a dict of floats to log.

    A task run through an estimator's ``_run_training`` (see
    :class:`~skdeepcluster.base.BaseDeepClustering`) also provides
    ``state_dict()`` and ``load_state_dict(state)``: its assignment state at
    the end of an epoch (labels, counts, duals, pseudo-labels; tensors and
    plain values), for checkpoints, interrupts and warm starts. To train
    under :mod:`torch.distributed` it provides ``use_distributed(context)``
    and reduces its state through the
    :class:`~skdeepcluster._training._distributed.DistributedContext` so that
    every rank holds the same state after each step.
    """

    def on_epoch_start(self, epoch: int) -> None: ...

    def training_step(
        self, index: torch.Tensor, x: torch.Tensor, epoch: int
    ) -> tuple[torch.Tensor | None, dict]: ...

    def after_optimizer_step(self, epoch: int) -> None: ...

    def on_epoch_end(self, epoch: int) -> dict: ...


class StatelessTask:
    """Base of a task whose whole state is the network and the optimiser.

    It has no assignment state to checkpoint or to reduce across ranks (the
    loss of a batch needs no other rank's samples; the loop averages the
    gradients), and nothing to do around epochs and steps unless a subclass
    says so.

    Examples
    --------
    >>> class Mean(StatelessTask):
    ...     def training_step(self, index, x, epoch):
    ...         return None, {"mean": float(x.mean())}
    ...     def on_epoch_end(self, epoch):
    ...         return {}
    >>> Mean().state_dict()
    {}
    """

    def state_dict(self) -> dict:
        """Nothing: the state is the network's and the optimiser's."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def use_distributed(self, context) -> None:
        """Nothing to share: the loop averages the gradients."""

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def after_optimizer_step(self, epoch: int) -> None:
        pass


def autocast_context(device: torch.device, amp_dtype: torch.dtype | None):
    """``torch.autocast`` for ``amp_dtype`` on ``device``, or a null context."""
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype)


def run_training(
    task: TrainingTask,
    loader: Iterable,
    epochs: Sequence[int],
    optimizer: torch.optim.Optimizer,
    scheduler=None,
    hooks: Sequence[Hook] = (),
    device: torch.device | str = "cpu",
    amp_dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> list[dict]:
    """Run ``task`` over ``epochs`` of ``loader`` and return one record per epoch.

    Each step: forward under autocast (when ``amp_dtype`` is given), backward
    (through a gradient scaler for float16 on CUDA: ``scaler``, or a new one),
    the hooks' ``on_after_backward``, optimiser step, scheduler step, then
    ``task.after_optimizer_step`` (e.g. to project centres back onto the unit
    sphere) and the hooks' ``on_batch_end``. Each epoch record holds the mean
    of every logged value and whatever ``task.on_epoch_end`` returns.

    Examples
    --------
    >>> import torch
    >>> class Mean:
    ...     def __init__(self): self.w = torch.nn.Parameter(torch.zeros(1))
    ...     def on_epoch_start(self, epoch): pass
    ...     def training_step(self, index, x, epoch):
    ...         loss = ((x - self.w) ** 2).mean()
    ...         return loss, {"loss": loss.item()}
    ...     def after_optimizer_step(self, epoch): pass
    ...     def on_epoch_end(self, epoch): return {}
    >>> task = Mean()
    >>> opt = torch.optim.SGD([task.w], lr=0.5)
    >>> data = [(torch.arange(2), torch.full((2, 1), 3.0))] * 5
    >>> history = run_training(task, data, range(2), opt)
    >>> len(history), round(task.w.item(), 3)
    (2, 3.0)
    """
    device = torch.device(device)
    if scaler is None and amp_dtype == torch.float16 and device.type == "cuda":
        scaler = torch.amp.GradScaler("cuda")
    n_batches = len(loader) if hasattr(loader, "__len__") else 0
    for hook in hooks:
        hook.on_fit_start(len(epochs), n_batches)
    history: list[dict] = []
    try:
        for epoch in epochs:
            task.on_epoch_start(epoch)
            sums: dict[str, float] = {}
            steps = 0
            for index, x in loader:
                with autocast_context(device, amp_dtype):
                    loss, logs = task.training_step(index, x, epoch)
                if loss is not None:
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        for hook in hooks:
                            hook.on_after_backward()
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        loss.backward()
                        for hook in hooks:
                            hook.on_after_backward()
                        optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                task.after_optimizer_step(epoch)
                for key, value in logs.items():
                    sums[key] = sums.get(key, 0.0) + float(value)
                steps += 1
                for hook in hooks:
                    hook.on_batch_end(logs)
            record = {"epoch": epoch}
            record.update({k: v / max(steps, 1) for k, v in sums.items()})
            record.update(task.on_epoch_end(epoch))
            history.append(record)
            for hook in hooks:
                hook.on_epoch_end(record)
    finally:
        for hook in hooks:
            hook.on_fit_end()
    return history
