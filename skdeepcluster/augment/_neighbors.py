"""k-nearest-neighbour graphs of the training data: exact in bounded memory, or approximate."""

from __future__ import annotations

import warnings

import numpy as np
import torch

#: Above this many samples ``method="auto"`` builds the graph approximately on
#: the CPU. The exact search takes a time that grows with the square of N, the
#: NN-descent graph about linearly, plus about 18 s to compile pynndescent's
#: kernels in each new process. Measured on one thread: 50,000 x 128 Gaussian
#: mixture data took 14 s exactly against 6 + 18 s approximately, MNIST
#: (70,000 x 784) 91 s against 15 + 18 s. The break-even is near 70,000
#: samples with 128 features and 40,000 with 784; up to 50,000 the exact
#: search takes under a minute with up to about 800 features.
APPROXIMATE_ABOVE = 50_000

#: Memory for one chunk of the exact search: its block of squared distances
#: (float32) and the temporaries of ``topk``, counted as ``_CHUNK_COPIES`` blocks.
_CHUNK_BYTES = 256 * 2**20
_CHUNK_COPIES = 3

#: Size of the NN-descent graph: at least this many neighbours per sample, and
#: three times ``n_neighbors + 1`` when that is more. On 200,000 x 128 mixture
#: data a graph of 30 gave a recall@5 of 0.85, 50 gave 0.96 (recall@20 of 60:
#: 0.96); its time grows with its size (17, 32 and 41 s on one thread).
_NND_MIN_NEIGHBORS = 50

#: Seed of the approximate search when ``random_state`` is None.
_DEFAULT_SEED = 0

_METHODS = ("auto", "exact", "approximate")


