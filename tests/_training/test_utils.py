import numpy as np
import pytest
import torch

from skdeepcluster._training import make_generator, resolve_device, resolve_seed


def test_resolve_seed_int_and_randomstate():
    assert resolve_seed(5) == 5
    rs = np.random.RandomState(0)
    a = resolve_seed(rs)
    assert a == resolve_seed(np.random.RandomState(0))


def test_resolve_seed_none_leaves_global_numpy_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    resolve_seed(None)
    assert np.array_equal(before, np.random.get_state()[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "x"])
def test_resolve_seed_rejects_bad_values(bad):
    with pytest.raises((ValueError, TypeError), match="random_state"):
        resolve_seed(bad)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError, match="device"):
        resolve_device("not-a-device")
    with pytest.raises(TypeError, match="device"):
        resolve_device(3)


def test_generator_reproducible():
    a = torch.randn(3, generator=make_generator(1))
    b = torch.randn(3, generator=make_generator(1))
    assert torch.equal(a, b)
