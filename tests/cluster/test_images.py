"""Image input (arrays and folders) through the estimators, end to end."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits, make_blobs
from tiny_estimators import IMAGE_CNN, digit_images, fast_image_params

from skdeepcluster import EntropyClustering, HardRegClustering, PIPCDRClustering, SeCuClustering
from skdeepcluster.augment import MultiView, NeighborSwap, default_image_views
from skdeepcluster.data import ImageFolder, load_image_folder

FAST = fast_image_params(batch_size=16)


@pytest.fixture(scope="module")
def digits():
    return digit_images(60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 digit images in nested class folders, as PNG and JPEG (the PNGs are lossless)."""
    root = tmp_path_factory.mktemp("digits")
    d = load_digits()
    pixels = (d.images[:40] * 255 / 16).round().astype(np.uint8)
    for i, (p, label) in enumerate(zip(pixels, d.target[:40], strict=True)):
        sub = root / f"class_{label}" / ("nested" if i % 3 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        fmt = "jpg" if i % 4 == 0 else "png"
        Image.fromarray(p).save(sub / f"{i:03d}.{fmt}")
    return root


def test_secu_on_image_array(digits):
    X, _ = digits
    est = SeCuClustering(4, **FAST).fit(X)
    assert est.image_shape_ == (1, 8, 8) and est.n_features_in_ == 64
    assert not hasattr(est, "feature_names_in_")
    assert isinstance(est.module_.backbone, torch.nn.Module)
    assert type(est.module_.backbone).__name__ == "SmallCNN"
    assert est.labels_.shape == (60,) and est.n_iter_ == 2
    assert est.predict(X).shape == (60,)
    proba = est.predict_proba(X)
    assert proba.shape == (60, 4) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert est.transform(X).shape == (60, 8) and np.isfinite(est.score(X))
    # the same images as uint8 channels-last RGB: 3 channels
    rgb = np.repeat((X[..., None] * 255).astype(np.uint8), 3, axis=-1)
    est3 = SeCuClustering(4, **FAST).fit(rgb)
    assert est3.image_shape_ == (3, 8, 8) and est3.predict(rgb).shape == (60,)


def test_secu_image_fit_is_reproducible_and_leaves_global_rng(digits):
    X, _ = digits
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = SeCuClustering(4, **FAST).fit(X).labels_
    b = SeCuClustering(4, **FAST).fit(X).labels_
    assert np.array_equal(a, b) and torch.equal(state, torch.get_rng_state())


def test_folder_fit_equals_array_fit_and_predicts_files(folder):
    bunch = load_image_folder(folder)
    assert len(bunch.filenames) == 40 and set(bunch.target_names) >= {"class_0", "class_1"}
    # The array of the decoded files, in the folder's order (JPEG is lossy: decode it).
    pixels = np.stack([np.array(Image.open(f).convert("L")) for f in bunch.filenames])
    # the same views for both (augment="auto" walks neighbours for arrays only)
    same = dict(FAST, augment=default_image_views((1, 8, 8)))
    from_folder = SeCuClustering(4, **same).fit(str(folder))
    from_array = SeCuClustering(4, **same).fit(pixels)
    assert from_folder.image_shape_ == (1, 8, 8)
    assert np.array_equal(from_folder.labels_, from_array.labels_)
    state = torch.get_rng_state()
    predicted = from_folder.predict(folder)
    assert torch.equal(state, torch.get_rng_state())
    assert np.array_equal(predicted, from_array.predict(pixels))
    assert np.array_equal(from_folder.predict(bunch.filenames), predicted)
    assert np.allclose(from_folder.transform(folder), from_array.transform(pixels), atol=1e-5)


def test_corrupt_file_in_folder(folder, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(folder, root)
    (root / "class_1" / "corrupt.png").write_bytes(b"\x89PNG\r\n but then garbage")
    with pytest.raises(ValueError, match="corrupt.png"):
        SeCuClustering(4, **FAST).fit(root)
    with pytest.warns(UserWarning, match="corrupt.png"):
        images = ImageFolder(root, on_error="skip")
    est = SeCuClustering(4, **FAST).fit(images)
    assert est.labels_.shape == (40,)
    assert est.predict(images).shape == (40,)


def test_folder_resize_is_reused_for_prediction(folder, tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(6):
        Image.new("L", (12, 10), color=40 * i).save(big / f"{i}.png")
    est = SeCuClustering(2, **dict(FAST, batch_size=4)).fit(ImageFolder(folder, resize=6))
    assert est.image_shape_ == (1, 6, 6)
    assert est.predict(big).shape == (6,)  # read at the training size


def test_rgb_folder_prediction_on_grey_model(folder, tmp_path):
    colour = tmp_path / "colour"
    colour.mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), color=(10 * i, 200, 30)).save(colour / f"{i}.png")
    est = SeCuClustering(4, **FAST).fit(folder)
    assert est.predict(colour).shape == (3,)  # converted to the training mode ("L")
    assert est.predict(ImageFolder(colour)).shape == (3,)
    with pytest.raises(ValueError, match="shape"):
        est.predict(ImageFolder(colour, color_mode="rgb"))


def test_input_mismatch_errors(digits):
    X, _ = digits
    est = SeCuClustering(4, **FAST).fit(X)
    with pytest.raises(ValueError, match="fitted on images"):
        est.predict(X.reshape(60, 64))
    with pytest.raises(ValueError, match=r"\(1, 8, 8\).*\(1, 4, 4\)"):
        est.predict(X[:, :4, :4])
    vec = SeCuClustering(4, **dict(FAST, backbone_params={"hidden_dims": (8,)})).fit(
        X.reshape(60, 64)
    )
    assert vec.image_shape_ is None
    with pytest.raises(ValueError, match="fitted on vectors"):
        vec.predict(X)
    with pytest.raises(ValueError, match="needs images"):
        SeCuClustering(4, **dict(FAST, backbone="cnn")).fit(X.reshape(60, 64))


def test_refit_on_vectors_after_images(digits):
    X, _ = digits
    est = SeCuClustering(4, **dict(FAST, backbone_params=None, projection_hidden=8))
    est.set_params(max_iter=1).fit(X)
    est.fit(X.reshape(60, 64))
    assert est.image_shape_ is None and est.n_features_in_ == 64
    assert type(est.module_.backbone).__name__ == "MLP"


def test_data_dependent_augment_refused_for_folders(folder):
    est = SeCuClustering(4, **dict(FAST, augment=MultiView(NeighborSwap())))
    with pytest.raises(ValueError, match="streamed"):
        est.fit(folder)


def test_pickle_image_model(digits):
    X, _ = digits
    est = SeCuClustering(4, **FAST).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    assert np.array_equal(restored.predict(X), est.predict(X))


@pytest.mark.parametrize(
    "make",
    [
        lambda: HardRegClustering(
            4,
            max_iter=2,
            batch_size=16,
            backbone="cnn",
            backbone_params=IMAGE_CNN,
            neighbor_embedding_steps=20,
        ),
        lambda: PIPCDRClustering(
            4,
            max_iter=2,
            batch_size=16,
            cdr_start=1,
            warmup_epochs=1,
            projection_dim=8,
            projection_hidden=16,
            predictor_hidden=16,
            backbone_params=IMAGE_CNN,
        ),
    ],
    ids=["HardReg", "PIPCDR"],
)
def test_other_estimators_on_images_and_folders(make, digits, folder):
    X, _ = digits
    est = make().set_params(device="cpu", random_state=0).fit(X)
    assert est.image_shape_ == (1, 8, 8) and est.labels_.shape == (60,)
    assert np.array_equal(est.predict(X), est.labels_)
    est.fit(folder)
    assert est.labels_.shape == (40,)
    assert np.array_equal(est.predict(folder), est.labels_)


def test_vectors_unchanged_by_the_data_layer():
    X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    est = SeCuClustering(3, **dict(FAST, backbone_params={"hidden_dims": (8,)})).fit(X)
    assert est.image_shape_ is None and type(est.module_.backbone).__name__ == "MLP"


def test_entropy_clustering_on_image_arrays_but_not_files(digits, folder):
    X, _ = digits
    linear = EntropyClustering(4, max_iter=5, n_heads=1, device="cpu", random_state=0).fit(X)
    assert linear.image_shape_ == (1, 8, 8) and np.array_equal(linear.predict(X), linear.labels_)
    cnn = EntropyClustering(4, max_iter=2, backbone="cnn", backbone_params=IMAGE_CNN, device="cpu")
    assert cnn.fit(X).labels_.shape == (60,)
    with pytest.raises(ValueError, match="needs the data in memory"):
        EntropyClustering(4, max_iter=2, device="cpu").fit(folder)


@pytest.mark.parametrize(
    "make",
    [
        lambda: HardRegClustering(4, max_iter=3, neighbor_embedding_steps=30),
        lambda: EntropyClustering(4, max_iter=5, neighbor_embedding_steps=30),
    ],
    ids=["HardReg", "Entropy"],
)
def test_image_arrays_fit_as_their_pixel_vectors(make):
    """With defaults an image array gets the neighbour-embedding encoder of its
    flattened pixels: the same fit as the vectors."""
    X, _ = digit_images(120)
    images = make().set_params(device="cpu", random_state=0).fit(X)
    vectors = make().set_params(device="cpu", random_state=0).fit(X.reshape(len(X), -1))
    assert images.module_.frozen and images.image_shape_ == (1, 8, 8)
    assert np.array_equal(images.labels_, vectors.labels_)
    assert np.allclose(images.transform(X), vectors.transform(X.reshape(len(X), -1)), atol=1e-5)


def test_hardreg_on_image_files_trains_end_to_end(folder):
    """Files streamed from disk have no neighbour graph: the CNN trains end to end,
    and asking for the stage on them is refused."""
    est = HardRegClustering(4, max_iter=2, batch_size=16, backbone_params=IMAGE_CNN)
    est.set_params(device="cpu", random_state=0).fit(folder)
    assert est.module_.neighbor is None and type(est.module_.backbone).__name__ == "SmallCNN"
    with pytest.raises(ValueError, match="in memory"):
        est.set_params(neighbor_embedding=True, backbone="cnn").fit(folder)
