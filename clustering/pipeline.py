"""The whole run, stage by stage: find → features → reduce → choose k → cluster.

This is the only orchestration: the command line calls :func:`analyse` as it is, the
dashboard with :class:`Steps` whose functions it caches, the distributed engine fits
its sample with the same steps, and :func:`run_pipeline` is the one-call Python API.
Each step is also a plain function usable alone. What a run produces is plain data
(:mod:`clustering.results`); writing it is :mod:`clustering.export`'s work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clustering.cache import FeatureCache
from clustering.clusters.kmeans import ImageClusterer, KSweep, check_k
from clustering.clusters.silhouette import sample_silhouettes
from clustering.errors import InputError
from clustering.features import FeatureSet, extract_features, extractor_for
from clustering.files.discover import Discovery, discover
from clustering.images.engine import ProgressCallback
from clustering.reduce.pca import FeatureReducer
from clustering.reduce.projection import MapProgress, MapProjection, project_map
from clustering.results import Clustering, Reduction, RunResult
from clustering.settings import Settings

__all__ = ["Steps", "analyse", "choose_k", "cluster_at", "compute_features", "map_2d",
           "reduce_features", "run_pipeline", "sweep_k"]


def compute_features(discovery: Discovery, settings: Settings,
                     progress: ProgressCallback | None = None) -> FeatureSet:
    """Features of every image found (cached ones are read, not recomputed)."""
    return extract_features(discovery.images, extractor_for(settings),
                            FeatureCache(settings.cache_dir), batch_size=settings.batch_size,
                            progress=progress)


def reduce_features(features: np.ndarray, settings: Settings) -> Reduction:
    """L2 normalisation and PCA as the settings say."""
    reducer = FeatureReducer(settings.pca, whiten=settings.whiten,
                             normalize=settings.normalize, random_state=settings.seed)
    return Reduction(reducer=reducer, reduced=reducer.fit(features).transform(features))


def map_2d(reduced: np.ndarray, settings: Settings,
           progress: MapProgress | None = None) -> MapProjection:
    """The 2-D map of the reduced features (PCA, UMAP or t-SNE as the settings say)."""
    return project_map(reduced, settings.map, settings.seed, progress)


def sweep_k(reduced: np.ndarray, settings: Settings) -> KSweep:
    """Inertia and mean silhouette for each k in the settings' range."""
    return KSweep(settings.k_min, settings.k_max, n_init=settings.n_init,
                  random_state=settings.seed).fit(reduced)


def cluster_at(reduced: np.ndarray, k: int, settings: Settings) -> Clustering:
    """k-means++ with ``k`` clusters, plus distances and per-image silhouettes."""
    model = ImageClusterer(k, n_init=settings.n_init, random_state=settings.seed).fit(reduced)
    return Clustering(k=k, labels=model.labels_, distances=model.distances_,
                      silhouettes=sample_silhouettes(reduced, model.labels_,
                                                     random_state=settings.seed),
                      inertia=model.inertia_, centers=model.cluster_centers_)


@dataclass(frozen=True)
class Steps:
    """The functions :func:`analyse` calls; the dashboard passes cached versions."""

    reduce: Callable[[np.ndarray, Settings], Reduction] = reduce_features
    sweep: Callable[[np.ndarray, Settings], KSweep] = sweep_k
    cluster: Callable[[np.ndarray, int, Settings], Clustering] = cluster_at
    map: Callable[[np.ndarray, Settings], MapProjection] = map_2d


def run_pipeline(source: str | os.PathLike, settings: Settings,
                 progress: ProgressCallback | None = None) -> RunResult:
    """Find, extract, reduce, choose k (unless given) and cluster ``source``.

    Raises a :class:`~clustering.errors.ClusterLensError` (no images, bad k, missing
    weights) with a message for the user.
    """
    found = discover(source, recursive=settings.recursive)
    if not found.images:
        raise InputError(f"no images found in {source}")
    if settings.k is not None:
        check_k(settings.k, len(found.images))
    return analyse(compute_features(found, settings, progress), settings, found)


def analyse(features: FeatureSet, settings: Settings, discovery: Discovery,
            steps: Steps = Steps(), always_sweep: bool = False) -> RunResult:
    """Reduce, choose k (unless the settings give it) and cluster computed features.

    The k sweep runs when k is automatic, or always with ``always_sweep`` (the
    dashboard draws it whatever k is).
    """
    check_k(settings.k or 2, len(features.names))
    reduction = steps.reduce(features.features, settings)
    k, reason, sweep = choose_k(reduction.reduced, settings, steps, always_sweep)
    return RunResult(settings=settings, discovery=discovery, features=features,
                     reduction=reduction, sweep=sweep,
                     clustering=steps.cluster(reduction.reduced, k, settings), k_reason=reason,
                     map=steps.map(reduction.reduced, settings))


def choose_k(reduced: np.ndarray, settings: Settings, steps: Steps = Steps(),
             always_sweep: bool = False) -> tuple[int, str, KSweep | None]:
    """k (the settings' or the sweep's suggestion), the reason in words, and the sweep
    (None when k is given and ``always_sweep`` is not asked)."""
    sweep = None
    if settings.k is None or always_sweep:
        sweep = steps.sweep(reduced, settings)
    if settings.k is None:
        return sweep.choice_.k, sweep.choice_.rule, sweep
    if sweep is not None and settings.k != sweep.choice_.k:
        return settings.k, (f"chosen by the user (the suggestion was k={sweep.choice_.k}: "
                            f"{sweep.choice_.rule})"), sweep
    if sweep is not None:
        return settings.k, sweep.choice_.rule, sweep
    return settings.k, "given by the user", sweep
