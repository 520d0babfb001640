"""Augmentations for fixed-length feature vectors."""

from __future__ import annotations

import torch

from skdeepcluster.augment._base import BatchTransform, MultiView, _rand, _randn
from skdeepcluster.augment._neighbors import _check_method, nearest_neighbors


class GaussianNoise(BatchTransform):
    """Add Gaussian noise scaled by each feature's standard deviation.

    Parameters
    ----------
    std : float, default=0.1
        Noise standard deviation as a fraction of each feature's standard
        deviation on the training data (absolute when the transform was not
        fitted).

    Examples
    --------
    >>> t = GaussianNoise(0.1).fit(torch.randn(100, 3))
    >>> t(torch.zeros(2, 3), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([2, 3])
    """

    def __init__(self, std: float = 0.1) -> None:
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}.")
        self.std = float(std)
        self.scale_ = None

    def fit(self, X: torch.Tensor) -> GaussianNoise:
        flat = X.flatten(1).float()
        self.scale_ = flat.std(dim=0, unbiased=False).clamp_min(1e-8).reshape(X.shape[1:])
        return self

    def __call__(self, x, index=None, generator=None):
        if self.std == 0:
            return x
        noise = _randn(x.shape, x, generator) * self.std
        if self.scale_ is not None:
            noise = noise * self.scale_.to(x.device, x.dtype)
        return x + noise


class FeatureMask(BatchTransform):
    """Replace a random subset of features by their training mean.

    Parameters
    ----------
    p : float, default=0.2
        Probability of masking each feature of each sample.

    Examples
    --------
    >>> t = FeatureMask(1.0)
    >>> t(torch.ones(2, 3)).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, p: float = 0.2) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p}.")
        self.p = float(p)
        self.fill_ = None

    def fit(self, X: torch.Tensor) -> FeatureMask:
        self.fill_ = X.float().mean(dim=0)
        return self

    def __call__(self, x, index=None, generator=None):
        if self.p == 0:
            return x
        mask = _rand(x.shape, x, generator) < self.p
        fill = self.fill_.to(x.device, x.dtype) if self.fill_ is not None else 0.0
        return torch.where(mask, fill, x)


class NeighborSwap(BatchTransform):
    """Replace a sample by a sample reached through its nearest neighbours.

    A neighbour is a plausible positive view of fixed-feature data that has no
    natural augmentation: nearby samples tend to share a cluster. This is the
    idea behind the neighbour positives of SCAN [1]_, NNCLR [2]_ and PIPCDR.
    The view is ``x + u (x_nn - x)`` with ``u`` uniform in ``[mix_low, 1]``:
    a point on the segment to a random neighbour among the ``n_neighbors``
    nearest, computed once on the training data in :meth:`fit`.

    With ``max_hops > 1`` the partner is the end of a short random walk on the
    k-nearest-neighbour graph: the number of steps ``h`` is uniform in
    ``1..max_hops`` and each step moves to a uniformly drawn one of the current
    sample's ``n_neighbors`` neighbours. A walk reaches farther along the data
    manifold than a single neighbour while staying on the graph, so the two
    views of a sample can differ by more than local noise.

    Parameters
    ----------
    n_neighbors : int, default=10
        Size of the neighbourhood to draw from at each step.
    p : float, default=1.0
        Probability that a sample is moved toward a neighbour.
    mix_low : float, default=1.0
        Lower end of the interpolation weight; 1.0 swaps in the neighbour itself.
    max_hops : int, default=1
        Largest number of random-walk steps on the neighbour graph.
    method : {"auto", "exact", "approximate"}, default="auto"
        How :func:`nearest_neighbors` searches the graph: ``"auto"`` exactly
        up to 50,000 samples (or on a CUDA device), approximately with
        pynndescent above.
    random_state : int or None, default=None
        Seed of the approximate search; None uses a fixed seed, so the graph
        is the same in every fit (on the same number of threads). The
        estimators' default views leave it at None: their ``random_state``
        seeds the training, not the graph.

    References
    ----------
    .. [1] Van Gansbeke et al., "SCAN: Learning to classify images without labels", ECCV 2020.
    .. [2] Dwibedi et al., "With a little help from my friends: nearest-neighbor
       contrastive learning of visual representations", ICCV 2021.

    Examples
    --------
    >>> X = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    >>> t = NeighborSwap(n_neighbors=1).fit(X)
    >>> t(X, index=torch.arange(4)).flatten().tolist()
    [1.0, 0.0, 11.0, 10.0]
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        p: float = 1.0,
        mix_low: float = 1.0,
        max_hops: int = 1,
        method: str = "auto",
        random_state: int | None = None,
    ) -> None:
        if int(n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {n_neighbors}.")
        if int(max_hops) < 1:
            raise ValueError(f"max_hops must be >= 1, got {max_hops}.")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p}.")
        if not 0 <= mix_low <= 1:
            raise ValueError(f"mix_low must be in [0, 1], got {mix_low}.")
        self.n_neighbors = int(n_neighbors)
        self.p = float(p)
        self.mix_low = float(mix_low)
        self.max_hops = int(max_hops)
        self.method = _check_method(method)
        self.random_state = random_state
        self.data_ = None
        self.neighbors_ = None

    def fit(self, X: torch.Tensor) -> NeighborSwap:
        self.data_ = X
        self.neighbors_ = nearest_neighbors(
            X, self.n_neighbors, method=self.method, random_state=self.random_state
        )
        return self

    def _walk(self, index: torch.Tensor, generator) -> torch.Tensor:
        """End points of the random walks started at ``index``."""
        n, k = len(index), self.neighbors_.shape[1]
        hops = None
        if self.max_hops > 1:
            hops = (_rand(n, index, generator) * self.max_hops).long() + 1
        current = index
        for step in range(self.max_hops):
            pick = (_rand(n, index, generator) * k).long().clamp_max(k - 1)
            following = self.neighbors_[current, pick]
            current = following if hops is None else torch.where(hops > step, following, current)
        return current

    def __call__(self, x, index=None, generator=None):
        if self.neighbors_ is None:
            raise RuntimeError("NeighborSwap must be fitted on the training data first.")
        if index is None:
            raise ValueError("NeighborSwap needs the sample indices of the batch.")
        other = self.data_[self._walk(index.to(self.neighbors_.device), generator)]
        other = other.to(x.device, x.dtype)
        shape = (len(index),) + (1,) * (x.dim() - 1)
        weight = self.mix_low + (1 - self.mix_low) * _rand(shape, x, generator)
        weight = weight.to(x.dtype)
        if self.p < 1:
            weight = weight * (_rand(shape, x, generator) < self.p).to(x.dtype)
        return torch.lerp(x, other, weight)


