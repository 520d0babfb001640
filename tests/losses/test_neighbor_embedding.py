import math

import pytest
import torch

from skdeepcluster.losses import neighbor_embedding_loss, student_t_similarity_logits


@pytest.mark.parametrize("dof", [1.0, 0.5, 3.0])
def test_student_t_logits_match_the_kernel_pair_by_pair(dof):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 3, generator=g), torch.randn(4, 3, generator=g)
    logits = student_t_similarity_logits(a, b, dof)
    for i in range(5):
        for j in range(4):
            sq = float(((a[i] - b[j]) ** 2).sum())
            expected = -dof * math.log(1 + sq / dof)
            assert float(logits[i, j]) == pytest.approx(expected, abs=1e-5)


def test_heavier_tails_keep_more_similarity_far_away():
    # the kernel normalised to 1 at distance 0: at a large distance, fewer degrees of
    # freedom leave more similarity, at a small one less
    near, far = torch.zeros(1, 1), torch.tensor([[10.0]])
    sims = [student_t_similarity_logits(near, far, dof).exp().item() for dof in (0.5, 1, 2)]
    assert sims[0] > sims[1] > sims[2]


def test_dof_must_be_positive():
    with pytest.raises(ValueError, match="dof"):
        student_t_similarity_logits(torch.zeros(1, 2), torch.zeros(1, 2), 0.0)


@pytest.mark.parametrize("dof", [1.0, 0.5])
def test_loss_is_the_symmetric_cross_entropy_of_finding_the_partner(dof):
    g = torch.Generator().manual_seed(1)
    e1, e2 = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)

    def q(a, b):
        return (1 + float(((a - b) ** 2).sum()) / dof) ** -dof

    def nll(i, partner_of):
        return -math.log(q(e1[i], e2[i]) / sum(q(*partner_of(i, j)) for j in range(6)))

    forward = [nll(i, lambda i, j: (e1[i], e2[j])) for i in range(6)]
    backward = [nll(i, lambda i, j: (e1[j], e2[i])) for i in range(6)]
    expected = (sum(forward) + sum(backward)) / 12
    assert float(neighbor_embedding_loss(e1, e2, dof)) == pytest.approx(expected, rel=1e-5)


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
