import itertools

import pytest
import torch

from skdeepcluster.assignment import hard_regularized_assignment, hard_regularized_objective


def _naive_greedy(cost, counts=None, log_prior=None):
    """Reference: search every unassigned (point, cluster) pair at every step."""
    b, k = cost.shape
    n = torch.zeros(k, dtype=torch.float64) if counts is None else counts.double().clone()
    prior = torch.zeros(k, dtype=torch.float64) if log_prior is None else log_prior.double()
    labels = torch.full((b,), -1)
    for _ in range(b):
        total = cost.double() + torch.log(n + 1)[None, :] - prior[None, :]
        total[labels >= 0] = float("inf")
        flat = int(torch.argmin(total))
        i, j = divmod(flat, k)
        labels[i] = j
        n[j] += 1
    return labels, n


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("b, k", [(5, 2), (7, 3), (40, 6)])
def test_equals_naive_greedy(seed, b, k):
    g = torch.Generator().manual_seed(seed)
    cost = torch.rand(b, k, generator=g) * 3
    counts = torch.randint(0, 4, (k,), generator=g).double()
    log_prior = torch.log_softmax(torch.randn(k, generator=g), 0)
    got = hard_regularized_assignment(cost, counts=counts, log_prior=log_prior)
    ref = _naive_greedy(cost, counts, log_prior)
    assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1])


def test_against_brute_force_optimum():
    """The greedy is never better than the optimum and usually reaches it."""
    exact = 0
    trials = 60
    for seed in range(trials):
        g = torch.Generator().manual_seed(seed)
        cost = torch.rand(6, 3, generator=g, dtype=torch.float64) * 2
        labels, _ = hard_regularized_assignment(cost)
        value = hard_regularized_objective(cost, labels)
        best = min(
            hard_regularized_objective(cost, torch.tensor(y))
            for y in itertools.product(range(3), repeat=6)
        )
        assert value >= best - 1e-9
        exact += value <= best + 1e-9
    assert exact >= 0.6 * trials


def test_prevents_collapse_where_argmin_collapses():
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(64, 4, generator=g) * 0.5
    cost[:, 0] -= 1.0  # cluster 0 is nearest for everyone
    assert torch.bincount(cost.argmin(1), minlength=4).tolist() == [64, 0, 0, 0]
    labels, counts = hard_regularized_assignment(cost)
    assert (counts > 0).all() and counts.max() < 64


def test_counts_memory_and_prior_shift_assignments():
    cost = torch.zeros(4, 2)
    labels, counts = hard_regularized_assignment(cost, counts=torch.tensor([10.0, 0.0]))
    assert labels.tolist() == [1, 1, 1, 1] and counts.tolist() == [10.0, 4.0]
    labels, _ = hard_regularized_assignment(cost, log_prior=torch.log(torch.tensor([0.9, 0.1])))
    assert torch.bincount(labels, minlength=2)[0] > torch.bincount(labels, minlength=2)[1]


def test_errors():
    with pytest.raises(ValueError, match="cost"):
        hard_regularized_assignment(torch.zeros(3))
    with pytest.raises(ValueError, match="counts"):
        hard_regularized_assignment(torch.zeros(3, 2), counts=torch.zeros(3))
    with pytest.raises(ValueError, match="log_prior"):
        hard_regularized_assignment(torch.zeros(3, 2), log_prior=torch.zeros(1))
