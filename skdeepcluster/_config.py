"""Package-wide settings: where the training data of a fit are kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Accepted values of ``data_placement``.
DATA_PLACEMENTS = ("auto", "device", "host")

_DEFAULTS = {"data_placement": "auto"}
_local = threading.local()


def _settings() -> dict:
    if not hasattr(_local, "settings"):
        _local.settings = dict(_DEFAULTS)
    return _local.settings


def get_config() -> dict:
    """The current settings of skdeepcluster, as a new dict.

    Returns
    -------
    dict
        ``{"data_placement": ...}``; see :func:`set_config`.

    Examples
    --------
    >>> from skdeepcluster import get_config
    >>> get_config()["data_placement"]
    'auto'
    """
    return dict(_settings())


def set_config(data_placement: str | None = None) -> None:
    """Change settings of skdeepcluster for this thread; ``None`` leaves one as it is.

    Parameters
    ----------
    data_placement : {"auto", "device", "host"} or None, default=None
        Where a fit keeps its training vectors or image array. ``"device"``
        moves the whole array to the training device once and slices batches
        from it there. ``"host"`` keeps it in CPU memory (pinned when training
        on CUDA) and moves each mini-batch, with the few neighbours its views
        draw, to the device as it is used, so a data set larger than the
        GPU's memory trains on the GPU. ``"auto"`` (default): ``"device"`` on
        the CPU, and on CUDA while the array takes at most half of the free
        device memory (:data:`skdeepcluster.data.DEVICE_DATA_FRACTION`);
        ``"host"`` otherwise. Both placements draw the same batches and give
        the same labels. Image files are always streamed from disk.

    Examples
    --------
    >>> from skdeepcluster import get_config, set_config
    >>> set_config(data_placement="host")
    >>> get_config()["data_placement"]
    'host'
    >>> set_config(data_placement="auto")
    """
    if data_placement is not None:
        if data_placement not in DATA_PLACEMENTS:
            raise ValueError(
                f"data_placement must be one of {DATA_PLACEMENTS}, got {data_placement!r}."
            )
        _settings()["data_placement"] = data_placement


@contextmanager
def config_context(*, data_placement: str | None = None) -> Iterator[None]:
    """Settings of :func:`set_config` inside a ``with`` block, restored after it.

    Parameters
    ----------
    data_placement : {"auto", "device", "host"} or None, default=None
        See :func:`set_config`.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepcluster import SeCuClustering, config_context, get_config
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    >>> with config_context(data_placement="host"):
    ...     labels = SeCuClustering(n_clusters=2, max_iter=1, random_state=0).fit_predict(X)
    >>> get_config()["data_placement"]
    'auto'
    """
    old = get_config()
    set_config(data_placement=data_placement)
    try:
        yield
    finally:
        _settings().update(old)
