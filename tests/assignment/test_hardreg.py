import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepcluster.assignment import hard_regularized_assignment, hard_regularized_objective


def _naive_greedy(cost, counts=None, log_prior=None):
    """Reference: search every unassigned (point, cluster) pair at every step, O(b^2 K)."""
    b, k = cost.shape
    cost = cost.double().tolist()
    n = [0.0] * k if counts is None else counts.double().tolist()
    penalty = [0.0] * k if log_prior is None else (-log_prior.double()).tolist()
    labels = [-1] * b
    for _ in range(b):
        bias = [math.log1p(n[j]) + penalty[j] for j in range(k)]
        # first (point, cluster) in row-major order among the minimal values
        _, i, j = min(
            (cost[i][j] + bias[j], i, j) for i in range(b) if labels[i] < 0 for j in range(k)
        )
        labels[i] = j
        n[j] += 1
    return torch.tensor(labels), torch.tensor(n, dtype=torch.float64)


def _brute_force(cost, counts=None, log_prior=None):
    """Minimum of the objective over all K^b labelings (vectorised enumeration)."""
    b, k = cost.shape
    every = torch.tensor(list(itertools.product(range(k), repeat=b)))  # (K^b, b)
    fit = cost.double()[torch.arange(b), every].sum(1)
    sizes = torch.nn.functional.one_hot(every, k).sum(1).double()
    start = torch.zeros(k, dtype=torch.float64) if counts is None else counts.double()
    value = fit + (torch.lgamma(start + sizes + 1) - torch.lgamma(start + 1)).sum(1)
    if log_prior is not None:
        value = value - log_prior.double()[every].sum(1)
    best = int(value.argmin())
    # the vectorised value agrees with the library's objective
    assert float(value[best]) == pytest.approx(
        hard_regularized_objective(cost, every[best], counts, log_prior), abs=1e-9
    )
    return float(value[best])


def _problem(seed, b, k, integer=False):
    g = torch.Generator().manual_seed(seed)
    if integer:  # many exact ties: checks the tie-breaking too
        cost = torch.randint(0, 3, (b, k), generator=g).double()
    else:
        cost = torch.rand(b, k, generator=g, dtype=torch.float64) * 3
    counts = torch.randint(0, 4, (k,), generator=g).double()
    log_prior = torch.log_softmax(torch.randn(k, generator=g, dtype=torch.float64), 0)
    return cost, counts, log_prior


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("b, k", [(5, 2), (7, 3), (40, 6), (30, 50)])
@pytest.mark.parametrize("integer", [False, True])
def test_greedy_equals_naive_greedy(seed, b, k, integer):
    cost, counts, log_prior = _problem(seed, b, k, integer)
    got_labels, got_counts = hard_regularized_assignment(cost, counts=counts, log_prior=log_prior)
    ref_labels, ref_counts = _naive_greedy(cost, counts, log_prior)
    assert torch.equal(got_labels, ref_labels)
    assert torch.equal(got_counts, ref_counts)
    # without counts and prior, too
    assert torch.equal(hard_regularized_assignment(cost)[0], _naive_greedy(cost)[0])


def test_greedy_equals_naive_greedy_on_a_larger_batch():
    # exercises the sorted-column refresh after the first masked refreshes
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(200, 4, generator=g, dtype=torch.float64)
    assert torch.equal(hard_regularized_assignment(cost)[0], _naive_greedy(cost)[0])


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("b, k", [(4, 2), (6, 3)])
def test_exact_method_equals_brute_force_optimum(seed, b, k):
    cost, counts, log_prior = _problem(seed, b, k)
    labels, new_counts = hard_regularized_assignment(
        cost, counts=counts, log_prior=log_prior, method="exact"
    )
    value = hard_regularized_objective(cost, labels, counts, log_prior)
    assert value == pytest.approx(_brute_force(cost, counts, log_prior), abs=1e-9)
    assert torch.equal(new_counts, counts + torch.bincount(labels, minlength=k))


def test_greedy_is_never_better_than_the_optimum_and_is_often_worse():
    """What is true on tiny problems: greedy >= optimum, with a strict gap in many cases."""
    worse = 0
    for seed in range(30):
        g = torch.Generator().manual_seed(seed)
        cost = torch.rand(6, 3, generator=g, dtype=torch.float64)
        greedy = hard_regularized_objective(cost, hard_regularized_assignment(cost)[0])
        best = _brute_force(cost)
        assert greedy >= best - 1e-9
        worse += greedy > best + 1e-9
    # about half of these problems (16 of 30 with these seeds) are solved suboptimally
    assert worse >= 5


