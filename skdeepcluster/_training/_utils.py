"""Seeding and device helpers shared by every estimator."""

from __future__ import annotations

import numbers

import numpy as np
import torch


def resolve_seed(random_state) -> int:
    """Turn a scikit-learn ``random_state`` into an integer seed.

    ``None`` draws fresh entropy without touching NumPy's global generator, an
    integer is used as it is and a :class:`numpy.random.RandomState` instance is
    drawn from (advancing it, as scikit-learn estimators do).

    Examples
    --------
    >>> resolve_seed(3)
    3
    >>> isinstance(resolve_seed(None), int)
    True
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}.")
        return int(random_state) & 0x7FFFFFFFFFFFFFFF
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or Generator; "
        f"got {type(random_state).__name__}."
    )


def resolve_device(device) -> torch.device:
    """Resolve ``device="auto"`` to CUDA when available, else CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}.")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a valid torch device.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    return resolved


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded with ``seed``.

    Examples
    --------
    >>> g = make_generator(0)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=make_generator(0)).item()
    True
    """
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen
