"""k-means++ clustering, the k sweep (elbow + silhouette) and the suggested k."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from threadpoolctl import threadpool_limits

from clustering.clusters.silhouette import (SILHOUETTE_SAMPLE, distance_matrix,
                                            mean_silhouette)
from clustering.errors import InvalidK, TooFewImages
from clustering.reduce.copies import count_distinct
from clustering.settings import Settings

MINIBATCH_ABOVE = 50_000  # MiniBatchKMeans for more images than this
MIN_IMAGES_TO_CLUSTER = 3  # k is at least 2 and smaller than the number of images


# k-means' OpenMP threads: half the cores. Its threads meet at a barrier after every
# chunk of work; when another process (or the network, decoding in another thread)
# holds a core, the others spin there waiting for the one descheduled: on 2 cores,
# with one core busy elsewhere, the k sweep on 10k images took 15 s with 2 threads
# and 3.4 s with 1 (about 25 % slower than 2 threads when the machine is idle).
KMEANS_THREADS = max(1, (os.cpu_count() or 1) // 2)


def _kmeans_threads() -> threadpool_limits:
    """Thread limits while k-means runs: BLAS on one thread, OpenMP on KMEANS_THREADS.

    Idle OpenBLAS threads spin after each call of the k-means++ initialisation and
    steal cores from scikit-learn's OpenMP threads (bench/clustering_scale.py).
    """
    return threadpool_limits(limits={"blas": 1, "openmp": KMEANS_THREADS})


def _kmeans(k: int, n_samples: int, n_init: int, random_state: int,
            minibatch_above: int) -> KMeans | MiniBatchKMeans:
    if n_samples > minibatch_above:
        return MiniBatchKMeans(n_clusters=k, init="k-means++", n_init=n_init,
                               random_state=random_state, batch_size=4096)
    return KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=random_state)


def check_enough_images(n_samples: int) -> None:
    """Raise :class:`TooFewImages` below :data:`MIN_IMAGES_TO_CLUSTER` images."""
    if n_samples < MIN_IMAGES_TO_CLUSTER:
        raise TooFewImages(f"only {n_samples} loadable image(s): at least "
                           f"{MIN_IMAGES_TO_CLUSTER} are needed to cluster")


def check_k(k: int, n_samples: int) -> None:
    """Raise :class:`TooFewImages` or :class:`InvalidK` unless 2 <= k < number of images."""
    check_enough_images(n_samples)
    if not 2 <= k < n_samples:
        raise InvalidK(f"k must be at least 2 and smaller than the number of images "
                         f"({n_samples}); got k={k}")


def check_distinct(X: np.ndarray, k: int) -> int:
    """Raise unless ``X`` has at least ``k`` (and 2) distinct rows; return how many it has.

    k-means cannot make more clusters than there are distinct points: with copies
    of one image every silhouette is undefined (the sweep failed with numpy's
    "All-NaN slice encountered").
    """
    distinct = count_distinct(X)
    if distinct < 2:
        raise TooFewImages(f"only {distinct} distinct image(s) among {len(X)} (the rest are "
                           f"exact copies): at least 2 different images are needed to cluster")
    if k > distinct:
        raise InvalidK(f"k={k} is more than the {distinct} distinct images among {len(X)} "
                       f"(the rest are exact copies); k can be at most {distinct}")
    return distinct


def nearest_centroids(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centroid and its Euclidean distance (float64, exact).

    For images clustered elsewhere (a saved run, a fit on a sample): the same rule as
    k-means' own assignment.
    """
    squared = ((np.asarray(X, dtype=np.float64)[:, None, :]
                - np.asarray(centers, dtype=np.float64)[None, :, :]) ** 2).sum(axis=2)
    labels = squared.argmin(axis=1) if len(squared) else np.zeros(0, dtype=np.int64)
    return labels, np.sqrt(squared[np.arange(len(labels)), labels])


