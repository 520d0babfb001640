"""Per-sample label memory indexed by sample id."""

from __future__ import annotations

import torch


class LabelMemory:
    """Hard labels of all training samples and the cluster counts they imply.

    A sample without a label yet holds ``-1`` and is not counted. The memory is
    plain state: solvers in :mod:`skdeepcluster.assignment` read ``labels`` and
    ``counts`` and the training step writes their results back with
    :meth:`update`.

    Parameters
    ----------
    n_samples : int
        Number of training samples N.
    n_clusters : int
        Number of clusters K.
    device : torch.device or str, default="cpu"
        Where the tensors live.

    Attributes
    ----------
    labels : torch.Tensor of shape (n_samples,), int64
    counts : torch.Tensor of shape (n_clusters,), float64
        Number of samples currently holding each label.

    Examples
    --------
    >>> mem = LabelMemory(4, 2)
    >>> mem.update(torch.tensor([0, 2]), torch.tensor([1, 1]))
    >>> mem.labels.tolist(), mem.counts.tolist()
    ([1, -1, 1, -1], [0.0, 2.0])
    >>> mem.update(torch.tensor([0]), torch.tensor([0]))
    >>> mem.counts.tolist()
    [1.0, 1.0]
    """

    def __init__(self, n_samples: int, n_clusters: int, device="cpu") -> None:
        self.n_clusters = int(n_clusters)
        self.labels = torch.full((int(n_samples),), -1, dtype=torch.long, device=device)
        self.counts = torch.zeros(self.n_clusters, dtype=torch.float64, device=device)

    def get(self, index: torch.Tensor) -> torch.Tensor:
        """Labels of the samples ``index`` (``-1`` where unassigned)."""
        return self.labels[index]

    def update(self, index: torch.Tensor, new_labels: torch.Tensor) -> None:
        """Store ``new_labels`` for ``index`` and keep ``counts`` consistent."""
        old = self.labels[index]
        seen = old >= 0
        ones = torch.ones_like(old, dtype=self.counts.dtype)
        self.counts.index_add_(0, old[seen], -ones[seen])
        self.counts.index_add_(0, new_labels, ones)
        self.labels[index] = new_labels

    def recount(self) -> None:
        """Recompute ``counts`` from ``labels`` (e.g. after labels were replaced)."""
        seen = self.labels >= 0
        self.counts = torch.bincount(self.labels[seen], minlength=self.n_clusters).to(
            self.counts.dtype
        )

    def state_dict(self) -> dict:
        return {"labels": self.labels.clone(), "counts": self.counts.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.labels = state["labels"].to(self.labels.device).clone()
        self.counts = state["counts"].to(self.counts.device).clone()


#: Labels per cluster that :class:`RunningCounts` remembers by default (its window).
STREAM_WINDOW_PER_CLUSTER = 100


class RunningCounts:
    """Cluster sizes of the most recent labels of a stream, aged to a fixed window.

    A stream has no fixed set of samples whose labels could be stored and
    recounted (:class:`LabelMemory`): each new batch of labels is added, and
    when the total would pass ``window`` the previous counts are first scaled
    down so that the total is ``window`` again. The counts are an exponential
    moving average of the cluster sizes with a memory of about ``window``
    labels: the sizes a :class:`LabelMemory` of the last ``window`` samples
    would hold, without keeping anything per sample.

    Parameters
    ----------
    n_clusters : int
        Number of clusters K.
    window : float
        Total the counts are held at once that many labels were added.
    device : torch.device or str, default="cpu"
        Where the counts live.

    Attributes
    ----------
    counts : torch.Tensor of shape (n_clusters,), float64

    Examples
    --------
    >>> running = RunningCounts(2, window=4)
    >>> running.add(torch.tensor([0, 0, 1]))
    >>> running.counts.tolist()
    [2.0, 1.0]
    >>> running.add(torch.tensor([1, 1, 1]))
    >>> running.counts.tolist()
    [0.6666666666666666, 3.3333333333333335]
    """

    def __init__(self, n_clusters: int, window: float, device="cpu") -> None:
        if not window > 0:
            raise ValueError(f"window must be positive, got {window}.")
        self.n_clusters = int(n_clusters)
        self.window = float(window)
        self.counts = torch.zeros(self.n_clusters, dtype=torch.float64, device=device)

    def add(self, labels: torch.Tensor) -> None:
        """Count ``labels``, scaling the older counts down past the window."""
        new = torch.bincount(labels, minlength=self.n_clusters).to(self.counts.dtype)
        total = float(self.counts.sum())
        if total > 0 and total + len(labels) > self.window:
            self.counts *= max(self.window - len(labels), 0.0) / total
        self.counts += new

    def state_dict(self) -> dict:
        return {"counts": self.counts.clone(), "window": self.window}

    def load_state_dict(self, state: dict) -> None:
        self.counts = state["counts"].to(self.counts.device, self.counts.dtype).clone()
        self.window = float(state["window"])
