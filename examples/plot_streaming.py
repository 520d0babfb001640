"""
========================================
Clustering a stream with ``partial_fit``
========================================

:class:`~skdeepcluster.SeCuClustering` and
:class:`~skdeepcluster.HardRegClustering` assign each mini-batch as it
arrives, so they can learn from data that comes in chunks -- a stream, or a
data set too large to hold -- through ``partial_fit``, like
:class:`~sklearn.cluster.MiniBatchKMeans`. Each call trains one pass over
its chunk and keeps only global state (the network, the centres, the
optimiser and the constraint's statistics), never anything per sample.

Here the digits arrive in chunks of 150 samples, twice over. After every
chunk the model so far predicts all digits, and its clustering accuracy is
compared with :class:`~sklearn.cluster.MiniBatchKMeans` fed the same chunks.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.datasets import load_digits

from skdeepcluster import HardRegClustering, SeCuClustering
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)

FAST = os.environ.get("SKDC_EXAMPLES_FAST") == "1"

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
if FAST:
    X, y = X[:600], y[:600]

# %%
# The stream: shuffled chunks of 150 samples, two passes.
rng = np.random.RandomState(0)
chunks = [
    order[start : start + 150]
    for order in (rng.permutation(len(X)) for _ in range(2))
    for start in range(0, len(X), 150)
]

# %%
# Feed every estimator the same chunks
# ------------------------------------
# ``partial_fit`` takes a chunk and returns the estimator; ``labels_`` are the
# labels of the last chunk, and ``predict`` works after any number of calls.
# ``partial_fit_epochs=3`` trains three passes over each chunk before the
# next one arrives (one pass is the default): with so few samples per chunk
# the network needs the extra steps, while MiniBatchKMeans, which only moves
# its centres, gains nothing from them.
passes = 1 if FAST else 3
estimators = {
    "SeCu": SeCuClustering(n_clusters=10, partial_fit_epochs=passes, random_state=0, device="cpu"),
    "HardReg": HardRegClustering(
        n_clusters=10, partial_fit_epochs=passes, random_state=0, device="cpu"
    ),
    "MiniBatchKMeans": MiniBatchKMeans(n_clusters=10, random_state=0, n_init=3),
}
curves = {name: [] for name in estimators}
for rows in chunks:
    for name, est in estimators.items():
        est.partial_fit(X[rows])
        curves[name].append(clustering_accuracy(y, est.predict(X)))

for name, est in estimators.items():
    labels = est.predict(X)
    print(
        f"{name:<16} ACC {clustering_accuracy(y, labels):.3f}  "
        f"NMI {normalized_mutual_info_score(y, labels):.3f}  "
        f"ARI {adjusted_rand_score(y, labels):.3f}"
    )

# %%
# Accuracy of ``predict(X)`` on all digits after each chunk.
fig, ax = plt.subplots(figsize=(6, 3.5))
seen = 150 * np.arange(1, len(chunks) + 1)
for name, accuracy in curves.items():
    ax.plot(seen, accuracy, marker=".", label=name)
ax.axvline(len(X), color="lightgrey", linestyle="--")
ax.set_xlabel("samples seen (two passes)")
ax.set_ylabel("clustering accuracy")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# A stream survives a restart: pickle the estimator between calls and the
# next ``partial_fit`` continues exactly where it stopped. See
# :ref:`streaming` for what each estimator keeps and why.