class ImageClusterer(BaseEstimator, ClusterMixin):
    """k-means++ with ``n_clusters`` clusters.

    After ``fit``: ``labels_``, ``cluster_centers_``, ``inertia_`` and ``distances_``
    (each sample's Euclidean distance to its own centroid).
    """

    def __init__(self, n_clusters: int = 8, n_init: int = Settings.n_init,
                 random_state: int = Settings.seed,
                 minibatch_above: int = MINIBATCH_ABOVE) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.random_state = random_state
        self.minibatch_above = minibatch_above

    def fit(self, X: np.ndarray, y=None) -> "ImageClusterer":
        X = np.asarray(X, dtype=np.float32)
        check_k(self.n_clusters, len(X))
        check_distinct(X, self.n_clusters)
        with _kmeans_threads():
            model = _kmeans(self.n_clusters, len(X), self.n_init, self.random_state,
                            self.minibatch_above).fit(X)
        self.labels_ = model.labels_.astype(np.int64)
        self.cluster_centers_ = model.cluster_centers_
        self.inertia_ = float(model.inertia_)
        self.distances_ = np.linalg.norm(X - self.cluster_centers_[self.labels_], axis=1)
        return self


@dataclass
class KChoice:
    """The suggested k and the rule that chose it, in words."""

    k: int
    rule: str
    knee_k: int | None
    best_silhouette_k: int


def suggest_k(ks: np.ndarray, inertias: np.ndarray, silhouettes: np.ndarray) -> KChoice:
    """Knee of the inertia curve (Kneedle), refined by silhouette among its neighbours.

    The rule: find the elbow of inertia vs k; among elbow-1, elbow, elbow+1 take the k
    with the highest mean silhouette. With no clear elbow, take the best silhouette.
    """
    from kneed import KneeLocator

    ks = np.asarray(ks)
    best_sil = int(ks[int(np.nanargmax(silhouettes))])
    knee = None
    if len(ks) >= 3:
        located = KneeLocator(ks, inertias, curve="convex", direction="decreasing").knee
        knee = int(located) if located is not None else None
    if knee is None:
        return KChoice(best_sil, f"no clear elbow in the inertia curve; k={best_sil} has the "
                       f"highest mean silhouette", None, best_sil)
    near = [i for i, k in enumerate(ks) if abs(k - knee) <= 1]
    pick = int(ks[max(near, key=lambda i: silhouettes[i])])
    rule = (f"elbow of the inertia curve at k={knee}; k={pick} has the highest mean "
            f"silhouette among k={knee - 1}..{knee + 1}")
    if pick == knee:
        rule = (f"elbow of the inertia curve at k={knee}, which also has the highest mean "
                f"silhouette among its neighbours")
    return KChoice(pick, rule, knee, best_sil)


class KSweep(BaseEstimator):
    """Fit k-means++ for every k in ``k_min..k_max`` (capped at n - 1).

    After ``fit``: ``ks_``, ``inertias_``, ``silhouettes_`` (mean, on a sample of at
    most ``silhouette_sample`` images) and ``choice_`` (a :class:`KChoice`).
    """

    def __init__(self, k_min: int = Settings.k_min, k_max: int = Settings.k_max,
                 n_init: int = Settings.n_init, random_state: int = Settings.seed,
                 silhouette_sample: int = SILHOUETTE_SAMPLE,
                 minibatch_above: int = MINIBATCH_ABOVE) -> None:
        self.k_min = k_min
        self.k_max = k_max
        self.n_init = n_init
        self.random_state = random_state
        self.silhouette_sample = silhouette_sample
        self.minibatch_above = minibatch_above

    def fit(self, X: np.ndarray, y=None) -> "KSweep":
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        check_k(self.k_min, n)
        distinct = check_distinct(X, self.k_min)
        ks = np.arange(self.k_min, min(self.k_max, n - 1, distinct) + 1)
        # One fixed sample for every k: its distance matrix is computed once.
        idx = np.arange(n)
        if n > self.silhouette_sample:
            idx = np.random.default_rng(self.random_state).choice(n, self.silhouette_sample,
                                                                  replace=False)
        dist = distance_matrix(X[idx])
        inertias, silhouettes = [], []
        with _kmeans_threads():
            for k in ks:
                model = _kmeans(int(k), n, self.n_init, self.random_state, self.minibatch_above)
                labels = model.fit_predict(X)
                inertias.append(float(model.inertia_))
                silhouettes.append(mean_silhouette(dist, labels[idx]))
        self.ks_ = ks
        self.inertias_ = np.array(inertias)
        self.silhouettes_ = np.array(silhouettes)
        self.choice_ = suggest_k(ks, self.inertias_, self.silhouettes_)
        return self
