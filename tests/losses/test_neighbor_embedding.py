import math

import pytest
import torch

from skdeepcluster.losses import cauchy_similarity_logits, neighbor_embedding_loss


def test_cauchy_logits_match_the_kernel_pair_by_pair():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g)
    logits = cauchy_similarity_logits(a, b)
    for i in range(5):
        for j in range(4):
            expected = -math.log(1 + float(((a[i] - b[j]) ** 2).sum()))
            assert float(logits[i, j]) == pytest.approx(expected, abs=1e-5)


def test_loss_is_the_symmetric_cross_entropy_of_finding_the_partner():
    g = torch.Generator().manual_seed(1)
    e1, e2 = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)

    def q(a, b):
        return 1 / (1 + float(((a - b) ** 2).sum()))

    def nll(i, partner_of):
        return -math.log(q(e1[i], e2[i]) / sum(q(*partner_of(i, j)) for j in range(6)))

    forward = [nll(i, lambda i, j: (e1[i], e2[j])) for i in range(6)]
    backward = [nll(i, lambda i, j: (e1[j], e2[i])) for i in range(6)]
    expected = (sum(forward) + sum(backward)) / 12
    assert float(neighbor_embedding_loss(e1, e2)) == pytest.approx(expected, rel=1e-5)


def test_gradient_steps_pull_partners_together():
    g = torch.Generator().manual_seed(2)
    e1 = torch.randn(8, 2, generator=g).requires_grad_()
    e2 = torch.randn(8, 2, generator=g).requires_grad_()
    start = (e1 - e2).norm(dim=1).mean().item()
    loss = neighbor_embedding_loss(e1, e2)
    loss.backward()
    with torch.no_grad():
        f1, f2 = e1 - 0.1 * e1.grad, e2 - 0.1 * e2.grad
        assert (f1 - f2).norm(dim=1).mean() < start
        assert neighbor_embedding_loss(f1, f2) < loss


def test_aligned_pairs_cost_less_than_shuffled_ones():
    e = torch.randn(16, 3, generator=torch.Generator().manual_seed(3)) * 5
    assert neighbor_embedding_loss(e, e + 0.01) < neighbor_embedding_loss(e, e.roll(1, 0))