def default_vector_views(cluster_size: float = 180.0, n_neighbors: int = 5) -> MultiView:
    """The default two views of fixed-length vectors.

    Each view moves a sample to a uniformly random point on the segment toward
    the end of a short random walk on the training data's
    ``n_neighbors``-nearest-neighbour graph (:class:`NeighborSwap`). Vectors
    have no natural augmentation; neighbours are the positives that
    nearest-neighbour based clustering (SCAN, NNCLR, PIPCDR) relies on.

    Walks take 1 to 4 steps when clusters are expected to hold at least 100
    samples, and a single step (the plain neighbour swap) on smaller ones.

    Measured with SeCuClustering, 20 seeds each on ``load_digits`` (X/16,
    180 samples per cluster): with single neighbours 1s and 8s ended mixed in
    two clusters in about two thirds of the seeds, with walks of up to 4
    steps on the 5-neighbour graph in 4 of 20 (up to 3 steps: 8 of 20);
    longer walks (6, 8 steps) or wider graphs did no better. On small sets of
    well separated blobs (17 to 50 samples per cluster) walks of 2 or 3 steps
    crossed between clusters and lowered the ARI from about 0.9 to 0.3-0.8,
    hence the single step there. Feature masking and Gaussian noise on top of
    neighbours lowered the accuracy; both remain available in
    :mod:`skdeepcluster.augment`.

    Parameters
    ----------
    cluster_size : float, default=180.0
        Expected number of samples per cluster, e.g. ``n_samples / n_clusters``.
    n_neighbors : int, default=5
        Neighbours per sample in the graph the walk moves on.

    Returns
    -------
    MultiView
        Unfitted; call ``fit`` with the training tensor before use.

    Examples
    --------
    >>> views = default_vector_views(cluster_size=30).fit(torch.randn(100, 4))
    >>> views.view1.max_hops
    1
    >>> v1, v2 = views(torch.zeros(3, 4), torch.arange(3), torch.Generator().manual_seed(0))
    >>> v1.shape
    torch.Size([3, 4])
    """
    hops = 4 if cluster_size >= 100 else 1
    return MultiView(NeighborSwap(n_neighbors=n_neighbors, mix_low=0.0, max_hops=hops))
