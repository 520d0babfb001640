"""Streaming MNIST: ``partial_fit`` on chunks against MiniBatchKMeans on the same chunks.

The 10,000-row MNIST subset of ``benchmarks.run`` (784 pixels in [0, 1] as
vectors) arrives in shuffled chunks of 500 rows, twice over (a new order per
pass, drawn from the run seed). SeCuClustering and HardRegClustering with
their defaults (one pass per chunk) and MiniBatchKMeans each take every chunk
through ``partial_fit``; then ``predict`` labels all 10,000 rows.

Usage::

    python -m benchmarks.bench_streaming                  # seeds 0 1 2, one thread
    python -m benchmarks.bench_streaming --seeds 0 --chunk-size 1000 --passes 3
    python -m benchmarks.bench_streaming --methods SeCu   # name substrings

Prints a Markdown table of ACC / NMI / ARI (mean +- std over seeds) and the
wall time of the whole stream (all ``partial_fit`` calls) per run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import MiniBatchKMeans

from benchmarks.datasets import load
from skdeepcluster import HardRegClustering, SeCuClustering
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)

METHODS = {
    "SeCuClustering.partial_fit": lambda seed: SeCuClustering(
        n_clusters=10, random_state=seed, device="cpu"
    ),
    "HardRegClustering.partial_fit": lambda seed: HardRegClustering(
        n_clusters=10, random_state=seed, device="cpu"
    ),
    "MiniBatchKMeans.partial_fit": lambda seed: MiniBatchKMeans(
        n_clusters=10, random_state=seed, n_init=3
    ),
}


def run_stream(make, X, seed, chunk_size, passes):
    """Feed ``make(seed)`` the chunks of ``passes`` shuffled passes; labels and seconds."""
    model = make(seed)
    rng = np.random.RandomState(seed)
    start = time.perf_counter()
    for _ in range(passes):
        order = rng.permutation(len(X))
        for first in range(0, len(X), chunk_size):
            model.partial_fit(X[order[first : first + chunk_size]])
    elapsed = time.perf_counter() - start
    return model.predict(X), elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--max-samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=None, help="name substrings")
    parser.add_argument("--cache-dir", type=Path, default=Path("benchmarks/results/cache"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = load("mnist", args.cache_dir, max_samples=args.max_samples)
    X, y = data.X, data.y
    print(
        f"MNIST, {len(X):,} of {data.n_total:,} rows x {X.shape[1]}, chunks of "
        f"{args.chunk_size}, {args.passes} passes, seeds {args.seeds}, "
        f"{args.threads} thread(s)\n"
    )
    print("| method | ACC | NMI | ARI | time (s) |")
    print("|---|---|---|---|---|")
    for name, make in METHODS.items():
        if args.methods and not any(m.lower() in name.lower() for m in args.methods):
            continue
        scores, times = [], []
        for seed in args.seeds:
            labels, elapsed = run_stream(make, X, seed, args.chunk_size, args.passes)
            scores.append(
                (
                    clustering_accuracy(y, labels),
                    normalized_mutual_info_score(y, labels),
                    adjusted_rand_score(y, labels),
                )
            )
            times.append(elapsed)
        mean, std = np.mean(scores, axis=0), np.std(scores, axis=0)
        cells = " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, std, strict=True))
        print(f"| {name} | {cells} | {np.mean(times):.1f} |", flush=True)


if __name__ == "__main__":
    main()
