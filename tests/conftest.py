"""Test-session settings."""

import os

import torch
from threadpoolctl import threadpool_limits

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers share the machine's cores: one thread each, for torch and for
    # the BLAS/OpenMP pools (k-means), instead of every worker using every core.
    torch.set_num_threads(1)
    threadpool_limits(1)
