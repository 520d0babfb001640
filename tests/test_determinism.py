"""Same random_state, same result; the global RNGs are left alone.

Runs with one torch thread: another thread count may reduce in another order
and change last bits (see the note in ``BaseDeepClustering``). The estimators
have no ``n_jobs``; the only parallelism knob besides torch's threads is the
number of :class:`~skdeepcluster.data.ImageFolder` workers, compared below.
"""

import random

import numpy as np
import pytest
import torch
from tiny_estimators import (
    NAMES,
    STREAMING,
    digit_inputs,
    make_tiny,
    one_torch_thread,
    write_digit_pngs,
)

import skdeepcluster.data._training_data as training_data
from skdeepcluster import config_context
from skdeepcluster.data import ImageFolder


def make(name, images=False, **params):
    return make_tiny(
        name,
        width=16,
        images=images,
        entropy=dict(max_iter=5, n_heads=2, batch_size=16),
    ).set_params(**params)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def digits():
    return digit_inputs(60)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, digits):
    root = tmp_path_factory.mktemp("digits")
    return write_digit_pngs(root, digits["images"][:40], parts=2)


def _result(est, X):
    return est.labels_, est.predict_proba(X)


def _assert_same(a, b):
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["vectors", "images"])
def test_same_random_state_same_labels(name, kind, digits):
    X = digits[kind]
    runs = [_result(make(name, kind == "images", random_state=7).fit(X), X) for _ in range(2)]
    _assert_same(*runs)
    # a RandomState instance seeds alike when it starts from the same state
    seeded = [
        make(name, kind == "images", random_state=np.random.RandomState(3)).fit(X).labels_
        for _ in range(2)
    ]
    assert np.array_equal(*seeded)


@pytest.mark.parametrize("name", STREAMING)
def test_folder_same_labels_across_runs_and_worker_counts(name, folder):
    def run(workers):
        est = make(name, images=True, random_state=5, batch_size=8)
        return _result(est.fit(ImageFolder(folder, num_workers=workers)), folder)

    serial = run(0)
    _assert_same(serial, run(0))
    _assert_same(serial, run(2))


def _rng_states():
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _assert_rng_unchanged(before):
    after = _rng_states()
    assert torch.equal(before[0], after[0]), "torch global RNG changed"
    assert before[1][0] == after[1][0] and np.array_equal(before[1][1], after[1][1])
    assert before[1][2:] == after[1][2:], "numpy global RNG changed"
    assert before[2] == after[2], "python random changed"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["vectors", "images", "folder"])
def test_fit_and_predict_leave_the_global_rngs_alone(name, kind, digits, folder):
    if kind == "folder" and name not in STREAMING:
        pytest.skip("EntropyClustering does not stream files")
    X = folder if kind == "folder" else digits[kind]
    torch.manual_seed(2024)
    np.random.seed(2024)
    random.seed(2024)
    before = _rng_states()
    # random_state=None draws its seed from the OS, never from NumPy's global RNG
    for random_state in (0, None) if kind == "vectors" else (0,):
        est = make(name, kind != "vectors", random_state=random_state, batch_size=8)
        est.fit(X)
        _assert_rng_unchanged(before)
        for method in ("predict", "predict_proba", "transform", "score"):
            getattr(est, method)(X)
        _assert_rng_unchanged(before)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["vectors", "images"])
def test_a_cpu_fit_seeds_no_cuda_generator(name, kind, digits, monkeypatch):
    # torch.manual_seed would reseed every GPU of the machine (or queue that until CUDA
    # starts), while fit restores the CUDA state of its training device only
    calls = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", calls.append)
    monkeypatch.setattr(torch.cuda, "manual_seed", calls.append)
    est = make(name, kind == "images", random_state=3, batch_size=8).fit(digits[kind])
    est.predict(digits[kind])
    assert calls == []


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["vectors", "images"])
def test_host_placement_gives_the_labels_of_the_resident_data(name, kind, digits, monkeypatch):
    """Data kept in host memory, batches moved per step: the same fit as data on the device."""
    X = digits[kind]
    placements = []
    place = training_data.place_training_tensor

    def spy(tensor, device, is_image=False, placement=None):
        data = place(tensor, device, is_image, placement)
        placements.append(training_data.get_config()["data_placement"])
        return data

    monkeypatch.setattr("skdeepcluster.base.place_training_tensor", spy)
    resident = _result(make(name, kind == "images", random_state=5).fit(X), X)
    n = len(placements)  # SeCu on vectors also fits HardReg on its neighbour embedding
    with config_context(data_placement="host"):
        host = _result(make(name, kind == "images", random_state=5).fit(X), X)
    assert n >= 1 and set(placements[:n]) == {"auto"} and set(placements[n:]) == {"host"}
    _assert_same(resident, host)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", NAMES)
def test_host_placement_on_cuda_gives_the_labels_of_the_resident_data(name, digits):
    X = digits["vectors"]
    runs = []
    for placement in ("device", "host"):
        with config_context(data_placement=placement):
            est = make(name, device="cuda", random_state=5).fit(X)
        runs.append(est.labels_)
    assert np.mean(runs[0] == runs[1]) > 0.95  # CUDA kernels may reduce in another order
