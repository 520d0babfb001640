"""Fits run by ``tests/_training/test_distributed.py``, in every rank of a torchrun job.

Run as ``torchrun --nproc_per_node=2 distributed_worker.py OUT`` (gloo on the
CPU) after :func:`write_digit_folder` has written ``OUT/pngs``: each rank fits
every estimator of :func:`estimators` on the same data (arrays, and the image
files of ``OUT/pngs``, of which each rank reads its share of every batch) and
writes its labels to ``OUT/rank<r>.npz``. The test imports this file for
the same estimators and data to compare with a single-process fit.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, make_blobs


def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16).astype(np.float32), y[:400]


def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=1.0, random_state=0)
    return X.astype(np.float32), y


def write_digit_folder(root: Path, n: int = 96) -> Path:
    """The first ``n`` digits as 8x8 PNG files in ``root`` (file ``i`` is digit ``i``)."""
    from PIL import Image

    images, _ = load_digits(return_X_y=True)
    root.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images[:n]):
        pixels = (image.reshape(8, 8) * 255 / 16).round().astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{i:03d}.png")
    return root


def digit_folder(root: Path):
    """The folder of :func:`write_digit_folder` as an ImageFolder (one loader worker, so
    every rank decodes its share of each batch in a DataLoader process)."""
    from skdeepcluster.data import ImageFolder

    _, y = load_digits(return_X_y=True)
    folder = ImageFolder(root, num_workers=1)
    return folder, y[: len(folder)]


def estimators(checkpoint_dir=None, folder=None):
    """(name, estimator, data) of every fit; SeCu writes a checkpoint when asked, and
    fits the image files of ``folder`` too when it is given."""
    from skdeepcluster import (
        EntropyClustering,
        HardRegClustering,
        PIPCDRClustering,
        SeCuClustering,
    )

    small = dict(device="cpu", random_state=0)
    mlp = {"hidden_dims": (32,)}
    fits = [
        (
            "secu",
            SeCuClustering(
                10,
                max_iter=12,
                batch_size=64,
                warmup_epochs=2,
                projection_dim=32,
                projection_hidden=64,
                backbone_params={"hidden_dims": (128,)},
                checkpoint_dir=checkpoint_dir,
                **small,
            ),
            digits,
        ),
        (
            "secu_size_closed_form",
            SeCuClustering(
                3,
                max_iter=3,
                constraint="size",
                center_update="closed_form",
                batch_size=33,
                projection_dim=8,
                projection_hidden=16,
                backbone_params=mlp,
                **small,
            ),
            blobs,
        ),
        (
            "hardreg",
            HardRegClustering(3, max_iter=3, batch_size=32, backbone_params=mlp, **small),
            blobs,
        ),
        (
            "pipcdr",
            PIPCDRClustering(
                3,
                max_iter=3,
                batch_size=32,
                projection_dim=8,
                projection_hidden=16,
                predictor_hidden=16,
                warmup_epochs=1,
                cdr_start=1,
                backbone_params=mlp,
                **small,
            ),
            blobs,
        ),
        ("entropy", EntropyClustering(3, max_iter=10, n_heads=2, batch_size=33, **small), blobs),
    ]
    if folder is not None:
        fits.append(
            (
                "secu_folder",
                SeCuClustering(
                    10,
                    max_iter=2,
                    batch_size=32,
                    projection_dim=8,
                    projection_hidden=16,
                    backbone_params={"widths": (4, 8), "convs_per_block": 1},
                    **small,
                ),
                lambda: digit_folder(folder),
            )
        )
    return fits


def main(out: Path) -> None:
    from torch import distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results = {}
    for name, est, data in estimators(checkpoint_dir=out / "checkpoint", folder=out / "pngs"):
        X, _ = data()
        est.fit(X)
        results[name] = est.labels_
        results[name + "_params"] = torch.cat(
            [p.detach().reshape(-1) for p in est.module_.parameters()]
        ).numpy()
    np.savez(out / f"rank{rank}.npz", **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
