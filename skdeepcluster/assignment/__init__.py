"""Assignment solvers shared by every estimator.

Pure tensor functions: scores (and explicit state) in, labels or soft codes
(and the new state) out. They keep no state of their own, never communicate
across processes (the training loop reduces what needs reducing) and run
unchanged on CPU and CUDA tensors.

========================================  =============================================
:func:`size_constrained_assignment`       lower/upper bounds on sizes, online dual ascent
:func:`entropy_constrained_assignment`    global entropy of the sizes, closed form
:func:`hard_regularized_assignment`       greedy with a log(n_k + 1) size penalty
:func:`sinkhorn`                          entropic optimal transport (balanced codes)
:func:`fairness_em`                       EM pseudo-labels with strong fairness
========================================  =============================================
"""

from skdeepcluster.assignment._em import fairness_em, fairness_objective
from skdeepcluster.assignment._entropy import entropy_constrained_assignment, entropy_objective
from skdeepcluster.assignment._hardreg import (
    hard_regularized_assignment,
    hard_regularized_objective,
)
from skdeepcluster.assignment._sinkhorn import sinkhorn
from skdeepcluster.assignment._size import size_constrained_assignment

__all__ = [
    "entropy_constrained_assignment",
    "entropy_objective",
    "fairness_em",
    "fairness_objective",
    "hard_regularized_assignment",
    "hard_regularized_objective",
    "sinkhorn",
    "size_constrained_assignment",
]
