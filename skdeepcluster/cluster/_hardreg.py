"""HardRegClustering: online deep clustering with hard-regularised assignments."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.cluster import kmeans_plusplus
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from skdeepcluster._training import RunningCounts, full_precision
from skdeepcluster._training._memory import STREAM_WINDOW_PER_CLUSTER
from skdeepcluster.assignment import hard_regularized_assignment
from skdeepcluster.base import BaseDeepClustering, _PartialFitMixin
from skdeepcluster.cluster._neighbor_embedding import (
    NEIGHBOR_EMBEDDING_HIDDEN,
    FrozenEncoderMixin,
    NeighborEmbeddingMixin,
    StagedNetworkMixin,
)
from skdeepcluster.data import TrainingData, as_training_data
from skdeepcluster.losses import hardreg_cost, hardreg_loss
from skdeepcluster.nn import MLP, BatchWhitening

#: Hidden widths of the default ``"mlp"`` backbone of this estimator.
_DEFAULT_MLP = {"hidden_dims": (512,)}
#: Largest default embedding dimension (``n_clusters + 2`` below it).
_MAX_DEFAULT_EMBEDDING = 128
#: Samples used to initialise the projection and the centroids.
_INIT_POOL = 4096
#: Optimisation steps of ``max_iter="auto"`` on the frozen encoder (60 epochs of 10,000
#: samples in batches of 256).
AUTO_STEPS = 2400
#: Most epochs of ``max_iter="auto"``, and its epochs end to end.
AUTO_MAX_EPOCHS = 60


def auto_epochs(batches: int) -> int:
    """Epochs of ``max_iter="auto"`` for ``batches`` mini-batches per epoch: about
    :data:`AUTO_STEPS` steps, at least 1 and at most :data:`AUTO_MAX_EPOCHS` epochs.

    Examples
    --------
    >>> auto_epochs(7), auto_epochs(39), auto_epochs(273), auto_epochs(3906)
    (60, 60, 9, 1)
    """
    return int(min(max(round(AUTO_STEPS / max(batches, 1)), 1), AUTO_MAX_EPOCHS))


def fixed_feature_partition(
    features: torch.Tensor, n_clusters: int, random_state: int, predict_on=None
) -> torch.Tensor:
    """Labels of :class:`HardRegClustering` fitted on fixed features.

    The features are the input as they are (no backbone, no neighbour
    embedding); the method trains its whitened linear projection to
    ``n_clusters - 1`` dimensions (as on its own neighbour embedding) and the
    centroids on them with the size-penalised hard assignment, about
    :data:`AUTO_STEPS` steps in its default batches of 256, on the device of
    ``features``. :class:`SeCuClustering` starts from this partition of its
    neighbour embedding.

    Parameters
    ----------
    features : Tensor of shape (n_samples, n_features)
    n_clusters : int
    random_state : int
    predict_on : Tensor of shape (m, n_features) or None, default=None
        Samples to label with the fitted model (nearest centroid) instead of
        ``features``.

    Returns
    -------
    Tensor of int64 labels on the device of ``features``.

    Examples
    --------
    >>> x = torch.cat([torch.randn(200, 3), torch.randn(200, 3) + 8])
    >>> labels = fixed_feature_partition(x, 2, random_state=0)
    >>> bool((labels[:200] == labels[0]).all() and (labels[200:] != labels[0]).all())
    True
    """
    est = HardRegClustering(
        n_clusters,
        backbone=nn.Identity(),
        neighbor_embedding=False,
        embedding_dim=max(min(n_clusters - 1, features.shape[1]), 1),
        random_state=random_state,
        device=features.device,
    )
    # the step count of the frozen encoder's schedule, not the 60 epochs of end-to-end training
    est.set_params(max_iter=auto_epochs(len(features) // est.batch_size))
    est.fit(features.float())
    labels = est.labels_ if predict_on is None else est.predict(predict_on.float())
    return torch.as_tensor(labels, dtype=torch.long, device=features.device)


class HardRegNetwork(FrozenEncoderMixin, nn.Module):
    """Encoder (backbone, linear projection, optional whitening) and K centroids.

    Parameters
    ----------
    backbone : torch.nn.Module
        Maps a batch to features (flattened to ``in_features``).
    in_features : int
        Output dimension of ``backbone``.
    n_clusters : int
        Number of centroids K.
    embedding_dim : int
        Dimension of the embedding (and of the centroids).
    whiten : bool, default=True
        End the encoder with :class:`~skdeepcluster.nn.BatchWhitening`.
    neighbor_dim : int or None, default=None
        With a number, a neighbour-embedding layer (an MLP with one hidden
        layer of 256 units) maps the backbone's features to ``neighbor_dim``
        dimensions before the projection. :meth:`freeze_encoder` then fixes
        the backbone and that layer, which become a fixed feature map.

    Examples
    --------
    >>> net = HardRegNetwork(torch.nn.Identity(), 4, 3, embedding_dim=2)
    >>> net.embed(torch.randn(5, 4)).shape, tuple(net.centroids.shape)
    (torch.Size([5, 2]), (3, 2))
    >>> net = HardRegNetwork(torch.nn.Identity(), 4, 3, embedding_dim=2, neighbor_dim=3)
    >>> net.neighbor_embed(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    >>> net.freeze_encoder()
    >>> [p.requires_grad for p in net.neighbor.parameters()][:1], net.train().neighbor.training
    ([False], False)
    """

    def __init__(
        self,
        backbone: nn.Module,
        in_features: int,
        n_clusters: int,
        embedding_dim: int,
        whiten: bool = True,
        neighbor_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neighbor = None
        if neighbor_dim is not None:
            self.neighbor = MLP(in_features, (NEIGHBOR_EMBEDDING_HIDDEN,), neighbor_dim)
            in_features = neighbor_dim
        self.projection = nn.Linear(in_features, embedding_dim)
        self.whitening = BatchWhitening(embedding_dim) if whiten else None
        self.centroids = nn.Parameter(torch.zeros(n_clusters, embedding_dim))

    def neighbor_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features, through the neighbour-embedding layer when there is one."""
        h = self.backbone(x).flatten(1)
        return h if self.neighbor is None else self.neighbor(h)

    def _encoder_parts(self) -> list[nn.Module]:
        return [m for m in (self.backbone, self.neighbor) if m is not None]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Input of the projection: :meth:`neighbor_embed`, without autograd once the
        encoder is frozen."""
        return self.encoder_features(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding of a batch, the space of the centroids."""
        z = self.projection(self.features(x))
        if self.whitening is not None:
            z = self.whitening(z)
        return z


@torch.no_grad()
def pca_init_(linear: nn.Linear, features: torch.Tensor) -> None:
    """Set a linear layer to the projection onto the top principal components.

    Row ``j`` of the weight becomes the ``j``-th principal direction of
    ``features`` and the bias centres the output; rows beyond the rank of the
    centred features keep their values.

    Examples
    --------
    >>> layer = torch.nn.Linear(3, 1)
    >>> x = torch.tensor([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [4.0, 0.0, 1.0]])
    >>> pca_init_(layer, x)
    >>> layer(x).abs().flatten().tolist()
    [2.0, 0.0, 2.0]
    """
    mean = features.mean(dim=0)
    _, _, vh = torch.linalg.svd(features - mean, full_matrices=False)
    rank = min(linear.out_features, vh.shape[0])
    linear.weight[:rank] = vh[:rank].to(linear.weight.dtype)
    linear.bias[:rank] = -(vh[:rank] @ mean).to(linear.bias.dtype)


class _HardRegTask:
    """One mini-batch of the method, run by the shared training loop.

    With ``stream=True`` (``partial_fit``) and ``keep_counts`` the counts are
    ``running``, carried over from call to call and aged to a window, instead
    of restarting every epoch.
    """

    def __init__(
        self, est: HardRegClustering, views, generator, log_prior, device, stream: bool = False
    ) -> None:
        self.est = est
        self.net: HardRegNetwork = est.module_
        self.views = views
        self.generator = generator
        self.log_prior = log_prior
        k = est.n_clusters
        self.counts = torch.zeros(k, dtype=torch.float64, device=device)
        window = STREAM_WINDOW_PER_CLUSTER * k
        self.running = RunningCounts(k, window, device) if stream and est.keep_counts else None
        self.epoch_sizes = torch.zeros(k, dtype=torch.long, device=device)
        self.context = None
        self._batch_sizes: torch.Tensor | None = None

    # ---------------------------------------------- state (checkpoints, DDP)
    def state_dict(self) -> dict:
        """The running counts (both restart every epoch, except a stream's ``running``)."""
        state = {"counts": self.counts.clone(), "epoch_sizes": self.epoch_sizes.clone()}
        if self.running is not None:
            state["running"] = self.running.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.counts = state["counts"].to(self.counts.device).clone()
        self.epoch_sizes = state["epoch_sizes"].to(self.epoch_sizes.device).clone()
        if self.running is not None and "running" in state:
            self.running.load_state_dict(state["running"])

    def use_distributed(self, context) -> None:
        """Under torch.distributed the counts of every rank's batch part are summed
        after each step (each part is assigned against the counts at its start)."""
        self.context = context

    def on_epoch_start(self, epoch: int) -> None:
        self.counts = torch.zeros_like(self.counts)
        self.epoch_sizes = torch.zeros_like(self.epoch_sizes)

    def on_epoch_end(self, epoch: int) -> dict:
        return {"cluster_sizes": self.epoch_sizes.cpu().tolist()}

    def assign(self, cost: torch.Tensor) -> torch.Tensor:
        """Hard labels of a batch from its detached costs."""
        est = self.est
        if est.assignment == "nearest":
            if self.log_prior is not None:
                cost = cost - self.log_prior.to(cost.dtype)
            return cost.argmin(dim=1)
        counts = self.counts if self.running is None else self.running.counts
        labels, counts = hard_regularized_assignment(
            cost,
            counts=counts if est.keep_counts else None,
            log_prior=self.log_prior,
            method=est.assignment,
        )
        if self.running is not None:
            self.running.add(labels)
        elif est.keep_counts:
            self.counts = counts
        return labels

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        if self.views is not None:
            with full_precision(x.device):
                x = self.views(x, index, self.generator)
            if isinstance(x, (tuple, list)):
                x = torch.cat(list(x))
        z = self.net.embed(x).float()
        with full_precision(z.device):
            cost = hardreg_cost(z, self.net.centroids.float(), self.est.sigma)
            labels = self.assign(cost.detach())
            sizes = torch.bincount(labels, minlength=len(self.epoch_sizes))
            self.epoch_sizes += sizes
            self._batch_sizes = sizes
            loss = hardreg_loss(cost, labels)
        return loss, {"loss": float(loss.detach())}

    def after_optimizer_step(self, epoch: int) -> None:
        if self.context is not None:
            local = self._batch_sizes
            others = self.context.all_reduce_(local.clone(), "sum") - local
            self.epoch_sizes += others
            if self.est.keep_counts and self.est.assignment != "nearest":
                self.counts = self.counts + others.to(self.counts.dtype)


class HardRegClustering(
    NeighborEmbeddingMixin, StagedNetworkMixin, _PartialFitMixin, BaseDeepClustering
):
    """Online deep clustering with hard-regularised assignments (no augmentation).

    An encoder and K learnable centroids are trained together, one
    mini-batch at a time (Mahon & Lukasiewicz, AAAI 2024). Each batch:

    * the cost of every sample for every centroid is its squared Euclidean
      distance in the embedding divided by ``sigma``
      (:func:`~skdeepcluster.losses.hardreg_cost`), the negative
      log-likelihood of an isotropic Gaussian cluster;
    * the batch gets hard labels that minimise the negative log-posterior
      :math:`\\sum_i c_{i y_i} + \\sum_k \\log n_k! - \\sum_i \\log \\pi_{y_i}`
      with the paper's greedy
      (:func:`~skdeepcluster.assignment.hard_regularized_assignment`):
      assignments are made one at a time, cheapest first, each paying
      :math:`c_{ik} + \\log(n_k + 1) - \\log \\pi_k`, so a crowded cluster
      becomes more expensive with every point it receives. This penalty on
      the *hard* cluster sizes is what keeps online clustering from
      collapsing into a single cluster, without data augmentation;
    * the loss is the mean cost of each sample's assigned centroid
      (:func:`~skdeepcluster.losses.hardreg_loss`); its gradient trains the
      encoder and the centroids (each centroid moves only toward the samples
      assigned to it).

    **A neighbour-embedding encoder first** (``neighbor_embedding``, on by
    default for vectors and image arrays). The paper trains its encoder from
    scratch on images. On fixed feature vectors (pixels as vectors, embeddings) an
    encoder trained only by this loss finds little more than k-means does
    (MNIST 10k pixels as vectors, seeds 0-2: ACC 0.39 ± 0.13 against k-means'
    0.54). By default, on vectors, the backbone and a layer to
    ``neighbor_embedding_dim`` outputs are therefore first trained on
    :func:`~skdeepcluster.losses.neighbor_embedding_loss` over pairs of
    points on the input's nearest-neighbour graph (the stage
    :class:`~skdeepcluster.SeCuClustering` and
    :class:`~skdeepcluster.PIPCDRClustering` share), then frozen: the
    method's projection, whitening and centroids are trained on that fixed
    embedding, one sample at a time as in the paper, without augmentation.
    The neighbour embedding places the clusters apart, but k-means on it
    still splits large or elongated ones and merges others; the size penalty
    of the hard assignment is what undoes that: on MNIST 10k (subset 0,
    seed 0) k-means on the embedding reached ACC 0.79 and this method on the
    same embedding 0.94 with its linear projection; with an MLP trained by
    the clustering loss between the embedding and the projection, 0.46 (the
    loss pulls the samples of a cluster together without keeping clusters
    apart), hence the frozen encoder. The measured
    defaults are in ``benchmarks/README.md``; ``neighbor_embedding=False``
    is the paper's end-to-end setting.

    Image arrays get the same stage, with an MLP on the flattened pixels as
    the encoder (``backbone="auto"``), so an image array and its pixel
    vectors give the same fit. Measured on 10,000 MNIST images (seed 0, one
    thread), with a small CNN (:class:`~skdeepcluster.nn.SmallCNN`, one
    convolution of 16, 32 and 64 channels per block): trained end to end as
    in the paper, ACC 0.17 (balanced clusters that do not follow the
    digits; k-means on the pixels 0.54); the same CNN as the stage's encoder,
    ACC 0.83 in 17 minutes; the MLP on the pixels, ACC 0.93 in 3 minutes.
    Image files, streamed from disk, have no neighbour graph in memory and
    train the CNN end to end (``backbone="auto"`` is then ``"cnn"``).

    Choices where the paper is silent or targets images (measured on
    ``load_digits``, 64-dim vectors scaled to [0, 1], mean over seeds 0-4;
    the defaults reach ACC 0.82, NMI 0.79, ARI 0.72, k-means 0.79, 0.74, 0.67):

    * **Whitened embedding** (``whiten=True``). The loss is minimised by
      pulling the samples of a cluster together, which an encoder can also
      do by concentrating the whole embedding on a few directions, where
      clusters then merge: with each output feature only standardised
      (batch normalisation) the trained 32-dim embeddings of two seeds put
      over 90% of their variance on 2-3 directions, for 10 clusters. The encoder therefore ends with
      :class:`~skdeepcluster.nn.BatchWhitening` (zero mean, identity
      covariance over the batch), so that pulling clusters together means
      separating them in every direction, as in linear discriminant
      analysis; K-1 directions separate K clusters, hence the default
      ``n_clusters + 2`` dimensions. The paper's plain linear output
      (``whiten=False``) reaches ACC 0.75, NMI 0.74, ARI 0.64. Whitening also
      keeps the embedding from shrinking to a point; the size penalty keeps
      every *cluster* in use: without whitening, nearest-centroid
      assignments (``assignment="nearest"``) collapse into one or a few
      clusters where the greedy keeps all of them. With whitening the
      penalty still helps (nearest-centroid: ACC 0.79, NMI 0.78, ARI 0.69).
    * **Projection initialised by PCA** (``projection_init="pca"``): a random
      projection of the random backbone features to a few dimensions loses
      most of the cluster structure (k-means NMI 0.74-0.75 on the features,
      0.54-0.59 after the projection); starting from the top principal
      directions of the initial features keeps it (a random projection: ACC
      0.69, NMI 0.69, ARI 0.56).
    * **Centroids initialised by k-means++** seeding on the initial
      embeddings of up to 4096 training samples (the authors' code starts
      them at the embeddings of K training samples, ``init="random"``: ACC
      0.71, NMI 0.71, ARI 0.59).
    * **Optimiser**: Adam, as in the authors' code, with a larger constant
      learning rate for the centroids than for the encoder.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    sigma : float, default=10.0
        Variance :math:`\\sigma` of the clusters in the embedding: the costs
        are squared distances divided by ``sigma``. It sets how much distance
        one step of the size penalty :math:`\\log(n_k + 1)` is worth: a large
        ``sigma`` balances the clusters strongly, a small one makes the
        assignment nearly nearest-centroid. With the whitened embedding
        (every direction of unit variance) the scale does not depend on the
        data; 10 was chosen on digits (3 and 30 gave similar results).
    prior : array-like of shape (n_clusters,) or None, default=None
        Prior probabilities :math:`\\pi_k` of the clusters (positive, summing
        to 1); ``None`` is uniform. Cluster ``k`` is then expected to hold a
        fraction ``prior[k]`` of the data, e.g. for known imbalanced classes
        (the paper's imbalanced experiments). The size penalty still applies.
    keep_counts : bool, default=False
        Where the cluster sizes :math:`n_k` of the greedy start. ``False``
        (the paper): from zero in every batch, so each batch is regularised
        on its own. ``True``: from the sizes accumulated over the previous
        batches of the current epoch (reset at every epoch; the authors'
        ``keep_scores`` option), which balances the epoch rather than each
        batch and weakens the penalty as the counts grow.
    assignment : {"greedy", "exact", "nearest"}, default="greedy"
        ``"greedy"``: the paper's algorithm. ``"exact"``: the exact minimiser
        of the same objective (slower; for small batches and references).
        ``"nearest"``: no size penalty, each sample goes to its nearest
        centroid (the MAP under ``prior``): the unregularised baseline of the
        paper, which can collapse.
    init : {"k-means++", "random"}, default="k-means++"
        Initial centroids: k-means++ seeding among the initial embeddings of
        (up to 4096) training samples, or the embeddings of K random training
        samples.
    embedding_dim : int or None, default=None
        Dimension of the embedding; ``None`` uses ``n_clusters + 2``, at most
        the number of input features and at most 128, and on the
        neighbour-embedding encoder ``n_clusters - 1`` (at most
        ``neighbor_embedding_dim``, at least 1): the scatter between K cluster
        means spans K - 1 directions, and every further whitened direction
        is within-cluster spread blown up to the same variance. On the
        encoder's embedding K + 2 dimensions lost clusters that K - 1 kept
        (ARI, seeds 0 and 1: 150 2-D blobs 0.43 and 0.90 against 0.94 and
        0.96; wine 0.43 and 0.09 against 0.82 and 0.80; breast cancer, K = 2,
        0.03 and 0.01 against 0.59 and 0.55), at some cost on MNIST 10k
        (ACC on one fixed embedding, seeds 0 and 1: 0.94 and 0.90 with 10
        dimensions, 0.90 and 0.86 with 9). Whitening makes every
        direction of the embedding count as much as any other, so directions
        that carry no structure only add noise to the distances: on 2-D
        blobs with 3 clusters a 5-dim embedding lost them (ARI 0.23-0.96 over
        four seeds) where 2 or 3 dims found them (ARI 0.90-0.94). Whitening
        also needs ``batch_size`` comfortably larger than the embedding.
    whiten : bool, default=True
        Whiten the embedding over each batch (see above). ``False`` is the
        paper's plain linear output.
    projection_init : {"pca", "random"}, default="pca"
        Initialise the projection by the top principal directions of the
        backbone's initial features, or keep PyTorch's random initialisation.
    max_iter : int or "auto", default="auto"
        Training epochs. ``"auto"``: 60 epochs when the network trains end to
        end; on the frozen neighbour-embedding encoder (vectors by default),
        about 2,400 optimisation steps, at most 60 epochs (:func:`auto_epochs`):
        60 epochs up to about 10,000 samples, fewer above. There only the
        projection and the centroids learn, and longer training lost clusters
        it had found: on the frozen neighbour embedding of all 70,000 MNIST
        digits (seed 0) 9 epochs (2,457 steps) gave ACC 0.943, 20 epochs 0.855
        and 60 epochs (16,380 steps) 0.830, ending with two clusters that
        each held half of the 5s and half of the 6s; on 10,000 digits 60
        epochs are 2,340 steps.
    batch_size : int, default=256
        Mini-batch size (paper: 256). The last incomplete batch of an epoch is
        dropped (the order is reshuffled every epoch), so the batch statistics
        of the whitening are never computed from a handful of samples.
    lr : float, default=3e-3
        Learning rate of the encoder (Adam).
    center_lr : float, default=0.03
        Learning rate of the centroids (Adam).
    weight_decay : float, default=0.0
        L2 weight decay of the encoder.
    backbone : str or torch.nn.Module, default="auto"
        Feature extractor before the projection: ``"auto"`` is ``"mlp"`` for
        vectors and for image arrays with the neighbour-embedding stage (on
        the flattened pixels), and ``"cnn"``
        (:class:`~skdeepcluster.nn.SmallCNN`) for images trained end to end
        (image files, or ``neighbor_embedding=False``); other names are listed
        in :data:`skdeepcluster.nn.BACKBONES`.
    backbone_params : dict or None, default=None
        Keyword arguments of the named backbone; ``None`` gives the MLP one
        hidden layer of 512 units (a second layer scored lower on digits).
    augment : "auto", None or callable, default=None
        The method needs no augmentation and by default trains on the
        samples themselves (``"auto"`` means the same). The parameter exists
        for uniformity with the other estimators: a callable
        ``f(x, index, generator)`` returns the batch to train on, or a tuple
        of views that are stacked and assigned as separate samples.
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
        Continue training the fitted network on the next ``fit`` (the PCA
        and k-means++ initialisation is skipped).
    partial_fit_epochs : int, default=1
        Passes over each chunk given to :meth:`partial_fit` (see Notes).
    neighbor_embedding : "auto" or bool, default="auto"
        Train the backbone and a neighbour-embedding layer (an MLP with one
        hidden layer of 256 units to ``neighbor_embedding_dim`` outputs) on
        :func:`~skdeepcluster.losses.neighbor_embedding_loss` over pairs of
        neighbours (:func:`~skdeepcluster.augment.default_vector_views`) before
        clustering, then freeze them (see above). ``"auto"``: on for data in
        memory (vectors and image arrays), off for image files, which have no
        neighbour graph (``True`` on files raises a ValueError).
        ``partial_fit`` never has the stage.
    neighbor_embedding_dim : int, default=10
        Width of the neighbour embedding, the input of the projection (the
        default ``embedding_dim`` is then at most this width).
    neighbor_embedding_steps : int, default=2500
        Optimisation steps of the stage (Adam, step size 0.001, batches of 512
        pairs; at most 200 epochs).
    neighbor_embedding_dof : float, default=1.0
        Degrees of freedom of the stage's Student-t kernel (1: t-SNE's Cauchy kernel).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample under the final model: its nearest
        centroid, i.e. ``predict`` on the training data (the assignment the
        paper evaluates). The regularised assignments of the last epoch were
        made with parameters that changed during the epoch, and in batches,
        so they are not one consistent labeling of the data.
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
        The centroids, in the embedding space (see :meth:`transform`).
    module_ : HardRegNetwork
        The trained network, centroids included.
    n_iter_ : int
        Training epochs run.
    history_ : list of dict
        Per epoch: mean loss and the sizes of the regularised training
        assignments (``cluster_sizes``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string feature names.

    Notes
    -----
    :meth:`predict` gives the nearest centroid, :meth:`predict_proba` the
    softmax of the negative costs, :math:`p(k \\mid z) \\propto
    \\exp(-\\lVert z - \\mu_k \\rVert^2 / \\sigma)`: the posterior of the
    Gaussian clusters under equal priors (the size penalty and ``prior``
    regularise the training batches only). :meth:`transform` returns the
    (whitened) embedding.

    **Streams** (:meth:`partial_fit`). The method assigns each mini-batch as
    it arrives, so a stream changes little: the first call initialises the
    projection (PCA) and the centroids (k-means++) on its chunk, and every
    call trains ``partial_fit_epochs`` passes over its chunk with the same
    Adam optimiser, whose moments carry over. A chunk is cut into equal
    batches of about ``batch_size`` (one batch when it is smaller), of
    which the last incomplete one is dropped as in ``fit``: fewer samples
    than there are batches sit out a pass. With ``keep_counts=False`` (the
    default) the counts start from zero in every batch and nothing else is
    kept. With ``keep_counts=True`` they cannot restart every epoch, which a
    stream does not have, nor grow for ever, which would fade the penalty:
    they carry over from call to call, aged to a window of
    ``100 * n_clusters`` labels (scaled down as new labels arrive), so the
    penalty sees cluster sizes of about 100, as in an epoch of that many
    samples per cluster. ``labels_`` are the predictions on the last chunk.

    References
    ----------
    .. [1] L. Mahon and T. Lukasiewicz, "Hard Regularization to Prevent Deep
       Online Clustering Collapse without Data Augmentation", AAAI 2024,
       arXiv:2303.16521.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepcluster import HardRegClustering
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> est = HardRegClustering(n_clusters=3, max_iter=5, random_state=0, device="cpu")
    >>> labels = est.fit_predict(X)
    >>> labels.shape, est.cluster_centers_.shape
    ((200,), (3, 2))
    """

    _parameter_constraints: dict = {
        **BaseDeepClustering._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "prior": ["array-like", None],
        "keep_counts": ["boolean"],
        "assignment": [StrOptions({"greedy", "exact", "nearest"})],
        "init": [StrOptions({"k-means++", "random"})],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "whiten": ["boolean"],
        "projection_init": [StrOptions({"pca", "random"})],
        "center_lr": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "partial_fit_epochs": [Interval(Integral, 1, None, closed="left")],
        **NeighborEmbeddingMixin._neighbor_embedding_constraints,
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        sigma=10.0,
        prior=None,
        keep_counts=False,
        assignment="greedy",
        init="k-means++",
        embedding_dim=None,
        whiten=True,
        projection_init="pca",
        max_iter="auto",
        batch_size=256,
        lr=3e-3,
        center_lr=0.03,
        weight_decay=0.0,
        backbone="auto",
        backbone_params=None,
        augment=None,
        device="auto",
        amp="auto",
        random_state=None,
        verbose=0,
        checkpoint_dir=None,
        checkpoint_every=1,
        warm_start=False,
        partial_fit_epochs=1,
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
        self.sigma = sigma
        self.prior = prior
        self.keep_counts = keep_counts
        self.assignment = assignment
        self.init = init
        self.embedding_dim = embedding_dim
        self.whiten = whiten
        self.projection_init = projection_init
        self.center_lr = center_lr
        self.partial_fit_epochs = partial_fit_epochs
        self.neighbor_embedding = neighbor_embedding
        self.neighbor_embedding_dim = neighbor_embedding_dim
        self.neighbor_embedding_steps = neighbor_embedding_steps
        self.neighbor_embedding_dof = neighbor_embedding_dof

    # ----------------------------------------------------------------- checks
    def _check_data_vs_params(self, X: np.ndarray) -> None:
        super()._check_data_vs_params(X)
        self._validated_prior()

    def _validated_prior(self) -> np.ndarray | None:
        """The prior as a float64 array, or ``None``; ValueError when invalid."""
        if self.prior is None:
            return None
        try:
            prior = np.asarray(self.prior, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prior must be an array of probabilities: {exc}") from exc
        if prior.shape != (self.n_clusters,):
            raise ValueError(
                f"prior must hold one probability per cluster, shape ({self.n_clusters},); "
                f"got shape {prior.shape}."
            )
        if not np.all(np.isfinite(prior)) or np.any(prior <= 0):
            raise ValueError("prior must hold positive, finite probabilities.")
        if not np.isclose(prior.sum(), 1.0, rtol=0, atol=1e-6):
            raise ValueError(f"prior must sum to 1, got {prior.sum():.6g}.")
        return prior

    def _embedding_dim(self, n_features: int, neighbor_embedding: bool = False) -> int:
        if self.embedding_dim is not None:
            return int(self.embedding_dim)
        if neighbor_embedding:
            return max(min(self.n_clusters - 1, n_features), 1)
        return min(self.n_clusters + 2, n_features, _MAX_DEFAULT_EMBEDDING)

    # ----------------------------------------------------------------- module
    _default_mlp_params = _DEFAULT_MLP

    def _uses_neighbor_embedding(self, data) -> bool:
        """``"auto"`` is on for data in memory (vectors and image arrays): the stage's
        neighbour views train the encoder only, the clustering itself still sees the
        samples alone. Image files, streamed from disk, have no neighbour graph."""
        if self.neighbor_embedding == "auto":
            return as_training_data(data).tensor is not None
        return bool(self.neighbor_embedding)

    def _network(self, data: TrainingData, neighbor_embedding: bool) -> HardRegNetwork:
        data = as_training_data(data)
        backbone = None
        if neighbor_embedding and isinstance(self.backbone, str) and self.backbone == "auto":
            backbone = "mlp"  # the neighbour-embedding encoder is an MLP, on images too
        backbone, width = self._make_backbone(data, backbone)
        if neighbor_embedding:
            n_inputs = self.neighbor_embedding_dim
            neighbor_dim = self.neighbor_embedding_dim
        else:
            n_inputs, neighbor_dim = int(np.prod(data.sample_shape)), None
        return HardRegNetwork(
            backbone,
            width,
            self.n_clusters,
            self._embedding_dim(n_inputs, neighbor_embedding),
            self.whiten,
            neighbor_dim,
        )

    @torch.no_grad()
    def _initialise(self, data: TrainingData, generator: torch.Generator) -> None:
        """PCA projection (optional), then centroids among the initial embeddings.

        The pool of up to 4096 random samples goes through the network in one
        batch for vectors and in mini-batches of ``batch_size`` for images
        (streamed from disk for image files).
        """
        net = self.module_
        pool = torch.randperm(len(data), generator=generator)[:_INIT_POOL]
        chunk = len(pool) if data.is_vector else self.batch_size
        if self.projection_init == "pca":
            features = data.map(lambda x: net.features(x).float(), chunk, indices=pool)
            pca_init_(net.projection, features)
        z = data.map(lambda x: net.embed(x).float(), chunk, indices=pool)
        k = self.n_clusters
        if self.init == "random":
            seeds = z[:k]
        else:
            seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
            centers, _ = kmeans_plusplus(z.cpu().double().numpy(), k, random_state=seed)
            seeds = torch.as_tensor(centers, dtype=z.dtype, device=z.device)
        net.centroids.copy_(seeds)

    # ------------------------------------------------------------------ train
    def _setup_training(self, data: torch.Tensor, generator: torch.Generator, stream=False):
        """Loader, task and optimiser of a fit or a partial_fit call (after initialising
        the network when it is new).

        A stream's chunk is cut into equal batches of about ``batch_size`` (one
        batch when the chunk is smaller), so that dropping the last incomplete
        batch, which keeps the whitening statistics sound, leaves out fewer
        samples than there are batches instead of up to a whole batch.
        """
        data = as_training_data(data)
        batch_size = self.batch_size
        if stream:
            batch_size = len(data) // max(1, round(len(data) / self.batch_size))
        loader = data.loader(batch_size, shuffle=True, generator=generator, drop_last=True)
        views = self._make_views(data)
        if not self._restores_state():
            self._initialise(data, generator)
        prior = self._validated_prior()
        log_prior = None if prior is None else torch.as_tensor(np.log(prior), device=data.device)
        task = _HardRegTask(self, views, generator, log_prior, data.device, stream)
        net = self.module_
        encoder = [
            p for name, p in net.named_parameters() if name != "centroids" and p.requires_grad
        ]
        optimizer = torch.optim.Adam(
            [
                {"params": encoder, "lr": self.lr, "weight_decay": self.weight_decay},
                {"params": [net.centroids], "lr": self.center_lr},
            ]
        )
        return loader, task, optimizer

    def _train(self, data, generator, hooks):
        data = as_training_data(data)
        history = []
        net = self.module_
        if net.neighbor is not None:
            history += self._frozen_encoder_stage(data, generator, hooks)
        loader, task, optimizer = self._setup_training(data, generator)
        epochs = self._epochs(len(loader))
        history += self._run_training(
            task,
            loader,
            range(epochs),
            optimizer,
            None,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        self.labels_ = self._predicted_labels(data)
        self.cluster_centers_ = self.module_.centroids.detach().cpu().numpy().copy()
        self.n_iter_ = epochs
        return history

    def _epochs(self, batches: int) -> int:
        """Training epochs of ``fit`` for ``batches`` mini-batches per epoch."""
        if self.max_iter != "auto":
            return int(self.max_iter)
        return auto_epochs(batches) if self.module_.frozen else AUTO_MAX_EPOCHS

    def _train_chunk(self, data, generator, hooks):
        """One ``partial_fit`` call: passes over the chunk; ``labels_`` are its predictions."""
        loader, task, optimizer = self._setup_training(data, generator, stream=True)
        history = self._run_training(
            task,
            loader,
            self._stream_epochs(),
            optimizer,
            None,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        self.labels_ = self._predicted_labels(data)
        self.cluster_centers_ = self.module_.centroids.detach().cpu().numpy().copy()
        return history

    @torch.no_grad()
    def _set_single_center(self, center: torch.Tensor) -> None:
        self.module_.centroids.copy_(center.to(self.module_.centroids))
        self.cluster_centers_ = center.float().cpu().numpy().copy()

    def _cluster_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        return -hardreg_cost(embedding.float(), self.module_.centroids.float(), self.sigma)
