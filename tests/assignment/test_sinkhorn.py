import numpy as np
import pytest
import torch

from skdeepcluster.assignment import sinkhorn


def _numpy_sinkhorn(scores, eps, r, c, iters):
    kernel = np.exp(scores / eps)
    u, v = np.ones(len(r)), np.ones(len(c))
    for _ in range(iters):
        v = c / (kernel.T @ u)
        u = r / (kernel @ v)
    return (u[:, None] * kernel * v[None, :]) / r[:, None]


@pytest.mark.parametrize("seed", range(5))
def test_matches_plain_sinkhorn_with_given_marginals(seed):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-1, 1, size=(5, 3))
    r = rng.uniform(0.5, 1, 5)
    r /= r.sum()
    c = rng.uniform(0.5, 1, 3)
    c /= c.sum()
    expected = _numpy_sinkhorn(scores, 0.5, r, c, 20)
    got = sinkhorn(
        torch.tensor(scores),
        epsilon=0.5,
        n_iters=20,
        row_marginals=torch.tensor(r),
        col_marginals=torch.tensor(c),
    )
    assert np.allclose(got.numpy(), expected, atol=1e-10)


def test_marginals_converge_and_rows_sum_to_one():
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(64, 8, generator=g) * 2 - 1
    scores[:, 0] += 1  # imbalanced preferences
    q = sinkhorn(scores, epsilon=0.1, n_iters=200)
    assert torch.allclose(q.sum(1), torch.ones(64), atol=1e-5)
    assert torch.allclose(q.sum(0), torch.full((8,), 8.0), atol=1e-3)


def test_small_epsilon_does_not_overflow():
    scores = torch.tensor([[1.0, -1.0], [0.9, -1.0]])
    q = sinkhorn(scores, epsilon=0.001, n_iters=50)
    assert torch.isfinite(q).all()
    # float32 keeps about 1e-4 relative precision when |scores / epsilon| ~ 1e3
    assert torch.allclose(q.sum(1), torch.ones(2), atol=1e-4)
    q64 = sinkhorn(scores.double(), epsilon=0.001, n_iters=50)
    assert torch.allclose(q64.sum(1), torch.ones(2, dtype=torch.float64), atol=1e-10)
    q = sinkhorn(scores, epsilon=0.05, n_iters=200)
    assert torch.allclose(q.sum(0), torch.ones(2), atol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match="epsilon"):
        sinkhorn(torch.zeros(2, 2), epsilon=0)
    with pytest.raises(ValueError, match="n_iters"):
        sinkhorn(torch.zeros(2, 2), n_iters=0)
    with pytest.raises(ValueError, match="sum to 1"):
        sinkhorn(torch.zeros(2, 2), col_marginals=torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="positive"):
        sinkhorn(torch.zeros(2, 2), row_marginals=torch.tensor([1.0, 0.0]))
