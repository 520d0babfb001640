import itertools

import pytest
import torch

from skdeepcluster.assignment import size_constrained_assignment


def _scores(seed, n, k):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(n, k, generator=g, dtype=torch.float64)
    base[:, 0] += 0.5  # everyone prefers cluster 0: unconstrained, it takes all
    return base


def _cost(scores, labels):
    return -float(scores.gather(1, labels[:, None]).sum())


def _run_epochs(scores, epochs, gamma, gamma_upper=None, lr=0.5, batch=None):
    k = scores.shape[1]
    lower = torch.zeros(k, dtype=scores.dtype)
    upper = torch.zeros(k, dtype=scores.dtype) if gamma_upper is not None else None
    batch = batch or len(scores)
    labels = torch.empty(len(scores), dtype=torch.long)
    for _ in range(epochs):
        for start in range(0, len(scores), batch):
            sl = slice(start, start + batch)
            labels[sl], lower, upper = size_constrained_assignment(
                scores[sl], lower, upper, gamma=gamma, gamma_upper=gamma_upper, dual_lr=lr
            )
    return labels, lower, upper


def test_closed_form_label_is_argmax_of_adjusted_scores():
    scores = _scores(0, 7, 3)
    lower = torch.tensor([0.0, 0.7, 0.2], dtype=torch.float64)
    upper = torch.tensor([0.3, 0.0, 0.0], dtype=torch.float64)
    labels, _, _ = size_constrained_assignment(scores, lower, upper, gamma=0.9, gamma_upper=1.5)
    for i in range(7):
        values = [float(scores[i, j] + lower[j] - upper[j]) for j in range(3)]
        assert labels[i] == max(range(3), key=lambda j: values[j])


def test_dual_update_formula():
    scores = _scores(1, 4, 2)
    lower = torch.zeros(2, dtype=torch.float64)
    upper = torch.zeros(2, dtype=torch.float64)
    labels, new_lower, new_upper = size_constrained_assignment(
        scores, lower, upper, gamma=0.8, gamma_upper=1.2, dual_lr=0.5
    )
    frac = torch.bincount(labels, minlength=2).double() / 4
    assert torch.allclose(new_lower, (lower - 0.5 * (frac - 0.4)).clamp_min(0))
    assert torch.allclose(new_upper, (upper + 0.5 * (frac - 0.6)).clamp_min(0))


@pytest.mark.parametrize("seed", range(5))
def test_lower_bound_met_and_cost_near_brute_force_optimum(seed):
    n, k, gamma = 7, 3, 0.9
    scores = _scores(seed, n, k)
    labels, _, _ = _run_epochs(scores, 200, gamma, lr=0.05)
    sizes = torch.bincount(labels, minlength=k)
    bound = gamma * n / k
    assert (sizes >= int(bound)).all()  # met up to the rounding of one sample
    feasible = [
        _cost(scores, torch.tensor(y))
        for y in itertools.product(range(k), repeat=n)
        if (torch.bincount(torch.tensor(y), minlength=k) >= int(bound)).all()
    ]
    assert _cost(scores, labels) <= min(feasible) + 0.5


def test_upper_bound_met_over_mini_batches():
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(600, 4, generator=g, dtype=torch.float64)
    scores[:, 0] += 1.0
    labels, _, upper = _run_epochs(scores, 30, gamma=0.5, gamma_upper=1.2, lr=0.5, batch=50)
    sizes = torch.bincount(labels, minlength=4)
    assert sizes.max() <= 1.2 * 600 / 4 + 50  # within one batch of the bound
    assert sizes.min() >= 0.5 * 600 / 4 - 50
    assert (upper >= 0).all()


def test_without_bounds_pressure_duals_stay_zero():
    scores = torch.eye(3, dtype=torch.float64).repeat(5, 1)
    labels, lower, _ = size_constrained_assignment(scores, torch.zeros(3, dtype=torch.float64))
    assert torch.equal(lower, torch.zeros(3, dtype=torch.float64))
    assert torch.bincount(labels).tolist() == [5, 5, 5]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype(dtype):
    labels, lower, upper = size_constrained_assignment(
        torch.rand(5, 3, dtype=dtype), torch.zeros(3, dtype=dtype)
    )
    assert labels.dtype == torch.long and lower.dtype == dtype and upper is None


def test_errors():
    z = torch.zeros(3)
    with pytest.raises(ValueError, match="gamma"):
        size_constrained_assignment(torch.zeros(2, 3), z, gamma=1.5)
    with pytest.raises(ValueError, match="together"):
        size_constrained_assignment(torch.zeros(2, 3), z, gamma_upper=1.2)
    with pytest.raises(ValueError, match="gamma_upper"):
        size_constrained_assignment(torch.zeros(2, 3), z, z, gamma_upper=0.5)
    with pytest.raises(ValueError, match="lower_dual"):
        size_constrained_assignment(torch.zeros(2, 3), torch.zeros(2))
    with pytest.raises(ValueError, match="dual_lr"):
        size_constrained_assignment(torch.zeros(2, 3), z, dual_lr=0)
    with pytest.raises(TypeError, match="scores"):
        size_constrained_assignment([[0.0]], z)
