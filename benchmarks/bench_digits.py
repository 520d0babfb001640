"""Digits (1,797 8x8 images as 64-dim vectors, X/16): deep clustering vs classical baselines.

Usage::

    python benchmarks/bench_digits.py                    # main table, seeds 0 1 2
    python benchmarks/bench_digits.py --experiment ablation   # SeCu vs CE, SGD vs CF, alpha,
                                                              # PIPCDR's terms and schedule
    python benchmarks/bench_digits.py --seeds 0 1 2 3 4 --threads 2
    python benchmarks/bench_digits.py --methods KMeans PIPCDR   # name substrings
    python benchmarks/bench_digits.py --experiment images --methods KMeans SeCu
                                              # the digits as (N, 8, 8) images: CNN,
                                              # image augmentations

Prints Markdown tables of ACC / NMI / ARI (mean +- std over seeds), the
smallest and largest cluster, and the wall time per fit, then the ACC of
every seed with the median and the worst seed's distance below it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skdeepcluster import (
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
)
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)


def evaluate(make, X, y, seeds):
    rows = []
    for seed in seeds:
        model = make(seed)
        start = time.perf_counter()
        labels = model.fit_predict(X)
        elapsed = time.perf_counter() - start
        sizes = np.bincount(labels, minlength=10)
        rows.append(
            (
                clustering_accuracy(y, labels),
                normalized_mutual_info_score(y, labels),
                adjusted_rand_score(y, labels),
                sizes.min(),
                sizes.max(),
                elapsed,
            )
        )
    return np.array(rows, dtype=float)


def fmt(values):
    return f"{values.mean():.3f} ± {values.std():.3f}"


def print_table(results):
    print("| method | ACC | NMI | ARI | min size | max size | time/fit (s) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {fmt(r[:, 0])} | {fmt(r[:, 1])} | {fmt(r[:, 2])} | "
            f"{int(r[:, 3].min())} | {int(r[:, 4].max())} | {r[:, 5].mean():.1f} |"
        )


def print_per_seed(results, seeds):
    """ACC of every seed, the median and the largest drop below it."""
    print("| method | " + " | ".join(f"seed {s}" for s in seeds) + " | median | worst - median |")
    print("|---|" + "---|" * (len(seeds) + 2))
    for name, r in results.items():
        acc = r[:, 0]
        cells = " | ".join(f"{a:.3f}" for a in acc)
        median = float(np.median(acc))
        print(f"| {name} | {cells} | {median:.3f} | {acc.min() - median:+.3f} |")


def main_experiment():
    methods = {
        "KMeans(n_init=10)": lambda s: KMeans(10, n_init=10, random_state=s),
        "Ward agglomerative": lambda s: AgglomerativeClustering(10),
        "Spectral (rbf)": lambda s: SpectralClustering(10, random_state=s),
        "Spectral (kNN graph)": lambda s: SpectralClustering(
            10, affinity="nearest_neighbors", random_state=s
        ),
        "SeCuClustering (defaults)": lambda s: SeCuClustering(10, random_state=s),
        "SeCuClustering (size constraint)": lambda s: SeCuClustering(
            10, constraint="size", random_state=s
        ),
        "HardRegClustering (defaults)": lambda s: HardRegClustering(10, random_state=s),
        "PIPCDRClustering (defaults)": lambda s: PIPCDRClustering(10, random_state=s),
        "EntropyClustering (linear, fixed features)": lambda s: EntropyClustering(
            10, random_state=s
        ),
        "EntropyClustering (MLP)": lambda s: EntropyClustering(
            10,
            backbone="mlp",
            backbone_params={"hidden_dims": (256,)},
            gamma=0.02,
            lr=1e-3,
            weight_decay=0.01,
            random_state=s,
        ),
    }
    return methods


def _flatten(X):
    return X.reshape(len(X), -1)


def images_experiment():
    """The digits as (N, 8, 8) images: each estimator with its image defaults."""
    return {
        "KMeans(n_init=10) on pixels": lambda s: make_pipeline(
            FunctionTransformer(_flatten), KMeans(10, n_init=10, random_state=s)
        ),
        "SeCuClustering (images, defaults)": lambda s: SeCuClustering(10, random_state=s),
        "SeCuClustering (images, self_labeling_epochs=30)": lambda s: SeCuClustering(
            10, self_labeling_epochs=30, random_state=s
        ),
        "HardRegClustering (images, defaults)": lambda s: HardRegClustering(10, random_state=s),
        "PIPCDRClustering (images, defaults)": lambda s: PIPCDRClustering(10, random_state=s),
    }


def ablation_experiment(n):
    methods = {
        "SeCu loss (Eq. 3), size": lambda s: SeCuClustering(10, constraint="size", random_state=s),
        "CE loss (negatives' gradient kept), size": lambda s: SeCuClustering(
            10, constraint="size", loss="ce", random_state=s
        ),
        "SeCu-SGD centres, entropy": lambda s: SeCuClustering(10, random_state=s),
        "SeCu-CF centres (Eq. 15), entropy": lambda s: SeCuClustering(
            10, center_update="closed_form", random_state=s
        ),
    }
    for alpha in (1.0, 0.3, 0.12, 0.05, 0.01, 0.0):
        methods[f"entropy alpha={alpha:g} (paper alpha={alpha * n:.0f})"] = lambda s, a=alpha: (
            SeCuClustering(10, alpha=a, random_state=s)
        )
    pipcdr = {
        "PIPCDR defaults": {},
        "PIPCDR, PIP only (pip_weight=1)": {"pip_weight": 1.0},
        "PIPCDR, no sampled neighbour (sigma=0)": {"sigma": 0.0},
        "PIPCDR, CDR from epoch 5 (cdr_start=5)": {"cdr_start": 5},
        "PIPCDR, CDR from epoch 5, pip_weight=0.5": {"cdr_start": 5, "pip_weight": 0.5},
    }
    for name, params in pipcdr.items():
        methods[name] = lambda s, p=params: PIPCDRClustering(10, random_state=s, **p)
    return methods


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", choices=["main", "ablation", "images"], default="main")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help="run only the methods whose name contains one of these substrings",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if args.experiment == "images":
        X = X.reshape(-1, 8, 8).astype(np.float32)
    print(f"digits {X.shape}, seeds {args.seeds}, torch threads {torch.get_num_threads()}")
    if args.experiment == "main":
        methods = main_experiment()
    elif args.experiment == "images":
        methods = images_experiment()
    else:
        methods = ablation_experiment(len(X))
    if args.methods:
        methods = {
            name: make
            for name, make in methods.items()
            if any(part.lower() in name.lower() for part in args.methods)
        }
    results = {name: evaluate(make, X, y, args.seeds) for name, make in methods.items()}
    print_table(results)
    if len(args.seeds) > 1:
        print()
        print_per_seed(results, args.seeds)


if __name__ == "__main__":
    main()
