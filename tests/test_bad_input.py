"""Bad input to every estimator: each raises a ValueError or TypeError naming what to fix."""

import os
import re
from numbers import Integral, Real

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
)
from tiny_estimators import CLASSES, NAMES, make_tiny

from skdeepcluster.data import ImageFolder

METHODS = ["predict", "predict_proba", "transform", "score"]


def make(name, images=False, **params):
    return make_tiny(
        name,
        n_clusters=2,
        max_iter=1,
        images=images,
        entropy=dict(max_iter=2),
        random_state=0,
    ).set_params(**params)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((12, 6, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(X):
    return {name: make(name).fit(X) for name in NAMES}


@pytest.fixture(scope="module")
def fitted_on_images(images):
    return {name: make(name, images=True).fit(images) for name in NAMES}


def _png(path, size=(6, 6), mode="L", color=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    for i in range(4):
        _png(tmp_path / "imgs" / f"{i}.png", color=60 * i)
    return tmp_path / "imgs"


# ------------------------------------------------------------- NaN and infinity
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "value, kind", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "-infinity")]
)
def test_non_finite_vectors_name_the_sample_and_feature(name, X, value, kind):
    bad = X.copy()
    bad[13, 1] = value
    bad[15, 0] = value
    with pytest.raises(ValueError, match=rf"contains {kind} at sample 13, feature 1 \(the first"):
        make(name).fit(bad)


@pytest.mark.parametrize("name", NAMES)
def test_float64_beyond_float32_is_refused(name, X):
    bad = X.astype(np.float64)
    bad[4, 2] = 1e300  # finite in float64, infinite once converted to float32
    with pytest.raises(ValueError, match=r"too large for float32 \(1e\+300.* sample 4, feature 2"):
        make(name).fit(bad)


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_dataframe_and_tensor(name, X):
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame.loc[6, "c"] = np.nan
    with pytest.raises(ValueError, match=r"NaN at sample 6, feature 2 \('c'\)"):
        make(name).fit(frame)
    tensor = torch.from_numpy(X.copy())
    tensor[2, 0] = float("inf")
    with pytest.raises(ValueError, match="infinity at sample 2, feature 0"):
        make(name).fit(tensor)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", METHODS)
