"""The whole run, stage by stage: find → features → reduce → choose k → cluster → export.

Each stage is a plain function so the command line and the dashboard can call them
one at a time; :func:`run_pipeline` chains them for a one-shot run.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustering.cache import FeatureCache
from clustering.discover import Discovery, InputError, Skipped, discover
from clustering.export import labels_frame, library_versions, skipped_frame, write_csv, write_json
from clustering.extractor import make_extractor
from clustering.features import FeatureSet, ProgressCallback, extract_features
from clustering.kmeans import ImageClusterer, KSweep, check_k, sample_silhouettes
from clustering.reduce import FeatureReducer, project_2d
from clustering.vgg import default_precision


@dataclass
class Settings:
    """Every choice that shapes a run (recorded in ``run.json``)."""

    model: str = "vgg16"
    layer: str = "pooled"
    weights: str | None = None
    precision: str = field(default_factory=default_precision)  # bfloat16 on bf16 CPUs
    pca: int | float | None = 0.95
    whiten: bool = False
    normalize: bool = True
    k: int | None = None  # None: choose automatically from the sweep
    k_min: int = 2
    k_max: int = 20
    seed: int = 0
    n_init: int = 4
    recursive: bool = True
    cache_dir: str | None = None
    batch_size: int = 16


@dataclass
class Clustering:
    """k-means++ at one k on reduced features, with what the exports and charts need."""

    k: int
    labels: np.ndarray
    distances: np.ndarray
    silhouettes: np.ndarray  # per image; NaN outside the silhouette sample
    inertia: float


@dataclass
class RunResult:
    """Everything a full run produced."""

    settings: Settings
    discovery: Discovery
    features: FeatureSet
    reducer: FeatureReducer
    reduced: np.ndarray
    coords: np.ndarray
    sweep: KSweep | None
    clustering: Clustering
    k_reason: str

    @property
    def skipped(self) -> list[Skipped]:
        return self.discovery.skipped + self.features.skipped

    def labels(self, cluster_names: dict[int, str] | None = None) -> pd.DataFrame:
        return labels_frame(self.features.names, self.clustering.labels,
                            self.clustering.distances, self.coords, cluster_names)

    def record(self) -> dict[str, Any]:
        return run_record(self.settings, self.features, self.reducer, self.clustering.k,
                          self.k_reason, self.sweep, skipped=self.skipped,
                          input_root=self.discovery.root)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write labels.csv, skipped.csv and run.json into ``out_dir``."""
        out = Path(out_dir)
        return {"labels": write_csv(self.labels(), out / "labels.csv"),
                "skipped": write_csv(skipped_frame(self.skipped), out / "skipped.csv"),
                "run": write_json(self.record(), out / "run.json")}


def compute_features(discovery: Discovery, settings: Settings,
                     progress: ProgressCallback | None = None) -> FeatureSet:
    """Features of every image found (cached ones are read, not recomputed)."""
    extractor = make_extractor(settings.model, settings.layer, settings.weights,
                               settings.precision)
    return extract_features(discovery.images, extractor, FeatureCache(settings.cache_dir),
                            batch_size=settings.batch_size, progress=progress)


def reduce_features(features: np.ndarray, settings: Settings) -> tuple[FeatureReducer, np.ndarray]:
    """L2 normalisation and PCA as the settings say."""
    reducer = FeatureReducer(settings.pca, whiten=settings.whiten,
                             normalize=settings.normalize, random_state=settings.seed)
    return reducer, reducer.fit(features).transform(features)


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
                      inertia=model.inertia_)


def run_pipeline(source: str | os.PathLike, settings: Settings,
                 progress: ProgressCallback | None = None) -> RunResult:
    """Find, extract, reduce, choose k (unless given) and cluster ``source``.

    Raises :class:`~clustering.discover.InputError`, :class:`~clustering.kmeans.InvalidK`,
    :class:`~clustering.kmeans.TooFewImages` or
    :class:`~clustering.weights.WeightsUnavailable`.
    """
    found = discover(source, recursive=settings.recursive)
    if not found.images:
        raise InputError(f"no images found in {source}")
    if settings.k is not None:
        check_k(settings.k, len(found.images))
    return analyse(compute_features(found, settings, progress), settings, found)


def analyse(features: FeatureSet, settings: Settings, discovery: Discovery) -> RunResult:
    """Reduce, choose k (unless the settings give it) and cluster computed features."""
    check_k(settings.k or 2, len(features.names))
    reducer, reduced = reduce_features(features.features, settings)
    sweep = None
    if settings.k is None:
        sweep = sweep_k(reduced, settings)
        k, reason = sweep.choice_.k, sweep.choice_.rule
    else:
        k, reason = settings.k, "given by the user"
    return RunResult(settings=settings, discovery=discovery, features=features, reducer=reducer,
                     reduced=reduced, coords=project_2d(reduced, settings.seed), sweep=sweep,
                     clustering=cluster_at(reduced, k, settings), k_reason=reason)


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
