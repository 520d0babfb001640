"""Learning-rate schedules as pure functions of the optimisation step."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total_steps: int, warmup_steps: int = 0, final: float = 0.0) -> float:
    """Multiplier of the base learning rate: linear warm-up, then cosine decay.

    Parameters
    ----------
    step : int
        Optimisation step, counted from 0. Negative steps give 0 (frozen).
    total_steps : int
        Steps over which the schedule runs; the multiplier reaches ``final`` there.
    warmup_steps : int, default=0
        Steps of linear warm-up from ``1 / warmup_steps`` to 1.
    final : float, default=0.0
        Multiplier at the end of the cosine decay.

    Returns
    -------
    float
        The multiplier for this step.

    Examples
    --------
    >>> warmup_cosine(0, 100, 10)
    0.1
    >>> warmup_cosine(10, 100, 10)
    1.0
    >>> round(warmup_cosine(100, 100, 10), 6)
    0.0
    """
    if step < 0:
        return 0.0
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def constant(step: int, total_steps: int = 0, warmup_steps: int = 0, final: float = 0.0) -> float:
    """Constant multiplier 1 (0 for negative, i.e. frozen, steps).

    Examples
    --------
    >>> constant(5), constant(-1)
    (1.0, 0.0)
    """
    return 0.0 if step < 0 else 1.0


def warmup_constant(
    step: int, total_steps: int = 0, warmup_steps: int = 0, final: float = 0.0
) -> float:
    """Multiplier of the base learning rate: linear warm-up, then constant 1.

    The schedule of training that has no planned end (``partial_fit`` on a
    stream), where a decay has nothing to decay toward.

    Examples
    --------
    >>> warmup_constant(0, warmup_steps=4), warmup_constant(3, warmup_steps=4)
    (0.25, 1.0)
    >>> warmup_constant(10**6, warmup_steps=4), warmup_constant(-1)
    (1.0, 0.0)
    """
    if step < 0:
        return 0.0
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    return 1.0


SCHEDULES = {"cosine": warmup_cosine, "constant": constant, "warmup": warmup_constant}
