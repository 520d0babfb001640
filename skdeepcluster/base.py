"""The shared base of every deep clustering estimator."""

from __future__ import annotations

import copy
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _generate_get_feature_names_out,
    check_is_fitted,
    validate_data,
)
from torch import nn

from skdeepcluster._training import ProgressHook, autocast_context, resolve_amp, run_training
from skdeepcluster._training._distributed import DistributedContext
from skdeepcluster._training._session import FitCall
from skdeepcluster.augment import default_image_views, default_vector_views, needs_data
from skdeepcluster.data import (
    ImageFolder,
    InMemoryData,
    StreamedData,
    TrainingData,
    as_training_data,
    input_kind,
    place_training_tensor,
    to_image_tensor,
)
from skdeepcluster.data._validation import (
    check_finite_vectors,
    check_vector_ndim,
    non_numeric_message,
)
from skdeepcluster.nn import (
    BACKBONES,
    build_backbone,
    default_backbone,
    infer_out_features,
    use_channels_last,
)


def _as_numpy(X):
    """Bring a torch tensor to NumPy (any device); leave everything else alone."""
    if isinstance(X, torch.Tensor):
        return X.detach().cpu().numpy()
    return X


def _on_cpu(tensor: torch.Tensor) -> bool:
    return tensor.device.type == "cpu"


