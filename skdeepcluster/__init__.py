"""scikit-learn compatible deep clustering estimators built on PyTorch.

The public estimators live in :mod:`skdeepcluster.cluster` and are re-exported
here; the shared assignment solvers are in :mod:`skdeepcluster.assignment` and
the clustering metrics and scorers in :mod:`skdeepcluster.metrics` (importing
the package registers the scorers, so ``scoring="clustering_accuracy"`` works
in :class:`~sklearn.model_selection.GridSearchCV`).
"""

from skdeepcluster import metrics  # noqa: F401  (registers the scorers by name)
from skdeepcluster._config import config_context, get_config, set_config
from skdeepcluster._version import __version__
from skdeepcluster.cluster import (
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
)

__all__ = [
    "EntropyClustering",
    "HardRegClustering",
    "PIPCDRClustering",
    "SeCuClustering",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
]
