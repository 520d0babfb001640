"""EntropyClustering: discriminative entropy clustering by self-labeling (Zhang & Boykov)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from skdeepcluster._training import (
    GroupSchedule,
    autocast_context,
    full_precision,
    warmup_cosine,
)
from skdeepcluster.assignment import fairness_em, fairness_objective
from skdeepcluster.base import BaseDeepClustering
from skdeepcluster.cluster._neighbor_embedding import (
    NEIGHBOR_EMBEDDING_HIDDEN,
    FrozenEncoderMixin,
    NeighborEmbeddingMixin,
)
from skdeepcluster.data import TensorBatchLoader, as_training_data
from skdeepcluster.losses import self_labeling_loss
from skdeepcluster.nn import BACKBONES, MLP, build_backbone

#: Hidden widths of the MLP of the neighbour-embedding encoder (``backbone=None``).
_NEIGHBOR_BACKBONE = {"hidden_dims": (256, 256)}


class EntropyNetwork(FrozenEncoderMixin, nn.Module):
    """Softmax clustering model: optional fixed encoder, standardisation, optional
    backbone, linear head(s).

    The head maps the backbone's features to ``n_heads`` blocks of
    ``n_clusters`` logits; each block is an independent clustering head. After
    training :meth:`keep_head` reduces the module to the selected head.

    Parameters
    ----------
    backbone : torch.nn.Module or None
        Feature extractor; ``None`` puts the head directly on the input.
    in_features : int
        Width of the backbone's output (of the input when there is no backbone).
    n_clusters : int
        Number of clusters K.
    n_heads : int, default=1
        Number of clustering heads.
    shift, scale : Tensor of shape (n_input_features,), optional
        Fixed input standardisation ``(x - shift) / scale`` (buffers, not
        trained); identity when omitted. With ``neighbor`` they apply to its
        output.
    neighbor : torch.nn.Module or None, default=None
        Encoder trained by the neighbour-embedding stage and then frozen
        (:meth:`freeze_encoder`): the fixed feature map the head sits on.

    Examples
    --------
    >>> net = EntropyNetwork(None, 4, n_clusters=3, n_heads=2)
    >>> net(torch.randn(5, 4)).shape
    torch.Size([5, 2, 3])
    >>> net.keep_head(1)
    >>> net(torch.randn(5, 4)).shape, net.embed(torch.randn(5, 4)).shape
    (torch.Size([5, 1, 3]), torch.Size([5, 3]))
    >>> net = EntropyNetwork(None, 2, n_clusters=3, neighbor=torch.nn.Linear(4, 2))
    >>> net.features(torch.randn(5, 4)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        backbone: nn.Module | None,
        in_features: int,
        n_clusters: int,
        n_heads: int = 1,
        shift: torch.Tensor | None = None,
        scale: torch.Tensor | None = None,
        neighbor: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.neighbor = neighbor
        self.has_backbone = backbone is not None
        self.backbone = backbone if backbone is not None else nn.Identity()
        self.n_clusters = int(n_clusters)
        self.n_heads = int(n_heads)
        self.register_buffer("shift", shift)
        self.register_buffer("scale", scale)
        self.head = nn.Linear(int(in_features), self.n_clusters * self.n_heads)

    def _encoder_parts(self) -> list[nn.Module]:
        return [] if self.neighbor is None else [self.neighbor]

    def neighbor_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the neighbour-embedding encoder (the input when there is none)."""
        return x if self.neighbor is None else self.neighbor(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Encoded, standardised input through the backbone: the head's input."""
        x = self.encoder_features(x)
        if self.shift is not None:
            x = (x - self.shift) / self.scale
        return self.backbone(x).flatten(1)

    def _head(self, features: torch.Tensor) -> torch.Tensor:
        """The linear heads; in evaluation mode in float64, rounded back, so that a
        sample's logits do not depend on the other rows of its batch (the float32
        matrix product rounds a row differently by its position in the batch)."""
        if self.training or torch.is_autocast_enabled(features.device.type):
            return self.head(features)
        weight, bias = self.head.weight.double(), self.head.bias.double()
        return torch.nn.functional.linear(features.double(), weight, bias).to(features.dtype)

    def logits_from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of every head from head-input features, ``(batch, n_heads, n_clusters)``."""
        return self._head(features).view(len(features), self.n_heads, self.n_clusters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every head, shape ``(batch, n_heads, n_clusters)``."""
        return self.logits_from_features(self.features(x))

    def head_weight(self, head: int) -> torch.Tensor:
        """Weights :math:`v` of one head, shape ``(n_clusters, in_features)``."""
        return self.head.weight[head * self.n_clusters : (head + 1) * self.n_clusters]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features, or the (first) head's logits when there is no backbone."""
        z = self.features(x)
        return z if self.has_backbone else self.cluster_logits(z)

    def cluster_logits(self, features: torch.Tensor) -> torch.Tensor:
        """Logits of the first head from head-input features."""
        return self._head(features)[:, : self.n_clusters]

    @torch.no_grad()
    def keep_head(self, head: int) -> None:
        """Drop every head but ``head``."""
        rows = slice(head * self.n_clusters, (head + 1) * self.n_clusters)
        new = nn.Linear(self.head.in_features, self.n_clusters).to(self.head.weight.device)
        new.weight.copy_(self.head.weight[rows])
        new.bias.copy_(self.head.bias[rows])
        self.head = new
        self.n_heads = 1


@torch.no_grad()
def _predict_all(
    net: EntropyNetwork, data: torch.Tensor, chunk: int = 4096, amp_dtype=None, forward=None
) -> torch.Tensor:
    """Softmax predictions ``(n_heads, N, K)`` of the whole data set in evaluation mode
    (``forward(batch)`` gives the logits, ``net`` by default)."""
    forward = net if forward is None else forward
    was_training = net.training
    net.eval()
    parts = []
    for s in range(0, len(data), chunk):
        with autocast_context(data.device, amp_dtype):
            logits = forward(data[s : s + chunk])
        parts.append(logits.float().softmax(-1))
    out = torch.cat(parts)
    net.train(was_training)
    return out.transpose(0, 1).contiguous()


class _EntropyTask:
    """One optimisation step: full-data EM for the pseudo-labels, then the network.

    ``memory[h]`` holds the latest prediction of head ``h`` for every training
    sample (all of them computed before the first step, then overwritten by each
    mini-batch's predictions). Before each step the pseudo-labels of the whole
    data set are re-estimated by :func:`fairness_em` on that memory, warm-started
    from the previous step's pseudo-labels; the network then takes one step on
    the self-labeling loss of the batch.

    ``forward`` maps a batch of ``data`` to the logits: the network, or its
    head alone when ``data`` are the fixed features of a frozen encoder.
    """

    def __init__(self, est: EntropyClustering, data, prior, views, generator, forward=None) -> None:
        self.est = est
        self.net: EntropyNetwork = est.module_
        self.forward = self.net if forward is None else forward
        self.prior = prior
        self.views = views
        self.generator = generator
        self.memory = _predict_all(
            self.net, data, amp_dtype=est._amp_dtype(data.device), forward=self.forward
        )
        self.pseudo: list[torch.Tensor | None] = [None] * self.net.n_heads
        self.context = None

    # ---------------------------------------------- state (checkpoints, DDP)
    def state_dict(self) -> dict:
        """Every head's stored predictions and pseudo-labels."""
        return {"memory": self.memory.clone(), "pseudo": [p for p in self.pseudo]}

    def load_state_dict(self, state: dict) -> None:
        device = self.memory.device
        self.memory = state["memory"].to(device).clone()
        self.pseudo = [None if p is None else p.to(device).clone() for p in state["pseudo"]]

    def keep_head(self, head: int) -> None:
        """Keep the state of ``head`` only (as the network does after training)."""
        self.memory = self.memory[head : head + 1].clone()
        self.pseudo = self.pseudo[head : head + 1]

    def use_distributed(self, context) -> None:
        """Under torch.distributed every rank stores all ranks' batch predictions before
        the EM, so the EM runs on the same memory everywhere."""
        self.context = context

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        if self.views is not None:
            with full_precision(x.device):
                x = self.views(x, index, self.generator)
        logits = self.forward(x).float()
        with full_precision(logits.device):
            return self._objective(index, logits.softmax(-1))

    def _objective(self, index: torch.Tensor, probs: torch.Tensor):
        """Pseudo-labels by EM over the memory, and the self-labeling loss of the batch."""
        est, net = self.est, self.net
        if self.context is None:
            self.memory[:, index] = probs.detach().transpose(0, 1)
        else:
            every, every_probs = self.context.gather_batch(index, probs.detach())
            self.memory[:, every] = every_probs.transpose(0, 1)
        loss = probs.new_zeros(())
        for h in range(net.n_heads):
            y = fairness_em(
                self.memory[h],
                prior=self.prior,
                lam=est.lam,
                n_iters=est.em_max_iter,
                init=self.pseudo[h],
            )
            self.pseudo[h] = y
            loss = loss + self_labeling_loss(
                probs[:, h],
                y[index],
                net.head_weight(h),
                prior=self.prior,
                lam=est.lam,
                gamma=est.gamma,
                ybar=y.mean(dim=0),
            )
        return loss, {"loss": float(loss.detach()) / net.n_heads}

    def after_optimizer_step(self, epoch: int) -> None:
        pass

    def on_epoch_end(self, epoch: int) -> dict:
        objectives = self.objectives(self.memory, self.pseudo)
        best = int(np.argmin(objectives))
        sizes = torch.bincount(self.memory[best].argmax(1), minlength=self.net.n_clusters)
        return {"objective": objectives[best], "cluster_sizes": sizes.cpu().tolist()}

    def objectives(self, probs: torch.Tensor, pseudo: list) -> list[float]:
        """Self-labeling objective of each head for predictions ``probs`` and labels ``pseudo``."""
        est, net = self.est, self.net
        prior = self.prior.to(probs.dtype)
        return [
            fairness_objective(probs[h], pseudo[h].to(probs.dtype), prior, est.lam)
            + est.gamma * float(net.head_weight(h).detach().pow(2).sum())
            for h in range(net.n_heads)
        ]


class EntropyClustering(NeighborEmbeddingMixin, BaseDeepClustering):
    """Discriminative entropy clustering with self-labeling (Zhang & Boykov).

    A softmax model :math:`\\sigma(x) = \\mathrm{softmax}(v^\\top f(x) + b)` -- a
    linear head :math:`v, b` on fixed features (``backbone=None``, the paper's
    fixed-feature setting) or on a trained backbone :math:`f` -- is fitted by
    minimising the self-labeling loss of the paper

    .. math::

        \\frac1N \\sum_i H(\\sigma_i, y_i) + \\lambda\\, KL(u \\,\\|\\, \\bar y)
        + \\gamma \\|v\\|^2

    over the network and soft pseudo-labels :math:`y_i`: the reverse
    cross-entropy :math:`H(\\sigma, y) = -\\sum_k \\sigma_k \\log y_k` (decisive
    predictions that agree with the pseudo-labels, robust to wrong ones), the
    strong fairness :math:`KL(u \\| \\bar y)` of the mean pseudo-label
    :math:`\\bar y` to the prior :math:`u` (no cluster's pseudo-label mass can
    vanish), and the margin term on the head's weights. See
    :mod:`skdeepcluster.losses._entropy` and
    :func:`~skdeepcluster.assignment.fairness_em`.

    Training alternates, at every optimisation step:

    * **pseudo-labels** of the *whole* training set by the EM solver
      :func:`~skdeepcluster.assignment.fairness_em` (its cost is linear in N),
      from the latest prediction of every sample (kept in memory, refreshed by
      each mini-batch) and warm-started from the previous step's pseudo-labels;
    * **network**: one Adam step on the loss of the mini-batch.

    **Fixed features from a neighbour embedding** (``neighbor_embedding``, on
    by default with ``backbone=None``, for vectors and image arrays). The
    paper reports the linear model on fixed features; on raw pixels it is
    below k-means (MNIST 10k as vectors, seeds 0-2: ACC 0.49 against 0.54). An
    encoder (an
    MLP with two hidden layers of 256 units and a layer to
    ``neighbor_embedding_dim`` outputs) is therefore first trained on
    :func:`~skdeepcluster.losses.neighbor_embedding_loss` over pairs of
    neighbours on the input's nearest-neighbour graph (the stage
    :class:`~skdeepcluster.SeCuClustering` shares), then frozen; the linear
    model of the paper is fitted on its embedding, computed once. The
    embedding is not standardised: its units are those of the stage's
    Student-t kernel, in which neighbours lie about one unit apart whatever
    the input's scale, and standardising it by its overall spread (set by
    the distances between clusters) shrank the clusters and left one empty
    on digits (seeds 0-4: ACC 0.79-0.87 standardised, 0.93-0.96 not).
    ``neighbor_embedding=False`` fits the linear model on the standardised
    input, as before. Image arrays are flattened by the MLP, so an image
    array and its pixel vectors give the same fit.

    The paper does not fix how often the pseudo-labels are re-estimated nor
    over which samples. In prototype runs on ``load_digits`` (one head, full
    batch, 8 seeds) re-estimating them over the whole data set before every
    step reached ACC 0.77, re-estimating them only every 15 steps 0.68, and EM
    on each mini-batch of 128 alone (whose fairness then only sees 128
    samples) 0.66. The default is one full batch per step; with
    ``batch_size`` set, the other samples' predictions in memory are at most
    one epoch old.

    Entropy clustering has local minima. Like ``KMeans(n_init=...)`` the
    estimator trains ``n_heads`` heads from independent random initialisations
    side by side and keeps the one whose final self-labeling objective on the
    training data is lowest; on digits the objective ranks the solutions
    consistently with their accuracy.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    prior : array-like of shape (n_clusters,) or None, default=None
        Target cluster proportions :math:`u` of the fairness term (non-negative,
        summing to 1); ``None`` is uniform. Cluster ``k`` is the one whose mean
        pseudo-label is held near ``prior[k]``. Set it for data whose clusters
        are known to be imbalanced; a cluster with :math:`u_k = 0` may be left
        empty. Fairness acts on the soft pseudo-labels: where the data allow no
        decisive split of the required size (e.g. a 10% tail of one Gaussian)
        the pseudo-label mass is spread thinly instead and the cluster of
        ``labels_`` can stay smaller than the prior, or empty.
    lam : float, default=10.0
        Weight :math:`\\lambda` of the strong fairness term. With
        :math:`\\lambda = 1` the pseudo-labels' mass moves only about half-way
        from the predictions' toward :math:`u`; on digits clusters are then
        left empty (ACC 0.76 against 0.79-0.82 for 3 to 30). ``lam=0`` removes
        fairness: the pseudo-labels equal the predictions, the loss is plain
        entropy minimisation and clusters die out.
    gamma : float, default=0.005
        Weight :math:`\\gamma` of the margin term :math:`\\|v\\|^2` on the linear
        head's weights (the bias is not penalised). Without it a softmax model
        can make every training point decisive with arbitrarily narrow margins.
        The value depends on the scale of the head's input (standardised by
        default). On digits 0.002-0.03 give ACC 0.78-0.82 and 0.1 is too strong
        (0.67). Larger values make decisive predictions expensive, and the
        cluster sizes then follow the prior less closely: on 2-D blobs of 300,
        150 and 50 points with the matching prior, 0.005 recovers the three
        sizes while 0.02 merges the smallest blob into the largest.
    n_heads : int, default=8
        Number of heads trained side by side from independent random
        initialisations; the one with the lowest final objective is kept. With
        ``backbone=None`` they share nothing, so this is the number of restarts
        (the counterpart of ``KMeans``'s ``n_init``); with a backbone they share
        it (the sub-heads of IIC [2]_). On digits a single head reaches a good
        solution about half of the time; with 8 heads each of 10 seeds reached
        ACC >= 0.78. The cost of a step grows linearly with ``n_heads``.
    standardize : bool, default=True
        Without the neighbour-embedding encoder: centre each input feature and
        scale it to unit variance (statistics of
        the training data, stored in the module; constant features are only
        centred) before the backbone or the head. For the linear model this is
        a reparametrisation, but it sets the geometry of the margin term and of
        the optimiser: on raw digits pixels (in [0, 1]) all 64 logits share one
        large positive offset and training collapses onto few clusters.
    em_max_iter : int, default=10
        Maximum EM updates per pseudo-label estimation. Warm-started from the
        previous step's pseudo-labels, the EM only has to follow the slowly
        moving predictions; 10 updates per step gave the same results on
        digits as 100 in about two thirds of the fit time. The final
        pseudo-labels used to select the head are computed to convergence.
    max_iter : int, default=200
        Number of training epochs (passes over the data; with the default full
        batch, optimisation steps).
    batch_size : int or None, default=None
        Mini-batch size of the network updates; ``None`` uses the whole data
        set at every step. Set it for data that do not fit in one batch.
    lr : float, default=0.02
        Step size of Adam, constant over the first half of training and
        cosine-decayed to 0 over the second. Adam was chosen on digits, where
        SGD with momentum reached clearly worse optima (ACC 0.68 against 0.77
        for one head).
    weight_decay : float, default=0.0
        L2 weight decay of the backbone (Adam's coupled L2), the paper's norm
        regularisation of the feature extractor's parameters; the head is
        regularised by ``gamma`` instead.
    backbone : None, str or torch.nn.Module, default=None
        ``None``: the linear model of the paper, on the frozen neighbour
        embedding (``neighbor_embedding="auto"``) or, with
        ``neighbor_embedding=False``, on the standardised input features,
        flattened for images. A name from :data:`skdeepcluster.nn.BACKBONES` (``"mlp"``,
        or ``"cnn"`` and the ResNets for image arrays) or a module mapping a
        batch of inputs to features: the backbone is trained together with the
        head. There is no ``"auto"``: the default is the linear model.
    backbone_params : dict or None, default=None
        Keyword arguments of the named backbone, e.g. ``{"hidden_dims": (256,)}``.
    augment : "auto", None or callable, default=None
        The self-labeling loss has no views, so ``"auto"`` and ``None`` train on
        the samples themselves. A callable ``f(x, index, generator) -> x_view``
        replaces each mini-batch by a random view; if it has a ``fit`` method it
        is called once with the training tensor.
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
        Continue training the fitted model on the next ``fit``; only the head
        kept by the previous fit is trained further.
    neighbor_embedding : "auto" or bool, default="auto"
        Fit the linear model on a neighbour-embedding encoder trained first and
        then frozen (see above): ``backbone`` (an MLP with two hidden layers
        of 256 units when ``None``) and a layer to ``neighbor_embedding_dim``
        outputs, trained on pairs of neighbours
        (:func:`~skdeepcluster.augment.default_vector_views`). ``"auto"``: on
        with ``backbone=None`` (vectors and image arrays), off for the
        end-to-end model with a backbone.
    neighbor_embedding_dim : int, default=10
        Width of the neighbour embedding, the input of the linear head.
    neighbor_embedding_steps : int, default=2500
        Optimisation steps of the stage (Adam, step size 0.001, batches of 512
        pairs; at most 200 epochs).
    neighbor_embedding_dof : float, default=1.0
        Degrees of freedom of the stage's Student-t kernel (1: t-SNE's Cauchy kernel).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample: the argmax of the final prediction of
        the kept head (so ``labels_`` equals ``predict`` on the training data).
    module_ : EntropyNetwork
        The trained network, reduced to the kept head.
    objective_ : float
        Final self-labeling objective of the kept head on the training data
        (pseudo-labels re-estimated to convergence for the final predictions).
    head_objectives_ : ndarray of shape (n_heads,)
        The same objective for every head, before selection.
    n_iter_ : int
        Training epochs run.
    history_ : list of dict
        Per epoch: the mean loss, the objective and cluster sizes (argmax of the
        latest predictions) of the currently best head.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string feature names.

    Notes
    -----
    ``transform`` returns the backbone's features, or with ``backbone=None``
    the K logits of the kept head (the input itself would be no embedding).
    ``predict_proba`` is the softmax of the head. There are no
    ``cluster_centers_``: the model is discriminative and has no prototypes.

    The EM runs over the predictions of the whole training set, so the data
    must be in memory: vectors or image arrays. Image files (a folder, a list
    of files or an :class:`~skdeepcluster.data.ImageFolder`), which the other
    estimators stream from disk, are refused with a ``ValueError``; load them
    into an array first.

    References
    ----------
    .. [1] Z. Zhang and Y. Boykov, "Discriminative Entropy Clustering and its
       Relation to K-means and SVM", arXiv:2301.11405.
    .. [2] X. Ji, J. F. Henriques and A. Vedaldi, "Invariant Information
       Clustering for Unsupervised Image Classification and Segmentation",
       ICCV 2019 (sub-heads).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepcluster import EntropyClustering
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> est = EntropyClustering(n_clusters=3, max_iter=50, random_state=0, device="cpu")
    >>> labels = est.fit_predict(X)
    >>> labels.shape, est.predict_proba(X).shape, est.transform(X).shape
    ((200,), (200, 3), (200, 3))
    """

    _parameter_constraints: dict = {
        **BaseDeepClustering._parameter_constraints,
        "prior": ["array-like", None],
        "lam": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "em_max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "backbone": [StrOptions(set(BACKBONES)), nn.Module, None],
        **NeighborEmbeddingMixin._neighbor_embedding_constraints,
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        prior=None,
        lam=10.0,
        gamma=0.005,
        n_heads=8,
        standardize=True,
        em_max_iter=10,
        max_iter=200,
        batch_size=None,
        lr=0.02,
        weight_decay=0.0,
        backbone=None,
        backbone_params=None,
        augment=None,
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
        self.prior = prior
        self.lam = lam
        self.gamma = gamma
        self.n_heads = n_heads
        self.standardize = standardize
        self.em_max_iter = em_max_iter
        self.neighbor_embedding = neighbor_embedding
        self.neighbor_embedding_dim = neighbor_embedding_dim
        self.neighbor_embedding_steps = neighbor_embedding_steps
        self.neighbor_embedding_dof = neighbor_embedding_dof

    # ------------------------------------------------------------ validation
    def _check_data_vs_params(self, X: np.ndarray) -> None:
        super()._check_data_vs_params(X)
        self._check_prior()

    def _check_prior(self) -> np.ndarray:
        k = self.n_clusters
        if self.prior is None:
            return np.full(k, 1.0 / k)
        try:
            prior = np.asarray(self.prior, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prior must be an array of {k} numbers: {exc}") from exc
        if prior.shape != (k,):
            raise ValueError(f"prior must have shape (n_clusters,) = ({k},), got {prior.shape}.")
        if not np.all(np.isfinite(prior)) or np.any(prior < 0):
            raise ValueError(f"prior must be finite and non-negative, got {prior.tolist()}.")
        if abs(prior.sum() - 1.0) > 1e-6:
            raise ValueError(
                f"prior must sum to 1, got sum {prior.sum():.6g}; pass e.g. prior / prior.sum()."
            )
        return prior / prior.sum()

    # ----------------------------------------------------------------- module
    def _in_memory(self, data) -> torch.Tensor:
        """The training tensor on the training device; image files, streamed from disk,
        are refused. The EM pass reads every sample each epoch, so the data
        stay on the device whatever ``data_placement`` says."""
        data = as_training_data(data)
        if data.tensor is None:
            raise ValueError(
                "EntropyClustering keeps a prediction of every sample and runs its EM "
                "over the whole data set, so it needs the data in memory; image files "
                "are streamed from disk. Load the images into an array first."
            )
        return data.tensor.to(data.device)

    def _uses_neighbor_embedding(self, data) -> bool:
        """``"auto"`` is on in the fixed-feature setting (``backbone=None``), for vectors
        and image arrays alike: the stage's neighbour views train the encoder only, the
        self-labeling sees the samples alone."""
        if self.neighbor_embedding == "auto":
            return self.backbone is None
        return bool(self.neighbor_embedding)

    def _build_module(self, data) -> EntropyNetwork:
        data = as_training_data(data)
        tensor = self._in_memory(data)
        if self._uses_neighbor_embedding(data):
            return self._neighbor_network(data)
        shift = scale = None
        if self.standardize:
            shift = tensor.mean(dim=0)
            scale = tensor.std(dim=0, unbiased=False)
            scale = torch.where(scale > 1e-12 * (1 + shift.abs()), scale, torch.ones_like(scale))
        if self.backbone is None:
            if self.backbone_params:
                raise ValueError("backbone_params can only be used with a named backbone.")
            backbone, width = None, int(np.prod(data.sample_shape))
        else:
            backbone, width = self._make_backbone(data)
        return EntropyNetwork(backbone, width, self.n_clusters, self.n_heads, shift, scale)

    def _neighbor_network(self, data) -> EntropyNetwork:
        """The linear model on a neighbour-embedding encoder: ``backbone`` (an MLP with
        two hidden layers of 256 units when ``None``) and a layer to
        ``neighbor_embedding_dim`` outputs. Its outputs are not standardised (see
        ``standardize``)."""
        if self.backbone is None:
            if self.backbone_params:
                raise ValueError("backbone_params can only be used with a named backbone.")
            encoder = build_backbone("mlp", data.sample_shape, _NEIGHBOR_BACKBONE)
            width = _NEIGHBOR_BACKBONE["hidden_dims"][-1]
        else:
            encoder, width = self._make_backbone(data)
        dim = self.neighbor_embedding_dim
        neighbor = nn.Sequential(
            encoder, nn.Flatten(1), MLP(width, (NEIGHBOR_EMBEDDING_HIDDEN,), dim)
        ).to(data.device)
        return EntropyNetwork(None, dim, self.n_clusters, self.n_heads, neighbor=neighbor)

    # ------------------------------------------------------------------ train
    def _setup_training(self, data: torch.Tensor, generator: torch.Generator):
        """Loader, task, optimiser and schedule of a fit.

        With a frozen encoder and no views the head trains on the encoder's
        features, computed once, instead of the input.
        """
        n = len(data)
        batch_size = n if self.batch_size is None else self.batch_size
        views = self._make_views(data)
        net = self.module_
        forward = None
        if net.frozen and views is None:
            data = self._eval_map(as_training_data(data), net.features)
            forward = net.logits_from_features
        loader = TensorBatchLoader(data, batch_size, shuffle=True, generator=generator)
        prior = torch.as_tensor(self._check_prior(), dtype=torch.float32, device=data.device)
        task = _EntropyTask(self, data, prior, views, generator, forward)
        net = self.module_
        groups = [{"params": list(net.head.parameters()), "weight_decay": 0.0}]
        backbone = list(net.backbone.parameters())
        if backbone:
            groups.append({"params": backbone, "weight_decay": self.weight_decay})
        optimizer = torch.optim.Adam(groups, lr=self.lr)
        total = self.max_iter * len(loader)

        def multiplier(step: int) -> float:
            # constant for the first half, cosine decay over the second half
            half = total // 2
            return 1.0 if step < half else warmup_cosine(step - half, total - half)

        scheduler = GroupSchedule(optimizer, [multiplier] * len(groups))
        return loader, task, optimizer, scheduler

    def _train(self, data, generator, hooks):
        training_data = as_training_data(data)
        data = self._in_memory(data)
        history = []
        net = self.module_
        if net.neighbor is not None:
            history += self._frozen_encoder_stage(training_data, generator, hooks)
        loader, task, optimizer, scheduler = self._setup_training(data, generator)
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
        self._select_head(task, data)
        self.n_iter_ = self.max_iter
        return history

    def _select_head(self, task: _EntropyTask, data: torch.Tensor) -> None:
        """Keep the head with the lowest final objective; set ``labels_``."""
        probs = _predict_all(self.module_, data, amp_dtype=self._amp_dtype(data.device)).double()
        pseudo = [
            fairness_em(p, prior=task.prior.double(), lam=self.lam, n_iters=1000, tol=1e-9)
            for p in probs
        ]
        objectives = task.objectives(probs, pseudo)
        best = int(np.argmin(objectives))
        self.module_.keep_head(best)
        task.keep_head(best)
        self.head_objectives_ = np.asarray(objectives)
        self.objective_ = float(objectives[best])
        self.labels_ = probs[best].argmax(dim=1).cpu().numpy().astype(np.int64)

    def _cluster_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        if self.module_.has_backbone:
            return self.module_.cluster_logits(embedding)
        return embedding
