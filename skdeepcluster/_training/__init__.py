"""The shared training machinery: loop, optimisers, schedules, hooks, seeding."""

from skdeepcluster._training._amp import (
    AMP_DTYPES,
    cpu_has_native_bf16,
    full_precision,
    resolve_amp,
)
from skdeepcluster._training._batchnorm import frozen_running_stats
from skdeepcluster._training._hooks import Hook, ProgressHook
from skdeepcluster._training._loop import (
    StatelessTask,
    TrainingTask,
    autocast_context,
    run_training,
)
from skdeepcluster._training._memory import LabelMemory, RunningCounts
from skdeepcluster._training._optim import GroupSchedule, ParamGroup, build_optimizer
from skdeepcluster._training._schedule import constant, warmup_constant, warmup_cosine
from skdeepcluster._training._utils import make_generator, resolve_device, resolve_seed

__all__ = [
    "AMP_DTYPES",
    "GroupSchedule",
    "Hook",
    "LabelMemory",
    "ParamGroup",
    "ProgressHook",
    "RunningCounts",
    "StatelessTask",
    "TrainingTask",
    "autocast_context",
    "build_optimizer",
    "constant",
    "cpu_has_native_bf16",
    "frozen_running_stats",
    "full_precision",
    "make_generator",
    "resolve_amp",
    "resolve_device",
    "resolve_seed",
    "run_training",
    "warmup_constant",
    "warmup_cosine",
]
