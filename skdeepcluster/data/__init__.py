"""Input conversion and mini-batch loading."""

from skdeepcluster.data._loader import TensorBatchLoader

__all__ = ["TensorBatchLoader"]
