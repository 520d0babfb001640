"""The deep clustering estimators."""

from skdeepcluster.cluster._secu import SeCuClustering

__all__ = ["SeCuClustering"]
