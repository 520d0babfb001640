"""MNIST (70,000 28x28 digits): SeCuClustering with the small CNN against k-means on raw pixels.

Usage::

    python benchmarks/bench_mnist.py --minutes 30 --threads 2   # the full run
    python benchmarks/bench_mnist.py --n-samples 10000 --epochs 5 --skip-kmeans  # a quick check

SeCuClustering runs with its image defaults (``backbone="auto"``: the small
CNN; ``amp="auto"``: bfloat16 autocast on CPUs with native bfloat16, float32
on others; channels-last; views: a walk on the pixel-space neighbour graph and
a random affine warp) plus the settings below. With ``--minutes`` the number
of epochs is chosen to fit the budget: a calibration fit on 4,096 images times
training steps and the neighbour search (outside the budget, reported), and
the epochs are what remains of the budget after the neighbour search, the
initialisation epoch and the self-labeling epochs, divided by the estimated
time per epoch. ``--epochs`` sets them directly.

Prints a Markdown table: ACC / NMI / ARI of ``labels_`` (k-means: its labels;
with self-labeling also the labels of the clustering stage before it, which
are the labels SeCu keeps in memory, and the network's ``predict`` on the
training images at that point, which self-labeling starts from), fit time,
and training images per second (the two views of every sample through the
network, SeCu's clustering epochs only).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from sklearn.cluster import KMeans

from skdeepcluster import SeCuClustering
from skdeepcluster._training import Hook
from skdeepcluster.augment import nearest_neighbors
from skdeepcluster.augment._neighbors import APPROXIMATE_ABOVE, _import_pynndescent
from skdeepcluster.datasets import load_mnist
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)

#: SeCu's settings on top of its defaults (``max_iter`` comes from the budget).
SECU = dict(batch_size=256, warmup_epochs=2)
#: Relative cost of an epoch without backward pass (the initialisation epoch)
#: and of a self-labeling epoch (a forward of the weak view without gradient,
#: forward and backward of the strong one), against a SeCu training epoch.
INIT_COST, SELF_LABELING_COST = 0.35, 0.7


class _EpochTimer(Hook):
    """Wall time of every epoch; training steps of calibration runs."""

    def __init__(self, stop_after: int | None = None, verbose: bool = False) -> None:
        self.stop_after = stop_after
        self.verbose = verbose
        self.records: list[tuple[int, float]] = []
        self.steps: list[float] = []
        self.t = time.perf_counter()

    def on_batch_end(self, logs):
        if self.records:  # after the initialisation epoch
            self.steps.append(time.perf_counter())
            if self.stop_after is not None and len(self.steps) >= self.stop_after:
                raise _Stop

    def on_epoch_end(self, record):
        now = time.perf_counter()
        self.records.append((record["epoch"], now - self.t, record.get("stage")))
        if self.verbose:
            sizes = record.get("cluster_sizes", [0])
            confident = record.get("confident_fraction")
            print(
                f"epoch {record['epoch']} ({_stage_name(record)}): "
                f"{now - self.t:.0f} s, cluster sizes {min(sizes)}-{max(sizes)}"
                + ("" if confident is None else f", confident {confident:.2f}"),
                flush=True,
            )
        self.t = now


def _stage_name(record: dict) -> str:
    if record["epoch"] < 0:
        return "initialisation"
    return record.get("stage") or "clustering"


class _Stop(Exception):
    pass


class _TimedSeCu(SeCuClustering):
    timer: _EpochTimer | None = None
    clustering_labels: np.ndarray | None = None
    clustering_predictions: np.ndarray | None = None

    def _train(self, data, generator, hooks):
        return super()._train(data, generator, [*hooks, self.timer])

    def _self_label(self, data, secu_labels, generator, hooks):
        self.clustering_labels = self.labels_.copy()  # before self-labeling replaces them
        self.clustering_predictions = self._predicted_labels(data)
        return super()._self_label(data, secu_labels, generator, hooks)


def scores(y, labels):
    return (
        clustering_accuracy(y, labels),
        normalized_mutual_info_score(y, labels),
        adjusted_rand_score(y, labels),
    )


def secu_params(args) -> dict:
    """``SECU`` plus the backbone widths asked for on the command line."""
    params = dict(SECU)
    if args.widths:
        params["backbone_params"] = {"widths": tuple(int(w) for w in args.widths.split(","))}
    return params


def calibrate(X, args) -> float:
    """Seconds per training step of SeCu on this machine (after 5 warm-up steps)."""
    sub = X[: min(len(X), 4096)]
    est = _TimedSeCu(
        10, max_iter=100, amp=args.amp, device="cpu", random_state=0, **secu_params(args)
    )
    est.timer = _EpochTimer(stop_after=25)
    try:
        est.fit(sub)
    except _Stop:
        pass
    steps = np.diff(est.timer.steps[5:])
    return float(np.median(steps))


def knn_seconds(X) -> float:
    """Estimated time of the 5-nearest-neighbour search on all of ``X``.

    Timed on a subset: the exact search grows with the square of N, the
    approximate one (above ``APPROXIMATE_ABOVE`` samples, with pynndescent)
    about as N log N, plus the compilation of its kernels, timed apart.
    """
    approximate = len(X) > APPROXIMATE_ABOVE and _import_pynndescent() is not None
    method = "approximate" if approximate else "exact"
    n = min(len(X), 16384 if approximate else 4096)
    flat = torch.as_tensor(X[:n].reshape(n, -1))
    start = time.perf_counter()
    if approximate:
        nearest_neighbors(flat[:1000], 5, method=method)  # numba compiles here
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    nearest_neighbors(flat, 5, method=method)
    seconds = time.perf_counter() - start
    if approximate:
        return compile_seconds + seconds * len(X) * math.log(len(X)) / (n * math.log(n))
    return seconds * (len(X) / n) ** 2


def epochs_for_budget(X, args) -> int:
    start = time.perf_counter()
    step = calibrate(X, args)
    knn = knn_seconds(X)
    epoch = step * math.ceil(len(X) / SECU["batch_size"])
    budget = 60 * args.minutes
    rest = budget - knn - INIT_COST * epoch - SELF_LABELING_COST * epoch * args.self_labeling
    epochs = max(1, int(rest // epoch))
    print(
        f"calibration ({time.perf_counter() - start:.0f} s): {step:.3f} s/step, "
        f"{epoch:.0f} s/epoch, neighbour search ~{knn:.0f} s -> max_iter={epochs} "
        f"for a budget of {args.minutes:g} min"
    )
    return epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget")
    parser.add_argument("--epochs", type=int, default=None, help="max_iter (skips the budget)")
    parser.add_argument("--self-labeling", type=int, default=None, help="self_labeling_epochs")
    parser.add_argument(
        "--self-labeling-warmup", type=int, default=None, help="self_labeling_warmup"
    )
    parser.add_argument(
        "--self-labeling-threshold", type=float, default=None, help="self_labeling_threshold"
    )
    parser.add_argument("--self-labeling-lr", type=float, default=None, help="self_labeling_lr")
    parser.add_argument("--n-samples", type=int, default=None, help="a random subset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--amp", choices=["auto", "bf16", "none"], default="auto")
    parser.add_argument("--widths", default=None, help="SmallCNN channels per block, e.g. 16,32,64")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--skip-kmeans", action="store_true")
    args = parser.parse_args(argv)
    args.amp = None if args.amp == "none" else args.amp
    if args.threads:
        torch.set_num_threads(args.threads)
    defaults = SeCuClustering().get_params()
    for arg, param in [
        ("self_labeling", "self_labeling_epochs"),
        ("self_labeling_warmup", "self_labeling_warmup"),
        ("self_labeling_threshold", "self_labeling_threshold"),
        ("self_labeling_lr", "self_labeling_lr"),
    ]:
        if getattr(args, arg) is None:
            setattr(args, arg, defaults[param])
    X, y = load_mnist(return_X_y=True)
    if args.n_samples:
        keep = np.random.default_rng(0).permutation(len(X))[: args.n_samples]
        X, y = X[keep], y[keep]
    print(f"MNIST {X.shape}, seed {args.seed}, torch threads {torch.get_num_threads()}")
    rows = []
    if not args.skip_kmeans:
        start = time.perf_counter()
        labels = KMeans(10, n_init=10, random_state=args.seed).fit_predict(X.reshape(len(X), -1))
        rows.append(("KMeans(n_init=10) on pixels", scores(y, labels), time.perf_counter() - start))
        print(f"k-means done in {rows[-1][2]:.0f} s", flush=True)
    epochs = args.epochs if args.epochs is not None else epochs_for_budget(X, args)
    est = _TimedSeCu(
        10,
        max_iter=epochs,
        self_labeling_epochs=args.self_labeling,
        self_labeling_warmup=args.self_labeling_warmup,
        self_labeling_threshold=args.self_labeling_threshold,
        self_labeling_lr=args.self_labeling_lr,
        amp=args.amp,
        random_state=args.seed,
        **secu_params(args),
    )
    est.timer = _EpochTimer(verbose=True)
    start = time.perf_counter()
    est.fit(X)
    fit_time = time.perf_counter() - start
    train = [t for e, t, stage in est.timer.records if e >= 0 and stage is None]
    rate = 2 * len(X) * len(train) / sum(train)
    cnn = f"CNN {args.widths}" if args.widths else "CNN"
    if est.clustering_labels is not None:
        name = f"SeCuClustering ({cnn}, {epochs} epochs), before self-labeling"
        rows.append((name, scores(y, est.clustering_labels), fit_time, rate))
        name = f"SeCuClustering ({cnn}, {epochs} epochs), its predict(X) before self-labeling"
        rows.append((name, scores(y, est.clustering_predictions), fit_time, rate))
    name = f"SeCuClustering ({cnn}, {epochs} + {args.self_labeling} epochs)"
    rows.append((name, scores(y, est.labels_), fit_time, rate))
    print("| method | ACC | NMI | ARI | fit time (min) | training images/s |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        (acc, nmi, ari), seconds = row[1], row[2]
        rate = f"{row[3]:.0f}" if len(row) > 3 else "-"
        print(f"| {row[0]} | {acc:.4f} | {nmi:.4f} | {ari:.4f} | {seconds / 60:.1f} | {rate} |")


if __name__ == "__main__":
    main()
