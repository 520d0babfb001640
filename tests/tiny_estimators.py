"""Tiny, fast configurations of every estimator, shared by the cross-cutting tests."""

from contextlib import contextmanager

from skdeepcluster import (
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
)

#: Estimator classes by short name.
CLASSES = {
    "SeCu": SeCuClustering,
    "HardReg": HardRegClustering,
    "PIPCDR": PIPCDRClustering,
    "Entropy": EntropyClustering,
}
NAMES = list(CLASSES)
#: The estimators that stream image files (EntropyClustering needs its data in memory).
STREAMING = ["SeCu", "HardReg", "PIPCDR"]
#: A two-block CNN small enough for 6x6 to 8x8 test images.
CNN = {"widths": (4, 8), "convs_per_block": 1}


def make_tiny(name, n_clusters=3, width=8, max_iter=2, images=False, entropy=None, **params):
    """A tiny estimator ``name``; ``params`` are set last and override everything.

    ``width`` sizes the MLP and the projection heads; ``images`` swaps the MLP
    for :data:`CNN`; ``entropy`` holds EntropyClustering's own settings (it has
    no projection head and keeps its linear default on images).
    """
    if name == "Entropy":
        settings = dict(max_iter=max_iter, n_heads=1, device="cpu", neighbor_embedding_steps=20)
        settings.update(entropy or {})
        return EntropyClustering(n_clusters, **settings).set_params(**params)
    settings = dict(
        max_iter=max_iter,
        batch_size=16,
        device="cpu",
        backbone_params=CNN if images else {"hidden_dims": (width,)},
    )
    if name == "HardReg":
        settings.update(neighbor_embedding_steps=20)
        if images:  # "auto" is an MLP on image arrays, where the stage is on
            settings.update(backbone="cnn")
    else:
        settings.update(projection_dim=width // 2, projection_hidden=width)
    if name == "PIPCDR":
        settings.update(predictor_hidden=width, warmup_epochs=1, cdr_start=1)
    return CLASSES[name](n_clusters, **settings).set_params(**params)


#: The CNN of the image tests of the estimators (8x8 digits).
IMAGE_CNN = {"widths": (8, 16), "convs_per_block": 1}


def fast_image_params(batch_size=16):
    """Two-epoch settings of SeCu-like estimators on 8x8 images with :data:`IMAGE_CNN`."""
    return dict(
        max_iter=2,
        batch_size=batch_size,
        projection_dim=8,
        projection_hidden=16,
        backbone_params=IMAGE_CNN,
        device="cpu",
        random_state=0,
    )


def digit_images(n):
    """The first ``n`` digits as (n, 8, 8) float32 images in [0, 1], and their classes."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[:n] / 16).astype("float32"), d.target[:n]


def digit_inputs(n):
    """The first ``n`` digits as images (n, 8, 8) and as vectors (n, 64)."""
    images, _ = digit_images(n)
    return {"vectors": images.reshape(n, 64), "images": images}


def write_digit_pngs(root, images, parts=1):
    """Save ``images`` (values in [0, 1]) as PNG files under ``root``, in ``parts`` sub-folders
    (``part0``, ``part1``, ...) when ``parts > 1``; returns ``root``."""
    import numpy as np
    from PIL import Image

    for i, image in enumerate(images):
        folder = root / f"part{i % parts}" if parts > 1 else root
        folder.mkdir(exist_ok=True)
        Image.fromarray((image * 255).round().astype(np.uint8)).save(folder / f"{i:02d}.png")
    return root


@contextmanager
def one_torch_thread():
    """Run the enclosed code with one torch thread, then restore the count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
