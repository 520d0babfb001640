"""Image folders at scale: memory and throughput of a fit on PNG files against an array.

Writes ``N`` 28x28 greyscale PNG files (the MNIST digits in order, cycling
over the 70,000 with the image shifted one pixel right per cycle, so that no
two files are equal) into ``--root`` (kept between runs), then fits
``SeCuClustering(n_clusters=10, max_iter=1)`` with its image defaults on the
folder (by path, as a user would), and on the same images as an in-memory
array for the sizes given in ``--array-sizes``. Reported per fit:

* images/s of the training epoch (epoch 0: samples per second of wall time,
  each sample giving two augmented views), timed from its start to its end;
* the peak memory of the fit, the main process and its DataLoader workers
  together (their proportional set sizes, which count shared pages once,
  sampled every 0.2 s from ``/proc``), above what the process held before
  the fit;
* the wall time of the whole fit (initialisation epoch included).

Usage::

    python -m benchmarks.bench_folder --sizes 10000 100000 --array-sizes 10000
    python -m benchmarks.bench_folder --sizes 2000 --array-sizes 2000 --root /tmp/pngs

Prints a Markdown table. Linux only (reads ``/proc``).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import skdeepcluster.cluster._secu as secu_module
from skdeepcluster import SeCuClustering
from skdeepcluster.datasets import load_mnist


def _pss_kib(pid: int) -> int:
    """Proportional set size: resident memory with pages shared between processes
    (libraries, copy-on-write data of forked workers) split among them, so the
    sizes of a process tree add up."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(c) for c in f.read().split()]
        except OSError:
            kids = []
        found += kids
        todo += kids
    return found


class TreeMemory:
    """Peak memory (MiB, summed PSS) of this process and its children while in the block."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peak = every, 0.0

    def _total(self) -> float:
        me = os.getpid()
        return sum(_pss_kib(p) for p in [me, *_descendants(me)]) / 1024

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self._total())

    def __enter__(self):
        self.before = self._total()
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.before


class EpochClock:
    """Wall-clock start and end of every epoch of SeCu's clustering stage."""

    def __enter__(self):
        task = secu_module._SeCuTask
        self.saved = task.on_epoch_start, task.on_epoch_end
        self.times: dict[int, list[float]] = {}
        clock = self

        def start(task_self, epoch):
            clock.times[epoch] = [time.perf_counter()]
            return clock.saved[0](task_self, epoch)

        def end(task_self, epoch):
            clock.times[epoch].append(time.perf_counter())
            return clock.saved[1](task_self, epoch)

        task.on_epoch_start, task.on_epoch_end = start, end
        return self

    def __exit__(self, *exc):
        secu_module._SeCuTask.on_epoch_start, secu_module._SeCuTask.on_epoch_end = self.saved

    def seconds(self, epoch: int) -> float:
        begin, end = self.times[epoch]
        return end - begin


def write_pngs(root: Path, n: int, images: np.ndarray) -> Path:
    """``n`` PNG files in ``root/n`` (written once; a finished folder is reused)."""
    folder = root / str(n)
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = np.roll(images[i % len(images)], i // len(images), axis=1)
        Image.fromarray(image).save(folder / f"{i:07d}.png")
    done.touch()
    return folder


def fit_row(kind: str, n: int, X, seed: int) -> dict:
    est = SeCuClustering(n_clusters=10, max_iter=1, random_state=seed)
    with TreeMemory() as memory, EpochClock() as clock:
        start = time.perf_counter()
        est.fit(X)
        total = time.perf_counter() - start
    row = {
        "input": kind,
        "n": n,
        "images_per_s": n / clock.seconds(0),
        "peak_growth_mib": memory.growth,
        "fit_s": total,
    }
    print(
        f"{kind:<7} N={n:>7}: {row['images_per_s']:7.0f} images/s, "
        f"peak growth {row['peak_growth_mib']:6.0f} MiB, fit {total:6.1f} s",
        flush=True,
    )
    return row


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_folder", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[10000, 100000])
    parser.add_argument("--array-sizes", nargs="*", type=int, default=[10000])
    parser.add_argument("--root", type=Path, default=Path("benchmark_results/pngs"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    pixels = load_mnist(return_X_y=True)[0]  # (70000, 28, 28), multiples of 1/256
    digits = np.clip(np.round(pixels * 256), 0, 255).astype(np.uint8)
    rows = []
    for n in sorted(set(args.sizes) | set(args.array_sizes)):
        if n in args.array_sizes:
            images = np.stack([np.roll(digits[i % 70000], i // 70000, axis=1) for i in range(n)])
            rows.append(fit_row("array", n, images.astype(np.float32) / 255, args.seed))
            del images
        if n in args.sizes:
            start = time.perf_counter()
            folder = write_pngs(args.root, n, digits)
            print(f"files   N={n:>7}: ready in {time.perf_counter() - start:.0f} s", flush=True)
            rows.append(fit_row("folder", n, str(folder), args.seed))
    print()
    print("| input | N | training images/s | peak memory growth (MiB) | fit time (s) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['input']} | {r['n']:,} | {r['images_per_s']:.0f} "
            f"| {r['peak_growth_mib']:.0f} | {r['fit_s']:.1f} |"
        )
    return rows


if __name__ == "__main__":
    main()
