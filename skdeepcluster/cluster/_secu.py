"""SeCuClustering: stable cluster discrimination for one-stage deep clustering."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from skdeepcluster._training import (
    LabelMemory,
    ParamGroup,
    RunningCounts,
    StatelessTask,
    build_optimizer,
    frozen_running_stats,
    full_precision,
)
from skdeepcluster._training._memory import STREAM_WINDOW_PER_CLUSTER
from skdeepcluster.assignment import entropy_constrained_assignment, size_constrained_assignment
from skdeepcluster.augment import default_self_labeling_views, neighbor_image_views
from skdeepcluster.base import BaseDeepClustering, _PartialFitMixin
from skdeepcluster.cluster._hardreg import fixed_feature_partition
from skdeepcluster.cluster._neighbor_embedding import NeighborEmbeddingMixin, StagedNetworkMixin
from skdeepcluster.data import TrainingData, as_training_data
from skdeepcluster.losses import (
    closed_form_centers,
    confidence_cross_entropy,
    secu_center_loss,
    secu_soft_labels,
    soft_cross_entropy,
)
from skdeepcluster.nn import MLP, ProjectionHead

#: Optimisation steps of the clustering stage that ``max_iter="auto"`` aims at.
AUTO_STEPS = 5000
#: Warm-up passes of ``warmup_epochs="auto"`` in a stream (``partial_fit``).
STREAM_WARMUP_EPOCHS = 10


class SeCuNetwork(nn.Module):
    """Encoder (backbone, optional neighbour-embedding layer, normalised projection head)
    and the cluster centres of each head.

    Parameters
    ----------
    backbone : torch.nn.Module
    in_features : int
        Output dimension of ``backbone``.
    head_sizes : list of int
        Number of clusters of each clustering head.
    projection_dim, projection_hidden, projection_layers : int
        Shape of the projection MLP.
    embedding_dim : int or None, default=None
        Width of a neighbour-embedding layer between the backbone and the
        projection head (an MLP with one hidden layer of
        ``projection_hidden``); ``None`` feeds the backbone's output to the
        head directly.

    Examples
    --------
    >>> net = SeCuNetwork(torch.nn.Identity(), 4, [3, 6], projection_dim=2,
    ...                   projection_hidden=8)
    >>> net.embed(torch.randn(5, 4)).shape, [tuple(w.shape) for w in net.centers]
    (torch.Size([5, 2]), [(3, 2), (6, 2)])
    >>> net = SeCuNetwork(torch.nn.Identity(), 4, [3], projection_dim=2,
    ...                   projection_hidden=8, embedding_dim=2)
    >>> [t.shape for t in net.encode(torch.randn(5, 4))]
    [torch.Size([5, 2]), torch.Size([5, 2])]
    """

    def __init__(
        self,
        backbone: nn.Module,
        in_features: int,
        head_sizes: list[int],
        projection_dim: int = 128,
        projection_hidden: int = 512,
        projection_layers: int = 2,
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
        self.centers = nn.ParameterList(
            [nn.Parameter(F.normalize(torch.randn(k, projection_dim), dim=1)) for k in head_sizes]
        )

    def neighbor_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the neighbour-embedding layer (the backbone's without one)."""
        h = self.backbone(x)
        return h if self.neighbor is None else self.neighbor(h)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour embedding and L2-normalised embedding of a batch, in one pass."""
        e = self.neighbor_embed(x)
        return e, self.head(e)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised embedding of a batch."""
        return self.head(self.neighbor_embed(x))


