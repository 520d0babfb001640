import numpy as np
import pytest
import torch
from scipy.optimize import check_grad, minimize

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


def _objective_and_gradient(theta, probs, prior, lam):
    """L(softmax(theta)) and its gradient in theta, in NumPy (for scipy.optimize)."""
    n, k = probs.shape
    logits = theta.reshape(n, k)
    log_y = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    y = np.exp(log_y)
    ybar = y.mean(axis=0)
    value = -(probs * log_y).sum(1).mean() + lam * (prior * np.log(prior / ybar)).sum()
    grad_y = -probs / (n * y) - lam * prior / (n * ybar)  # dL/dy
    grad_theta = y * (grad_y - (y * grad_y).sum(1, keepdims=True))  # through the softmax
    return value, grad_theta.ravel()


@pytest.mark.parametrize("seed", range(4))
def test_matches_scipy_on_the_convex_problem(seed):
    n, k, lam = 5, 3, 2.0
    probs = _probs(seed, n, k, skew=1.0)
    prior = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    y = fairness_em(probs, prior=prior, lam=lam, n_iters=5000, tol=1e-14)
    p, u = probs.numpy(), prior.numpy()
    theta0 = np.log(p).ravel()
    check = check_grad(
        lambda t: _objective_and_gradient(t, p, u, lam)[0],
        lambda t: _objective_and_gradient(t, p, u, lam)[1],
        theta0,
    )
    assert check < 1e-5  # the reference's gradient is right
    result = minimize(
        _objective_and_gradient,
        theta0,
        args=(p, u, lam),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-11},
    )
    reference = torch.tensor(result.x.reshape(n, k)).softmax(1)
    assert result.fun == pytest.approx(fairness_objective(probs, reference, prior, lam))
    assert fairness_objective(probs, y, prior, lam) <= result.fun + 1e-8
    assert torch.allclose(y, reference, atol=1e-4)


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
