"""Per-method objectives as pure tensor functions."""

from skdeepcluster.losses._entropy import (
    fairness_kl,
    reverse_cross_entropy,
    self_labeling_loss,
)
from skdeepcluster.losses._hardreg import hardreg_cost, hardreg_loss
from skdeepcluster.losses._neighbor_embedding import (
    neighbor_embedding_loss,
    student_t_similarity_logits,
)
from skdeepcluster.losses._pipcdr import (
    cluster_dispersion_loss,
    cluster_prototypes,
    normalized_mse,
    pipcdr_loss,
    positive_instance_proximity_loss,
    sample_latent_neighbors,
)
from skdeepcluster.losses._secu import (
    closed_form_centers,
    secu_center_loss,
    secu_soft_labels,
    soft_cross_entropy,
)
from skdeepcluster.losses._selflabel import (
    class_balanced_weights,
    confidence_cross_entropy,
    confident_targets,
)

__all__ = [
    "class_balanced_weights",
    "closed_form_centers",
    "cluster_dispersion_loss",
    "cluster_prototypes",
    "confidence_cross_entropy",
    "confident_targets",
    "fairness_kl",
    "hardreg_cost",
    "hardreg_loss",
    "neighbor_embedding_loss",
    "normalized_mse",
    "pipcdr_loss",
    "positive_instance_proximity_loss",
    "reverse_cross_entropy",
    "sample_latent_neighbors",
    "secu_center_loss",
    "secu_soft_labels",
    "self_labeling_loss",
    "soft_cross_entropy",
    "student_t_similarity_logits",
]