def kmeans_plusplus(z: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeds among unit vectors ``z`` (distance ``1 - cosine``).

    Returns ``k`` unit vectors; when ``k`` exceeds the number of distinct
    candidates the extra seeds are jittered copies.

    Examples
    --------
    >>> z = torch.nn.functional.normalize(torch.randn(50, 4), dim=1)
    >>> kmeans_plusplus(z, 5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 4])
    """
    n = len(z)
    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    dist = (1 - z @ z[first]).clamp_min(0)
    for _ in range(1, k):
        total = float(dist.sum())
        if total <= 1e-12:
            idx = int(torch.randint(n, (1,), generator=generator))
        else:
            probs = (dist / total).cpu()
            idx = int(torch.multinomial(probs, 1, generator=generator))
        chosen.append(idx)
        dist = torch.minimum(dist, (1 - z @ z[idx]).clamp_min(0))
    seeds = z[torch.tensor(chosen, device=z.device)]
    noise = torch.randn(seeds.shape, generator=generator).to(z.device)
    duplicate = torch.zeros(k, dtype=torch.bool, device=z.device)
    seen: set[int] = set()
    for i, c in enumerate(chosen):
        duplicate[i] = c in seen
        seen.add(c)
    seeds = seeds + 0.05 * noise * duplicate[:, None]
    return F.normalize(seeds, dim=1)


def _same_views(x, index=None, generator=None):
    """Both views are the samples themselves (``augment=None``)."""
    return x, x


class _SeCuTask:
    """SeCu's per-batch objective (Algorithm 1), run by the shared training loop.

    Epoch ``-1`` is the initialisation epoch: the encoder is frozen (features
    computed without gradient) while assignments and centres are initialised.
    After :meth:`start_from` the labels of an initial partition stay in
    memory up to a given epoch: the centres and the network learn them
    before the assignment takes over. With ``stream=True`` (``partial_fit``)
    ``memory`` holds the labels of the current chunk only, the entropy
    constraint reads ``running`` (the aged sizes of the stream's recent
    labels) and the soft labels take the label of the current pass in place
    of last epoch's.
    """

    def __init__(
        self, est: SeCuClustering, data: torch.Tensor, views, generator, stream: bool = False
    ) -> None:
        self.est = est
        self.net: SeCuNetwork = est.module_
        self.views = views if views is not None else _same_views
        self.generator = generator
        self.n_samples = len(data)
        device = data.device
        self.head_sizes = [w.shape[0] for w in self.net.centers]
        self.memory = [LabelMemory(self.n_samples, k, device) for k in self.head_sizes]
        window = STREAM_WINDOW_PER_CLUSTER * est.n_clusters
        self.running = (
            [RunningCounts(k, window, device) for k in self.head_sizes] if stream else None
        )
        self.lower_duals = [torch.zeros(k, device=device) for k in self.head_sizes]
        self.upper_duals = [
            torch.zeros(k, device=device) if est.gamma_upper is not None else None
            for k in self.head_sizes
        ]
        self.center_temperature = (
            est.center_temperature if est.center_temperature is not None else est.temperature
        )
        self.snapshot: list[torch.Tensor] = []
        self.cf_state: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.context = None
        self._step_start: tuple = ()
        #: Epochs before this one keep the labels in memory instead of assigning new ones.
        self.fixed_until = -1

    def start_from(self, labels: list[torch.Tensor], until_epoch: int) -> None:
        """Put every head's initial labels of all samples into memory, and keep them,
        rather than assign new ones, in the epochs before ``until_epoch``."""
        for mem, head_labels in zip(self.memory, labels, strict=True):
            head_labels = head_labels.to(mem.labels.device)
            mem.update(torch.arange(len(head_labels), device=head_labels.device), head_labels)
        self.fixed_until = until_epoch

    # ---------------------------------------------- state (checkpoints, DDP)
    def state_dict(self) -> dict:
        """The assignment state: every head's labels and counts (in a stream: the running
        counts), and the duals."""
        state = {
            "lower_duals": [d.clone() for d in self.lower_duals],
            "upper_duals": [None if d is None else d.clone() for d in self.upper_duals],
            "fixed_until": self.fixed_until,
        }
        if self.running is not None:
            return {"running": [r.state_dict() for r in self.running], **state}
        return {"memory": [m.state_dict() for m in self.memory], **state}

    def load_state_dict(self, state: dict) -> None:
        counters = self.memory if self.running is None else self.running
        saved = state["memory"] if self.running is None else state["running"]
        for counter, counter_state in zip(counters, saved, strict=True):
            counter.load_state_dict(counter_state)
        device = self.memory[0].labels.device
        self.lower_duals = [d.to(device).clone() for d in state["lower_duals"]]
        self.upper_duals = [
            None if d is None else d.to(device).clone() for d in state["upper_duals"]
        ]
        self.fixed_until = state.get("fixed_until", -1)

    def use_distributed(self, context) -> None:
        """Under torch.distributed: after each step, every rank takes all ranks' labels,
        the mean of the duals and the sum of the closed-form accumulators."""
        self.context = context

    def _sync_step(self) -> None:
        context, index = self.context, self._step_start[0]
        for mem in self.memory:
            context.sync_label_memory(mem, index)
        if self.est.constraint == "size":
            for duals in (self.lower_duals, self.upper_duals):
                for d in duals:
                    if d is not None:
                        context.all_reduce_(d, "mean")
        if self.est.center_update == "closed_form":
            for h, (before, after) in enumerate(
                zip(self._step_start[1], self.cf_state, strict=True)
            ):
                num, den = (
                    context.all_reduce_(a - b, "sum") + b
                    for a, b in zip(after, before, strict=True)
                )
                self.cf_state[h] = (num, den)
                self._set_closed_form_centers(h, num, den)

    # ----------------------------------------------------------------- epochs
    def on_epoch_start(self, epoch: int) -> None:
        self.snapshot = [w.detach().clone() for w in self.net.centers]
        if self.est.center_update == "closed_form":
            self.cf_state = [
                (torch.zeros_like(w), torch.zeros(w.shape[0], device=w.device, dtype=w.dtype))
                for w in self.snapshot
            ]

    def on_epoch_end(self, epoch: int) -> dict:
        return {"cluster_sizes": self.memory[0].counts.long().cpu().tolist()}

    # ------------------------------------------------------------ assignment
    def _assign(self, head: int, scores: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        est, mem = self.est, self.memory[head]
        if est.constraint == "entropy" and self.running is not None:
            running = self.running[head]
            labels, _ = entropy_constrained_assignment(
                scores.double(),
                running.counts,
                torch.full_like(index, -1),
                alpha=est.alpha * running.window,
                n_samples=running.window,
            )
            running.add(labels)
        elif est.constraint == "entropy":
            labels, _ = entropy_constrained_assignment(
                scores.double(),
                mem.counts,
                mem.get(index),
                alpha=est.alpha * self.n_samples,
                n_samples=self.n_samples,
            )
        else:
            labels, lower, upper = size_constrained_assignment(
                scores,
                self.lower_duals[head],
                self.upper_duals[head],
                gamma=est.gamma,
                gamma_upper=est.gamma_upper,
                dual_lr=est.dual_lr,
            )
            self.lower_duals[head], self.upper_duals[head] = lower, upper
        mem.update(index, labels)
        return labels

    # ------------------------------------------------------------------ steps
    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        net = self.net
        if self.context is not None:
            self._step_start = (index, list(self.cf_state))
        with full_precision(x.device):  # augmentation in float32, the network under autocast
            v1, v2 = self.views(x, index, self.generator)
        both = torch.cat([v1, v2])
        if epoch < 0:
            with torch.no_grad():
                z = net.embed(both)
        else:
            z = net.embed(both)
        with full_precision(z.device):
            return self._objective(index, z.float(), epoch)

    def _objective(self, index: torch.Tensor, z: torch.Tensor, epoch: int):
        """Loss and assignment of a batch from the embeddings of its two views."""
        est, net = self.est, self.net
        z1, z2 = z.chunk(2)
        zd1, zd2 = z1.detach(), z2.detach()
        loss_x = z.new_zeros(())
        loss_w = z.new_zeros(())
        for h, w in enumerate(net.centers):
            wd = w.detach()
            scores = (zd1 @ wd.T + zd2 @ wd.T) / 2
            # last epoch's label (Eq. 7); a stream has none and takes this pass's label
            prev = None if self.running is not None else self.memory[h].get(index)
            if epoch < self.fixed_until:
                labels = prev  # the initial partition, while the head learns it
            else:
                labels = self._assign(h, scores, index)
            if epoch >= 0:
                prev = labels if prev is None else prev
                logits1 = z1 @ self.snapshot[h].T / est.temperature
                logits2 = z2 @ self.snapshot[h].T / est.temperature
                y1, y2 = secu_soft_labels(
                    prev, logits1.softmax(dim=1), logits2.softmax(dim=1), est.tau
                )
                view_loss = soft_cross_entropy(logits1, y1) + soft_cross_entropy(logits2, y2)
                loss_x = loss_x + view_loss / 2
            if est.center_update == "sgd":
                stop = est.loss == "secu"
                t = self.center_temperature
                center_loss = secu_center_loss(zd1, w, labels, t, stop) + secu_center_loss(
                    zd2, w, labels, t, stop
                )
                loss_w = loss_w + center_loss / 2
            else:
                self._closed_form_step(h, zd1, zd2, labels)
        loss = loss_x / len(net.centers) + loss_w
        logs = {"loss": float(loss.detach())}
        if not loss.requires_grad:
            return None, logs
        return loss, logs

    @torch.no_grad()
    def _closed_form_step(self, head, z1, z2, labels) -> None:
        w = self.net.centers[head]
        num, den = self.cf_state[head]
        for z in (z1, z2):
            probs = (z @ w.T / self.center_temperature).softmax(dim=1)
            num, den = closed_form_centers(z, labels, probs, num, den)
        self.cf_state[head] = (num, den)
        self._set_closed_form_centers(head, num, den)

    @torch.no_grad()
    def _set_closed_form_centers(self, head, num, den) -> None:
        w = self.net.centers[head]
        seen = den > 0
        w[seen] = F.normalize(num[seen], dim=1)

    @torch.no_grad()
    def after_optimizer_step(self, epoch: int) -> None:
        if self.context is not None:
            self._sync_step()
        for w in self.net.centers:
            w.copy_(F.normalize(w, dim=1))


class _SelfLabelingTask(StatelessTask):
    """SCAN-style fine-tuning of a trained SeCu network (SeCu App. C.1).

    The first ``warmup`` epochs train the strong view of every sample toward
    its fixed SeCu label; later epochs train the strong view of the samples
    whose weak view is predicted with confidence above the threshold, toward
    that prediction, with class-balanced weights. A batch without a confident
    sample takes no optimisation step.

    The weak view is forwarded in training mode, as SCAN does (batch-norm layers
    normalise it with its own batch statistics), but without updating the
    running statistics: those, which ``predict`` uses, keep describing the
    strong views the network is trained on, as in the warm-up epochs. Letting
    both views update them made ``predict`` fall behind the network's
    training-mode predictions (MNIST 70k, small CNN: 0.950 against 0.973 after
    two epochs at threshold 0.99, while freezing them kept 0.980).
    """

    def __init__(self, est: SeCuClustering, views, fixed_labels, generator, first_epoch: int):
        self.est = est
        self.net: SeCuNetwork = est.module_
        self.views = views
        self.fixed_labels = fixed_labels
        self.generator = generator
        self.first_epoch = first_epoch
        self.warmup = min(est.self_labeling_warmup, est.self_labeling_epochs)
        self.skipped_epochs = 0

    def _logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.est._cluster_logits(z.float())

    def on_epoch_start(self, epoch: int) -> None:
        k = self.net.centers[0].shape[0]
        device = self.net.centers[0].device
        self.sizes = torch.zeros(k, dtype=torch.long, device=device)
        self.n_confident = 0
        self.n_seen = 0

    def training_step(self, index: torch.Tensor, x: torch.Tensor, epoch: int):
        net = self.net
        with full_precision(x.device):
            weak, strong = self.views(x, index, self.generator)
        self.n_seen += len(index)
        if epoch - self.first_epoch < self.warmup:
            z = net.embed(strong)
            with full_precision(z.device):
                targets = self.fixed_labels[index]
                loss = F.cross_entropy(self._logits(z), targets)
            self.sizes += torch.bincount(targets, minlength=len(self.sizes))
            self.n_confident += len(index)
            return loss, {"loss": float(loss.detach())}
        with torch.no_grad(), frozen_running_stats(net):
            z_weak = net.embed(weak)
        z = net.embed(strong)
        with full_precision(z.device):
            weak_logits = self._logits(z_weak)
            loss, mask = confidence_cross_entropy(
                self._logits(z), weak_logits, self.est.self_labeling_threshold
            )
        confident = int(mask.sum())
        self.n_confident += confident
        self.sizes += torch.bincount(weak_logits.argmax(dim=1), minlength=len(self.sizes))
        return (loss if confident else None), {"loss": float(loss.detach())}

    @torch.no_grad()
    def after_optimizer_step(self, epoch: int) -> None:
        w = self.net.centers[0]
        w.copy_(F.normalize(w, dim=1))

    def on_epoch_end(self, epoch: int) -> dict:
        if self.n_confident == 0:
            self.skipped_epochs += 1
        return {
            "stage": "self_labeling",
            "confident_fraction": self.n_confident / max(self.n_seen, 1),
            "cluster_sizes": self.sizes.cpu().tolist(),
        }


class SeCuClustering(
    NeighborEmbeddingMixin, StagedNetworkMixin, _PartialFitMixin, BaseDeepClustering
):
    """Stable Cluster Discrimination (SeCu): one-stage deep clustering.

    An encoder (``backbone`` + a projection MLP, output L2-normalised) and K unit
    cluster centres are learned together with a hard label per training sample
    (Qian, ICCV 2023, Algorithm 1). Each epoch:

    * **representation**: two augmented views are classified against the
      centres frozen at the start of the epoch, toward the soft labels
      ``y1 = tau*y_prev + (1-tau)*p2`` and ``y2 = tau*y_prev + (1-tau)*p1``
      (Eq. 7), where ``y_prev`` is the label the sample received last epoch;
    * **assignment**: each sample of the batch gets a new label from the
      detached features against the current centres, under a global entropy
      constraint (Eq. 10-11, ``constraint="entropy"``) or a lower (and
      optional upper) bound on cluster sizes (Eq. 8-9 and Appendix B,
      ``constraint="size"``), through :mod:`skdeepcluster.assignment`. As in
      the paper the assignment scores are the cosine similarities
      :math:`x^\\top w` rather than :math:`\\log p`;
    * **centres**: the SeCu loss (Eq. 3) — the negatives' logits carry no
      gradient, so a centre is moved only by its own samples, each weighted by
      its hardness :math:`1-p` — by SGD with its own constant learning rate,
      or by the closed form of Eq. 15 (``center_update="closed_form"``).

    An initialisation epoch with the encoder frozen (no gradient step on it)
    precedes training: it initialises the labels and the centres, which start
    at k-means++ seeds among the embeddings of up to 4,096 training samples.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    constraint : {"entropy", "size"}, default="entropy"
        Cluster-assignment constraint.
    alpha : float, default=0.12
        Weight of the global entropy constraint per training sample: the paper's
        :math:`\\alpha` is ``alpha * n_samples`` (the paper uses 6N/50 = 0.12 N
        on CIFAR-10, Sec. 4.1.4). ``alpha=0`` removes the constraint, which
        lets the clustering collapse.
    gamma : float, default=0.9
        Lower bound of the size constraint, as a fraction of the average
        cluster size N/K (paper: 0.9).
    gamma_upper : float or None, default=None
        Optional upper bound, as a multiple of N/K (Appendix B).
    dual_lr : float, default=0.1
        Step size of the dual variables of the size constraint (paper: 0.1).
    center_update : {"sgd", "closed_form"}, default="sgd"
        SGD on the SeCu loss (SeCu-SGD) or the closed form of Eq. 15 (SeCu-CF),
        accumulated over the samples seen so far in the epoch.
    center_lr : float, default=0.2
        Constant learning rate of the centres (SGD), per optimisation step.
        How far a centre moves in an epoch is this rate times the number of
        batches per epoch, so it grows with the data set; the rate per step is
        what transfers between data sets, not the movement per epoch. Measured
        with these defaults (seed 0; digits seeds 0-2):

        ======================================  ==========================  ====================
        centre rate                             digits, 15 batches/epoch    MNIST pixels, 547
        ======================================  ==========================  ====================
        0.2 per step (default)                  ACC 0.955 / 0.963 / 0.940   ACC 0.795
        0.2 x 15 / n_batches (fixed per epoch)  ACC 0.868 (mean)            ACC 0.652
        1.2 with momentum 0.9 (paper, CIFAR)    ACC 0.861 / 0.955 / 0.953   ACC 0.790
        ======================================  ==========================  ====================

        (MNIST: 70,000 784-dim vectors, 15 epochs with 2 of warm-up.) Scaling
        the rate down to keep the movement per epoch fixed starves the centres
        on large data; the paper's 1.2 with momentum 0.9, tuned on CIFAR's 390
        batches per epoch, trains on MNIST but is erratic on the 15 batches of
        digits. 0.2 without momentum works across that range.
    center_momentum : float, default=0.0
        Momentum of the centres' SGD.
    loss : {"secu", "ce"}, default="secu"
        ``"ce"`` keeps the negatives' gradient (the standard cross-entropy of
        the paper's Table 2), for comparison.
    temperature : float, default=0.05
        Softmax temperature :math:`\\lambda` (paper: 0.05).
    center_temperature : float or None, default=None
        Temperature of the centre loss; ``None`` uses ``temperature`` (the
        paper raises it to 1 for noisy data, Appendix C.1).
    tau : float, default=0.2
        Weight of last epoch's label in the soft labels (Eq. 7; paper: 0.2).
    n_heads : int, default=1
        Number of clustering heads; head c (c = 1..n_heads) has c*K clusters
        and predictions come from the first (K clusters). The paper uses 10.
    projection_dim : int, default=128
        Dimension of the embedding (paper: 128).
    projection_hidden : int, default=256
        Width of the projection MLP.
    projection_layers : int, default=2
        Layers of the projection MLP (paper: 2).
    max_iter : int or "auto", default="auto"
        Training epochs of the clustering stage, after the initialisation
        epoch (the paper trains 400 epochs on CIFAR-10). ``"auto"`` gives
        about 5,000 steps, within 10 and 60 epochs: 60 on up to ~10,000
        samples (the paper's schedule on small data), fewer as each epoch
        holds more steps (MNIST 70k with batch 128: 10). On MNIST 70k as
        vectors 10 epochs reached the ACC of 60 (0.97 both, seed 0) at a
        sixth of the time.
    batch_size : int, default=128
        Mini-batch size (paper: 128).
    lr : float, default=0.05
        Peak learning rate of the encoder (SGD, momentum ``momentum``), reached
        after ``warmup_epochs`` of linear warm-up and decayed by a cosine.
    momentum : float, default=0.9
        Momentum of the encoder's SGD.
    weight_decay : float, default=5e-4
        Weight decay of the encoder.
    warmup_epochs : int or "auto", default="auto"
        Epochs of learning-rate warm-up. ``"auto"``: a sixth of ``max_iter``
        (the paper's 10 of 60), and 10 passes in a stream
        (:meth:`partial_fit`).
    self_labeling_epochs : int, default=0
        Epochs of the self-labeling stage that follows clustering (SCAN-style,
        paper Sec. 4.2 and App. C.1, which uses 100 on small data sets);
        ``0`` skips it. The network is fine-tuned with the cross-entropy of a
        strong view toward the label of a weak view: the clustering stage's
        fixed labels for every sample during the first
        ``self_labeling_warmup`` epochs, then the weak view's prediction for
        the samples predicted with confidence above
        ``self_labeling_threshold``, with SCAN's class-balanced weights
        (:func:`~skdeepcluster.losses.confidence_cross_entropy`). A batch
        without a confident sample takes no step, and a warning reports
        epochs without any. Afterwards ``labels_`` are the fine-tuned model's
        predictions.
    self_labeling_warmup : int, default=10
        Self-labeling epochs trained on the fixed labels of the clustering
        stage before confident samples are selected (paper: 10).
    self_labeling_threshold : float, default=0.9
        Confidence (largest softmax probability, with ``temperature``) above
        which a weak view's prediction becomes a target (paper: 0.9; SCAN's
        published configurations, which the paper says it follows, use
        0.99). Because SeCu's logits are divided by ``temperature`` (0.05),
        most samples pass 0.9: from a 20-epoch small-CNN model of all 70,000
        MNIST images (``predict`` ACC 0.986), two confident epochs (no
        warm-up, rate 0.001) at 0.9 selected 88-90% of the samples and gave
        ACC 0.978, cluster sizes spreading to 6,024-8,608; at 0.99 they
        selected 25-34% and gave 0.980.
    self_labeling_lr : float, default=0.0001
        Peak learning rate of the self-labeling SGD (momentum ``momentum``,
        weight decay ``weight_decay``, cosine decay, no warm-up). The paper
        gives SGD, momentum 0.9 and batch size 1,024 but no rate. The stage
        is a feedback loop (the network's confident predictions are its
        targets) that diverges above a rate that depends on the model: on
        all 70,000 MNIST images (small CNN 16/32/64, batch 256, from one
        20-epoch clustering-stage model with ``predict`` ACC 0.986; 2 warm-up
        and 4 confident epochs at threshold 0.9) 0.003 collapsed in the first
        confident epoch (ACC 0.879, then 0.35; also with the centres frozen,
        with the targets computed in evaluation mode, and without class
        balance, which ended in a single cluster), while 0.0003 and 0.0001
        ended at 0.9862 and 0.9856. At 0.001, nine epochs held 0.981 from
        that model but collapsed to 0.374 from another (19 epochs). 0.0001
        keeps a thirtyfold margin below the rate that collapsed; on
        ``load_digits`` images, where the stage runs few steps, 0.001,
        0.0003 and 0.0001 ended within 0.002 of each other (30 epochs). The
        logits are divided by ``temperature`` (0.05), so the step on them is
        20 times this rate.
    self_labeling_augment : "auto" or callable, default="auto"
        The (weak, strong) views of self-labeling: a callable
        ``f(x, index, generator) -> (weak, strong)``, fitted like ``augment``;
        ``"auto"`` is :func:`~skdeepcluster.augment.default_self_labeling_views`.
    backbone : str or torch.nn.Module, default="auto"
        Feature extractor before the projection head: ``"auto"`` is ``"mlp"``
        for vectors and ``"cnn"`` (:class:`~skdeepcluster.nn.SmallCNN`) for
        images; other names are listed in :data:`skdeepcluster.nn.BACKBONES`.
    backbone_params : dict or None, default=None
        Keyword arguments of the named backbone. ``None`` with ``"mlp"`` gives
        two hidden layers of 256: on ``load_digits`` they clustered as well as
        512-wide layers (20 seeds each) at a third of the cost per step.
    augment : "auto", None or callable, default="auto"
        ``"auto"``: for vectors, interpolation toward the end of a short random
        walk on the input-space nearest-neighbour graph (see
        :func:`~skdeepcluster.augment.default_vector_views`); for grey images
        held in memory, the same kind of walk on the pixel-space neighbour
        graph followed by a small random rotation, shear, zoom and shift
        (:func:`~skdeepcluster.augment.neighbor_image_views`; on ``load_digits``
        as 8x8 images it raised the ACC of the model's predictions from 0.87
        to 0.963); for colour images and image files, the paper's asymmetric
        crop / colour / blur / solarise views adapted to the image size and
        kind (:func:`~skdeepcluster.augment.default_image_views`).
        ``None``: both views are the sample itself. A callable
        ``f(x, index, generator) -> (view1, view2)`` (e.g. a
        :class:`~skdeepcluster.augment.MultiView`); if it has a ``fit`` method
        it is called once with the training tensor (not possible for image
        files, which are streamed).
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
        Continue training the fitted network and labels on the next ``fit``
        (the initialisation epoch re-assigns the labels, with the encoder
        frozen, before the schedule restarts).
    partial_fit_epochs : int, default=1
        Passes over each chunk given to :meth:`partial_fit` (see Notes).
    neighbor_embedding : "auto" or bool, default="auto"
        Train a low-dimensional neighbour embedding before clustering (see
        Notes): a layer of ``neighbor_embedding_dim`` outputs (an MLP with one
        hidden layer of ``projection_hidden``) between the backbone and the
        projection head, trained with the backbone on
        :func:`~skdeepcluster.losses.neighbor_embedding_loss` over the pairs
        of the views. ``"auto"``: on for vectors in :meth:`fit` when
        ``augment`` is not ``None`` (the views then follow the neighbour
        graph), off for images, whose views are augmentations, and in
        :meth:`partial_fit`.
    neighbor_embedding_dim : int, default=10
        Width of the neighbour embedding. 2 (as for a plot) lost clusters on
        MNIST 10k (ACC 0.05-0.1 lower); 16 clustered as 10 did.
    neighbor_embedding_steps : int, default=2500
        Optimisation steps of the neighbour-embedding stage (Adam, step size
        0.001, batches of 512 pairs; at most 200 epochs, so small data sets
        get fewer). ``0`` skips the stage and keeps the layer untrained.
    neighbor_embedding_dof : float, default=1.0
        Degrees of freedom of the Student-t kernel of the neighbour-embedding
        loss (:func:`~skdeepcluster.losses.neighbor_embedding_loss`); 1 is
        t-SNE's Cauchy kernel, smaller values have heavier tails, which pull
        apart groups that the graph joins by a few edges (Kobak et al. 2019
        show it on MNIST). With 0.5 (``benchmarks.run``, one thread, when the
        centres still started at k-means clusters of the embedding): MNIST
        10k as vectors ACC 0.940-0.943 (seeds 0-2) on one subset and 0.936 /
        0.931 / 0.865 on another, against 0.84-0.87 with 1; but all 70,000
        MNIST digits, seed 0, 0.875 against 0.973 with 1, and ``load_digits``
        seeds 0-9 mean 0.939 with seed 2 at 0.898 (with 1: mean 0.948, every
        seed within 0.011 of the median). So the default stays 1.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        The trained model's predictions on the training data (head 1), equal
        to ``predict(X)``. The labels the method itself held after its last
        epoch were assigned during training, by a network that moved on
        after assigning them; the final network's predictions agreed with the
        truth as well or better (MNIST 70k as vectors, seed 0: 0.973 against
        0.962 ACC). After :meth:`partial_fit`, the labels of the last chunk
        from its last pass.
    cluster_centers_ : ndarray of shape (n_clusters, projection_dim)
        Unit-norm centres of head 1 in the embedding space.
    module_ : SeCuNetwork
        The trained network, centres included.
    n_iter_ : int
        Training epochs run, self-labeling epochs included.
    history_ : list of dict
        Per epoch (the initialisation epoch is epoch -1): mean loss and the
        cluster sizes of head 1. Self-labeling epochs follow, numbered on from
        ``max_iter``, with ``stage="self_labeling"``, the fraction of samples
        trained on (``confident_fraction``) and the sizes of the clusters
        predicted for the weak views.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string feature names.

    Notes
    -----
    **Vectors** (neighbour embedding). The paper learns its representation
    from augmentations of images. Fixed feature vectors have no such
    augmentations; the default views move a sample toward a neighbour on
    the input's nearest-neighbour graph, so the information the clusters
    come from is the graph. Trained on those views directly, the 128-dim
    normalised embedding let the constrained assignment cut the graph along
    other lines than its sparse ones: on MNIST 70k as vectors the clustering
    merged some digits and split others by writing style (ACC 0.85, seed 0),
    whereas UMAP followed by a Gaussian mixture, which looks at the same
    kind of graph, reached 0.97. So on vectors the fit first trains the
    backbone and a 10-dim layer as a parametric neighbour embedding (the
    contrastive form of t-SNE: the two views of a sample attract each other
    under a heavy-tailed Cauchy kernel, the rest of the batch repels), in
    which the groups of the graph drift apart. With the stage, the mean ACC
    over seeds 0-2 went from 0.76 to 0.87 on the benchmark's 10,000-sample
    MNIST subset, and seed 0 on all 70,000 from 0.85 to 0.97; on
    ``load_digits`` it stayed at 0.95 (tables in ``benchmarks/README.md``).
    The stage's cost is linear in the number of samples: the views come from
    the neighbour graph built once, and each step embeds a batch.

    **The initial partition** (vectors). The clustering stage then starts
    from a partition of the neighbour embedding: HardReg's whitened
    projection and size-penalised hard assignment
    (``skdeepcluster.cluster._hardreg.fixed_feature_partition``), which
    separated the 4s and 9s of the 10,000-sample MNIST subset that Euclidean
    k-means on the same embedding left shared between two clusters (seeds
    0-2: ACC 0.93-0.94 against 0.79-0.85). The centres start at the
    normalised mean embedding of its clusters, and the labels of all samples
    stay at that partition during the ``warmup_epochs`` (the paper's Eq. 7
    targets are last epoch's labels, so the network and the centres learn
    it) before the constrained assignment takes over. Without that hold the
    first assignments, made by a projection head that has not been trained
    yet, undid the partition: SeCu ended at ACC 0.86 from a start at 0.94
    (seed 0), as it did from k-means' start; with it, 0.94-0.95 (seeds 0-2),
    while all 70,000 digits stayed at 0.973 (seed 0).

    **Streams** (:meth:`partial_fit`). The first call seeds the centres at
    k-means++ seeds among its chunk and runs the initialisation epoch on it;
    every call then trains ``partial_fit_epochs`` passes over its chunk with
    the SeCu objective. Nothing is kept per sample:

    * the soft labels of Eq. 7 mix the other view's prediction with the
      sample's label from the previous epoch, which a stream does not have.
      They use the label the constrained assignment gives the sample in the
      current pass instead (the label its memory would hold one step
      later), not the current prediction: the prediction is already the
      other term of Eq. 7, and the assigned label is what carries the
      balance of the constraint into the representation;
    * the entropy constraint (Eq. 10-11) needs the sizes of all clusters
      over the data. A stream keeps a running estimate aged to a window of
      ``100 * n_clusters`` labels (the older counts are scaled down as new
      labels arrive, an exponential moving average of the sizes) and uses
      ``alpha * window`` for the paper's :math:`\\alpha N`. The window plays
      the part of the data set, whose counts in ``fit`` hold each sample's
      label from at most one epoch ago: it is long enough to estimate the
      cluster fractions (about 100 labels each) and short enough to forget
      the labels an early, changing network gave. Since :math:`\\alpha`
      scales with it, the balancing force depends on the cluster fractions,
      not on the window;
    * the size constraint's dual variables are updated online in ``fit``
      already and carry over from call to call;
    * the centres the representation is trained against are frozen at the
      start of each pass (an epoch in ``fit``), and the closed-form centre
      sums (``center_update="closed_form"``) restart with each pass.

    The encoder's learning rate warms up over the first ``warmup_epochs``
    passes (counted in batches of the current chunk, the initialisation
    epoch included) and then stays at ``lr``: a stream has no end for a
    cosine decay to reach. The views are fitted on each chunk (the
    neighbour graph of the default views is built within the chunk, for
    clusters of ``len(chunk) / n_clusters`` samples). Self-labeling
    (``self_labeling_epochs``) is part of ``fit`` only.

    References
    ----------
    .. [1] Qi Qian, "Stable Cluster Discrimination for Deep Clustering", ICCV 2023,
       arXiv:2311.14310.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepcluster import SeCuClustering
    >>> X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> est = SeCuClustering(n_clusters=3, max_iter=5, random_state=0, device="cpu")
    >>> labels = est.fit_predict(X)
    >>> labels.shape, est.cluster_centers_.shape
    ((200,), (3, 128))
    """

    _parameter_constraints: dict = {
        **BaseDeepClustering._parameter_constraints,
        "constraint": [StrOptions({"entropy", "size"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "gamma_upper": [Interval(Real, 1, None, closed="left"), None],
        "dual_lr": [Interval(Real, 0, None, closed="neither")],
        "center_update": [StrOptions({"sgd", "closed_form"})],
        "center_lr": [Interval(Real, 0, None, closed="neither")],
        "center_momentum": [Interval(Real, 0, 1, closed="left")],
        "loss": [StrOptions({"secu", "ce"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "center_temperature": [Interval(Real, 0, None, closed="neither"), None],
        "tau": [Interval(Real, 0, 1, closed="both")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "projection_hidden": [Interval(Integral, 1, None, closed="left")],
        "projection_layers": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "self_labeling_epochs": [Interval(Integral, 0, None, closed="left")],
        "self_labeling_warmup": [Interval(Integral, 0, None, closed="left")],
        "self_labeling_threshold": [Interval(Real, 0, 1, closed="left")],
        "self_labeling_lr": [Interval(Real, 0, None, closed="neither")],
        "self_labeling_augment": [StrOptions({"auto"}), callable],
        "partial_fit_epochs": [Interval(Integral, 1, None, closed="left")],
        **NeighborEmbeddingMixin._neighbor_embedding_constraints,
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        constraint="entropy",
        alpha=0.12,
        gamma=0.9,
        gamma_upper=None,
        dual_lr=0.1,
        center_update="sgd",
        center_lr=0.2,
        center_momentum=0.0,
        loss="secu",
        temperature=0.05,
        center_temperature=None,
        tau=0.2,
        n_heads=1,
        projection_dim=128,
        projection_hidden=256,
        projection_layers=2,
        max_iter="auto",
        batch_size=128,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        warmup_epochs="auto",
        self_labeling_epochs=0,
        self_labeling_warmup=10,
        self_labeling_threshold=0.9,
        self_labeling_lr=0.0001,
        self_labeling_augment="auto",
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
        self.constraint = constraint
        self.alpha = alpha
        self.gamma = gamma
        self.gamma_upper = gamma_upper
        self.dual_lr = dual_lr
        self.center_update = center_update
        self.center_lr = center_lr
        self.center_momentum = center_momentum
        self.loss = loss
        self.temperature = temperature
        self.center_temperature = center_temperature
        self.tau = tau
        self.n_heads = n_heads
        self.projection_dim = projection_dim
        self.projection_hidden = projection_hidden
        self.projection_layers = projection_layers
        self.momentum = momentum
        self.warmup_epochs = warmup_epochs
        self.self_labeling_epochs = self_labeling_epochs
        self.self_labeling_warmup = self_labeling_warmup
        self.self_labeling_threshold = self_labeling_threshold
        self.self_labeling_lr = self_labeling_lr
        self.self_labeling_augment = self_labeling_augment
        self.partial_fit_epochs = partial_fit_epochs
        self.neighbor_embedding = neighbor_embedding
        self.neighbor_embedding_dim = neighbor_embedding_dim
        self.neighbor_embedding_steps = neighbor_embedding_steps
        self.neighbor_embedding_dof = neighbor_embedding_dof

    # ----------------------------------------------------------------- module
    _default_mlp_params = {"hidden_dims": (256, 256)}

    def _network(self, data: TrainingData, neighbor_embedding: bool) -> SeCuNetwork:
        data = as_training_data(data)
        backbone, width = self._make_backbone(data)
        head_sizes = [c * self.n_clusters for c in range(1, self.n_heads + 1)]
        return SeCuNetwork(
            backbone,
            width,
            head_sizes,
            self.projection_dim,
            self.projection_hidden,
            self.projection_layers,
            self.neighbor_embedding_dim if neighbor_embedding else None,
        )

    def _default_views(self, data: TrainingData):
        """Neighbour walk + affine warp for grey images in memory; else the shared defaults."""
        if data.is_image and data.tensor is not None and data.sample_shape[0] <= 2:
            return neighbor_image_views(len(data) / self.n_clusters)
        return self._two_views(data)

    def _init_centers(self, data: TrainingData, generator: torch.Generator):
        """Centres start at k-means++ seeds among the initial embeddings, or, with a
        neighbour-embedding layer, at the clusters of a partition of the neighbour
        embedding; that partition's labels of every training sample (one tensor per
        head), ``None`` without the layer.

        The paper initialises centres and labels in one epoch with the encoder
        frozen but does not say where the centres start; k-means++ seeding
        (on cosine distance, drawn from ``generator``) spreads them over the
        data, which avoids starting two centres inside one dense region. The
        candidates are up to 4096 random training samples (read through the
        loader for image files), embedded in one batch for vectors and in
        mini-batches of ``batch_size`` for images.

        After the neighbour-embedding stage the clusters are visible in the
        low-dimensional neighbour embedding. Up to 32,768 random training
        samples are partitioned there by
        ``skdeepcluster.cluster._hardreg.fixed_feature_partition``
        (HardReg's whitened projection and size-penalised hard assignment),
        every training sample gets the label of its nearest cluster of that
        model, and each head's centres start at the normalised mean embedding
        of its clusters. Euclidean k-means (``n_init=10``) on the same
        embedding left the 4s and 9s of a 10,000-sample MNIST subset shared
        between two clusters (seeds 0-2: ACC 0.79-0.85), which HardReg's
        partition separates (0.93-0.94); on all 70,000 digits both reach
        about 0.96. k-means++ seeds on the normalised embeddings ended in
        worse partitions still (ACC of ``predict`` 0.80 against k-means'
        0.84, seeds 0-2).
        """
        data = as_training_data(data)
        n = len(data)
        net = self.module_
        if net.neighbor is None:
            pool = torch.randperm(n, generator=generator)[: min(n, 4096)]
            chunk = len(pool) if data.is_vector else self.batch_size
            with torch.no_grad():
                z = data.map(lambda x: net.embed(x).float(), chunk, indices=pool)
                for w in net.centers:
                    w.copy_(kmeans_plusplus(z, w.shape[0], generator))
            return None
        pool = torch.randperm(n, generator=generator)[: min(n, 32768)]
        e_all = self._eval_map(data, lambda x: net.neighbor_embed(x).float())
        z = self._eval_map(as_training_data(e_all[pool]), lambda e: net.head(e).float())
        initial = []
        for w in net.centers:
            seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
            labels = fixed_feature_partition(e_all[pool], w.shape[0], seed, predict_on=e_all)
            with torch.no_grad():
                sums = torch.zeros_like(w).index_add_(0, labels[pool], z)
                seen = torch.bincount(labels[pool], minlength=w.shape[0]) > 0
                w[seen] = F.normalize(sums[seen], dim=1)
            initial.append(labels)
        return initial

    # ------------------------------------------------------------------ train
    def _setup_training(self, data, generator, stream: bool = False, views=None):
        """Loader, task, optimiser and schedule of a fit (epoch -1 initialises) or of a
        partial_fit call (``stream``: warm-up, the initialisation epoch included, then a
        constant rate); ``views`` are made from ``data`` unless given."""
        data = as_training_data(data)
        loader = data.loader(self.batch_size, shuffle=True, generator=generator)
        if views is None:
            views = self._make_views(data)
        initial = None if self._restores_state() else self._init_centers(data, generator)
        task = _SeCuTask(self, data, views, generator, stream)
        steps = len(loader)
        max_iter, warmup = self._epochs(steps, stream)
        if initial is not None:
            task.start_from(initial, until_epoch=warmup)
        net = self.module_
        encoder = [p for n, p in net.named_parameters() if not n.startswith("centers")]
        groups = [
            ParamGroup(
                encoder,
                lr=self.lr,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
                schedule="warmup" if stream else "cosine",
                warmup_steps=(warmup + int(stream)) * steps,
                start_step=0 if stream else steps,
                name="encoder",
            )
        ]
        if self.center_update == "sgd":
            groups.append(
                ParamGroup(
                    list(net.centers),
                    lr=self.center_lr,
                    momentum=self.center_momentum,
                    schedule="constant",
                    name="centers",
                )
            )
        optimizer, scheduler = build_optimizer(groups, (max_iter + 1) * steps)
        return loader, task, optimizer, scheduler

    def _epochs(self, batches: int, stream: bool = False) -> tuple[int, int]:
        """``max_iter`` and ``warmup_epochs`` for ``batches`` mini-batches per epoch.

        ``max_iter="auto"`` gives about :data:`AUTO_STEPS` optimisation steps,
        within 10 to 60 epochs; ``warmup_epochs="auto"`` is a sixth of the
        epochs (the paper's 10 of 60 on small data), and 10 passes in a stream
        (``partial_fit``), which has no planned end.
        """
        max_iter = self.max_iter
        if max_iter == "auto":
            max_iter = int(min(max(round(AUTO_STEPS / max(batches, 1)), 10), 60))
        warmup = self.warmup_epochs
        if warmup == "auto":
            warmup = STREAM_WARMUP_EPOCHS if stream else max(round(max_iter / 6), 1)
        return max_iter, warmup

    def _train(self, data, generator, hooks):
        data = as_training_data(data)
        views = self._make_views(data)
        history = []
        if self.module_.neighbor is not None:
            history += self._neighbor_embedding_stage(data, views, generator, hooks, end=-1)
        loader, task, optimizer, scheduler = self._setup_training(data, generator, views=views)
        max_iter, _ = self._epochs(len(loader))
        history += self._run_training(
            task,
            loader,
            range(-1, max_iter),
            optimizer,
            scheduler,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        self.n_iter_ = max_iter
        if self.self_labeling_epochs > 0:
            history += self._self_label(data, task.memory[0].labels, generator, hooks, max_iter)
        self.labels_ = self._predicted_labels(data)
        self.cluster_centers_ = self.module_.centers[0].detach().cpu().numpy().copy()
        return history

    def _train_chunk(self, data, generator, hooks):
        """One ``partial_fit`` call: passes over the chunk, the first call's preceded by
        the initialisation epoch; ``labels_`` are the chunk's labels of the last pass."""
        loader, task, optimizer, scheduler = self._setup_training(data, generator, stream=True)
        history = self._run_training(
            task,
            loader,
            self._stream_epochs(init_epoch=True),
            optimizer,
            scheduler,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        self.labels_ = task.memory[0].labels.cpu().numpy().astype(np.int64)
        self.cluster_centers_ = self.module_.centers[0].detach().cpu().numpy().copy()
        return history

    @torch.no_grad()
    def _set_single_center(self, center: torch.Tensor) -> None:
        center = F.normalize(center.float(), dim=1).to(self.module_.centers[0].device)
        self.module_.centers[0].copy_(center)
        self.cluster_centers_ = center.cpu().numpy().copy()

    # ---------------------------------------------------------- self-labeling
    def _self_labeling_views(self, data: TrainingData):
        """Weak and strong views of the self-labeling stage (``self_labeling_augment``)."""
        if not isinstance(self.self_labeling_augment, str):
            return self._fit_views(self.self_labeling_augment, data)
        return self._fit_views(default_self_labeling_views(data.sample_shape), data)

    def _self_label(self, data, secu_labels, generator, hooks, first: int) -> list[dict]:
        """Fine-tune on confident pseudo-labels, from epoch ``first`` on."""
        net = self.module_
        loader = data.loader(self.batch_size, shuffle=True, generator=generator)
        views = self._self_labeling_views(data)
        task = _SelfLabelingTask(self, views, secu_labels.clone(), generator, first)
        encoder = [p for n, p in net.named_parameters() if not n.startswith("centers")]
        groups = [
            ParamGroup(
                encoder + [net.centers[0]],
                lr=self.self_labeling_lr,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
                schedule="cosine",
                name="self_labeling",
            )
        ]
        steps = self.self_labeling_epochs * len(loader)
        optimizer, scheduler = build_optimizer(groups, steps)
        history = self._run_training(
            task,
            loader,
            range(first, first + self.self_labeling_epochs),
            optimizer,
            scheduler,
            hooks,
            device=data.device,
            amp_dtype=self._amp_dtype(data.device),
        )
        if not history:  # interrupted before this stage: keep the clustering stage's labels
            return history
        if task.skipped_epochs:
            warnings.warn(
                f"Self-labeling: no training sample was predicted with confidence above "
                f"self_labeling_threshold={self.self_labeling_threshold} in "
                f"{task.skipped_epochs} of {self.self_labeling_epochs} epochs, which took no "
                "step. Lower the threshold or train the clustering stage longer.",
                UserWarning,
                stacklevel=3,
            )
        self.n_iter_ = first + self.self_labeling_epochs
        return history

    def _cluster_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        centers = F.normalize(self.module_.centers[0], dim=1)
        return embedding.float() @ centers.T / self.temperature
