import torch
from torch.nn import functional as F

from skdeepcluster.losses import (
    closed_form_centers,
    secu_center_loss,
    secu_soft_labels,
    soft_cross_entropy,
)


def _setup(seed=0, b=6, k=4, d=5):
    g = torch.Generator().manual_seed(seed)
    x = F.normalize(torch.randn(b, d, generator=g), dim=1)
    w = torch.nn.Parameter(F.normalize(torch.randn(k, d, generator=g), dim=1))
    labels = torch.tensor([0, 0, 1, 1, 1, 0])[:b]
    return x, w, labels


def test_negative_centre_gets_no_gradient():
    x, w, labels = _setup()
    secu_center_loss(x, w, labels, 0.05).backward()
    assigned = set(labels.tolist())
    for j in range(w.shape[0]):
        if j in assigned:
            assert w.grad[j].abs().sum() > 0
        else:
            assert torch.all(w.grad[j] == 0)


def test_ce_variant_moves_negatives():
    x, w, labels = _setup()
    secu_center_loss(x, w, labels, 0.05, stop_negatives=False).backward()
    assert w.grad[3].abs().sum() > 0


def test_positive_gradient_matches_paper_formula():
    # grad_{w_j} = (1/(lambda b)) sum_{i: y_i = j} (p_ij - 1) x_i
    x, w, labels = _setup()
    lam = 0.1
    secu_center_loss(x, w, labels, lam).backward()
    p = (x @ w.detach().T / lam).softmax(1)
    for j in (0, 1):
        sel = labels == j
        expected = ((p[sel, j] - 1)[:, None] * x[sel]).sum(0) / (lam * len(x))
        assert torch.allclose(w.grad[j], expected, atol=1e-6)


def test_features_receive_no_gradient_from_centre_loss():
    x, w, labels = _setup()
    x = x.clone().requires_grad_(True)
    secu_center_loss(x, w, labels, 0.05).backward()
    assert x.grad is None


def test_soft_labels_mix_previous_label_and_other_view():
    p1 = torch.tensor([[0.7, 0.2, 0.1]])
    p2 = torch.tensor([[0.1, 0.1, 0.8]])
    y1, y2 = secu_soft_labels(torch.tensor([1]), p1, p2, tau=0.2)
    assert torch.allclose(y1, torch.tensor([[0.08, 0.28, 0.64]]))
    assert torch.allclose(y2, torch.tensor([[0.56, 0.36, 0.08]]))
    assert torch.allclose(y1.sum(1), torch.ones(1))


def test_soft_cross_entropy_equals_hard_ce_for_one_hot():
    logits = torch.randn(5, 3)
    labels = torch.tensor([0, 2, 1, 1, 0])
    assert torch.allclose(
        soft_cross_entropy(logits, F.one_hot(labels, 3).float()), F.cross_entropy(logits, labels)
    )


def test_closed_form_is_hardness_weighted_mean():
    x, w, labels = _setup()
    p = (x @ w.detach().T / 0.05).softmax(1)
    num, den = closed_form_centers(x, labels, p, torch.zeros(4, 5), torch.zeros(4))
    sel = labels == 1
    weight = 1 - p[sel, 1]
    assert torch.allclose(num[1] / den[1], (weight[:, None] * x[sel]).sum(0) / weight.sum())
    assert den[2] == 0 and den[3] == 0
