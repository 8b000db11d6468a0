"""Tables and files a run produces: labels.csv, skipped.csv and run.json."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clustering.clusters.kmeans import KSweep
from clustering.clusters.members import name_of
from clustering.features.extract import FeatureSet
from clustering.files.discover import Skipped
from clustering.reduce.pca import FeatureReducer
from clustering.results import RunResult
from clustering.settings import Settings

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_VERSIONED = ("numpy", "scikit-learn", "pillow", "pandas", "tensorflow", "keras",
              "scikit-image", "imagehash", "pillow-heif")


def neutralise(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV of ``frame`` (neutralised), UTF-8, as bytes for downloads."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as a neutralised CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(frame))
    return path


def labels_frame(names: Sequence[str], labels: np.ndarray, distances: np.ndarray,
                 coords: np.ndarray, cluster_names: Mapping[int, str] | None = None,
                 extra: Mapping[str, Sequence[Any]] | None = None) -> pd.DataFrame:
    """One row per clustered image: file, cluster[, cluster_name], distance, x, y, extras."""
    frame = pd.DataFrame({"file": list(names), "cluster": np.asarray(labels, dtype=int)})
    if cluster_names:
        frame["cluster_name"] = [name_of(c, cluster_names) for c in frame["cluster"]]
    frame["distance_to_centroid"] = np.round(np.asarray(distances, dtype=float), 6)
    frame["x"] = np.round(np.asarray(coords)[:, 0].astype(float), 6)
    frame["y"] = np.round(np.asarray(coords)[:, 1].astype(float), 6)
    for column, values in (extra or {}).items():
        frame[column] = list(values)
    return frame


def skipped_frame(skipped: Sequence[Skipped]) -> pd.DataFrame:
    """One row per refused image-like file: file, reason."""
    return pd.DataFrame({"file": [s.name for s in skipped], "reason": [s.reason for s in skipped]},
                        columns=["file", "reason"])


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the results."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def json_bytes(record: Mapping[str, Any]) -> bytes:
    """``record`` as pretty JSON (numpy scalars and arrays converted)."""
    return json.dumps(record, indent=2, default=_jsonable).encode("utf-8")


def write_json(record: Mapping[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json_bytes(record))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def run_labels(result: RunResult, cluster_names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """labels.csv of a run: one row per image (cluster, distance, map position[, name])."""
    return labels_frame(result.features.names, result.clustering.labels,
                        result.clustering.distances, result.coords, cluster_names)


def clusters_frame(result: RunResult) -> pd.DataFrame:
    """labels.csv's columns plus each image's ``silhouette`` (NaN outside the sample)."""
    frame = run_labels(result)
    frame["silhouette"] = np.round(result.clustering.silhouettes.astype(float), 6)
    return frame


def result_record(result: RunResult, input_label: str | None = None) -> dict[str, Any]:
    """The ``run.json`` content of a run (``input_label``: how to name the input, the
    folder found by default)."""
    record = run_record(result.settings, result.features, result.reducer, result.clustering.k,
                        result.k_reason, result.sweep, skipped=result.skipped,
                        input_root=input_label or result.discovery.root)
    record["map"] = result.map.describe()
    return record


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
