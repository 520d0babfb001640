"""Training throughput of SeCuClustering against a plain supervised cross-entropy loop.

Both loops train the same network (the backbone and SeCu's projection head;
the supervised loop adds a linear classifier where SeCu has its centres) with
the same batch size, the same two augmented views per sample (the
estimator's ``augment="auto"`` views, drawn in float32), the same mixed
precision and memory format, in the same process. A step forwards and
backpropagates ``2 * batch_size`` images in both: the supervised loop
classifies both views toward the true labels, SeCu runs its Algorithm 1
(soft labels, entropy-constrained assignment, centre update). Rounds of
``--steps`` timed steps, after ``--warmup`` untimed ones (and, for SeCu,
after its initialisation epoch), alternate between the two so that both see
the same machine load; the best round of each is reported.

Usage::

    python benchmarks/bench_throughput.py                      # MNIST 10k, 28x28
    python benchmarks/bench_throughput.py --dataset digits     # 8x8 digits
    python benchmarks/bench_throughput.py --amp none --steps 100 --rounds 3

Prints a Markdown table of training images/s (views through the network per
second) and the ratio SeCu / supervised.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skdeepcluster import SeCuClustering
from skdeepcluster._training import Hook, autocast_context, full_precision, make_generator
from skdeepcluster.data import InMemoryData, to_image_tensor


class _Stop(Exception):
    """Ends a timed fit once enough steps were measured."""


class _StepTimer(Hook):
    """Times optimisation steps after the initialisation epoch and ``warmup`` steps."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.started = False
        self.count = 0
        self.t0 = 0.0
        self.elapsed = float("nan")

    def on_epoch_end(self, record):
        self.started = self.started or record["epoch"] >= -1

    def on_batch_end(self, logs):
        if not self.started:
            return
        self.count += 1
        if self.count == self.warmup:
            self.t0 = time.perf_counter()
        elif self.count == self.warmup + self.steps:
            self.elapsed = time.perf_counter() - self.t0
            raise _Stop


class _TimedSeCu(SeCuClustering):
    timer: _StepTimer | None = None

    def _train(self, data, generator, hooks):
        return super()._train(data, generator, [*hooks, self.timer])


def secu_round(X, args) -> float:
    """Seconds per step of SeCuClustering's training loop."""
    est = _TimedSeCu(
        args.n_clusters,
        batch_size=args.batch_size,
        max_iter=10_000,
        amp=args.amp,
        device="cpu",
        random_state=0,
    )
    est.timer = _StepTimer(args.warmup, args.steps)
    try:
        est.fit(X)
    except _Stop:
        pass
    return est.timer.elapsed / args.steps


def supervised_round(X, y, args) -> float:
    """Seconds per step of a plain supervised loop with SeCu's network, views and precision."""
    est = SeCuClustering(args.n_clusters, batch_size=args.batch_size, amp=args.amp, device="cpu")
    data = InMemoryData(to_image_tensor(X), is_image=True)
    backbone, width = est._make_backbone(data)  # the same backbone, channels-last as in a fit
    ref = est._build_module(data)
    net = nn.Sequential(backbone, ref.head, nn.Linear(ref.head.out_features, args.n_clusters))
    amp_dtype = est._amp_dtype(torch.device("cpu"))
    views = est._make_views(data)
    generator = make_generator(0)
    loader = data.loader(args.batch_size, shuffle=True, generator=generator)
    target = torch.as_tensor(y)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    count, t0 = 0, 0.0
    while True:
        for index, x in loader:
            with full_precision(x.device):
                v1, v2 = views(x, index, generator)
            with autocast_context(x.device, amp_dtype):
                logits = net(torch.cat([v1, v2]))
            labels = target[index]
            loss = F.cross_entropy(logits.float(), torch.cat([labels, labels]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            float(loss.detach())  # SeCu logs its loss every step too
            count += 1
            if count == args.warmup:
                t0 = time.perf_counter()
            elif count == args.warmup + args.steps:
                return (time.perf_counter() - t0) / args.steps


def load(args):
    if args.dataset == "mnist":
        from skdeepcluster.datasets import load_mnist

        X, y = load_mnist(return_X_y=True)
    else:
        from skdeepcluster.datasets import load_digits_images

        X, y = load_digits_images(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(X))[: args.n_samples]
    return X[keep], y[keep]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-clusters", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--amp", choices=["auto", "bf16", "none"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    args.amp = None if args.amp == "none" else args.amp
    torch.set_num_threads(args.threads)
    X, y = load(args)
    print(
        f"{args.dataset} {X.shape}, batch {args.batch_size} (x2 views), amp={args.amp}, "
        f"{args.rounds} rounds of {args.steps} steps after {args.warmup}, "
        f"torch threads {torch.get_num_threads()}"
    )
    images = 2 * args.batch_size
    secu, sup = [], []
    for r in range(args.rounds):
        secu.append(secu_round(X, args))
        sup.append(supervised_round(X, y, args))
        print(
            f"round {r}: SeCu {images / secu[-1]:.0f} images/s, "
            f"supervised {images / sup[-1]:.0f} images/s",
            flush=True,
        )
    best_secu, best_sup = images / min(secu), images / min(sup)
    print("| loop | images/s (best round) | s/step | ratio to supervised |")
    print("|---|---|---|---|")
    print(f"| supervised cross-entropy | {best_sup:.0f} | {min(sup):.3f} | 1.00 |")
    print(f"| SeCuClustering | {best_secu:.0f} | {min(secu):.3f} | {best_secu / best_sup:.2f} |")


if __name__ == "__main__":
    main()
