"""Validation and encoding of label vectors shared by the clustering metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_array


def _check_labels(labels: ArrayLike, name: str) -> np.ndarray:
    """Return ``labels`` as a non-empty 1-D array, or raise a ``ValueError``.

    Any hashable, mutually comparable label values are accepted (ints of any
    sign, floats, strings, booleans); NaN or infinite float labels are rejected.
    """
    if labels is None:
        raise ValueError(f"{name} is None; expected a 1-D array-like of labels.")
    try:
        ndim = np.ndim(labels)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a 1-D array-like of labels: {exc}") from exc
    if ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got an array with {ndim} dimension(s) (shape {np.shape(labels)})."
        )
    labels = check_array(labels, ensure_2d=False, dtype=None, ensure_min_samples=0, input_name=name)
    if labels.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one sample is required.")
    return labels


def _encode_labels(labels: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(unique_labels, codes)`` with ``unique_labels[codes] == labels``."""
    try:
        uniques, codes = np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes label values that cannot be compared with each other "
            f"(for example str and int, or None); use labels of a single type. ({exc})"
        ) from exc
    return uniques, codes.reshape(-1)
