"""Neural network building blocks: backbones and projection heads."""

from skdeepcluster.nn._backbones import BACKBONES, build_backbone, infer_out_features
from skdeepcluster.nn._mlp import MLP, ProjectionHead

__all__ = ["BACKBONES", "MLP", "ProjectionHead", "build_backbone", "infer_out_features"]
