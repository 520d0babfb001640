"""Neural network building blocks: backbones, projection heads and output layers."""

from skdeepcluster.nn._backbones import (
    BACKBONES,
    build_backbone,
    default_backbone,
    infer_out_features,
)
from skdeepcluster.nn._cnn import (
    ResNet,
    SmallCNN,
    resnet18,
    resnet18_stl,
    resnet34,
    use_channels_last,
)
from skdeepcluster.nn._mlp import MLP, ProjectionHead
from skdeepcluster.nn._whitening import BatchWhitening

__all__ = [
    "BACKBONES",
    "MLP",
    "BatchWhitening",
    "ProjectionHead",
    "ResNet",
    "SmallCNN",
    "build_backbone",
    "default_backbone",
    "infer_out_features",
    "resnet18",
    "resnet18_stl",
    "resnet34",
    "use_channels_last",
]
