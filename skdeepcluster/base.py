"""The shared base of every deep clustering estimator."""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from skdeepcluster._training import (
    ProgressHook,
    autocast_context,
    make_generator,
    resolve_amp,
    resolve_device,
    resolve_seed,
)
from skdeepcluster.augment import default_image_views, default_vector_views, needs_data
from skdeepcluster.data import (
    ImageFolder,
    InMemoryData,
    StreamedData,
    TrainingData,
    as_training_data,
    input_kind,
    to_image_tensor,
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
        bfloat16 on the CPU and bfloat16 (or float16 with a gradient scaler
        on GPUs without native bfloat16) on CUDA when the backbone is one of
        the built-in CNNs on images, float32 otherwise (vectors, MLPs and
        user modules). ``"bf16"`` / ``"fp16"`` force a dtype (``"fp16"`` is
        CUDA only), ``None`` is float32. See
        :func:`skdeepcluster._training.resolve_amp`.
    random_state : int, RandomState instance or None
        Seed of the fit.
    verbose : int
        ``0`` is silent; ``1`` shows a progress bar with the loss and cluster sizes.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 2, None, closed="left")],
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

    def _make_backbone(self, data: TrainingData) -> tuple[nn.Module, int]:
        """This fit's backbone, on the training device, and the width of its output."""
        data = as_training_data(data)
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
    def _amp_dtype(self, device) -> torch.dtype | None:
        """The autocast dtype of forward passes on ``device`` (``None``: float32).

        ``amp="auto"`` turns it on for the built-in CNN backbones only (set by
        :meth:`_make_backbone`).
        """
        return resolve_amp(self.amp, device, prefer=getattr(self, "_builtin_cnn", False))

    def _amp_embed(self, x: torch.Tensor) -> torch.Tensor:
        """``_embed(x)`` under the fit's autocast, returned as float32."""
        with autocast_context(x.device, self._amp_dtype(x.device)):
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
        return validate_data(
            self,
            _as_numpy(X),
            reset=reset,
            dtype=[np.float32, np.float64],
            ensure_min_samples=2 if reset else 1,
        )

    def _check_data_vs_params(self, X) -> None:
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")

    def _training_data(self, X, device: torch.device) -> TrainingData:
        """Validate the training input and wrap it; set the input attributes."""
        kind = input_kind(X)
        if kind == "vectors":
            X = self._validate_input(X, reset=True)
            tensor = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32).to(device)
            self.image_shape_ = None
            self._image_resize = None
            return InMemoryData(tensor)
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if kind == "image_array":
            data = InMemoryData(to_image_tensor(X, min_samples=2).to(device), is_image=True)
            self._image_resize = None
        else:
            folder = X if isinstance(X, ImageFolder) else ImageFolder(X)
            if len(folder) < 2:
                raise ValueError(f"Found {len(folder)} image(s) while a minimum of 2 is required.")
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
        device = resolve_device(self.device)
        self._builtin_cnn = False
        data = self._training_data(X, device)
        self._check_data_vs_params(data)
        resolve_amp(self.amp, device)  # refuse an impossible dtype before training
        seed = resolve_seed(self.random_state)
        cuda_devices = [device] if device.type == "cuda" else []
        hooks = [ProgressHook(type(self).__name__)] if self.verbose else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            generator = make_generator(seed)
            self.module_ = self._build_module(data).to(device)
            self.module_.train()
            history = self._train(data, generator, hooks)
        self.module_.eval()
        self.history_ = history
        return self

    # -------------------------------------------------------------- inference
    def _inference(self, X, fn) -> torch.Tensor:
        check_is_fitted(self, "module_")
        device = next(self.module_.parameters()).device
        data = self._inference_data(X, device)
        batch = self._image_inference_batch_size if data.is_image else self._inference_batch_size
        was_training = self.module_.training
        self.module_.eval()
        try:
            with torch.no_grad():
                return data.map(lambda x: fn(x).float().cpu(), batch)
        finally:
            self.module_.train(was_training)

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
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None and any(p.device.type != "cpu" for p in module.parameters()):
            state = dict(state)
            state["module_"] = copy.deepcopy(module).cpu()
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.allow_nan = False
        return tags
