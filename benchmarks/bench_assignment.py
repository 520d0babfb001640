"""Time of each assignment solver relative to the b x K similarity matmul.

Usage::

    python benchmarks/bench_assignment.py [--device cpu|cuda] [--repeats 7]

For b=1024, D=128 and K in {10, 1000, 10000}: the time of ``x @ w.T`` (the
similarity computation every method does anyway) and of each solver on those
similarities, and their ratio. Each time is the minimum over ``--repeats``
runs, the statistic least disturbed by other load on the machine. Target:
size and entropy (batch form) at most 3x the matmul. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import torch

from skdeepcluster.assignment import (
    entropy_constrained_assignment,
    fairness_em,
    hard_regularized_assignment,
    sinkhorn,
    size_constrained_assignment,
)


def timed(fn, device, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_k(k, b, d, device, g, repeats):
    x = torch.nn.functional.normalize(torch.randn(b, d, generator=g), dim=1).to(device)
    w = torch.nn.functional.normalize(torch.randn(k, d, generator=g), dim=1).to(device)
    scores = x @ w.T
    n = 50 * b
    counts = torch.full((k,), n / k, dtype=torch.float64, device=device)
    prev = torch.randint(0, k, (b,), generator=g).to(device)
    duals = torch.zeros(k, device=device)
    base = timed(lambda: x @ w.T, device, repeats)
    solvers = {
        "size (lower + upper)": lambda: size_constrained_assignment(
            scores, duals, duals, gamma=0.9, gamma_upper=1.1
        ),
        "entropy (batch form)": lambda: entropy_constrained_assignment(
            scores, counts, prev, alpha=0.12 * n, n_samples=n
        ),
        "hard regularised greedy": lambda: hard_regularized_assignment(-scores),
        "sinkhorn (3 iters)": lambda: sinkhorn(scores, n_iters=3),
        "fairness EM (10 iters)": lambda: fairness_em((scores / 0.1).softmax(1), n_iters=10, tol=0),
    }
    if k <= 1000:
        solvers["entropy (sequential, exact)"] = lambda: entropy_constrained_assignment(
            scores, counts, prev, alpha=0.12 * n, n_samples=n, sequential=True
        )
    for name, fn in solvers.items():
        t = timed(fn, device, max(1, repeats if "sequential" not in name else 2))
        print(f"| {k} | {base * 1e3:.2f} | {name} | {t * 1e3:.2f} | {t / base:.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--clusters", type=int, nargs="+", default=[10, 1000, 10000])
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    b, d = args.batch, args.dim
    g = torch.Generator(device="cpu").manual_seed(0)
    print(f"device={device}, b={b}, D={d}, torch threads={torch.get_num_threads()}")
    print("| K | matmul (ms) | solver | time (ms) | ratio to matmul |")
    print("|---|---|---|---|---|")
    for k in args.clusters:
        bench_k(k, b, d, device, g, args.repeats)


if __name__ == "__main__":
    main()
