"""The whole run, stage by stage: find → features → reduce → choose k → cluster → export.

This is the only orchestration: the command line calls :func:`analyse` as it is, the
dashboard with :class:`Steps` whose functions it caches, and :func:`run_pipeline` is the
one-call Python API. Each step is also a plain function usable alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustering.cache import FeatureCache
from clustering.clusters.kmeans import ImageClusterer, KSweep, check_k
from clustering.clusters.silhouette import sample_silhouettes
from clustering.errors import InputError
from clustering.export.report import ReportProgress, build_report
from clustering.export.saved_model import MODEL_FILE, SavedModel
from clustering.export.tables import (labels_frame, library_versions, skipped_frame, write_csv,
                                      write_json)
from clustering.features import FeatureSet, extract_features, extractor_for
from clustering.files.discover import Discovery, Skipped, discover
from clustering.images.engine import ProgressCallback
from clustering.reduce.pca import FeatureReducer
from clustering.reduce.projection import MapProgress, MapProjection, project_map
from clustering.review.names import NameProgress, NameSuggestions, suggest_names
from clustering.settings import Settings

__all__ = ["Clustering", "Reduction", "RunResult", "Settings", "Steps", "analyse",
           "cluster_at", "compute_features", "map_2d", "reduce_features", "run_pipeline",
           "run_record", "sweep_k"]


@dataclass
class Reduction:
    """L2 + PCA fitted on the features, and the reduced features."""

    reducer: FeatureReducer
    reduced: np.ndarray


@dataclass
class Clustering:
    """k-means++ at one k on reduced features, with what the exports and charts need."""

    k: int
    labels: np.ndarray
    distances: np.ndarray
    silhouettes: np.ndarray  # per image; NaN outside the silhouette sample
    inertia: float
    centers: np.ndarray  # (k, reduced dims): k-means' centroids, kept to place new images


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


@dataclass
class RunResult:
    """Everything a full run produced."""

    settings: Settings
    discovery: Discovery
    features: FeatureSet
    reduction: Reduction
    sweep: KSweep | None
    clustering: Clustering
    k_reason: str
    map: MapProjection

    @property
    def reducer(self) -> FeatureReducer:
        return self.reduction.reducer

    @property
    def reduced(self) -> np.ndarray:
        return self.reduction.reduced

    @property
    def coords(self) -> np.ndarray:
        """Each image's place on the 2-D map."""
        return self.map.coords

    @property
    def skipped(self) -> list[Skipped]:
        return self.discovery.skipped + self.features.skipped

    def labels(self, cluster_names: Mapping[int, str] | None = None) -> pd.DataFrame:
        """labels.csv: one row per image (cluster, distance, map position[, name])."""
        return labels_frame(self.features.names, self.clustering.labels,
                            self.clustering.distances, self.coords, cluster_names)

    def clusters_frame(self) -> pd.DataFrame:
        """labels.csv's columns plus each image's ``silhouette`` (NaN outside the sample)."""
        frame = self.labels()
        frame["silhouette"] = np.round(self.clustering.silhouettes.astype(float), 6)
        return frame

    def record(self, input_label: str | None = None) -> dict[str, Any]:
        """The ``run.json`` content for this run (``input_label``: how to name the input,
        the folder found by default)."""
        record = run_record(self.settings, self.features, self.reducer, self.clustering.k,
                            self.k_reason, self.sweep, skipped=self.skipped,
                            input_root=input_label or self.discovery.root)
        record["map"] = self.map.describe()
        return record

    def read_image(self, name: str) -> bytes:
        """The bytes of image ``name`` of this run (``OSError``/``KeyError`` when gone).

        From the run's discovery, or for a ``.npz`` of features, from the input folder
        recorded in it (never outside that folder).
        """
        refs = {ref.name: ref for ref in self.discovery.images}
        if name in refs:
            return refs[name].read_bytes()
        root = Path(self.discovery.root).resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise KeyError(name)
        return path.read_bytes()

    def suggest_names(self, progress: NameProgress | None = None,
                      words: Sequence[str] | None = None) -> NameSuggestions:
        """Suggested names for the clusters (ImageNet classes, words nearest CLIP/SigLIP
        embeddings, or words from the pixels); ``words``: the user's own list."""
        run = self.clustering
        return suggest_names(self.features.features, run.labels, run.distances,
                             self.features.names, self.features.extractor, self.read_image,
                             progress, words)

    def report(self, cluster_names: Mapping[int, str],
               progress: ReportProgress | None = None) -> bytes:
        """The self-contained HTML report of the run (thumbnails and charts inside)."""
        return build_report(self, cluster_names, self.read_image, progress)

    def write(self, out_dir: str | Path,
              cluster_names: Mapping[int, str] | None = None) -> dict[str, Path]:
        """Write labels.csv (with ``cluster_names`` if given), skipped.csv, run.json and
        model.npz (what ``assign`` needs to place new images)."""
        out = Path(out_dir)
        return {"labels": write_csv(self.labels(cluster_names), out / "labels.csv"),
                "skipped": write_csv(skipped_frame(self.skipped), out / "skipped.csv"),
                "run": write_json(self.record(), out / "run.json"),
                "model": SavedModel.from_result(self).save(out / MODEL_FILE)}


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
    sweep = None
    if settings.k is None or always_sweep:
        sweep = steps.sweep(reduction.reduced, settings)
    if settings.k is None:
        k, reason = sweep.choice_.k, sweep.choice_.rule
    elif sweep is not None and settings.k != sweep.choice_.k:
        k = settings.k
        reason = (f"chosen by the user (the suggestion was k={sweep.choice_.k}: "
                  f"{sweep.choice_.rule})")
    elif sweep is not None:
        k, reason = settings.k, sweep.choice_.rule
    else:
        k, reason = settings.k, "given by the user"
    return RunResult(settings=settings, discovery=discovery, features=features,
                     reduction=reduction, sweep=sweep,
                     clustering=steps.cluster(reduction.reduced, k, settings), k_reason=reason,
                     map=steps.map(reduction.reduced, settings))


def run_record(settings: Settings, features: FeatureSet, reducer: FeatureReducer, k: int,
               k_reason: str, sweep: KSweep | None, skipped: list[Skipped],
               input_root: str) -> dict[str, Any]:
    """The ``run.json`` content: enough to reproduce the run."""
    record: dict[str, Any] = {
        "tool": "ClusterLens",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": input_root,
        "settings": asdict(settings),
        "extractor": features.extractor,
        "pca": {"requested": settings.pca, "components": reducer.n_components_,
                "whiten": settings.whiten, "l2_normalize": settings.normalize,
                "explained_variance": float(reducer.cumulative_variance_[-1])
                if len(reducer.cumulative_variance_) else None},
        "k": {"value": k, "how": k_reason},
        "seed": settings.seed,
        "counts": {"found": len(features.names) + len(skipped), "clustered": len(features.names),
                   "skipped": len(skipped),
                   "features_computed": features.computed, "features_from_cache": features.cached},
        "versions": library_versions(),
        "engine": {"name": "local"},  # clustering.distributed records its Ray cluster here
    }
    if sweep is not None:
        record["k"]["sweep"] = {"k": sweep.ks_, "inertia": sweep.inertias_,
                                "mean_silhouette": sweep.silhouettes_,
                                "knee_k": sweep.choice_.knee_k,
                                "best_silhouette_k": sweep.choice_.best_silhouette_k}
    return record
