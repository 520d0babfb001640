"""Batched, on-device augmentations and two-view wrappers."""

from skdeepcluster.augment._base import BatchTransform, Compose, Identity, MultiView, needs_data
from skdeepcluster.augment._image import (
    ColorJitter,
    GaussianBlur,
    KorniaTransform,
    RandomAffine,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomShift,
    RandomSolarize,
    asymmetric_views,
    default_image_views,
    weak_strong_views,
)
from skdeepcluster.augment._neighbors import nearest_neighbors
from skdeepcluster.augment._tabular import (
    FeatureMask,
    GaussianNoise,
    NeighborSwap,
    default_vector_views,
)
from skdeepcluster.augment._views import default_self_labeling_views, neighbor_image_views

__all__ = [
    "BatchTransform",
    "ColorJitter",
    "Compose",
    "FeatureMask",
    "GaussianBlur",
    "GaussianNoise",
    "Identity",
    "KorniaTransform",
    "MultiView",
    "NeighborSwap",
    "RandomAffine",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomShift",
    "RandomSolarize",
    "asymmetric_views",
    "default_image_views",
    "default_self_labeling_views",
    "default_vector_views",
    "nearest_neighbors",
    "neighbor_image_views",
    "needs_data",
    "weak_strong_views",
]
