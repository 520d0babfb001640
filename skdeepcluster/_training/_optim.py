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
    schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` is linear warm-up then cosine decay over the training steps.
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


def build_optimizer(
    groups: Sequence[ParamGroup], total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """SGD over ``groups`` with one :class:`~torch.optim.lr_scheduler.LambdaLR` lambda each.

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
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
    return optimizer, scheduler
