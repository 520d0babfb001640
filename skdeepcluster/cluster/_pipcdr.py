"""PIPCDRClustering: positive instance proximity and cluster dispersion learning."""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from skdeepcluster._training import ParamGroup, build_optimizer, full_precision
from skdeepcluster.base import BaseDeepClustering
from skdeepcluster.cluster._neighbor_embedding import NeighborEmbeddingMixin
from skdeepcluster.cluster._secu import _same_views, kmeans_plusplus
from skdeepcluster.data import TrainingData, as_training_data
from skdeepcluster.losses import (
    cluster_dispersion_loss,
    pipcdr_loss,
    positive_instance_proximity_loss,
    sample_latent_neighbors,
)
from skdeepcluster.nn import MLP, ProjectionHead


class PIPCDRNetwork(nn.Module):
    """Online encoder and predictor, and the momentum (target) copy of the encoder.

    The online encoder is ``backbone`` followed by a projection MLP whose output
    is L2-normalised; the predictor is a two-layer MLP on the online embedding.
    The target encoder starts as an exact copy of the online encoder and is
    never trained by gradient (its parameters have ``requires_grad=False``);
    :func:`ema_update` moves it toward the online encoder.

    Parameters
    ----------
    backbone : torch.nn.Module
    in_features : int
        Output dimension of ``backbone``.
    projection_dim, projection_hidden, projection_layers : int
        Shape of the projection MLP.
    predictor_hidden : int
        Width of the predictor's hidden layer.
    embedding_dim : int or None, default=None
        Width of a neighbour-embedding layer between the backbone and the
        projection MLP (an MLP with one hidden layer of ``projection_hidden``),
        in both encoders; ``None`` feeds the backbone's output to the
        projection directly.

    Examples
    --------
    >>> net = PIPCDRNetwork(torch.nn.Identity(), 4, projection_dim=3, projection_hidden=8,
    ...                     predictor_hidden=8)
    >>> x = torch.randn(5, 4)
    >>> net.online(x).shape, net.embed(x).shape, net.predictor(net.online(x)).shape
    (torch.Size([5, 3]), torch.Size([5, 3]), torch.Size([5, 3]))
    >>> any(p.requires_grad for p in net.target_parameters())
    False
    >>> net = PIPCDRNetwork(torch.nn.Identity(), 4, projection_dim=3, projection_hidden=8,
    ...                     predictor_hidden=8, embedding_dim=2)
    >>> net.neighbor_embed(x).shape, net.embed(x).shape
    (torch.Size([5, 2]), torch.Size([5, 3]))
    """

    def __init__(
        self,
        backbone: nn.Module,
        in_features: int,
        projection_dim: int = 128,
        projection_hidden: int = 512,
        projection_layers: int = 2,
        predictor_hidden: int = 512,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neighbor = None
        if embedding_dim is not None:
            self.neighbor = MLP(in_features, (projection_hidden,), embedding_dim)
            in_features = embedding_dim
        self.head = ProjectionHead(
            in_features, projection_hidden, projection_dim, projection_layers
        )
        self.predictor = MLP(projection_dim, (predictor_hidden,), projection_dim)
        self.target_backbone = copy.deepcopy(self.backbone)
        self.target_neighbor = copy.deepcopy(self.neighbor)
        self.target_head = copy.deepcopy(self.head)
        for p in self.target_parameters():
            p.requires_grad_(False)

    def neighbor_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Online output of the neighbour-embedding layer (the backbone's without one)."""
        h = self.backbone(x)
        return h if self.neighbor is None else self.neighbor(h)

    def online(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised online embedding of a batch."""
        return self.head(self.neighbor_embed(x))

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised target embedding of a batch."""
        h = self.target_backbone(x)
        if self.target_neighbor is not None:
            h = self.target_neighbor(h)
        return self.target_head(h)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The representation used for clustering: the target embedding."""
        return self.target(x)

    def online_parameters(self) -> list[nn.Parameter]:
        """Parameters of the online encoder, in the order of :meth:`target_parameters`."""
        return _parameters(self.backbone, self.neighbor, self.head)

    def target_parameters(self) -> list[nn.Parameter]:
        """Parameters of the target encoder."""
        return _parameters(self.target_backbone, self.target_neighbor, self.target_head)

    @torch.no_grad()
    def sync_target(self) -> None:
        """Make the target encoder an exact copy of the online one (parameters and
        batch-norm statistics)."""
        self.target_backbone.load_state_dict(self.backbone.state_dict())
        if self.neighbor is not None:
            self.target_neighbor.load_state_dict(self.neighbor.state_dict())
        self.target_head.load_state_dict(self.head.state_dict())


def _parameters(*modules: nn.Module | None) -> list[nn.Parameter]:
    """The parameters of the given modules in order, skipping ``None``."""
    return [p for m in modules if m is not None for p in m.parameters()]


@torch.no_grad()
def ema_update(target: list[torch.Tensor], online: list[torch.Tensor], momentum: float) -> None:
    """In place ``target = momentum * target + (1 - momentum) * online``, tensor by tensor.

    Examples
    --------
    >>> t, o = [torch.zeros(2)], [torch.ones(2)]
    >>> ema_update(t, o, 0.75)
    >>> t[0].tolist()
    [0.25, 0.25]
    """
    for t, o in zip(target, online, strict=True):
        t.mul_(momentum).add_(o.detach(), alpha=1 - momentum)


def cosine_momentum(step: int, total_steps: int, base: float) -> float:
    """BYOL's momentum schedule: ``1 - (1 - base) (cos(pi step / total) + 1) / 2``.

    Starts at ``base`` and rises to 1 at ``total_steps``.

    Examples
    --------
    >>> cosine_momentum(0, 100, 0.99), cosine_momentum(100, 100, 0.99)
    (0.99, 1.0)
    """
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return 1 - (1 - base) * (math.cos(math.pi * progress) + 1) / 2


def spherical_kmeans(
    z: torch.Tensor,
    n_clusters: int,
    generator: torch.Generator,
    n_init: int = 3,
    max_iter: int = 50,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spherical k-means of unit vectors: maximise the summed cosine to the centroid.

    Lloyd iterations from k-means++ seeds (:func:`kmeans_plusplus`), keeping
    the best of ``n_init`` starts. Centroids are the normalised means of their
    members; an empty cluster is re-seeded at the sample worst served by its
    centroid. The returned labels are the nearest centroid of each sample for
    the returned centroids, so they agree with predicting from the centroids.
    All randomness comes from ``generator``.

    Parameters
    ----------
    z : Tensor of shape (n, d)
        Unit-norm vectors.
    n_clusters : int
    generator : torch.Generator
    n_init : int, default=3
    max_iter : int, default=50

    Returns
    -------
    centers : Tensor of shape (n_clusters, d)
    labels : Tensor of shape (n,), int64

    Examples
    --------
    >>> z = torch.nn.functional.normalize(torch.tensor(
    ...     [[1.0, 0.1], [1.0, -0.1], [0.1, 1.0], [-0.1, 1.0]]), dim=1)
    >>> centers, labels = spherical_kmeans(z, 2, torch.Generator().manual_seed(0))
    >>> bool(labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2])
    True
    """
    best, best_score = None, -math.inf
    for _ in range(n_init):
        centers = kmeans_plusplus(z, n_clusters, generator)
        labels = (z @ centers.T).argmax(dim=1)
        for _ in range(max_iter):
            sums = torch.zeros_like(centers).index_add_(0, labels, z)
            counts = torch.bincount(labels, minlength=n_clusters)
            for k in torch.nonzero(counts == 0).flatten().tolist():
                worst = int((z @ centers.T).max(dim=1).values.argmin())
                sums[k] = z[worst]
                centers[k] = z[worst]
            centers = F.normalize(sums, dim=1)
            new_labels = (z @ centers.T).argmax(dim=1)
            if torch.equal(new_labels, labels):
                break
            labels = new_labels
        sims = z @ centers.T
        labels = sims.argmax(dim=1)
        score = float(sims.max(dim=1).values.sum())
        if score > best_score:
            best, best_score = (centers, labels), score
    return best


class _PIPCDRTask:
    """PIPCDR's per-batch objective and end-of-step EMA, run by the shared training loop.

    The first M-step (k-means pseudo-labels on the target features of the
    whole training set) runs in :meth:`on_epoch_start`; the second M-step
    (minimising the PIP + CDR loss) is the mini-batch SGD of the epoch.
    """

    def __init__(
        self, est: PIPCDRClustering, data: TrainingData, views, generator, total_steps: int
    ) -> None:
        self.est = est
        self.net: PIPCDRNetwork = est.module_
        self.data = data
        self.views = views if views is not None else _same_views
        self.generator = generator
        self.total_steps = total_steps
        self.step = 0
        self.momentum = est.target_momentum
        self.pseudo_labels: torch.Tensor | None = None

    # ---------------------------------------------- state (checkpoints, DDP)
    def state_dict(self) -> dict:
        """The EMA step count and the k-means pseudo-labels (the target net is in the module)."""
        return {"step": self.step, "momentum": self.momentum, "pseudo_labels": self.pseudo_labels}

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.momentum = float(state["momentum"])
        labels = state["pseudo_labels"]
        self.pseudo_labels = None if labels is None else labels.to(self.data.device).clone()

    def use_distributed(self, context) -> None:
        """Nothing to reduce: the pseudo-labels come from the whole data set through
        the (synchronised) target network and generator, identically on every rank."""

    def uses_cdr(self, epoch: int) -> bool:
        return epoch >= self.est.cdr_start

    def on_epoch_start(self, epoch: int) -> None:
        est = self.est
        if self.uses_cdr(epoch) and (epoch - est.cdr_start) % est.reassign == 0:
            z = est._features(self.data)
            _, labels = spherical_kmeans(z, est.n_clusters, self.generator, est.n_init)
            self.pseudo_labels = labels

    def on_epoch_end(self, epoch: int) -> dict:
        if self.pseudo_labels is None:
            return {}
        counts = torch.bincount(self.pseudo_labels, minlength=self.est.n_clusters)
        return {"cluster_sizes": counts.cpu().tolist()}

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        est, net = self.est, self.net
        with full_precision(x.device):  # augmentation in float32, the network under autocast
            v1, v2 = self.views(x, index, self.generator)
        z = net.online(torch.cat([v1, v2])).float()
        with torch.no_grad():
            t = net.target(torch.cat([v2, v1])).float()  # target of the *other* view
        neighbors = sample_latent_neighbors(z, est.sigma, self.generator)
        p, p_nbr = net.predictor(torch.cat([z, neighbors])).float().chunk(2)
        with full_precision(z.device):
            return self._objective(index, z, t, p, p_nbr, epoch)

    def _objective(self, index, z, t, p, p_nbr, epoch: int):
        """The PIP and CDR losses from the embeddings and predictions of both views."""
        est = self.est
        p1, p2 = p.chunk(2)
        n1, n2 = p_nbr.chunk(2)
        t2, t1 = t.chunk(2)
        pip = positive_instance_proximity_loss(p1, p2, n1, n2, t1, t2)
        cdr = pip.new_zeros(())
        if self.uses_cdr(epoch) and self.pseudo_labels is not None:
            labels = self.pseudo_labels[index]
            z1, z2 = z.chunk(2)
            cdr = (
                cluster_dispersion_loss(
                    z1, t2, labels, est.n_clusters, est.temperature, est.compactness
                )
                + cluster_dispersion_loss(
                    z2, t1, labels, est.n_clusters, est.temperature, est.compactness
                )
            ) / 2
        loss = pipcdr_loss(pip, cdr, est.pip_weight)
        logs = {
            "loss": float(loss.detach()),
            "pip": float(pip.detach()),
            "cdr": float(cdr.detach()),
        }
        return loss, logs

    def current_momentum(self) -> float:
        if self.est.momentum_schedule == "cosine":
            return cosine_momentum(self.step, self.total_steps, self.est.target_momentum)
        return self.est.target_momentum

    def after_optimizer_step(self, epoch: int) -> None:
        self.momentum = self.current_momentum()
        ema_update(self.net.target_parameters(), self.net.online_parameters(), self.momentum)
        self.step += 1


class PIPCDRClustering(NeighborEmbeddingMixin, BaseDeepClustering):
    """PIPCDR: positive instance proximity and cluster dispersion learning.

    A BYOL-style pair of networks [1]_ [3]_ is trained with two objectives and
    a k-means step, alternated in a majorize-minimize scheme:

    * **first M-step** (every ``reassign`` epochs from epoch ``cdr_start``):
      spherical k-means on the target embeddings of the whole training set
      gives a pseudo-label per sample (:func:`spherical_kmeans`, k-means++
      seeds from the fit's generator, best of ``n_init`` starts);
    * **second M-step** (every mini-batch): minimise
      ``pip_weight * L_PIP + (1 - pip_weight) * L_CDR`` by SGD on the online
      encoder and the predictor, then move the target encoder toward the
      online one by an exponential moving average (:func:`ema_update`).

    ``L_PIP`` (:func:`~skdeepcluster.losses.positive_instance_proximity_loss`)
    aligns the predictor output of each view's online embedding, *and* of a
    positive neighbour sampled around it in the embedding space
    (:func:`~skdeepcluster.losses.sample_latent_neighbors`), with the target
    embedding of the other view, symmetrised over the two views. ``L_CDR``
    (:func:`~skdeepcluster.losses.cluster_dispersion_loss`) contrasts the
    batch's pseudo-class prototypes, pushing them apart on the unit
    hypersphere, and pulls every embedding to its own prototype. Before epoch
    ``cdr_start`` only ``L_PIP`` is trained (ProPos [2]_, on which PIPCDR
    builds, likewise switches its cluster loss on after a warm-up).

    **Choices where the paper is not specific.** Accuracies quoted are on
    ``load_digits`` (``X / 16``), mean of seeds 0-2, from
    ``benchmarks/bench_digits.py --experiment ablation`` (defaults: 0.875;
    k-means on the raw input: 0.792):

    * the sampled positive is Gaussian noise in the normalised embedding space,
      ``normalize(z + sigma * eps)`` as in ProPos, rather than a nearest
      neighbour from a memory bank. ``sigma`` is per coordinate, so the
      neighbour lies at cosine about ``1 / sqrt(1 + sigma^2 * projection_dim)``
      (0.87 with the defaults) from the embedding. Without it (``sigma=0``,
      BYOL's instance alignment alone) the accuracy drops to 0.831;
    * the exact CDR formula, see
      :func:`~skdeepcluster.losses.cluster_dispersion_loss`;
    * when CDR starts: k-means pseudo-labels of a barely trained network are
      poor, and CDR makes whatever partition it is given self-confirming.
      Started right after the 5-epoch learning-rate warm-up (as ProPos does),
      it kept the clustering near the accuracy of its first pseudo-labels
      (0.810, and 0.734 with ``pip_weight=0.5``); started half-way
      (``cdr_start=20`` of 40 epochs) it keeps the accuracy reached by then and
      makes the k-means partition stable from one epoch to the next. Hence
      ``cdr_start`` is separate from ``warmup_epochs``. Started half-way, CDR
      adds little accuracy on digits (``L_PIP`` alone: 0.862) but lowered the
      standard deviation over the three seeds from 0.034 to 0.013;
    * ``pip_weight=0.9``, i.e. ``L_CDR`` weighted a ninth of ``L_PIP``, close to
      ProPos's cluster-loss weight 0.1 (with ``cdr_start=20``, ``pip_weight``
      0.5 to 0.9 and ``compactness`` 0 to 1 were within seed noise of each
      other on digits);
    * no memory queue: prototypes come from the mini-batch, which suffices when
      ``batch_size`` is several times ``n_clusters``;
    * the target network's parameters are an EMA of the online ones; its
      batch-norm statistics are its own running averages (it runs in training
      mode on every batch), as in BYOL implementations. The momentum rises from
      ``target_momentum`` to 1 along a cosine (``momentum_schedule="cosine"``,
      as in BYOL) or stays constant;
    * the clustering is read from the **target** embedding (``transform``),
      the one k-means runs on during training: after the last epoch a final
      spherical k-means (``3 * n_init`` starts) on the target embeddings of the
      training data gives ``cluster_centers_``, and every sample, training or
      new, belongs to its most similar centre. ``labels_`` are therefore
      exactly ``predict`` on the training data;
    * ``predict_proba`` is the softmax of the cosine similarities to the
      centres divided by ``proba_temperature``;
    * the default MLP backbone is narrower than the shared default (hidden
      layers of 256 instead of 512, as are the projection and predictor MLPs):
      a fit runs two encoders and a predictor per batch, and a training step
      of the wider networks costs about three times as much on a CPU, which
      would take a fit on ``load_digits`` well beyond 10 s on one core;
    * on vectors the views are neighbours on the input's nearest-neighbour
      graph, and the groups of that graph are what the clusters can come
      from. The fit first trains the backbone and a 10-dim layer as a
      parametric neighbour embedding (the stage SeCu uses, see
      ``neighbor_embedding``), then copies the online encoder to the target
      and runs PIPCDR from there, the new layer included. Without the stage
      (``benchmarks.run``, one thread) ``load_digits`` gave ACC 0.929 /
      0.888 / 0.940 on seeds 0-2 (0.84-0.94 over seeds 0-9) and the
      benchmark's MNIST 10k subset 0.740 / 0.651 / 0.772; with it, on the
      same arrays and seeds (defaults, one thread), 0.955 / 0.947 / 0.960
      (0.892-0.964 over seeds 0-9, median 0.948) and 0.854 / 0.850 / 0.848.
      In one ``benchmarks.run`` invocation with the stage, the MNIST 10k
      subset's seed 0 gave PIPCDR ACC 0.851, NMI 0.826, ARI 0.781 and UMAP
      + GMM 0.855, 0.815, 0.773.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K (and of k-means pseudo-classes).
    pip_weight : float, default=0.9
        :math:`w`: the loss is ``w * L_PIP + (1 - w) * L_CDR``.
    sigma : float, default=0.05
        Standard deviation (per coordinate) of the latent noise that samples a
        positive neighbour of each embedding (the paper's :math:`\\sigma`).
    temperature : float, default=0.5
        Temperature :math:`\\tau` of the prototype contrast in ``L_CDR``
        (ProPos uses 0.5).
    compactness : float, default=1.0
        Weight of the intra-cluster (embedding-to-prototype) term of ``L_CDR``.
    reassign : int, default=1
        Epochs between two k-means pseudo-labellings (the paper's :math:`r`;
        the paper finds the method robust to large values).
    cdr_start : int, default=20
        First epoch with k-means pseudo-labels and ``L_CDR``; before it the
        objective is ``pip_weight * L_PIP`` alone. ``cdr_start >= max_iter``
        trains ``L_PIP`` only (the final clustering is still k-means on the
        target embeddings).
    n_init : int, default=3
        k-means++ starts of each pseudo-labelling (the best is kept); the final
        clustering uses ``3 * n_init``.
    target_momentum : float, default=0.99
        Base EMA momentum :math:`m` of the target network:
        ``target <- m * target + (1 - m) * online`` after every step.
    momentum_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` raises the momentum from ``target_momentum`` to 1 over the
        training steps (:func:`cosine_momentum`); ``"constant"`` keeps it.
    projection_dim : int, default=128
        Dimension of the embedding.
    projection_hidden : int, default=256
        Width of the projection MLP.
    projection_layers : int, default=2
        Layers of the projection MLP.
    predictor_hidden : int, default=256
        Width of the predictor's hidden layer.
    predictor_lr_scale : float, default=10.0
        The predictor's learning rate is ``lr * predictor_lr_scale`` (ProPos
        trains the predictor 10 times faster than the encoder).
    proba_temperature : float, default=0.05
        Temperature of ``predict_proba``'s softmax over the cosine similarities.
    max_iter : int, default=40
        Training epochs.
    batch_size : int, default=128
        Mini-batch size; the last incomplete batch of an epoch is dropped
        (batch normalisation needs more than one sample).
    lr : float, default=0.05
        Peak learning rate of the encoder (SGD with momentum ``momentum``),
        reached after ``warmup_epochs`` of linear warm-up and decayed by a cosine.
    momentum : float, default=0.9
        Momentum of SGD.
    weight_decay : float, default=5e-4
        Weight decay of the encoder and the predictor.
    warmup_epochs : int, default=5
        Epochs of learning-rate warm-up.
    backbone : str or torch.nn.Module, default="auto"
        Feature extractor before the projection head: ``"auto"`` is ``"mlp"``
        for vectors and ``"cnn"`` (:class:`~skdeepcluster.nn.SmallCNN`) for
        images; other names are listed in :data:`skdeepcluster.nn.BACKBONES`.
    backbone_params : dict or None, default=None
        Keyword arguments of the named backbone; ``None`` with the MLP means
        ``{"hidden_dims": (256, 256)}``.
    augment : "auto", None or callable, default="auto"
        ``"auto"``: for vectors, interpolation toward a random input-space
        neighbour (:func:`~skdeepcluster.augment.default_vector_views`);
        for images, BYOL's asymmetric views adapted to the image size and kind
        (:func:`~skdeepcluster.augment.default_image_views`). ``None``: both
        views are the sample itself. A callable
        ``f(x, index, generator) -> (view1, view2)``; if it has a ``fit`` method
        it is called once with the training tensor (not possible for image
        files, which are streamed; the k-means steps stream them too).
    device : str or torch.device, default="auto"
    amp : {"auto", "bf16", "fp16"} or None, default="auto"
        Mixed precision of the network's forward passes (training and
        inference). ``"auto"``: bfloat16 autocast (float16 on GPUs without
        bfloat16; float32 on CPUs without native bfloat16) for the built-in
        CNN backbones on images, float32 for
        vectors, MLPs and user modules; ``None``: float32. Losses and
        assignments are always computed in full precision.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    checkpoint_dir : str, path-like or None, default=None
        Folder of the fit's checkpoint, resumed from when it holds one of the
        same fit (see :class:`~skdeepcluster.base.BaseDeepClustering`).
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    warm_start : bool, default=False
        Continue training the fitted online and target networks on the next
        ``fit`` (the EMA momentum schedule restarts with the learning rate).
    neighbor_embedding : "auto" or bool, default="auto"
        Train a low-dimensional neighbour embedding before PIPCDR's own
        training (see Notes): a layer of ``neighbor_embedding_dim`` outputs (an
        MLP with one hidden layer of ``projection_hidden``) between the
        backbone and the projection MLP, trained with the backbone on
        :func:`~skdeepcluster.losses.neighbor_embedding_loss` over the pairs of
        the views, as :class:`~skdeepcluster.SeCuClustering` does. ``"auto"``:
        on for vectors when ``augment`` is not ``None`` (the views then follow
        the neighbour graph), off for images, whose views are augmentations.
    neighbor_embedding_dim : int, default=10
        Width of the neighbour embedding.
    neighbor_embedding_steps : int, default=2500
        Optimisation steps of the neighbour-embedding stage (Adam, step size
        0.001, batches of 512 pairs; at most 200 epochs). ``0`` skips the
        stage and keeps the layer untrained.
    neighbor_embedding_dof : float, default=1.0
        Degrees of freedom of the stage's Student-t kernel (1: t-SNE's Cauchy kernel).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample: its most similar centre in
        ``cluster_centers_`` (identical to ``predict`` on the training data).
    cluster_centers_ : ndarray of shape (n_clusters, projection_dim)
        Unit-norm centres of the final spherical k-means on the target embeddings.
    module_ : PIPCDRNetwork
        The trained online, predictor and target networks.
    n_iter_ : int
        Training epochs run.
    history_ : list of dict
        Per epoch: mean ``loss``, ``pip`` and ``cdr``, and, from ``cdr_start``
        on, the sizes of the pseudo-classes (``cluster_sizes``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string feature names.

    References
    ----------
    .. [1] A. Kumar and D.-G. Lee, "Enhancing Clustering Representations with
       Positive Proximity and Cluster Dispersion Learning", arXiv:2311.00731, 2023.
    .. [2] Z. Huang et al., "Learning Representation for Clustering via
       Prototype Scattering and Positive Sampling", IEEE TPAMI, 2022.
    .. [3] J.-B. Grill et al., "Bootstrap Your Own Latent: A New Approach to
       Self-Supervised Learning", NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepcluster import PIPCDRClustering
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> est = PIPCDRClustering(n_clusters=3, max_iter=3, warmup_epochs=1, cdr_start=1,
    ...                        random_state=0, device="cpu")
    >>> labels = est.fit_predict(X)
    >>> labels.shape, est.cluster_centers_.shape
    ((200,), (3, 128))
    """

    _parameter_constraints: dict = {
        **BaseDeepClustering._parameter_constraints,
        "pip_weight": [Interval(Real, 0, 1, closed="both")],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "compactness": [Interval(Real, 0, None, closed="left")],
        "reassign": [Interval(Integral, 1, None, closed="left")],
        "cdr_start": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "target_momentum": [Interval(Real, 0, 1, closed="both")],
        "momentum_schedule": [StrOptions({"cosine", "constant"})],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "projection_hidden": [Interval(Integral, 1, None, closed="left")],
        "projection_layers": [Interval(Integral, 1, None, closed="left")],
        "predictor_hidden": [Interval(Integral, 1, None, closed="left")],
        "predictor_lr_scale": [Interval(Real, 0, None, closed="neither")],
        "proba_temperature": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        **NeighborEmbeddingMixin._neighbor_embedding_constraints,
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        pip_weight=0.9,
        sigma=0.05,
        temperature=0.5,
        compactness=1.0,
        reassign=1,
        cdr_start=20,
        n_init=3,
        target_momentum=0.99,
        momentum_schedule="cosine",
        projection_dim=128,
        projection_hidden=256,
        projection_layers=2,
        predictor_hidden=256,
        predictor_lr_scale=10.0,
        proba_temperature=0.05,
        max_iter=40,
        batch_size=128,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        warmup_epochs=5,
        backbone="auto",
        backbone_params=None,
        augment="auto",
        device="auto",
        amp="auto",
        random_state=None,
        verbose=0,
        checkpoint_dir=None,
        checkpoint_every=1,
        warm_start=False,
        neighbor_embedding="auto",
        neighbor_embedding_dim=10,
        neighbor_embedding_steps=2500,
        neighbor_embedding_dof=1.0,
    ):
        super().__init__(
            n_clusters,
            max_iter=max_iter,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            backbone=backbone,
            backbone_params=backbone_params,
            augment=augment,
            device=device,
            amp=amp,
            random_state=random_state,
            verbose=verbose,
            checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every,
            warm_start=warm_start,
        )
        self.pip_weight = pip_weight
        self.sigma = sigma
        self.temperature = temperature
        self.compactness = compactness
        self.reassign = reassign
        self.cdr_start = cdr_start
        self.n_init = n_init
        self.target_momentum = target_momentum
        self.momentum_schedule = momentum_schedule
        self.projection_dim = projection_dim
        self.projection_hidden = projection_hidden
        self.projection_layers = projection_layers
        self.predictor_hidden = predictor_hidden
        self.predictor_lr_scale = predictor_lr_scale
        self.proba_temperature = proba_temperature
        self.momentum = momentum
        self.warmup_epochs = warmup_epochs
        self.neighbor_embedding = neighbor_embedding
        self.neighbor_embedding_dim = neighbor_embedding_dim
        self.neighbor_embedding_steps = neighbor_embedding_steps
        self.neighbor_embedding_dof = neighbor_embedding_dof

    # ----------------------------------------------------------------- module
    _default_mlp_params = {"hidden_dims": (256, 256)}

    def _build_module(self, data: TrainingData) -> PIPCDRNetwork:
        data = as_training_data(data)
        backbone, width = self._make_backbone(data)
        return PIPCDRNetwork(
            backbone,
            width,
            self.projection_dim,
            self.projection_hidden,
            self.projection_layers,
            self.predictor_hidden,
            self.neighbor_embedding_dim if self._uses_neighbor_embedding(data) else None,
        )

    def _default_views(self, data: TrainingData):
        return self._two_views(data)

    @torch.no_grad()
    def _features(self, data: TrainingData) -> torch.Tensor:
        """Target embeddings of ``data`` in evaluation mode, as ``predict`` computes them.

        Computed batch by batch (streamed through the loader for image files).
        """
        return self._eval_map(as_training_data(data), self._amp_embed)

    # ------------------------------------------------------------------ train
    def _setup_training(self, data, generator, views=None):
        """Loader, task, optimiser and schedule of a fit; ``views`` are made from
        ``data`` unless given."""
        data = as_training_data(data)
        if views is None:
            views = self._make_views(data)
        loader = data.loader(self.batch_size, shuffle=True, generator=generator, drop_last=True)
        steps = len(loader)
        total = self.max_iter * steps
        task = _PIPCDRTask(self, data, views, generator, total)
        net = self.module_
        common = dict(
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            schedule="cosine",
            warmup_steps=self.warmup_epochs * steps,
        )
        groups = [
            ParamGroup(net.online_parameters(), lr=self.lr, name="encoder", **common),
            ParamGroup(
                list(net.predictor.parameters()),
                lr=self.lr * self.predictor_lr_scale,
                name="predictor",
                **common,
            ),
        ]
        optimizer, scheduler = build_optimizer(groups, total)
        return loader, task, optimizer, scheduler

    def _train(self, data, generator, hooks):
        data = as_training_data(data)
        views = self._make_views(data)
        history = []
        net = self.module_
        if net.neighbor is not None:
            history += self._neighbor_embedding_stage(data, views, generator, hooks, end=0)
            if not self._restores_state():
                net.sync_target()
        loader, task, optimizer, scheduler = self._setup_training(data, generator, views)
        history += self._run_training(
            task,
            loader,
            range(self.max_iter),
            optimizer,
            scheduler,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        z = self._features(data)
        centers, _ = spherical_kmeans(z, self.n_clusters, generator, 3 * self.n_init)
        self.cluster_centers_ = centers.cpu().numpy().copy()
        self.labels_ = self._cluster_logits(z).argmax(dim=1).cpu().numpy().astype(np.int64)
        self.n_iter_ = self.max_iter
        return history

    def _set_single_center(self, center: torch.Tensor) -> None:
        self.cluster_centers_ = F.normalize(center.float(), dim=1).cpu().numpy().copy()

    def _cluster_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        centers = torch.as_tensor(self.cluster_centers_, device=embedding.device)
        return embedding.float() @ centers.T / self.proba_temperature
