"""Benchmark every clustering method over fixed-feature datasets.

Usage::

    python -m benchmarks.run --datasets digits mnist1d rotten-tomatoes --methods all \\
        --seeds 0 1 2
    python -m benchmarks.run --datasets mnist --max-samples 10000 --methods secu kmeans
    python -m benchmarks.run --list

For each dataset, method and seed it fits the method on the whole dataset (or
a fixed subset of ``--max-samples`` rows), scores the labels against the
classes (clustering accuracy, NMI, ARI) and records the fit's wall time and
peak memory growth (see :mod:`benchmarks.measure`). It prints a Markdown
table of mean +- std over seeds and writes, under ``--results-dir``:

- ``runs.csv``: one row per fit; ``summary.csv`` and ``summary.md``: the table;
- ``metrics_<dataset>.png``: ACC / NMI / ARI bars with the std over seeds;
- ``cluster_sizes_<dataset>.png``: sorted cluster sizes of each method's first
  seed next to the class sizes;
- ``time_vs_n.png``: mean fit time against the number of samples, per method.

Deep estimators run with their defaults and ``n_clusters`` = number of
classes; classical baselines as in scikit-learn with the settings below.
Methods whose cost is quadratic in N (Ward, spectral) are skipped above
``--quadratic-limit`` samples, with a note in the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

import skdeepcluster
from benchmarks.anchors import N2D, UMAPGMM
from benchmarks.datasets import LOADERS, SUBSAMPLE_SEED, Dataset, load
from benchmarks.measure import measure
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Method:
    """A method of the benchmark: ``make(n_clusters, seed, device)`` returns an unfitted model."""

    key: str
    name: str
    make: Callable
    quadratic: bool = False


def _deep(cls) -> Callable:
    return lambda k, seed, device: cls(k, random_state=seed, device=device)


def available_methods() -> dict[str, Method]:
    """Every method, by command-line key."""
    deep = [
        ("secu", skdeepcluster.SeCuClustering),
        ("hardreg", skdeepcluster.HardRegClustering),
        ("pipcdr", skdeepcluster.PIPCDRClustering),
        ("entropy", skdeepcluster.EntropyClustering),
    ]
    methods = {key: Method(key, cls.__name__, _deep(cls)) for key, cls in deep}
    methods["kmeans"] = Method(
        "kmeans", "KMeans(n_init=10)", lambda k, s, d: KMeans(k, n_init=10, random_state=s)
    )
    methods["ward"] = Method(
        "ward", "Ward agglomerative", lambda k, s, d: AgglomerativeClustering(k), quadratic=True
    )
    methods["spectral"] = Method(
        "spectral",
        "Spectral (kNN graph)",
        lambda k, s, d: SpectralClustering(k, affinity="nearest_neighbors", random_state=s),
        quadratic=True,
    )
    methods["gmm"] = Method(
        "gmm",
        "GaussianMixture(full)",
        lambda k, s, d: GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=s),
    )
    methods["umap-gmm"] = Method("umap-gmm", "UMAP+GMM", lambda k, s, d: UMAPGMM(k, random_state=s))
    methods["n2d"] = Method("n2d", "N2D", lambda k, s, d: N2D(k, random_state=s))
    return methods


def fit_labels(model, X: np.ndarray) -> np.ndarray:
    """Cluster labels of the training data: ``labels_`` where the model has them."""
    if hasattr(model, "fit_predict"):
        return np.asarray(model.fit_predict(X))
    return np.asarray(model.fit(X).predict(X))


def run_one(method: Method, data: Dataset, seed: int, device: str) -> dict:
    model = method.make(data.n_clusters, seed, device)
    labels, elapsed, peak = measure(lambda: fit_labels(model, data.X))
    sizes = np.bincount(labels, minlength=data.n_clusters)
    return {
        "acc": clustering_accuracy(data.y, labels),
        "nmi": normalized_mutual_info_score(data.y, labels),
        "ari": adjusted_rand_score(data.y, labels),
        "min_size": int(sizes.min()),
        "max_size": int(sizes.max()),
        "n_empty": int((sizes == 0).sum()),
        "time_s": elapsed,
        "peak_mib": peak,
        "sizes": sorted(sizes.tolist(), reverse=True),
    }


def warm_up(methods: list[Method], n_features: int, device: str) -> None:
    """Fit every method once on tiny data, so that one-time library initialisation
    (thread pools, kernels loaded on first use) is not timed in the first real fit."""
    X = np.random.default_rng(0).normal(size=(256, n_features)).astype(np.float32)
    for method in methods:
        model = method.make(3, 0, device)
        if "max_iter" in model.get_params():
            model.set_params(max_iter=2)
        fit_labels(model, X)


def summarise(runs: list[dict]) -> list[dict]:
    """One row per (dataset, method): mean and std over seeds, or the skip note."""
    rows = []
    keys = list(dict.fromkeys((r["dataset"], r["method"]) for r in runs))
    for dataset, method in keys:
        group = [r for r in runs if r["dataset"] == dataset and r["method"] == method]
        done = [r for r in group if not r["note"].startswith("skipped")]
        row = {"dataset": dataset, "method": method, "n_samples": group[0]["n_samples"]}
        if not done:
            row.update(seeds=0, note=group[0]["note"])
            rows.append(row)
            continue
        for metric in ("acc", "nmi", "ari", "time_s", "peak_mib"):
            values = np.array([r[metric] for r in done], dtype=float)
            row[f"{metric}_mean"] = float(values.mean())
            row[f"{metric}_std"] = float(values.std())
        row.update(
            seeds=len(done),
            min_size=min(r["min_size"] for r in done),
            max_size=max(r["max_size"] for r in done),
            note=done[0]["note"],
        )
        rows.append(row)
    return rows


def _seconds(t: float) -> str:
    return f"{t:.2f}" if t < 10 else f"{t:.1f}"


def markdown(summary: list[dict], datasets: dict[str, Dataset], seeds) -> str:
    lines = []
    for name, data in datasets.items():
        subset = (
            f", subset of {len(data.X):,} of {data.n_total:,} (subset seed {data.subset_seed})"
            if len(data.X) < data.n_total
            else ""
        )
        lines += [
            f"### {name}: {len(data.X):,} samples × {data.X.shape[1]} features, "
            f"{data.n_clusters} classes{subset}",
            "",
            f"{data.description}. Seeds {' '.join(map(str, seeds))}.",
            "",
            "| method | ACC | NMI | ARI | cluster sizes (min–max) | time/fit (s) "
            "| peak mem (MiB) | note |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in (r for r in summary if r["dataset"] == name):
            if row["seeds"] == 0:
                lines.append(f"| {row['method']} | – | – | – | – | – | – | {row['note']} |")
                continue
            lines.append(
                f"| {row['method']} | {row['acc_mean']:.3f} ± {row['acc_std']:.3f} "
                f"| {row['nmi_mean']:.3f} ± {row['nmi_std']:.3f} "
                f"| {row['ari_mean']:.3f} ± {row['ari_std']:.3f} "
                f"| {row['min_size']}–{row['max_size']} | {_seconds(row['time_s_mean'])} "
                f"| {row['peak_mib_mean']:.0f} | {row['note']} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r if k != "sizes"))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: v for k, v in r.items() if k != "sizes"})


def plot(runs, summary, datasets: dict[str, Dataset], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for name, data in datasets.items():
        rows = [r for r in summary if r["dataset"] == name and r["seeds"] > 0]
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(rows)), 3.5))
        width = 0.27
        x = np.arange(len(rows))
        for i, metric in enumerate(("acc", "nmi", "ari")):
            ax.bar(
                x + (i - 1) * width,
                [r[f"{metric}_mean"] for r in rows],
                width,
                yerr=[r[f"{metric}_std"] for r in rows],
                label=metric.upper(),
                capsize=2,
            )
        ax.set_xticks(x, [r["method"] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} (N={len(data.X):,}, mean ± std over seeds)")
        ax.legend(fontsize=8, ncols=3)
        fig.tight_layout()
        path = out / f"metrics_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

        first = {}
        for r in runs:
            if r["dataset"] == name and "sizes" in r and r["method"] not in first:
                first[r["method"]] = r
        panels = [("classes", sorted(np.bincount(data.y).tolist(), reverse=True))]
        panels += [(m, r["sizes"]) for m, r in first.items()]
        cols = min(4, len(panels))
        nrows = int(np.ceil(len(panels) / cols))
        fig, axes = plt.subplots(nrows, cols, figsize=(3 * cols, 2.2 * nrows), squeeze=False)
        top = max(max(s) for _, s in panels)
        for ax, (title, sizes) in zip(axes.flat, panels, strict=False):
            ax.bar(np.arange(len(sizes)), sizes, color="grey" if title == "classes" else None)
            ax.set_title(title, fontsize=8)
            ax.set_ylim(0, top * 1.05)
            ax.set_xticks([])
        for ax in axes.flat[len(panels) :]:
            ax.axis("off")
        fig.suptitle(f"{name}: cluster sizes, largest first (first seed)", fontsize=9)
        fig.tight_layout()
        path = out / f"cluster_sizes_{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    methods = list(dict.fromkeys(r["method"] for r in summary if r["seeds"] > 0))
    if methods:
        fig, ax = plt.subplots(figsize=(6, 4))
        for method in methods:
            pts = sorted(
                (r["n_samples"], r["time_s_mean"])
                for r in summary
                if r["method"] == method and r["seeds"] > 0
            )
            ax.plot(*zip(*pts, strict=True), marker="o", label=method)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("samples N (one point per dataset)")
        ax.set_ylabel("fit time (s)")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        path = out / "time_vs_n.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--datasets", nargs="+", default=["digits"], choices=sorted(LOADERS))
    parser.add_argument(
        "--methods", nargs="+", default=["all"], help="method keys (see --list), 'deep' or 'all'"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--max-samples", type=int, default=None, help="fit on a fixed random subset of this size"
    )
    parser.add_argument(
        "--subset-seed",
        type=int,
        default=SUBSAMPLE_SEED,
        help="seed of the --max-samples subset (default: %(default)s)",
    )
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch and BLAS threads (default: 1)"
    )
    parser.add_argument("--device", default="auto", help="device of the deep estimators")
    parser.add_argument(
        "--quadratic-limit",
        type=int,
        default=20000,
        help="skip Ward and spectral clustering above this many samples",
    )
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--list", action="store_true", help="list the methods and datasets")
    return parser.parse_args(argv)


def select_methods(keys: list[str], methods: dict[str, Method]) -> list[Method]:
    if keys == ["all"]:
        return list(methods.values())
    if keys == ["deep"]:
        return [m for m in methods.values() if m.name.endswith("Clustering")]
    unknown = [k for k in keys if k not in methods]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; available: {list(methods)}")
    return [methods[k] for k in keys]


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    methods = available_methods()
    if args.list:
        for m in methods.values():
            print(f"{m.key:<10} {m.name}")
        print("datasets:", " ".join(sorted(LOADERS)))
        return []
    selected = select_methods(args.methods, methods)
    out = args.results_dir
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    header = (
        f"skdeepcluster {skdeepcluster.__version__}, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}, python {platform.python_version()}, "
        f"{args.threads} thread(s), device={args.device}"
    )
    print(header, flush=True)
    runs: list[dict] = []
    datasets: dict[str, Dataset] = {}
    with threadpool_limits(limits=args.threads):
        for name in args.datasets:
            data = load(name, out / "cache", args.max_samples, args.subset_seed)
            datasets[name] = data
            print(
                f"{name}: {data.X.shape[0]} x {data.X.shape[1]}, {data.n_clusters} classes",
                flush=True,
            )
            n = len(data.X)
            warm_up(selected, data.X.shape[1], args.device)
            for method in selected:
                for seed in args.seeds:
                    base = {"dataset": name, "method": method.name, "seed": seed, "n_samples": n}
                    if method.quadratic and n > args.quadratic_limit:
                        note = (
                            f"skipped: N={n:,} > {args.quadratic_limit:,} "
                            "(quadratic memory/time); use --max-samples"
                        )
                        runs.append({**base, "note": note})
                        continue
                    result = run_one(method, data, seed, args.device)
                    runs.append({**base, **result, "note": ""})
                    print(
                        f"  {method.name:<24} seed {seed}: ACC {result['acc']:.3f} "
                        f"NMI {result['nmi']:.3f} ARI {result['ari']:.3f} "
                        f"{result['time_s']:.1f}s {result['peak_mib']:.0f} MiB",
                        flush=True,
                    )
    summary = summarise(runs)
    table = header + "\n\n" + markdown(summary, datasets, args.seeds)
    write_csv(out / "runs.csv", runs)
    write_csv(out / "summary.csv", summary)
    (out / "summary.md").write_text(table)
    (out / "sizes.json").write_text(
        json.dumps(
            [
                {k: r[k] for k in ("dataset", "method", "seed", "sizes")}
                for r in runs
                if "sizes" in r
            ]
        )
    )
    if not args.no_plots:
        plot(runs, summary, datasets, out)
    print()
    print(table)
    print(f"results written to {out}", file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
