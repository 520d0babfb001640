"""Optimiser parameter groups and their per-group schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import torch

from skdeepcluster._training._schedule import SCHEDULES


@dataclass
class ParamGroup:
    """One optimiser group: parameters, base learning rate and schedule.

    Parameters
    ----------
    params : list of torch.nn.Parameter
    lr : float
        Base learning rate.
    momentum : float, default=0.9
    weight_decay : float, default=0.0
    schedule : {"cosine", "constant", "warmup"}, default="cosine"
        ``"cosine"`` is linear warm-up then cosine decay over the training steps,
        ``"warmup"`` linear warm-up then constant (training without a planned end).
    warmup_steps : int, default=0
    start_step : int, default=0
        Steps before this group starts training (its learning rate is 0 until
        then, e.g. an encoder frozen during an initialisation epoch).
    name : str, default=""
    """

    params: list
    lr: float
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_steps: int = 0
    start_step: int = 0
    name: str = ""
    extra: dict = field(default_factory=dict)


def _multiplier(step: int, fn, start: int, total: int, warmup: int) -> float:
    return fn(step - start, total - start, warmup)


class GroupSchedule:
    """Set each optimiser group's learning rate from its own schedule, per step.

    Unlike :class:`torch.optim.lr_scheduler.LambdaLR` it has no expectations
    about the order of ``optimizer.step()`` calls: steps without a gradient
    update (e.g. closed-form centre updates during an initialisation epoch)
    still advance the schedule.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    multipliers : list of callable
        ``multipliers[g](step)`` scales group ``g``'s base learning rate.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, multipliers) -> None:
        self.optimizer = optimizer
        self.multipliers = list(multipliers)
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def _apply(self) -> None:
        for group, base, fn in zip(
            self.optimizer.param_groups, self.base_lrs, self.multipliers, strict=True
        ):
            group["lr"] = base * fn(self.last_step)

    def step(self) -> None:
        """Advance one optimisation step."""
        self.last_step += 1
        self._apply()

    def state_dict(self) -> dict:
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_step = int(state["last_step"])
        self.base_lrs = list(state["base_lrs"])
        self._apply()


def build_optimizer(
    groups: Sequence[ParamGroup], total_steps: int
) -> tuple[torch.optim.Optimizer, GroupSchedule]:
    """SGD over ``groups``, each with its own learning-rate schedule.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> opt, sched = build_optimizer([ParamGroup([w], lr=0.5, schedule="constant")], 10)
    >>> opt.param_groups[0]["lr"]
    0.5
    """
    groups = [g for g in groups if g.params]
    for g in groups:
        if g.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {g.schedule!r}; choose one of {sorted(SCHEDULES)}.")
    optimizer = torch.optim.SGD(
        [
            {
                "params": g.params,
                "lr": g.lr,
                "momentum": g.momentum,
                "weight_decay": g.weight_decay,
                "name": g.name,
            }
            for g in groups
        ],
        lr=groups[0].lr if groups else 0.0,
    )
    lambdas = [
        partial(
            _multiplier,
            fn=SCHEDULES[g.schedule],
            start=g.start_step,
            total=total_steps,
            warmup=g.warmup_steps,
        )
        for g in groups
    ]
    return optimizer, GroupSchedule(optimizer, lambdas)
