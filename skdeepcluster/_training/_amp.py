"""Mixed precision: the autocast dtype of a fit, and regions kept in full precision."""

from __future__ import annotations

import torch

#: ``amp`` values that name a dtype.
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _cuda_bf16() -> bool:
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # pragma: no cover - older torch without the argument
        return bool(torch.cuda.is_bf16_supported())


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX tiles).

    Without those instructions bfloat16 is emulated: on an AVX2-only AMD
    EPYC (2 threads) a forward and backward pass of :class:`~skdeepcluster.nn.SmallCNN`
    on 512 images of 28x28 took 10.7 s under bfloat16 autocast against 1.09 s
    in float32, so ``amp="auto"`` keeps float32 there. Non-x86 CPUs report
    ``False`` (float32 is the safe default; ``amp="bf16"`` still asks for
    bfloat16).

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(cpu_has_native_bf16(), bool)
    True
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(bool(getattr(torch.cpu, name)()) for name in checks)
    except (AttributeError, RuntimeError):  # pragma: no cover - torch without the probes
        return False


def resolve_amp(amp, device, prefer: bool = True) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device``, or ``None`` for float32.

    Parameters
    ----------
    amp : {"auto", "bf16", "fp16"} or None
        ``None`` is float32. ``"auto"`` is bfloat16 on a CPU with native
        bfloat16 instructions (:func:`cpu_has_native_bf16`; float32 on other
        CPUs, where it is emulated and slower) and, on CUDA,
        bfloat16 where the GPU supports it natively (Ampere and later), else
        float16 (trained through a gradient scaler by
        :func:`~skdeepcluster._training.run_training`); float32 on other
        devices, and wherever ``prefer`` is false. ``"bf16"`` and ``"fp16"``
        ask for that dtype.
    device : torch.device or str
        The device the forward passes run on.
    prefer : bool, default=True
        Whether ``"auto"`` turns mixed precision on (estimators pass whether the
        backbone is one of the built-in CNNs: vectors and MLPs stay float32).

    Returns
    -------
    torch.dtype or None

    Raises
    ------
    ValueError
        For ``"fp16"`` on the CPU (no gradient scaler there: use ``"bf16"``),
        ``"bf16"`` on a GPU without native bfloat16, or an unknown value.

    Examples
    --------
    >>> resolve_amp("auto", "cpu") == (torch.bfloat16 if cpu_has_native_bf16() else None)
    True
    >>> resolve_amp("auto", "cpu", prefer=False) is None
    True
    >>> resolve_amp(None, "cpu") is None
    True
    """
    device = torch.device(device)
    if amp is None:
        return None
    if amp == "auto":
        if not prefer:
            return None
        if device.type == "cpu":
            return torch.bfloat16 if cpu_has_native_bf16() else None
        if device.type == "cuda":
            return torch.bfloat16 if _cuda_bf16() else torch.float16
        return None
    if amp not in AMP_DTYPES:
        raise ValueError(f"amp must be 'auto', 'bf16', 'fp16' or None; got {amp!r}.")
    dtype = AMP_DTYPES[amp]
    if dtype == torch.float16 and device.type == "cpu":
        raise ValueError(
            "amp='fp16' needs a CUDA device (float16 training uses a CUDA gradient scaler); "
            "on the CPU use amp='bf16' or amp=None."
        )
    if dtype == torch.bfloat16 and device.type == "cuda" and not _cuda_bf16():
        raise ValueError(
            "amp='bf16' needs a GPU with native bfloat16 (compute capability 8.0 or more); "
            "use amp='fp16' or amp=None on this GPU."
        )
    return dtype


def full_precision(device):
    """A context in which autocast is off: for losses, solvers and assignments.

    Mixed precision is for the network's forward pass; logits against centres
    divided by a small temperature, soft labels and assignment scores are
    computed in float32 (or float64) inside this context, whatever the
    surrounding autocast.

    Parameters
    ----------
    device : torch.device or str
        The device whose autocast is switched off.

    Returns
    -------
    context manager

    Examples
    --------
    >>> a = torch.ones(2, 2)
    >>> with torch.autocast("cpu", dtype=torch.bfloat16):
    ...     low = (a @ a).dtype
    ...     with full_precision("cpu"):
    ...         full = (a @ a).dtype
    >>> low, full
    (torch.bfloat16, torch.float32)
    """
    device = torch.device(device)
    return torch.autocast(device_type=device.type, enabled=False)
