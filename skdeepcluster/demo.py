"""Cluster scikit-learn's bundled digits and compare with k-means.

Run with ``python -m skdeepcluster.demo``. Prints clustering accuracy, NMI and
ARI of :class:`~skdeepcluster.SeCuClustering` (default settings) next to
:class:`~sklearn.cluster.KMeans` on the 1,797 8x8 digits as 64-dim vectors.
"""

from __future__ import annotations

import argparse
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepcluster import SeCuClustering
from skdeepcluster.metrics import (
    adjusted_rand_score,
    clustering_accuracy,
    normalized_mutual_info_score,
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, default=None, help="SeCu epochs")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    models = {
        "KMeans(n_init=10)": KMeans(10, n_init=10, random_state=args.seed),
        "SeCuClustering": SeCuClustering(10, random_state=args.seed),
    }
    if args.max_iter is not None:
        models["SeCuClustering"].set_params(max_iter=args.max_iter)
    print(f"load_digits: {X.shape[0]} samples, {X.shape[1]} features, 10 classes")
    print(f"{'method':<20} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'time':>7}")
    for name, model in models.items():
        start = time.perf_counter()
        labels = model.fit_predict(X)
        elapsed = time.perf_counter() - start
        print(
            f"{name:<20} {clustering_accuracy(y, labels):6.3f} "
            f"{normalized_mutual_info_score(y, labels):6.3f} "
            f"{adjusted_rand_score(y, labels):6.3f} {elapsed:6.1f}s"
        )


if __name__ == "__main__":
    main()
