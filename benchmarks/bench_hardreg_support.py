"""MNIST images: hard regularisation against soft partition support and none.

The comparison of Mahon & Lukasiewicz (AAAI 2024) on MNIST: one network, a
small convolutional encoder trained without augmentation, and three ways of
keeping the online clustering from collapsing:

* ``hard``: :class:`~skdeepcluster.HardRegClustering` as it is, the greedy
  assignment that makes a crowded cluster more expensive (the paper's method);
* ``soft``: soft partition support. Every sample trains toward its nearest
  centroid, and the loss adds ``KL(mean_i p_i || prior)``, where ``p_i`` is the
  softmax of sample ``i``'s negative costs: the usual regulariser that asks the
  *average soft* assignment of a batch to be balanced (as in IMSAT or SCAN's
  entropy term; the authors' code has it as ``--kl``);
* ``none``: nearest-centroid assignments, no support
  (``assignment="nearest"``).

The encoder is :class:`~skdeepcluster.nn.SmallCNN` with one 3x3 convolution of
16, 32 and 64 channels per block (``LENET``), about the size of the paper's
LeNet-style network. ``--encoder end-to-end`` trains it from scratch on the
clustering loss alone, as in the paper; ``--encoder neighbour`` first trains it
on the neighbour-embedding stage (pairs of pixel-space nearest neighbours, still
no augmentation), freezes it and compares the three on top.

Usage::

    python -m benchmarks.bench_hardreg_support                       # 10k images, end to end
    python -m benchmarks.bench_hardreg_support --n-samples 0 --encoder neighbour --variants hard

Prints a Markdown table: ACC / NMI / ARI of ``labels_``, the clusters in use
and the smallest and largest cluster of ``labels_`` (a collapse leaves clusters
empty or one cluster holding most of the data), and the fit time; k-means on
the pixels is the anchor.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from sklearn.cluster import KMeans

from skdeepcluster import HardRegClustering
from skdeepcluster._training import full_precision
from skdeepcluster.cluster._hardreg import _HardRegTask
from skdeepcluster.datasets import load_mnist
from skdeepcluster.losses import hardreg_cost, hardreg_loss
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)

#: A LeNet-sized encoder: three blocks of one 3x3 convolution (16, 32, 64 channels).
LENET = {"widths": (16, 32, 64), "convs_per_block": 1}


class _SoftSupportTask(_HardRegTask):
    """Nearest-centroid training plus ``KL(mean soft assignment || prior)`` per batch."""

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        z = self.net.embed(x).float()
        with full_precision(z.device):
            cost = hardreg_cost(z, self.net.centroids.float(), self.est.sigma)
            labels = cost.detach().argmin(dim=1)
            k = cost.shape[1]
            log_prior = (
                torch.full((k,), -math.log(k), device=cost.device)
                if self.log_prior is None
                else self.log_prior.to(cost.dtype)
            )
            mean_soft = torch.softmax(-cost, dim=1).mean(dim=0)
            kl = (mean_soft * (mean_soft.clamp_min(1e-12).log() - log_prior)).sum()
            sizes = torch.bincount(labels, minlength=k)
            self.epoch_sizes += sizes
            self._batch_sizes = sizes
            loss = hardreg_loss(cost, labels) + kl
        return loss, {"loss": float(loss.detach())}


class SoftSupportClustering(HardRegClustering):
    """HardRegClustering's network and training with soft partition support instead."""

    def _setup_training(self, data, generator, stream=False):
        loader, task, optimizer = super()._setup_training(data, generator, stream)
        soft = _SoftSupportTask(
            self, task.views, task.generator, task.log_prior, task.counts.device, stream
        )
        return loader, soft, optimizer


def make(variant: str, encoder: str, seed: int, epochs) -> HardRegClustering:
    params = dict(
        n_clusters=10,
        backbone="cnn",
        backbone_params=LENET,
        neighbor_embedding=encoder == "neighbour",
        max_iter=epochs,
        device="cpu",
        random_state=seed,
    )
    if variant == "soft":
        return SoftSupportClustering(**params)
    return HardRegClustering(assignment="nearest" if variant == "none" else "greedy", **params)


def scores(y, labels) -> dict:
    sizes = np.bincount(labels, minlength=10)
    return {
        "ACC": clustering_accuracy(y, labels),
        "NMI": normalized_mutual_info_score(y, labels),
        "ARI": adjusted_rand_score(y, labels),
        "in use": int((sizes > 0).sum()),
        "smallest": int(sizes.min()),
        "largest": int(sizes.max()),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10000, help="0: all 70,000")
    parser.add_argument("--subset-seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="+", default=["hard", "soft", "none"])
    parser.add_argument("--encoder", choices=["end-to-end", "neighbour"], default="end-to-end")
    parser.add_argument("--epochs", default="auto", help='"auto" or an int')
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-kmeans", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)

    X, y = load_mnist(return_X_y=True)
    if args.n_samples:
        rng = np.random.default_rng(args.subset_seed)
        keep = rng.choice(len(X), args.n_samples, replace=False)
        X, y = X[keep], y[keep]
    X = X[:, None]
    rows = []
    if not args.skip_kmeans:
        start = time.perf_counter()
        labels = KMeans(10, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))
        elapsed = time.perf_counter() - start
        rows.append(("KMeans(n_init=10), pixels", 0, scores(y, labels), elapsed))
    for seed in args.seeds:
        for variant in args.variants:
            est = make(variant, args.encoder, seed, epochs)
            start = time.perf_counter()
            est.fit(X)
            elapsed = time.perf_counter() - start
            rows.append((f"{variant} ({args.encoder})", seed, scores(y, est.labels_), elapsed))
            print(variant, seed, rows[-1][2], f"{elapsed:.0f} s", flush=True)
    print(f"\nMNIST images, {len(X)} samples, encoder {args.encoder}, epochs {args.epochs}\n")
    print("| variant | seed | ACC | NMI | ARI | clusters in use | smallest | largest | fit (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, seed, s, elapsed in rows:
        print(
            f"| {name} | {seed} | {s['ACC']:.3f} | {s['NMI']:.3f} | {s['ARI']:.3f} | "
            f"{s['in use']} | {s['smallest']} | {s['largest']} | {elapsed:.0f} |"
        )


if __name__ == "__main__":
    main()
