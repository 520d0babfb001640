import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from skdeepcluster.assignment import fairness_em, fairness_objective


def _probs(seed, n, k, skew=0.0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g, dtype=torch.float64)
    logits[:, 0] += skew
    return logits.softmax(1)


@pytest.mark.parametrize("seed", range(10))
def test_objective_monotone_in_float64(seed):
    probs = _probs(seed, 30, 4, skew=1.5)
    _, history = fairness_em(probs, lam=3.0, n_iters=300, tol=0, return_objective=True)
    diffs = np.diff(history)
    assert (diffs <= 1e-12).all()
    assert history[-1] < history[0]


@pytest.mark.parametrize("seed", range(4))
def test_matches_scipy_on_the_convex_problem(seed):
    n, k, lam = 4, 3, 2.0
    probs = _probs(seed, n, k, skew=1.0)
    prior = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    y = fairness_em(probs, prior=prior, lam=lam, n_iters=5000, tol=1e-14)

    def objective(theta):
        yy = torch.tensor(theta.reshape(n, k)).softmax(1)
        return fairness_objective(probs, yy, prior, lam)

    best = min(
        (
            minimize(objective, x0, method="BFGS", options={"gtol": 1e-10})
            for x0 in (np.zeros(n * k), torch.log(probs).numpy().ravel())
        ),
        key=lambda r: r.fun,
    )
    assert fairness_objective(probs, y, prior, lam) <= best.fun + 1e-6
    assert np.allclose(y.numpy(), torch.tensor(best.x.reshape(n, k)).softmax(1).numpy(), atol=1e-3)


def test_every_cluster_keeps_mass_when_all_predictions_favour_one():
    probs = torch.tensor([[0.97, 0.01, 0.02]] * 20, dtype=torch.float64)
    y = fairness_em(probs, lam=1.0, n_iters=500)
    ybar = y.mean(0)
    assert (ybar > 0.05).all()
    assert torch.allclose(y.sum(1), torch.ones(20, dtype=torch.float64))


def test_prior_steers_the_mass():
    probs = torch.full((40, 2), 0.5, dtype=torch.float64)
    y = fairness_em(
        probs, prior=torch.tensor([0.8, 0.2], dtype=torch.float64), lam=5.0, n_iters=500
    )
    assert y.mean(0)[0] > 0.6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_preserved(dtype):
    y = fairness_em(_probs(0, 10, 3).to(dtype))
    assert y.dtype == dtype


def test_errors():
    p = torch.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="lam"):
        fairness_em(p, lam=-1)
    with pytest.raises(ValueError, match="prior"):
        fairness_em(p, prior=torch.tensor([0.9, 0.9]))
    with pytest.raises(ValueError, match="init"):
        fairness_em(p, init=torch.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="n_iters"):
        fairness_em(p, n_iters=0)