def _to_cpu(value):
    """``value`` with every torch module and tensor on the CPU; ``value`` itself if all are.

    Modules and tensors on another device are copied (never moved in place), so
    pickling a fitted estimator leaves it on its device. Lists, tuples and
    dicts are searched.
    """
    if isinstance(value, nn.Module):
        tensors = [*value.parameters(), *value.buffers()]
        if all(_on_cpu(t) for t in tensors):
            return value
        return copy.deepcopy(value).cpu()
    if isinstance(value, torch.Tensor):
        return value if _on_cpu(value) else value.detach().cpu()
    if isinstance(value, (list, tuple)):
        items = [_to_cpu(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        if type(value) in (list, tuple):
            return type(value)(items)
        return type(value)(*items) if hasattr(value, "_fields") else value  # namedtuple
    if isinstance(value, dict):
        items = {k: _to_cpu(v) for k, v in value.items()}
        if all(items[k] is v for k, v in value.items()):
            return value
        return items
    return value


_FOLDER_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class BaseDeepClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Base class of the deep clustering estimators.

    It owns what every method shares: parameter validation, input validation,
    seeding, the device, the fit skeleton and batched inference. A subclass
    supplies :meth:`_build_module` (its network), :meth:`_train` (its
    objective, run through the shared loop in :mod:`skdeepcluster._training`)
    and :meth:`_cluster_logits` (how an embedding is scored against clusters).

    Seeding never touches the global RNGs: ``fit`` runs inside
    :func:`torch.random.fork_rng` seeded from ``random_state`` (so module
    initialisation and dropout are reproducible and the caller's torch RNG
    state is restored afterwards), and shuffling and augmentation draw from a
    local :class:`torch.Generator`.

    **Input.** ``fit``, ``predict``, ``predict_proba``, ``transform`` and
    ``score`` take the same kinds of ``X``:

    * vectors: a 2-D array-like (NumPy array, pandas DataFrame, torch tensor)
      of shape (n_samples, n_features), validated by scikit-learn;
    * image arrays: 3-D or 4-D arrays or tensors, (N, H, W), (N, H, W, C) or
      (N, C, H, W) with 1 to 4 channels. uint8 (and uint16) arrays are pixel
      values, read channels-last and scaled to [0, 1]; other dtypes are taken
      as already scaled and read channels-first (the full rule is in
      :func:`skdeepcluster.data.to_image_tensor`);
    * image files: a folder (``str`` or :class:`pathlib.Path`, searched
      recursively), a list of image files, or an
      :class:`~skdeepcluster.data.ImageFolder` that sets how they are read
      (resize, colour mode, corrupt files, workers). Images are streamed from
      disk by :class:`torch.utils.data.DataLoader` workers, never all loaded.
      Files given to ``predict`` and friends are read in the colour mode of the
      training images and, after a fit on files with ``resize``, at that size.

    No scikit-learn check requires 3-D input to be rejected (they require 1-D
    input to be), so image arrays need no switch: a 3-D or 4-D array is
    always read as images. ``_build_module`` and ``_train`` receive a
    :class:`~skdeepcluster.data.TrainingData`, whatever the input.

    **Invalid input** raises a :class:`ValueError` or :class:`TypeError` that
    names what to fix: the first sample and feature (or image, channel, row
    and column) holding NaN or infinity, the first sample and feature (or
    DataFrame column) that is not a number, the file that cannot be read, or
    the parameter out of range. Values of float64 input too large for float32
    are refused as well, since training runs in float32.

    **Determinism.** The same ``random_state`` gives the same ``labels_`` and
    the same predictions on the CPU, run after run, whatever the number of
    :class:`~skdeepcluster.data.ImageFolder` workers (they decode files and
    draw nothing). The limit is the number of torch threads
    (:func:`torch.set_num_threads`): parallel reductions may sum in another
    order with another thread count, and these last-bit differences can change
    a label. Compare runs with the same thread count (the tests use one
    thread). On CUDA, cuDNN and atomic additions add their own
    non-determinism. ``fit`` and ``predict`` leave the global torch and NumPy
    RNG states as they found them.

    **Persistence.** A fitted estimator pickles (``pickle``, ``joblib``) with
    its modules and tensors copied to the CPU, so an estimator fitted on a GPU
    loads and predicts on a machine without one; it then predicts on the CPU.
    An estimator fitted on image files keeps no handle on them and pickles
    like any other.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    max_iter : int
        Number of training epochs.
    batch_size : int
        Mini-batch size.
    lr : float
        Learning rate of the encoder.
    weight_decay : float
        L2 weight decay of the encoder.
    backbone : str or torch.nn.Module
        A name from :data:`skdeepcluster.nn.BACKBONES` (``"mlp"``, ``"cnn"``,
        ``"resnet18"``, ``"resnet34"``, ``"resnet18_stl"``), ``"auto"`` (the
        MLP for vectors, the small CNN for images), or a module mapping a
        batch of inputs to features; a user module is deep-copied into
        ``module_`` and never trained in place.
    backbone_params : dict or None
        Keyword arguments of a named backbone.
    augment : "auto", None or callable
        How training views are made; see the subclass.
    device : str or torch.device
        ``"auto"`` uses CUDA when available, else the CPU.
    amp : {"auto", "bf16", "fp16"} or None
        Mixed precision of the network's forward passes (training and
        inference) through :func:`torch.autocast`; losses, soft labels and
        assignment solvers always run in float32 or float64. ``"auto"``:
        bfloat16 on CPUs with native bfloat16 instructions (float32 on the
        others, where it is emulated and slower) and bfloat16 (or float16
        with a gradient scaler on GPUs without native bfloat16) on CUDA,
        when the backbone is one of the built-in CNNs on images; float32
        otherwise (vectors, MLPs and user modules). ``"bf16"`` / ``"fp16"``
        force a dtype (``"fp16"`` is CUDA only), ``None`` is float32. See
        :func:`skdeepcluster._training.resolve_amp`. A fitted estimator
        loaded where its dtype is not available (``"fp16"`` on a CPU,
        ``"bf16"`` on a GPU without native bfloat16) predicts in float32.
    random_state : int, RandomState instance or None
        Seed of the fit.
    verbose : int
        ``0`` is silent; ``1`` shows a progress bar with the loss and cluster sizes.
    checkpoint_dir : str, path-like or None
        Folder of the fit's checkpoint, or ``None`` for no checkpoints. When it
        holds a checkpoint of the same fit, ``fit`` resumes from it (see below).
    checkpoint_every : int
        Write the checkpoint every this many epochs (and after the last one).
    warm_start : bool
        When ``True`` and the estimator is fitted, ``fit`` continues training
        the fitted network and assignment state for another ``max_iter``
        epochs instead of starting over (see below).

    Notes
    -----
    **Checkpoints and resume.** With ``checkpoint_dir``, the end of every
    ``checkpoint_every``-th epoch (and of the last) replaces
    ``checkpoint_dir/checkpoint.pt`` atomically (a temporary file renamed over
    the old one) with everything the rest of the fit depends on: the network,
    the optimiser and learning-rate schedule, the assignment state (labels,
    counts, dual variables, EMA targets, pseudo-labels, whatever the method
    keeps), the fit's :class:`torch.Generator` and the global PyTorch RNG
    state, the epoch and the history. A later ``fit`` with a checkpoint in
    ``checkpoint_dir`` resumes from it automatically, so a killed or
    pre-empted job is resumed by running the same script again; on the CPU
    the resumed fit ends with exactly the result of an uninterrupted one.
    Resuming requires the same estimator class, parameters (except
    ``checkpoint_dir``, ``checkpoint_every``, ``verbose``, ``device`` and a
    ``random_state`` that is not an integer), data and number of processes;
    any other checkpoint is refused with a ValueError naming the difference.
    A checkpoint of a completed fit is resumed too (the fit returns at once
    with the same result): delete it, or use a new folder, to train again.
    Under :mod:`torch.distributed` only rank 0 writes; every rank reads the
    folder, which must be shared between the machines.

    **KeyboardInterrupt.** Interrupting ``fit`` (Ctrl-C) restores the state
    of the last completed epoch (network and assignment state), sets the
    fitted attributes from it (``n_iter_`` counts the completed epochs), emits
    a UserWarning and re-raises the KeyboardInterrupt, so that scripts still
    stop while an interactive session keeps a usable estimator. An interrupt
    before the first epoch completes, or during the work after the last
    epoch, stops the fit without a result: the estimator is left unfitted,
    or, when warm-starting, as the previous fit left it.

    **Warm start.** With ``warm_start=True`` a second ``fit`` on the same
    data keeps ``module_`` and the per-sample assignment state and runs the
    method's schedule once more (learning-rate warm-up then decay over the
    new ``max_iter`` epochs, i.e. a warm restart); initialisation steps
    (k-means++ centres, PCA projections, standardisation) are skipped and the
    optimiser's momentum starts from zero. ``history_`` and ``n_iter_``
    accumulate over the fits. The data must have the same shape and values
    and ``n_clusters`` must not change (a ValueError says otherwise), since
    the assignment state belongs to the training samples.

    **torch.distributed.** Under ``torchrun --nproc_per_node=N`` (a process
    group initialised with :func:`torch.distributed.init_process_group`:
    gloo on CPUs, NCCL on GPUs, where ``device="auto"`` or ``"cuda"`` means
    ``cuda:LOCAL_RANK``) every rank calls ``fit`` with the same data and
    parameters. ``batch_size`` is the global batch: each rank trains on its
    share of every batch, gradients are averaged over the ranks, module
    buffers and the generator follow rank 0, and the assignment state is
    gathered or reduced so that every rank ends with the same ``labels_``
    and ``module_``; only rank 0 shows progress and writes checkpoints.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "backbone": [StrOptions(set(BACKBONES) | {"auto"}), nn.Module],
        "backbone_params": [dict, None],
        "augment": [StrOptions({"auto"}), callable, None],
        "device": [str, torch.device],
        "amp": [StrOptions({"auto", "bf16", "fp16"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    #: Mini-batch size used by predict / transform on vectors.
    _inference_batch_size = 4096
    #: Mini-batch size used by predict / transform on images.
    _image_inference_batch_size = 256
    #: ``backbone_params`` of ``backbone="mlp"`` when the user leaves them at ``None``
    #: (``None`` here means the MLP's own defaults).
    _default_mlp_params: dict | None = None

    def __init__(
        self,
        n_clusters=8,
        *,
        max_iter=100,
        batch_size=256,
        lr=0.05,
        weight_decay=0.0,
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
    ):
        self.n_clusters = n_clusters
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.backbone = backbone
        self.backbone_params = backbone_params
        self.augment = augment
        self.device = device
        self.amp = amp
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.warm_start = warm_start

    # ------------------------------------------------------------------ hooks
    def _build_module(self, data: TrainingData) -> nn.Module:
        raise NotImplementedError

    def _train(self, data: TrainingData, generator: torch.Generator, hooks: list) -> list[dict]:
        """Train ``self.module_`` on ``data``; set ``labels_`` and return the history."""
        raise NotImplementedError

    def _cluster_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.embed(x)

    def _default_views(self, data: TrainingData):
        """The view maker of ``augment="auto"``; ``None`` trains on the samples themselves."""
        return None

    def _two_views(self, data: TrainingData):
        """Two augmented views of every sample: the default of the two-view methods.

        Images get :func:`~skdeepcluster.augment.default_image_views`, vectors
        :func:`~skdeepcluster.augment.default_vector_views` for clusters of the
        average size ``n_samples / n_clusters``.
        """
        if data.is_image:
            return default_image_views(data.sample_shape)
        return default_vector_views(len(data) / self.n_clusters)

    # ------------------------------------------------------- shared building
    def _resolved_backbone(self, data: TrainingData):
        """``backbone`` with ``"auto"`` resolved for ``data`` ("mlp" or "cnn")."""
        if isinstance(self.backbone, str) and self.backbone == "auto":
            return default_backbone(data.sample_shape)
        return self.backbone

    def _make_backbone(self, data: TrainingData, backbone=None) -> tuple[nn.Module, int]:
        """This fit's backbone, on the training device, and the width of its output.

        ``backbone`` overrides the resolved ``self.backbone`` (a name or a module).
        """
        data = as_training_data(data)
        if backbone is None:
            backbone = self._resolved_backbone(data)
        params = self.backbone_params
        if params is None and isinstance(backbone, str) and backbone == "mlp":
            params = self._default_mlp_params
        module = build_backbone(backbone, data.sample_shape, params).to(data.device)
        self._builtin_cnn = data.is_image and isinstance(backbone, str) and backbone != "mlp"
        if self._builtin_cnn:
            use_channels_last(module)
        return module, infer_out_features(module, data.example())

    # --------------------------------------------------------- mixed precision
    def _amp_dtype(self, device, training: bool = True) -> torch.dtype | None:
        """The autocast dtype of forward passes on ``device`` (``None``: float32).

        ``amp="auto"`` turns it on for the built-in CNN backbones only (set by
        :meth:`_make_backbone`). A dtype ``device`` cannot compute in
        (``"fp16"`` on a CPU, ``"bf16"`` on a GPU without native bfloat16)
        raises a ValueError for training and gives float32 otherwise, so that
        a fitted estimator predicts on any device it is loaded on.
        """
        try:
            return resolve_amp(self.amp, device, prefer=getattr(self, "_builtin_cnn", False))
        except ValueError:
            if training:
                raise
            return None

    def _amp_embed(self, x: torch.Tensor) -> torch.Tensor:
        """``_embed(x)`` under the fit's autocast (float32 where the device lacks its dtype),
        returned as float32."""
        with autocast_context(x.device, self._amp_dtype(x.device, training=False)):
            z = self._embed(x)
        return z.float()

    def _make_views(self, data: TrainingData):
        """The view maker of this fit, fitted on ``data``; ``None`` when there is none.

        ``augment=None`` gives none, ``"auto"`` the method's :meth:`_default_views`
        and a callable is used as it is (see :meth:`_fit_views`).
        """
        if self.augment is None:
            return None
        data = as_training_data(data)
        views = self._default_views(data) if isinstance(self.augment, str) else self.augment
        return None if views is None else self._fit_views(views, data)

    def _fit_views(self, views, data: TrainingData):
        """Call ``views.fit`` with the training tensor; refuse data-hungry views on files."""
        if data.tensor is not None:
            if hasattr(views, "fit"):
                views.fit(data.tensor)
        elif needs_data(views):
            raise ValueError(
                f"augment={views!r} fits on the training data, which needs it in memory; "
                "image files are streamed from disk. Load the images into an array, or pass "
                "an augmentation without a data-dependent fit."
            )
        return views

    # ------------------------------------------------------------- validation
    def _validate_input(self, X, reset: bool) -> np.ndarray:
        """Validated vectors as a float32 array; errors name the sample and feature at fault."""
        X = _as_numpy(X)
        check_vector_ndim(X)
        try:
            validated = validate_data(
                self,
                X,
                reset=reset,
                dtype=[np.float32, np.float64],
                ensure_min_samples=2 if reset else 1,
                ensure_all_finite=False,
            )
        except (TypeError, ValueError) as exc:
            message = non_numeric_message(exc, X)
            if message is None:
                raise
            raise (TypeError if isinstance(exc, TypeError) else ValueError)(message) from exc
        with np.errstate(over="ignore"):  # values beyond float32 are reported below
            converted = validated.astype(np.float32, copy=False)
        check_finite_vectors(
            converted,
            original=validated if validated.dtype != np.float32 else None,
            feature_names=getattr(self, "feature_names_in_", None),
            estimator=type(self).__name__,
        )
        if not converted.flags.writeable:  # e.g. a DataFrame's read-only view: torch needs a copy
            converted = converted.copy()
        return converted

    def _check_data_vs_params(self, X) -> None:
        if X.shape[0] < self.n_clusters:
            raise ValueError(
                f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}: "
                "lower n_clusters or pass more samples."
            )

    def _training_data(self, X, device: torch.device) -> TrainingData:
        """Validate the training input and wrap it; set the input attributes."""
        kind = input_kind(X)
        if kind == "vectors":
            X = self._validate_input(X, reset=True)
            tensor = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32)
            self.image_shape_ = None
            self._image_resize = None
            return place_training_tensor(tensor, device)
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if kind == "image_array":
            data = place_training_tensor(to_image_tensor(X, min_samples=2), device, is_image=True)
            self._image_resize = None
        else:
            folder = X if isinstance(X, ImageFolder) else ImageFolder(X)
            if len(folder) < 2:
                where = folder.path if isinstance(folder.path, (str, os.PathLike)) else "the list"
                raise ValueError(
                    f"Found {len(folder)} image(s) in {str(where)!r} while a minimum of 2 "
                    "is required."
                )
            data = StreamedData(folder, device)
            self._image_resize = folder.resize
        self.n_features_in_ = int(np.prod(data.sample_shape))
        self.image_shape_ = tuple(data.sample_shape)
        return data

    def _inference_data(self, X, device: torch.device) -> TrainingData:
        """Validate input to predict / transform against the fit; batches go to ``device``."""
        image_shape = getattr(self, "image_shape_", None)
        kind = input_kind(X)
        if image_shape is None:
            if kind != "vectors":
                raise ValueError(
                    f"This {type(self).__name__} was fitted on vectors with "
                    f"{self.n_features_in_} features; got images."
                )
            X = self._validate_input(X, reset=False)
            tensor = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32)
            return InMemoryData(tensor, device=device)
        if kind == "vectors":
            raise ValueError(
                f"This {type(self).__name__} was fitted on images of shape {image_shape} "
                "(channels, height, width); pass images (an array, a folder or files), "
                "not a 2-D array."
            )
        if kind == "image_array":
            data = InMemoryData(to_image_tensor(X), is_image=True, device=device)
        else:
            data = StreamedData(self._inference_folder(X, image_shape[0]), device)
        if tuple(data.sample_shape) != tuple(image_shape):
            raise ValueError(
                f"This {type(self).__name__} was fitted on images of shape {image_shape} "
                f"(channels, height, width); got images of shape {tuple(data.sample_shape)}. "
                "For files, ImageFolder(path, resize=(height, width), color_mode=...) "
                "reads them at another size or mode."
            )
        return data

    def _inference_folder(self, X, channels: int) -> ImageFolder:
        """``X`` as an ImageFolder read in the training images' mode (and resize)."""
        mode = _FOLDER_MODES.get(channels)
        if isinstance(X, ImageFolder):
            folder = X
        else:
            modes = {"L": "grayscale", "RGB": "rgb", "RGBA": "rgba"}
            folder = ImageFolder(
                X,
                resize=getattr(self, "_image_resize", None),
                color_mode=modes.get(mode, "auto"),
            )
        if folder.color_mode == "auto" and mode is not None and folder.mode != mode:
            folder = folder.with_mode(mode)
        return folder

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the representation and the clusters of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            Training data: a NumPy array, a pandas DataFrame or a torch tensor
            of vectors; an array of images (N, H, W), (N, H, W, C) or
            (N, C, H, W); or a folder, a list of image files or an
            :class:`~skdeepcluster.data.ImageFolder` (see the class docstring).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        call = FitCall(self, stream=False)
        data = call.validate(self._fit_data, X)
        with call.session(data) as session:
            history = self._training(self._train, data, session.generator, call.hooks)
        call.finish(history, data)
        return self

    def _fit_data(self, X, device: torch.device) -> TrainingData:
        """``X`` validated and wrapped as the data of a new fit."""
        data = self._training_data(X, device)
        self._check_data_vs_params(data)
        return data

    def _training(self, train, data: TrainingData, generator, hooks) -> list[dict]:
        """``train(data, generator, hooks)``, or the fit of a single cluster.

        With ``n_clusters=1`` there is nothing to discriminate and every
        objective is constant or degenerate, so no epoch is run: the network
        stays as built and initialised from ``random_state``, every sample is
        in cluster 0 and the centre is the mean embedding of ``data``.
        ``predict``, ``predict_proba`` and ``transform`` work as usual.
        """
        if self.n_clusters > 1:
            return train(data, generator, hooks)
        self.labels_ = np.zeros(len(data), dtype=np.int64)
        self.n_iter_ = 0
        center = self._eval_map(data, self._amp_embed).mean(dim=0, keepdim=True)
        self._set_single_center(center)
        return []

    def _set_single_center(self, center: torch.Tensor) -> None:
        """Store the centre of a one-cluster fit (the mean embedding, shape (1, d))."""

    def _embedding_width(self, data: TrainingData) -> int:
        """Number of columns of ``transform``'s output."""
        return int(self._eval_map(as_training_data(data.example()), self._amp_embed).shape[1])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the columns of :meth:`transform`: the lower-case class name and an index.

        They name the columns of a pandas DataFrame returned by ``transform``
        after ``set_output(transform="pandas")``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``["secuclustering0", "secuclustering1", ...]`` for SeCuClustering.
        """
        check_is_fitted(self, "_n_features_out")
        return _generate_get_feature_names_out(self, self._n_features_out, input_features)

    # ------------------------------------------- checkpoints, warm start, DDP
    def _fit_hooks(self, context: DistributedContext | None = None) -> list:
        """The loop hooks of a fit: a progress bar with ``verbose`` (on rank 0 only)."""
        if self.verbose and (context is None or context.is_main):
            return [ProgressHook(type(self).__name__)]
        return []

    def _run_training(
        self,
        task,
        loader,
        epochs,
        optimizer,
        scheduler=None,
        hooks=(),
        device="cpu",
        amp_dtype=None,
    ) -> list[dict]:
        """:func:`~skdeepcluster._training.run_training` through this fit's session.

        A subclass's ``_train`` calls it once per training stage; the session
        adds checkpoints and resume, interrupt handling, warm start and
        :mod:`torch.distributed` (see the class notes). The task must provide
        ``state_dict()`` / ``load_state_dict()`` (its assignment state) and,
        to train under torch.distributed, ``use_distributed(context)``.
        """
        session = getattr(self, "_fit_session", None)
        if session is None:
            return run_training(
                task, loader, epochs, optimizer, scheduler, hooks, device, amp_dtype
            )
        return session.run(task, loader, epochs, optimizer, scheduler, hooks, device, amp_dtype)

    def _restores_state(self) -> bool:
        """Whether the next training stage continues from saved state, so its
        initialisation may be skipped.

        True when resuming from a checkpoint written during that stage or a
        later one, warm-starting or continuing a stream: the network and the
        assignment state are then loaded over whatever the initialisation
        would compute.
        """
        session = getattr(self, "_fit_session", None)
        return session is not None and session.restores_next_stage()

    # -------------------------------------------------------------- inference
    def _eval_map(self, data: TrainingData, fn, indices=None) -> torch.Tensor:
        """``fn`` over ``data`` (the samples at ``indices``, if given) batch by batch,
        concatenated: ``module_`` in evaluation mode (its mode restored afterwards), no
        gradients, predict's batch size."""
        batch = self._image_inference_batch_size if data.is_image else self._inference_batch_size
        was_training = self.module_.training
        self.module_.eval()
        try:
            with torch.no_grad():
                return data.map(fn, batch, indices=indices)
        finally:
            self.module_.train(was_training)

    def _predicted_labels(self, data: TrainingData) -> np.ndarray:
        """``predict`` on training data: the argmax of the cluster logits, int64."""
        labels = self._eval_map(
            data, lambda x: self._cluster_logits(self._amp_embed(x)).argmax(dim=1)
        )
        return labels.cpu().numpy().astype(np.int64)

    def _inference(self, X, fn) -> torch.Tensor:
        check_is_fitted(self, "module_")
        device = next(self.module_.parameters()).device
        data = self._inference_data(X, device)
        return self._eval_map(data, lambda x: fn(x).float().cpu())

    def _logits(self, X) -> torch.Tensor:
        """Cluster logits of ``X`` (CPU float32), the input of predict / predict_proba / score."""
        return self._inference(X, lambda x: self._cluster_logits(self._amp_embed(x)))

    def predict(self, X) -> np.ndarray:
        """Cluster index of each sample (the module in evaluation mode, no augmentation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            The same kind of input as ``fit`` was given.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
        """
        logits = self._logits(X)
        return logits.argmax(dim=1).numpy().astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Soft cluster assignment of each sample (rows sum to 1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            The same kind of input as ``fit`` was given.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters), float32
        """
        logits = self._logits(X)
        return torch.softmax(logits, dim=1).numpy()

    def transform(self, X) -> np.ndarray:
        """The learned embedding of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            The same kind of input as ``fit`` was given.

        Returns
        -------
        embedding : ndarray of shape (n_samples, embedding_dim), float32
        """
        return self._inference(X, self._amp_embed).numpy()

    def score(self, X, y=None) -> float:
        """Mean log-probability of each sample's most likely cluster.

        An internal, label-free criterion (higher is better): it rewards
        confident, well separated assignments of ``X`` under the fitted model.
        Like ``KMeans.score`` it compares models with the same ``n_clusters``;
        to score against known classes use a scorer such as
        ``scoring="clustering_accuracy"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            The same kind of input as ``fit`` was given.
        y : Ignored

        Returns
        -------
        score : float
        """
        logits = self._logits(X)
        return float(torch.log_softmax(logits, dim=1).max(dim=1).values.mean())

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        """The state to pickle, with every module and tensor on the CPU (copies, not moves)."""
        state = super().__getstate__()
        moved = {key: _to_cpu(value) for key, value in state.items()}
        if any(moved[key] is not value for key, value in state.items()):
            state = moved
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        return tags


class _PartialFitMixin:
    """``partial_fit`` for the estimators that learn online (they define ``_train_chunk``)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on one chunk of a stream: one pass (``partial_fit_epochs`` passes).

        The first call builds the network and the assignment state from its
        chunk, which must hold at least ``n_clusters`` samples; later calls
        continue the same network, centres, optimiser, schedule and global
        assignment state, and accept chunks of at least 2 samples of the same
        kind and shape (a different number of features raises a ValueError).
        Nothing is kept per sample, so memory does not grow with the stream.
        ``labels_`` are the labels of the last chunk and ``n_iter_`` counts
        the passes of all calls. After ``fit``, ``partial_fit`` continues from
        the fitted network (with a new optimiser); ``fit`` starts over and
        ends the stream, and ``fit`` with ``warm_start=True`` after
        ``partial_fit`` raises a ValueError. Checkpoints are not written
        (``checkpoint_dir`` applies to ``fit``): pickle the estimator between
        calls, which continues exactly as without pickling. An interrupted
        call leaves the estimator as it was before the call. See the
        estimator's notes on streams and :ref:`streaming`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array, or image files
            One chunk of the stream, of the same kind as the first one.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The estimator, trained on one more chunk.
        """
        call = FitCall(self, stream=True)
        data = call.validate(self._chunk_data, X, call.continues)
        with call.session(data) as session:
            history = self._training(self._train_chunk, data, session.generator, call.hooks)
        call.finish(history, data)
        return self

    def _build_stream_module(self, data: TrainingData) -> nn.Module:
        """The network a stream starts from: ``fit``'s (:meth:`_build_module`) unless an
        estimator has parts that only ``fit`` trains."""
        return self._build_module(data)

    def _chunk_data(self, X, continues: bool, device: torch.device) -> TrainingData:
        """A chunk of a stream; after the first, validated against the first."""
        if not continues:
            return self._fit_data(X, device)
        data = self._inference_data(X, device)
        if len(data) < 2:
            raise ValueError(
                f"partial_fit needs chunks of at least 2 samples, got {len(data)}: "
                "join a shorter chunk to the next one."
            )
        if data.tensor is None:
            return data
        return place_training_tensor(data.tensor, device, is_image=data.is_image)

    def _stream_epochs(self, init_epoch: bool = False) -> list[int]:
        """Epochs of a ``partial_fit`` call: ``partial_fit_epochs`` numbered on from the
        stream's ``n_iter_``, after the initialisation epoch ``-1`` (``init_epoch``) when
        the stream starts from a new network."""
        start = getattr(self, "n_iter_", 0) if self._restores_state() else 0
        first = [] if self._restores_state() or not init_epoch else [-1]
        return first + list(range(start, start + self.partial_fit_epochs))