def test_non_finite_at_inference(name, method, X, fitted):
    bad = X[:5].copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at sample 3, feature 2"):
        getattr(fitted[name], method)(bad)


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_images_name_image_channel_and_pixel(name, images, fitted_on_images):
    grey = images.copy()
    grey[7, 4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at image 7, channel 0, row 4, column 1"):
        make(name, images=True).fit(grey)
    # channels-last float images (axis 1 has 6 > 4 entries): reported in (N, C, H, W)
    rgb = np.repeat(images[..., None], 3, axis=-1)
    rgb[2, 5, 3, 1] = -np.inf
    with pytest.raises(ValueError, match="-infinity at image 2, channel 1, row 5, column 3"):
        make(name, images=True).fit(rgb)
    wide = images.astype(np.float64)
    wide[1, 0, 0] = -1e200
    with pytest.raises(ValueError, match="too large for float32 .* image 1, channel 0, row 0"):
        make(name, images=True).fit(wide)
    with pytest.raises(ValueError, match="NaN at image 7, channel 0, row 4, column 1"):
        fitted_on_images[name].predict(grey)


# ------------------------------------------------------------------ dimensions
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "shape, match",
    [
        ((20,), r"got a 1-D array of shape \(20,\)\. Reshape your data: X.reshape\(-1, 1\)"),
        ((), r"got a 0-D array"),
        ((4, 2, 3, 3, 2), r"got a 5-D array of shape \(4, 2, 3, 3, 2\)"),
    ],
    ids=["1d", "0d", "5d"],
)
def test_wrong_number_of_dimensions(name, shape, match):
    with pytest.raises(ValueError, match=r"Expected 2D array, .* X must be 2-D .*" + match):
        make(name).fit(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_one_dimensional_input_at_inference(name, X, fitted):
    with pytest.raises(ValueError, match=r"1-D array of shape \(3,\)\. Reshape your data"):
        fitted[name].predict(X[0])


# --------------------------------------------------------- non-numeric columns
@pytest.mark.parametrize("name", NAMES)
def test_object_array_with_a_string(name, X):
    bad = X.astype(object)
    bad[11, 2] = "n/a"
    bad[12, 0] = "x"
    with pytest.raises(ValueError, match=r"sample 11, feature 2 holds 'n/a' \(str\)"):
        make(name).fit(bad)


@pytest.mark.parametrize("name", NAMES)
def test_dataframe_with_a_string_column(name, X):
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["city"] = ["Paris"] * len(frame)
    with pytest.raises(ValueError, match=r"sample 0, column 'city' \(feature 3\) holds 'Paris'"):
        make(name).fit(frame)
    frame["city"] = frame["city"].astype("category")
    with pytest.raises(ValueError, match="column 'city'"):
        make(name).fit(frame)


@pytest.mark.parametrize("name", NAMES)
def test_object_array_with_a_non_number_keeps_the_type_error(name, X):
    bad = X.astype(object)
    bad[5, 1] = {"a": 1}
    with pytest.raises(TypeError, match=r"argument must be .* number.*sample 5, feature 1"):
        make(name).fit(bad)


@pytest.mark.parametrize("name", NAMES)
def test_string_column_at_inference(name, X, fitted):
    bad = X[:4].astype(object)
    bad[2, 1] = "?"
    with pytest.raises(ValueError, match="sample 2, feature 1 holds '\\?'"):
        fitted[name].predict(bad)


@pytest.mark.parametrize("name", NAMES)
def test_ragged_list_of_samples_or_images(name):
    with pytest.raises(ValueError, match=r"item 0 has shape \(2,\) but item 1 has shape \(3,\)"):
        make(name).fit([[0.0, 1.0], [0.0, 1.0, 2.0]])
    mixed = [np.zeros((6, 6)), np.zeros((6, 6)), np.zeros((5, 7))]
    with pytest.raises(ValueError, match=r"item 2 has shape \(5, 7\).*same size"):
        make(name).fit(mixed)


# ---------------------------------------------------------------- sizes
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "shape, match",
    [
        ((0, 3), r"0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 2"),
        ((5, 0), r"0 feature\(s\) \(shape=\(5, 0\)\) while a minimum of 1"),
        ((1, 3), r"1 sample\(s\) \(shape=\(1, 3\)\) while a minimum of 2"),
        ((0, 6, 6), r"Found 0 image\(s\) in X \(shape \(0, 6, 6\)\) while a minimum of 2"),
        ((1, 6, 6), r"Found 1 image\(s\) in X \(shape \(1, 6, 6\)\) while a minimum of 2"),
        ((3, 0, 6), r"at least 1x1 pixels"),
    ],
    ids=["no-samples", "no-features", "one-sample", "no-images", "one-image", "no-pixels"],
)
def test_empty_and_single_sample(name, shape, match):
    with pytest.raises(ValueError, match=match):
        make(name, images=len(shape) > 2).fit(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_empty_at_inference(name, X, fitted):
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        fitted[name].predict(X[:0])


@pytest.mark.parametrize("name", NAMES)
def test_more_clusters_than_samples(name, X, images):
    with pytest.raises(ValueError, match="n_samples=4 should be >= n_clusters=5"):
        make(name, n_clusters=5).fit(X[:4])
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=4"):
        make(name, images=True, n_clusters=4).fit(images[:3])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_clusters", [0, -3, 2.5, "3", None, np.float64(3.0)])
def test_n_clusters_below_one_or_not_an_int(name, n_clusters, X):
    with pytest.raises(InvalidParameterError, match="'n_clusters' parameter .* int in the range"):
        make(name, n_clusters=n_clusters).fit(X)


# ------------------------------------------------------ mismatch at inference
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", METHODS)
def test_feature_count_mismatch(name, method, X, fitted):
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3 features"):
        getattr(fitted[name], method)(X[:, :2])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", METHODS)
def test_image_shape_mismatch(name, method, images, fitted_on_images, fitted, X):
    est = fitted_on_images[name]
    with pytest.raises(ValueError, match=r"shape \(1, 6, 6\).*got images of shape \(1, 5, 5\)"):
        getattr(est, method)(images[:, :5, :5])
    rgb = np.repeat(images[..., None], 3, axis=-1)
    with pytest.raises(ValueError, match=r"got images of shape \(3, 6, 6\)"):
        getattr(est, method)(rgb)
    with pytest.raises(ValueError, match="fitted on images .* not a 2-D array"):
        getattr(est, method)(images.reshape(12, 36))
    with pytest.raises(ValueError, match="fitted on vectors with 3 features; got images"):
        getattr(fitted[name], method)(images)


# ------------------------------------------------------------------- files
@pytest.mark.parametrize("name", NAMES)
def test_mixed_sizes_in_folder_and_list_without_resize(name, folder):
    odd = _png(folder / "sub" / "odd.png", size=(7, 9))
    with pytest.raises(ValueError, match=r"odd\.png' is 9x7 .* 6x6; pass resize="):
        make(name, images=True).fit(folder)
    files = sorted(str(p) for p in folder.glob("*.png")) + [str(odd)]
    with pytest.raises(ValueError, match=r"odd\.png' is 9x7"):
        make(name, images=True).fit(files)


@pytest.mark.parametrize("name", NAMES)
def test_empty_folder_and_folder_without_images(name, tmp_path):
    with pytest.raises(ValueError, match=r"No image files found in .*; the folder is empty"):
        make(name, images=True).fit(tmp_path)
    (tmp_path / "notes.txt").write_text("no images here")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.csv").write_text("1,2")
    with pytest.raises(
        ValueError, match=r"No image files .* 2 other file\(s\) \('notes.txt', 'sub/data.csv'\)"
    ):
        make(name, images=True).fit(str(tmp_path))


@pytest.mark.parametrize("name", NAMES)
def test_corrupt_image(name, folder):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    with pytest.raises(ValueError, match=r"Cannot read image file '.*broken\.png'"):
        make(name, images=True).fit(folder)


@pytest.mark.parametrize("name, workers", [("SeCu", 0), ("HardReg", 0), ("PIPCDR", 0), ("SeCu", 1)])
def test_truncated_image_found_when_decoded(name, workers, folder):
    """The header reads, so the scan accepts it; decoding it (in a worker or not) raises."""
    Image.effect_noise((6, 6), 50).save(folder / "noisy.png")
    data = (folder / "noisy.png").read_bytes()
    (folder / "noisy.png").write_bytes(data[: len(data) // 2])
    images = ImageFolder(folder, num_workers=workers)
    with pytest.raises(ValueError, match=r"Cannot decode image file '.*noisy\.png'"):
        make(name, images=True, batch_size=2).fit(images)


@pytest.mark.parametrize("name", NAMES)
def test_non_existent_paths(name, folder):
    with pytest.raises(
        ValueError, match=r"'.*missing' is neither a folder nor a file: it does not"
    ):
        make(name, images=True).fit(folder / "missing")
    files = [str(folder / "0.png"), str(folder / "gone.png")]
    with pytest.raises(ValueError, match=r"Cannot read image file '.*gone\.png'.*No such file"):
        make(name, images=True).fit(files)


@pytest.mark.parametrize("name", NAMES)
def test_directory_in_a_list_of_files(name, folder):
    (folder / "dir.png").mkdir()
    files = [str(folder / "0.png"), str(folder / "dir.png")]
    with pytest.raises(ValueError, match=r"Cannot read image file '.*dir\.png'"):
        make(name, images=True).fit(files)


def _readable_after_chmod(path):
    os.chmod(path, 0)
    try:
        with open(path, "rb"):
            return True
    except PermissionError:
        return False


@pytest.mark.parametrize("name", NAMES)
def test_unreadable_file(name, folder):
    path = folder / "1.png"
    try:
        if _readable_after_chmod(path):
            pytest.skip("running with privileges that read a chmod 000 file (root)")
        with pytest.raises(ValueError, match=r"Cannot read image file '.*1\.png'.*ermission"):
            make(name, images=True).fit(folder)
    finally:
        os.chmod(path, 0o644)


@pytest.mark.parametrize("name", NAMES)
def test_unreadable_file_simulated(name, folder, monkeypatch):
    """The unreadable file case whatever the privileges: opening it raises PermissionError."""
    real_open = Image.open

    def fake_open(fp, *args, **kwargs):
        if str(fp).endswith("2.png"):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", fake_open)
    with pytest.raises(ValueError, match=r"Cannot read image file '.*2\.png'.*Permission denied"):
        make(name, images=True).fit(folder)


@pytest.mark.parametrize("name", NAMES)
def test_unreadable_sub_folder_is_an_error_not_a_silent_skip(name, folder, monkeypatch):
    """``os.walk`` skips folders it cannot list unless told otherwise: they must raise."""
    _png(folder / "locked" / "x.png")
    real_scandir = os.scandir

    def fake_scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    with pytest.raises(ValueError, match=r"Cannot read the folder '.*imgs'.*locked"):
        make(name, images=True).fit(folder)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "items, match",
    [
        (["0.png", 3], r"item 0 is the path '.*0\.png' but item 1 is 3 \(int\)"),
        ([None, "0.png"], r"item 1 is the path .* but item 0 is None \(NoneType\)"),
        (["0.png", [0.0, 1.0]], r"item 0 is the path .* but item 1 is \[0\.0, 1\.0\] \(list\)"),
    ],
    ids=["number", "none", "list"],
)
def test_list_mixing_paths_and_other_values(name, folder, items, match):
    items = [str(folder / i) if isinstance(i, str) else i for i in items]
    with pytest.raises(TypeError, match="X mixes image file paths with other values: " + match):
        make(name, images=True).fit(items)
    with pytest.raises(TypeError, match="X mixes image file paths"):
        make(name, images=True).fit(np.array(items, dtype=object))


@pytest.mark.parametrize("name", NAMES)
def test_single_image_file(name, folder):
    with pytest.raises(ValueError, match=r"Found 1 image\(s\) in '.*0\.png' while a minimum of 2"):
        make(name, images=True).fit(folder / "0.png")


def test_entropy_refuses_files_it_would_have_to_stream(folder):
    with pytest.raises(ValueError, match="needs the data in memory"):
        make("Entropy").fit(folder)


@pytest.mark.parametrize("name", ["SeCu", "HardReg", "PIPCDR"])
def test_file_errors_at_inference(name, folder, tmp_path):
    est = make(name, images=True, batch_size=4).fit(folder)
    with pytest.raises(ValueError, match="neither a folder nor a file"):
        est.predict(tmp_path / "nowhere")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"bad\.png"):
        est.predict([str(folder / "0.png"), str(tmp_path / "bad.png")])
    big = _png(tmp_path / "big" / "a.png", size=(8, 8))
    _png(tmp_path / "big" / "b.png", size=(8, 8))
    with pytest.raises(ValueError, match=r"\(1, 6, 6\).*got images of shape \(1, 8, 8\)"):
        est.transform(big.parent)


# ------------------------------------------------------- declared constraints
def _invalid_values(constraints):
    """Values violating every constraint of a parameter: one or more per constraint."""
    constraints = [make_constraint(c) for c in constraints]
    candidates = [object()]  # of no accepted type
    for c in constraints:
        if isinstance(c, Interval):
            step = 1 if c.type is Integral else 1e-6
            if c.left is not None:
                candidates.append(c.left - step)
                if c.closed in ("right", "neither"):
                    candidates.append(c.left)
            if c.right is not None:
                candidates.append(c.right + step)
                if c.closed in ("left", "neither"):
                    candidates.append(c.right)
            if c.type is Integral:
                candidates.append(float(c.left if c.left is not None else 0) + 1.5)
            if c.type is Real:
                candidates.append("1.0")
        elif isinstance(c, StrOptions):
            candidates.append("not-an-option")
    return [v for v in candidates if not any(c.is_satisfied_by(v) for c in constraints)]


CONSTRAINED = [
    (name, param)
    for name in NAMES
    for param, constraints in CLASSES[name]._parameter_constraints.items()
    if constraints != "no_validation"
]


@pytest.mark.parametrize("name, param", CONSTRAINED, ids=[f"{n}-{p}" for n, p in CONSTRAINED])
def test_every_declared_constraint_rejects_bad_values(name, param, X):
    est = make(name)
    values = _invalid_values(est._parameter_constraints[param])
    assert values, f"no invalid value generated for {param}"
    for value in values:
        with pytest.raises(InvalidParameterError, match=re.escape(f"'{param}' parameter")):
            est.set_params(**{param: value}).fit(X)
