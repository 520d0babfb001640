"""The anchors users already run on feature matrices: UMAP + a Gaussian mixture, and N2D.

Both need ``umap-learn`` (the ``[bench]`` extra), imported only when a model is
fitted, so the rest of the benchmarks run without it.

* :class:`UMAPGMM` -- ``UMAP(n_components=10, n_neighbors=15, min_dist=0)`` then
  ``GaussianMixture(n_clusters, covariance_type="full")``: the two-line pipeline
  many users try first on embeddings.
* :class:`N2D` -- McConville et al., "N2D: (Not Too) Deep Clustering via
  Clustering the Local Manifold of an Autoencoded Embedding", ICPR 2020: a
  fully connected autoencoder ``D-500-500-2000-K`` trained with Adam on the
  mean squared reconstruction error, UMAP (``n_components=K``,
  ``n_neighbors=20``, ``min_dist=0``) of its codes, then a full-covariance
  Gaussian mixture. The paper pre-trains the autoencoder for 1,000 epochs; here
  it trains ``ae_epochs=50`` (a fit of minutes on a CPU rather than hours), a
  choice that lowers N2D's numbers below the paper's (MNIST ACC 0.979).

Both follow the scikit-learn clusterer protocol as far as the benchmarks use
it: ``fit(X)`` sets ``labels_``, ``fit_predict(X)`` returns them.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.mixture import GaussianMixture
from torch import nn


def _umap(n_components: int, n_neighbors: int, random_state: int):
    try:
        from umap import UMAP
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this anchor needs umap-learn: pip install -e '.[bench]' (or pip install umap-learn)"
        ) from exc
    return UMAP(
        n_components=n_components,
        n_neighbors=n_neighbors,
        min_dist=0.0,
        random_state=random_state,
    )


def _gmm_labels(Z: np.ndarray, n_clusters: int, random_state: int) -> np.ndarray:
    gmm = GaussianMixture(n_clusters, covariance_type="full", random_state=random_state)
    return gmm.fit_predict(Z)


class UMAPGMM(ClusterMixin, BaseEstimator):
    """UMAP to ``n_components`` dimensions, then a full-covariance Gaussian mixture.

    Parameters
    ----------
    n_clusters : int, default=10
    n_components : int, default=10
    n_neighbors : int, default=15
    random_state : int, default=0

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> UMAPGMM(3, n_components=2).fit(X).labels_.shape  # doctest: +SKIP
    (300,)
    """

    def __init__(self, n_clusters=10, *, n_components=10, n_neighbors=15, random_state=0):
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float32)
        reducer = _umap(self.n_components, self.n_neighbors, self.random_state)
        self.embedding_ = reducer.fit_transform(X)
        self.labels_ = _gmm_labels(self.embedding_, self.n_clusters, self.random_state)
        return self


class _AutoEncoder(nn.Module):
    def __init__(self, n_features: int, dims: tuple[int, ...]) -> None:
        super().__init__()
        sizes = (n_features, *dims)
        enc: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            enc.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                enc.append(nn.ReLU())
        dec: list[nn.Module] = []
        back = sizes[::-1]
        for i in range(len(back) - 1):
            dec.append(nn.Linear(back[i], back[i + 1]))
            if i < len(back) - 2:
                dec.append(nn.ReLU())
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class N2D(ClusterMixin, BaseEstimator):
    """Autoencoder, UMAP of its codes, Gaussian mixture (McConville et al., 2020).

    Parameters
    ----------
    n_clusters : int, default=10
        Clusters, also the code and UMAP dimension (as in the paper).
    ae_epochs : int, default=50
        Epochs of Adam (learning rate 1e-3, batch 256) on the reconstruction error.
    n_neighbors : int, default=20
        UMAP neighbours.
    random_state : int, default=0
    device : str, default="cpu"

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> N2D(3, ae_epochs=2).fit(X).labels_.shape  # doctest: +SKIP
    (300,)
    """

    def __init__(
        self, n_clusters=10, *, ae_epochs=50, n_neighbors=20, random_state=0, device="cpu"
    ):
        self.n_clusters = n_clusters
        self.ae_epochs = ae_epochs
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.device = device

    def _codes(self, X: np.ndarray) -> np.ndarray:
        device = torch.device(self.device if self.device != "auto" else "cpu")
        with torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            generator = torch.Generator().manual_seed(self.random_state)
            model = _AutoEncoder(X.shape[1], (500, 500, 2000, self.n_clusters)).to(device)
            data = torch.as_tensor(X, device=device)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
            for _ in range(self.ae_epochs):
                order = torch.randperm(len(X), generator=generator).to(device)
                for start in range(0, len(X), 256):
                    batch = data[order[start : start + 256]]
                    loss = nn.functional.mse_loss(model(batch), batch)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            with torch.no_grad():
                return model.encoder(data).cpu().numpy()

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float32)
        self.codes_ = self._codes(X)
        reducer = _umap(self.n_clusters, self.n_neighbors, self.random_state)
        self.embedding_ = reducer.fit_transform(self.codes_)
        self.labels_ = _gmm_labels(self.embedding_, self.n_clusters, self.random_state)
        return self
