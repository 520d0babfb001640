import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepcluster.assignment import entropy_constrained_assignment, entropy_objective


def _random_problem(seed, b, k, n_extra, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    scores = torch.rand(b, k, generator=g, dtype=dtype)
    prev = torch.randint(-1, k, (b,), generator=g)
    others = torch.randint(0, k, (n_extra,), generator=g)
    counts = torch.bincount(torch.cat([others, prev[prev >= 0]]), minlength=k).to(dtype)
    return scores, counts, prev, b + n_extra


def _brute_force_move(scores_row, counts, prev, alpha, n):
    """Exact best label of one sample: enumerate its K choices on the full objective."""
    base = counts.clone()
    if prev >= 0:
        base[prev] -= 1
    best, best_j = None, None
    for j in range(len(counts)):
        c = base.clone()
        c[j] += 1
        p = c / n
        h = -sum(float(q * torch.log(q)) for q in p if q > 0)
        value = -float(scores_row[j]) - alpha * h
        if best is None or value < best - 1e-12:
            best, best_j = value, j
    return best_j


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("k", [2, 3])
def test_batch_form_equals_enumeration_against_frozen_counts(seed, k):
    scores, counts, prev, n = _random_problem(seed, 7, k, 5)
    alpha = 0.5 * n
    labels, new_counts = entropy_constrained_assignment(
        scores, counts, prev, alpha=alpha, n_samples=n
    )
    for i in range(len(scores)):
        assert labels[i] == _brute_force_move(scores[i], counts, int(prev[i]), alpha, n)
    moved = counts.clone()
    seen = prev >= 0
    moved.index_add_(0, prev[seen], -torch.ones(int(seen.sum()), dtype=counts.dtype))
    moved.index_add_(0, labels, torch.ones(len(labels), dtype=counts.dtype))
    assert torch.equal(new_counts, moved)


@pytest.mark.parametrize("seed", range(20))
def test_sequential_is_exact_coordinate_descent_and_monotone(seed):
    scores, counts, prev, n = _random_problem(seed, 6, 3, 0)
    # give every sample a label so the full objective is defined on all N samples
    prev = prev.clamp_min(0)
    counts = torch.bincount(prev, minlength=3).double()
    alpha = 0.3 * n
    before = entropy_objective(scores, prev, counts, alpha, n)
    labels, new_counts = entropy_constrained_assignment(
        scores, counts, prev, alpha=alpha, n_samples=n, sequential=True
    )
    after = entropy_objective(scores, labels, new_counts, alpha, n)
    assert after <= before + 1e-12
    # replay the updates one by one against brute force
    cur_labels, cur_counts = prev.clone(), counts.clone()
    for i in range(len(scores)):
        j = _brute_force_move(scores[i], cur_counts, int(cur_labels[i]), alpha, n)
        cur_counts[cur_labels[i]] -= 1
        cur_counts[j] += 1
        cur_labels[i] = j
    assert torch.equal(labels, cur_labels) and torch.equal(new_counts, cur_counts)


def test_sequential_reaches_brute_force_optimum_on_tiny_problem():
    g = torch.Generator().manual_seed(3)
    scores = torch.rand(5, 3, generator=g, dtype=torch.float64)
    n, alpha = 5, 2.0
    labels = torch.zeros(5, dtype=torch.long)
    counts = torch.tensor([5.0, 0.0, 0.0], dtype=torch.float64)
    for _ in range(10):  # repeated passes converge to a coordinate-wise optimum
        labels, counts = entropy_constrained_assignment(
            scores, counts, labels, alpha=alpha, n_samples=n, sequential=True
        )
    best = min(
        entropy_objective(
            scores,
            torch.tensor(y),
            torch.bincount(torch.tensor(y), minlength=3).double(),
            alpha,
            n,
        )
        for y in itertools.product(range(3), repeat=5)
    )
    value = entropy_objective(scores, labels, counts, alpha, n)
    assert value <= best + 0.05 * abs(best)


def test_alpha_zero_is_greedy_and_staying_costs_nothing():
    scores = torch.tensor([[0.2, 0.9, 0.1], [0.8, 0.1, 0.3]])
    counts = torch.tensor([10.0, 0.0, 0.0])
    labels, _ = entropy_constrained_assignment(
        scores, counts, torch.tensor([-1, -1]), alpha=0.0, n_samples=12
    )
    assert labels.tolist() == [1, 0]
    # a sample alone in its cluster: moving it anywhere would only lower the entropy
    labels, new = entropy_constrained_assignment(
        torch.tensor([[0.5, 0.5, 0.5]]),
        torch.tensor([5.0, 1.0, 5.0]),
        torch.tensor([1]),
        alpha=100.0,
        n_samples=11,
    )
    assert labels.tolist() == [1] and new.tolist() == [5.0, 1.0, 5.0]


def test_empty_clusters_are_handled_and_filled_by_the_entropy():
    scores = torch.full((4, 3), 0.5, dtype=torch.float32)
    counts = torch.zeros(3, dtype=torch.float32)
    labels, new = entropy_constrained_assignment(
        scores, counts, torch.full((4,), -1), alpha=10.0, n_samples=4, sequential=True
    )
    assert torch.isfinite(new).all() and (new > 0).all() and new.dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes_and_device_preserved(dtype):
    scores, counts, prev, n = _random_problem(0, 8, 3, 4, dtype=dtype)
    labels, new = entropy_constrained_assignment(scores, counts, prev, alpha=1.0, n_samples=n)
    assert labels.dtype == torch.long and new.dtype == dtype
    assert labels.device == scores.device


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(alpha=-1.0), ValueError, "alpha"),
        (dict(n_samples=0), ValueError, "n_samples"),
    ],
)
def test_bad_scalars(kwargs, error, match):
    args = dict(alpha=1.0, n_samples=4)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        entropy_constrained_assignment(
            torch.zeros(2, 2), torch.zeros(2), torch.tensor([-1, -1]), **args
        )


def test_bad_shapes():
    with pytest.raises(ValueError, match="scores"):
        entropy_constrained_assignment(
            torch.zeros(3), torch.zeros(2), torch.tensor([0]), alpha=1.0, n_samples=3
        )
    with pytest.raises(ValueError, match="counts"):
        entropy_constrained_assignment(
            torch.zeros(1, 2), torch.zeros(3), torch.tensor([0]), alpha=1.0, n_samples=3
        )
    with pytest.raises(ValueError, match="prev_labels"):
        entropy_constrained_assignment(
            torch.zeros(1, 2), torch.zeros(2), torch.tensor([5]), alpha=1.0, n_samples=3
        )
    with pytest.raises(TypeError, match="prev_labels"):
        entropy_constrained_assignment(
            torch.zeros(1, 2), torch.zeros(2), torch.tensor([0.0]), alpha=1.0, n_samples=3
        )


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 12),
    k=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    alpha=st.floats(0, 50),
    sequential=st.booleans(),
)
def test_property_labels_in_range_and_counts_conserved(b, k, seed, alpha, sequential):
    scores, counts, prev, n = _random_problem(seed, b, k, 3)
    labels, new = entropy_constrained_assignment(
        scores, counts, prev, alpha=alpha, n_samples=n, sequential=sequential
    )
    assert labels.min() >= 0 and labels.max() < k
    assert new.sum() == counts.sum() + (prev < 0).sum()
    assert (new >= 0).all()
