"""How fit time and memory grow with the number of samples: SeCuClustering vs k-means.

Usage::

    python -m benchmarks.scaling                       # MNIST, N = 1k ... 70k, 10 SeCu epochs
    python -m benchmarks.scaling --sizes 1000 5000 --secu-epochs 5
    python -m benchmarks.scaling --data mixture --sizes 10000 100000 1000000 \\
        --secu-epochs 1 --no-kmeans                    # 128-d Gaussian mixture up to 1M rows

``--data mnist``: each size N is a fixed random subset of the 70,000 MNIST
digits (784 pixels in [0, 1]); the subsets are nested. ``--data mixture``:
N rows of a mixture of 20 isotropic Gaussians in 128 dimensions (means drawn
from N(0, 0.25 I), unit noise: overlapping clusters), drawn from
``numpy.random.default_rng(seed)``; the first N rows of a larger draw are the
smaller sets. SeCu runs ``--secu-epochs`` clustering epochs (fewer than its
default, to keep the largest fit within minutes). Its cost is split into the
nearest-neighbour search of the default vector views (done once; exact and
quadratic up to 50,000 samples on the CPU, approximate above), the
neighbour-embedding stage (about 2,500 steps, at least one epoch), and the
clustering epochs (the initialisation epoch included), linear in N; the time
per clustering epoch is reported. k-means is scikit-learn's
``KMeans(n_init=10)``. Peak memory is the growth of the process's resident
memory during the fit (see :mod:`benchmarks.measure`). Writes ``scaling.csv``
and ``scaling.png`` (log-log) under ``--results-dir`` and prints a Markdown
table.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

import skdeepcluster.augment._tabular as tabular
from benchmarks.datasets import load
from benchmarks.measure import measure
from benchmarks.run import DEFAULT_RESULTS
from skdeepcluster import SeCuClustering
from skdeepcluster.metrics import clustering_accuracy

DEFAULT_SIZES = [1000, 2000, 5000, 10000, 20000, 35000, 70000]
#: Clusters, dimensions and mean spread of ``--data mixture``.
MIXTURE_CLUSTERS, MIXTURE_DIM, MIXTURE_SPREAD = 20, 128, 0.5


def gaussian_mixture(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 rows of 20 overlapping Gaussians in 128-d, and their components."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((MIXTURE_CLUSTERS, MIXTURE_DIM)) * MIXTURE_SPREAD
    labels = rng.integers(MIXTURE_CLUSTERS, size=n)
    X = rng.standard_normal((n, MIXTURE_DIM), dtype=np.float32)
    X += means[labels].astype(np.float32)
    return X, labels


class StageTimer:
    """Wall time of SeCu's neighbour search and neighbour-embedding stage within a fit."""

    def __init__(self) -> None:
        self.search = self.embedding = 0.0

    def __enter__(self):
        import time

        search, stage = tabular.nearest_neighbors, SeCuClustering._neighbor_embedding_stage

        def timed_search(*args, **kwargs):
            start = time.perf_counter()
            try:
                return search(*args, **kwargs)
            finally:
                self.search += time.perf_counter() - start

        def timed_stage(est, *args, **kwargs):
            start = time.perf_counter()
            try:
                return stage(est, *args, **kwargs)
            finally:
                self.embedding += time.perf_counter() - start

        self._saved = search, stage
        tabular.nearest_neighbors = timed_search
        SeCuClustering._neighbor_embedding_stage = timed_stage
        return self

    def __exit__(self, *exc):
        tabular.nearest_neighbors, SeCuClustering._neighbor_embedding_stage = self._saved


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scaling", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data", choices=["mnist", "mixture"], default="mnist")
    parser.add_argument("--sizes", nargs="+", type=int, default=DEFAULT_SIZES)
    parser.add_argument("--secu-epochs", type=int, default=10)
    parser.add_argument("--no-kmeans", action="store_true", help="skip the k-means anchor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    return parser.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    out = args.results_dir
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    rows = []
    mixture = gaussian_mixture(max(args.sizes), args.seed) if args.data == "mixture" else None
    with threadpool_limits(limits=args.threads):
        for n in sorted(args.sizes):
            if mixture is None:
                data = load("mnist", out / "cache", max_samples=n)
                X, y, k = data.X, data.y, 10
            else:
                X, y, k = mixture[0][:n], mixture[1][:n], MIXTURE_CLUSTERS
            models = {
                f"SeCuClustering(max_iter={args.secu_epochs})": SeCuClustering(
                    k, max_iter=args.secu_epochs, random_state=args.seed, device=args.device
                )
            }
            if not args.no_kmeans:
                models["KMeans(n_init=10)"] = KMeans(k, n_init=10, random_state=args.seed)
            for name, model in models.items():
                with StageTimer() as stages:
                    labels, elapsed, peak = measure(lambda m=model, X=X: m.fit_predict(X))
                secu = name.startswith("SeCu")
                epochs_s = elapsed - stages.search - stages.embedding
                row = {
                    "data": args.data,
                    "method": name,
                    "n_samples": len(X),
                    "time_s": elapsed,
                    "search_s": stages.search if secu else float("nan"),
                    "embedding_s": stages.embedding if secu else float("nan"),
                    "time_per_epoch_s": epochs_s / (args.secu_epochs + 1) if secu else float("nan"),
                    "peak_mib": peak,
                    "process_peak_mib": _max_rss_mib(),
                    "acc": clustering_accuracy(y, labels),
                }
                rows.append(row)
                print(
                    f"N={row['n_samples']:>7} {name:<28} {elapsed:8.1f}s "
                    f"(search {row['search_s']:.1f}s, embedding {row['embedding_s']:.1f}s) "
                    f"{peak:7.0f} MiB (process peak {row['process_peak_mib']:.0f} MiB) "
                    f"ACC {row['acc']:.3f}",
                    flush=True,
                )
            write(rows, out)  # after every size, so an interrupted run keeps what it measured
    print()
    print(
        "| method | N | fit time (s) | neighbour search (s) | neighbour embedding (s) "
        "| time / epoch (s) | peak mem growth (MiB) | process peak (MiB) | ACC |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [
            "–" if np.isnan(r[key]) else f"{r[key]:.{digits}f}"
            for key, digits in (("search_s", 1), ("embedding_s", 1), ("time_per_epoch_s", 2))
        ]
        print(
            f"| {r['method']} | {r['n_samples']:,} | {r['time_s']:.1f} | {' | '.join(cells)} "
            f"| {r['peak_mib']:.0f} | {r['process_peak_mib']:.0f} | {r['acc']:.3f} |"
        )
    return rows


def _max_rss_mib() -> float:
    """The process's peak resident memory so far (MiB; data and libraries included)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def write(rows: list[dict], out: Path) -> None:
    with open(out / "scaling.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "scaling.png")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for method in dict.fromkeys(r["method"] for r in rows):
        pts = [r for r in rows if r["method"] == method]
        n = [r["n_samples"] for r in pts]
        ax_t.plot(n, [r["time_s"] for r in pts], marker="o", label=method)
        ax_m.plot(n, [r["peak_mib"] for r in pts], marker="o", label=method)
        if method.startswith("SeCu"):
            for key, label, style in (
                ("search_s", "neighbour search", "s--"),
                ("time_per_epoch_s", "one clustering epoch", "^--"),
            ):
                ax_t.plot(n, [r[key] for r in pts], style, ms=4, label=f"SeCu: {label}")
    n_all = np.array(sorted({r["n_samples"] for r in rows}), dtype=float)
    t0 = min(r["time_s"] for r in rows if r["n_samples"] == n_all[0])
    ax_t.plot(n_all, t0 * n_all / n_all[0], "k:", lw=1, label="∝ N")
    ax_t.set_title("time (s)")
    for ax, label in ((ax_t, "fit time (s)"), (ax_m, "peak memory growth (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(
            f"samples N ({'MNIST pixels' if rows[0]['data'] == 'mnist' else '128-d mixture'})"
        )
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