def _auto_chunk_size(n_samples: int, budget: int = _CHUNK_BYTES) -> int:
    """Rows per chunk of the exact search such that a chunk fits ``budget`` bytes."""
    return max(1, budget // (max(1, n_samples) * 4 * _CHUNK_COPIES))


def _import_pynndescent():
    """The ``pynndescent`` module, or None when it is not installed."""
    try:
        import pynndescent
    except ImportError:
        return None
    return pynndescent


def _exact_neighbors(
    flat: torch.Tensor, k: int, rows: torch.Tensor | None = None, chunk_size: int | None = None
) -> torch.Tensor:
    """The ``k`` nearest other rows of ``flat[rows]`` (all rows when None), closest first.

    Squared distances ``|a|^2 - 2 a.b + |b|^2`` of a chunk of query rows
    against all rows, then ``topk``; a chunk holds ``chunk_size`` rows
    (:func:`_auto_chunk_size` when None), so memory stays ``O(chunk_size * N)``.
    """
    n = flat.shape[0]
    chunk = chunk_size or _auto_chunk_size(n)
    n_rows = n if rows is None else len(rows)
    sq = (flat * flat).sum(1)
    out = torch.empty(n_rows, k, dtype=torch.long, device=flat.device)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        if rows is None:
            index = torch.arange(start, stop, device=flat.device)
            queries = flat[start:stop]
        else:
            index = rows[start:stop]
            queries = flat[index]
        d = queries @ flat.T
        d.mul_(-2).add_(sq[index, None]).add_(sq[None, :])
        d[torch.arange(stop - start, device=flat.device), index] = float("inf")
        out[start:stop] = d.topk(k, dim=1, largest=False).indices
    return out


def _without_self(ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop each row's own index and the missing (-1) entries of a search of all rows.

    Returns the first ``k`` remaining entries of each row, order kept, and a
    mask of the rows that had fewer than ``k`` of them (their tail is invalid).
    """
    own = torch.arange(ids.shape[0], device=ids.device)[:, None]
    keep = (ids >= 0) & (ids != own)
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
    return ids.gather(1, order)[:, :k], keep.sum(1) < k


def _complete(flat: torch.Tensor, ids: torch.Tensor, k: int) -> torch.Tensor:
    """Each row's ``k`` neighbours from the ``k + 1`` found by a search of all rows.

    Rows for which the search found fewer than ``k`` others get their exact
    neighbours instead.
    """
    out, short = _without_self(ids, k)
    rows = short.nonzero().flatten()
    if len(rows):
        out[rows] = _exact_neighbors(flat, k, rows=rows)
    return out


def _graph_size(k: int, n_samples: int) -> int:
    """Neighbours per sample of the NN-descent graph that ``k`` neighbours are read from."""
    return min(n_samples - 1, max(_NND_MIN_NEIGHBORS, 3 * (k + 1)))


def _max_numba_threads() -> int:
    """The most threads numba may start (``NUMBA_NUM_THREADS``, the CPU count by default)."""
    import numba

    return numba.config.NUMBA_NUM_THREADS


def _approximate_neighbors(pynndescent, flat: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """Approximate neighbours of every row from an NN-descent graph, on ``flat``'s device."""
    cpu = flat.detach().to("cpu", torch.float32).contiguous()
    graph = pynndescent.NNDescent(
        cpu.numpy(),
        metric="euclidean",
        n_neighbors=_graph_size(k, len(cpu)),
        random_state=int(seed),
        n_jobs=max(1, min(torch.get_num_threads(), _max_numba_threads())),
        low_memory=True,
        compressed=True,
    )
    # rows are sorted by distance, missing entries (-1) last: k + 1 columns hold
    # the k nearest others whether or not the row's own index is among them
    ids = np.ascontiguousarray(graph.neighbor_graph[0][:, : k + 1])
    return _complete(cpu, torch.from_numpy(ids).long(), k).to(flat.device)


def _check_method(method: str) -> str:
    """``method`` itself; a ValueError names the accepted values."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    return method


def _resolve_method(method: str, n_samples: int, device: torch.device) -> str:
    """``"exact"`` or ``"approximate"``: what ``method`` means for this data."""
    if _check_method(method) != "auto":
        return method
    if n_samples <= APPROXIMATE_ABOVE or device.type == "cuda":
        return "exact"
    return "approximate"


def nearest_neighbors(
    X: torch.Tensor,
    n_neighbors: int,
    chunk_size: int | None = None,
    method: str = "auto",
    random_state: int | None = None,
) -> torch.Tensor:
    """Indices of each row's ``n_neighbors`` nearest other rows (Euclidean).

    **Exact search** computes squared distances with matrix products on
    ``X``'s device, a chunk of rows against all rows at a time, and keeps the
    ``n_neighbors`` smallest of each row. A chunk's distances and temporaries
    take about 256 MiB whatever N (``chunk_size = 256 MiB / (12 N)`` rows:
    319 rows at N = 70,000, 22 at N = 1,000,000), so memory grows linearly
    with N, and time with its square: 91 s for MNIST (70,000 x 784) on one
    CPU thread.

    **Approximate search** builds a k-nearest-neighbour graph by NN-descent
    with pynndescent on the CPU (a graph of ``max(50, 3 * (n_neighbors +
    1))`` neighbours per sample, of which the closest ``n_neighbors`` are
    kept) and runs on :func:`torch.get_num_threads` threads (at most numba's
    ``NUMBA_NUM_THREADS``). Each row's own index is dropped; a row for which
    the graph holds fewer than ``n_neighbors`` others (marked -1, which is
    rare) gets its exact neighbours instead. The graph depends on
    ``random_state`` and on the number of threads only, so it is
    reproducible run to run. The first search in a process also compiles
    pynndescent's kernels with numba (about 18 s).

    Measured on one thread, recall@5 (the fraction of the 5 true nearest
    neighbours found) and time without that compilation: MNIST (70,000 x
    784) 1.000 in 15 s against 91 s for the exact search; 200,000 x 128
    samples of 20 overlapping Gaussian clusters 0.96 in 33 s against 220 s;
    1,000,000 x 128 such samples 0.84 in 3.5 min, with a peak of 2.4 GiB for
    the whole process (the exact search would take about 1.5 h). The
    neighbours missed in these isotropic clusters are nearly as close as the
    true ones.

    pynndescent was chosen over faiss (an HNSW index, ``IndexHNSWFlat`` with
    32 links and 64 to 128 candidates per search) because it was 1.3 to 2.7
    times faster at the same recall (faiss: 20 s on MNIST, 83 s at 200,000,
    9.5 min and recall 0.82 at 1,000,000), keeps its parallel build
    reproducible for a given number of threads (faiss inserts points under
    locks, so only its single-threaded build is), and comes with umap-learn,
    which the benchmarks use already. Its costs are the install (numba and
    llvmlite: 64 MB of wheels and 213 MB on disk, against faiss-cpu's 19 MB
    and 66 MB) and the compilation on first use. It is optional: ``pip
    install pynndescent``, or the ``ann`` extra.

    Parameters
    ----------
    X : Tensor of shape (N, ...)
        Samples (flattened to vectors).
    n_neighbors : int
        Neighbours per sample, at most ``N - 1``.
    chunk_size : int or None, default=None
        Rows of the distance matrix the exact search computes at once; None
        derives it from N and a memory budget of about 256 MiB.
    method : {"auto", "exact", "approximate"}, default="auto"
        ``"auto"`` searches exactly when N is at most 50,000 or ``X`` is on a
        CUDA device, and approximately otherwise. When pynndescent is not
        installed, ``"auto"`` falls back to the exact search with a
        :class:`UserWarning`, and ``"approximate"`` raises an
        :class:`ImportError`.
    random_state : int or None, default=None
        Seed of the approximate search (its random projection trees and
        NN-descent draws); None uses a fixed seed, so the result is
        reproducible either way. The exact search draws nothing.

    Returns
    -------
    Tensor of shape (N, n_neighbors), int64
        Indices of the nearest other rows, closest first, on ``X``'s device.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    >>> nearest_neighbors(X, 1).flatten().tolist()
    [1, 0, 3, 2]
    >>> nearest_neighbors(X, 2, chunk_size=3)[:, 0].tolist()
    [1, 0, 3, 2]
    """
    flat = X.flatten(1).float()
    n = flat.shape[0]
    k = min(int(n_neighbors), n - 1)
    if chunk_size is not None and int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1 or None, got {chunk_size}.")
    resolved = _resolve_method(method, n, flat.device)
    if k < 1:
        raise ValueError("nearest neighbours need at least 2 samples.")
    if resolved == "approximate":
        pynndescent = _import_pynndescent()
        if pynndescent is not None:
            seed = _DEFAULT_SEED if random_state is None else int(random_state)
            return _approximate_neighbors(pynndescent, flat, k, seed)
        if method == "approximate":
            raise ImportError(
                "method='approximate' needs pynndescent: pip install pynndescent "
                "(or the 'ann' extra of skdeepcluster)."
            )
        warnings.warn(
            f"The neighbour graph of {n} samples is computed exactly, in a time that grows "
            "with the square of the number of samples; install pynndescent (pip install "
            "pynndescent, or the 'ann' extra of skdeepcluster) for the approximate search.",
            UserWarning,
            stacklevel=2,
        )
    return _exact_neighbors(flat, k, chunk_size=None if chunk_size is None else int(chunk_size))
