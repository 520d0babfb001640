"""Self-labeling on confident pseudo-labels (SCAN's fine-tuning stage)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def confident_targets(
    logits: torch.Tensor, threshold: float = 0.9
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo-labels of the samples whose softmax confidence exceeds ``threshold``.

    Parameters
    ----------
    logits : Tensor of shape (n, K)
        Logits of the weakly augmented views (no gradient is needed).
    threshold : float, default=0.9
        A sample is confident when its largest softmax probability is strictly
        greater than ``threshold`` (SeCu App. C.1 gives 0.9, SCAN's published
        configurations 0.99).

    Returns
    -------
    targets : Tensor of shape (n,), int64
        The argmax class of every sample.
    mask : Tensor of shape (n,), bool
        Which samples are confident.

    Examples
    --------
    >>> logits = torch.tensor([[4.0, 0.0], [0.1, 0.0], [0.0, 5.0]])
    >>> targets, mask = confident_targets(logits, 0.9)
    >>> targets.tolist(), mask.tolist()
    ([0, 0, 1], [True, False, True])
    """
    probs = logits.detach().float().softmax(dim=1)
    confidence, targets = probs.max(dim=1)
    return targets, confidence > threshold


def class_balanced_weights(targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per-class weights ``n / n_k`` of SCAN's class-balanced cross-entropy.

    ``n_k`` is the number of ``targets`` equal to ``k`` and ``n`` their total;
    classes absent from ``targets`` get weight 1 (they weigh nothing, having
    no sample). With these weights the weighted-mean cross-entropy is the mean
    over the classes present of each class's mean loss, so a cluster that
    gathers many confident samples does not dominate the fine-tuning.

    Parameters
    ----------
    targets : Tensor of shape (n,), int64
    n_classes : int

    Returns
    -------
    Tensor of shape (n_classes,), float32

    Examples
    --------
    >>> class_balanced_weights(torch.tensor([0, 0, 0, 1]), 3).tolist()
    [1.3333333730697632, 4.0, 1.0]
    """
    counts = torch.bincount(targets, minlength=n_classes).float()
    weights = torch.ones(n_classes, device=targets.device)
    present = counts > 0
    weights[present] = len(targets) / counts[present]
    return weights


def confidence_cross_entropy(
    strong_logits: torch.Tensor,
    weak_logits: torch.Tensor,
    threshold: float = 0.9,
    class_balance: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the strong views toward the confident labels of the weak views.

    The self-labeling loss of SCAN [1]_, used after SeCu's clustering stage
    (SeCu [2]_, App. C.1): the argmax of the weak view's prediction is the
    target of the strong view, for the samples whose weak prediction is more
    confident than ``threshold`` only, with :func:`class_balanced_weights`
    computed over those samples.

    Parameters
    ----------
    strong_logits : Tensor of shape (n, K)
        Logits of the strongly augmented views (with gradient).
    weak_logits : Tensor of shape (n, K)
        Logits of the weakly augmented views (detached here).
    threshold : float, default=0.9
    class_balance : bool, default=True

    Returns
    -------
    loss : Tensor, scalar
        The weighted mean cross-entropy over the confident samples; an exact
        zero, still attached to ``strong_logits``' graph, when no sample is
        confident.
    mask : Tensor of shape (n,), bool
        The confident samples.

    References
    ----------
    .. [1] W. Van Gansbeke, S. Vandenhende, S. Georgoulis, M. Proesmans and
       L. Van Gool, "SCAN: Learning to Classify Images without Labels", ECCV 2020.
    .. [2] Qi Qian, "Stable Cluster Discrimination for Deep Clustering", ICCV 2023.

    Examples
    --------
    >>> weak = torch.tensor([[5.0, 0.0], [0.0, 0.1], [0.0, 5.0]])
    >>> strong = torch.zeros(3, 2, requires_grad=True)
    >>> loss, mask = confidence_cross_entropy(strong, weak)
    >>> round(float(loss.detach()), 4), mask.tolist()
    (0.6931, [True, False, True])
    """
    targets, mask = confident_targets(weak_logits, threshold)
    if not bool(mask.any()):
        return strong_logits.sum() * 0.0, mask
    logits = strong_logits[mask].float()
    chosen = targets[mask]
    weight = class_balanced_weights(chosen, logits.shape[1]) if class_balance else None
    return F.cross_entropy(logits, chosen, weight=weight), mask