def test_greedy_counterexample_from_the_docstring():
    cost = torch.tensor([[0.0, 0.1], [0.05, 1.0]], dtype=torch.float64)
    greedy, _ = hard_regularized_assignment(cost)
    exact, _ = hard_regularized_assignment(cost, method="exact")
    assert greedy.tolist() == [0, 0] and exact.tolist() == [1, 0]
    assert hard_regularized_objective(cost, greedy) == pytest.approx(0.05 + math.log(2))
    assert hard_regularized_objective(cost, exact) == pytest.approx(0.15)


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_prevents_collapse_where_argmin_collapses(method):
    g = torch.Generator().manual_seed(0)
    cost = torch.rand(32, 4, generator=g) * 0.5
    cost[:, 0] -= 1.0  # cluster 0 is nearest for everyone
    assert torch.bincount(cost.argmin(1), minlength=4).tolist() == [32, 0, 0, 0]
    labels, counts = hard_regularized_assignment(cost, method=method)
    assert (counts > 0).all() and counts.max() < 32
    assert torch.equal(counts, torch.bincount(labels, minlength=4).float())


def test_counts_memory_and_prior_shift_assignments():
    cost = torch.zeros(4, 2)
    labels, counts = hard_regularized_assignment(cost, counts=torch.tensor([10.0, 0.0]))
    assert labels.tolist() == [1, 1, 1, 1] and counts.tolist() == [10.0, 4.0]
    prior = torch.log(torch.tensor([0.9, 0.1]))
    labels, _ = hard_regularized_assignment(torch.zeros(10, 2), log_prior=prior)
    sizes = torch.bincount(labels, minlength=2)
    assert sizes[0] > sizes[1] > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_dtypes_and_device(dtype, method):
    cost = torch.rand(6, 3, dtype=dtype)
    labels, counts = hard_regularized_assignment(cost, method=method)
    assert labels.dtype == torch.int64 and labels.device == cost.device
    assert counts.dtype == dtype and counts.device == cost.device
    _, int_counts = hard_regularized_assignment(cost, counts=torch.tensor([1, 2, 3]))
    assert int_counts.dtype == torch.int64 and int(int_counts.sum()) == 12


def test_inputs_are_not_modified():
    cost, counts, log_prior = _problem(0, 6, 3)
    copies = cost.clone(), counts.clone(), log_prior.clone()
    hard_regularized_assignment(cost, counts=counts, log_prior=log_prior)
    assert all(torch.equal(a, b) for a, b in zip((cost, counts, log_prior), copies, strict=True))


def test_errors():
    with pytest.raises(ValueError, match="cost must be 2-D"):
        hard_regularized_assignment(torch.zeros(3))
    with pytest.raises(TypeError, match="cost must be a floating"):
        hard_regularized_assignment(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="cost must be a torch.Tensor"):
        hard_regularized_assignment([[0.0, 1.0]])
    with pytest.raises(ValueError, match="cost must be finite"):
        hard_regularized_assignment(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="counts must have shape"):
        hard_regularized_assignment(torch.zeros(3, 2), counts=torch.zeros(3))
    with pytest.raises(ValueError, match="counts must be non-negative"):
        hard_regularized_assignment(torch.zeros(3, 2), counts=torch.tensor([-1.0, 0.0]))
    with pytest.raises(ValueError, match="log_prior must have shape"):
        hard_regularized_assignment(torch.zeros(3, 2), log_prior=torch.zeros(1))
    with pytest.raises(ValueError, match="log_prior must be finite"):
        hard_regularized_assignment(torch.zeros(3, 2), log_prior=torch.tensor([0.0, -float("inf")]))
    with pytest.raises(ValueError, match="method must be"):
        hard_regularized_assignment(torch.zeros(3, 2), method="hungarian")
    with pytest.raises(ValueError, match="too large"):
        hard_regularized_assignment(torch.zeros(1000, 100), method="exact")


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 30), k=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_property_labels_in_range_and_counts_add_up(b, k, seed):
    cost, counts, log_prior = _problem(seed, b, k)
    labels, new_counts = hard_regularized_assignment(cost, counts=counts, log_prior=log_prior)
    assert labels.shape == (b,) and labels.min() >= 0 and labels.max() < k
    assert torch.equal(new_counts, counts + torch.bincount(labels, minlength=k))
    assert new_counts.sum() == counts.sum() + b
