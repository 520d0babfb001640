import pytest
import torch
from torch.nn import functional as F

from skdeepcluster.losses import (
    class_balanced_weights,
    confidence_cross_entropy,
    confident_targets,
)


def test_confident_targets_keeps_only_samples_above_the_threshold():
    # softmax confidences 0.5, ~0.73, ~0.88, ~0.98
    logits = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [4.0, 0.0]])
    targets, mask = confident_targets(logits, 0.8)
    assert targets.tolist() == [0, 0, 1, 0]
    assert mask.tolist() == [False, False, True, True]
    # strictly greater: a confidence equal to the threshold is not confident
    assert not confident_targets(torch.zeros(1, 2), 0.5)[1].any()
    assert confident_targets(logits, 0.0)[1].all()


def test_class_balanced_weights_average_the_class_means():
    g = torch.Generator().manual_seed(0)
    targets = torch.tensor([0, 0, 0, 0, 1, 2, 2])
    per_sample = torch.rand(7, generator=g)
    w = class_balanced_weights(targets, 4)
    assert w.tolist()[3] == 1.0  # absent class
    weighted = (w[targets] * per_sample).sum() / w[targets].sum()
    class_means = torch.stack([per_sample[targets == k].mean() for k in range(3)])
    assert torch.allclose(weighted, class_means.mean())


def test_confidence_cross_entropy_matches_the_masked_weighted_loss():
    g = torch.Generator().manual_seed(0)
    weak = torch.randn(32, 3, generator=g) * 4
    strong = torch.randn(32, 3, generator=g, requires_grad=True)
    loss, mask = confidence_cross_entropy(strong, weak, 0.9)
    targets = weak.argmax(1)
    assert torch.equal(mask, weak.softmax(1).max(1).values > 0.9) and 0 < mask.sum() < 32
    w = class_balanced_weights(targets[mask], 3)
    expected = F.cross_entropy(strong[mask], targets[mask], weight=w)
    assert torch.allclose(loss, expected)
    plain, _ = confidence_cross_entropy(strong, weak, 0.9, class_balance=False)
    assert torch.allclose(plain, F.cross_entropy(strong[mask], targets[mask]))
    loss.backward()
    assert torch.all(strong.grad[~mask] == 0) and strong.grad[mask].abs().sum() > 0


@pytest.mark.parametrize("class_balance", [True, False])
def test_no_confident_sample_gives_an_exact_zero(class_balance):
    strong = torch.randn(8, 4, requires_grad=True)
    loss, mask = confidence_cross_entropy(strong, torch.zeros(8, 4), 0.9, class_balance)
    assert not mask.any() and float(loss.detach()) == 0.0
    loss.backward()
    assert torch.all(strong.grad == 0)
