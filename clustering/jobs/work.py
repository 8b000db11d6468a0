"""What each kind of job does: the library's own stages, called as the CLI calls them.

Every kind writes into the content-keyed feature cache as it goes (so a cancelled,
failed or interrupted job keeps what it finished, and a command-line run on the same
files reads it), and returns a small JSON result. Larger results (a map's
coordinates) go into a file beside the job table, named in the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from clustering.cache import FeatureCache
from clustering.config import configured_ray_address
from clustering.errors import InputError
from clustering.features import FeatureSet, extract_features, extractor_for
from clustering.files.discover import Discovery, ImageRef
from clustering.images.engine import Progress, ProgressCallback
from clustering.settings import Settings

# The later stages (pipeline, review, export) are imported by the kinds that use them: a
# worker process that only extracts features starts ~1 s sooner without scikit-learn & co.
if TYPE_CHECKING:
    from clustering.export.saved_model import SavedModel

FEATURES, SCAN, MAP, ASSIGN = "features", "scan", "map", "assign"
# The settings that change features (the rest shape only what is done with them).
FEATURE_FIELDS = ("model", "layer", "weights", "precision", "cache_dir")
MAP_FIELDS = FEATURE_FIELDS + ("pca", "whiten", "normalize", "seed", "map")
RESULTS_DIR = "job-results"  # beside jobs.sqlite3: results too large for a JSON cell

Work = Callable[[dict[str, Any], ProgressCallback, Path], dict[str, Any]]


# ---- inputs and the key that names the work ----------------------------------------

def image_rows(images: Sequence[ImageRef]) -> list[list[str | None]]:
    """A job's file listing: ``[name, path, zip member]`` for each image."""
    return [[ref.name, str(ref.path), ref.member] for ref in images]


def images_from(rows: Sequence[Sequence[str | None]]) -> list[ImageRef]:
    return [ImageRef(name=str(name), path=Path(str(path)), member=member)
            for name, path, member in rows]


def settings_dict(settings: Settings) -> dict[str, Any]:
    return asdict(settings)


def settings_from(values: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})


def make_inputs(images: Sequence[ImageRef], settings: Settings, **extra: Any) -> dict[str, Any]:
    """A job's inputs as JSON: the file listing, the settings and anything ``extra``."""
    return {"images": image_rows(images), "settings": settings_dict(settings), **extra}


def _stamp(row: Sequence[str | None]) -> tuple:
    try:
        stat = os.stat(str(row[1]))
        return (*row, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return (*row, -1, -1)


def job_key(kind: str, inputs: dict[str, Any]) -> str:
    """What names the work: the files (with size and time) and the settings that change
    the result of ``kind``; two requests with the same key get one job."""
    settings = inputs["settings"]
    fields_used = {FEATURES: FEATURE_FIELDS, SCAN: ("cache_dir",), MAP: MAP_FIELDS,
                   ASSIGN: ("cache_dir", "batch_size")}[kind]
    shaping = {k: settings.get(k) for k in fields_used}
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps([kind, shaping, {k: v for k, v in inputs.items()
                                               if k not in ("images", "settings")}],
                             sort_keys=True, default=str).encode())
    for row in inputs["images"]:
        digest.update(repr(_stamp(row)).encode())
    return digest.hexdigest()


# ---- the one place the feature engine is chosen ----------------------------------------

def run_features(images: Sequence[ImageRef], settings: Settings,
                 progress: ProgressCallback | None = None) -> FeatureSet:
    """Features of ``images`` (cached ones are read): the one place a job picks its
    engine. With a Ray address configured (``CLUSTERLENS_RAY_ADDRESS`` or
    ``ray_address`` in ``.streamlit/clusterlens.toml``) the uncached images are
    extracted on that cluster into the local cache; otherwise on this machine. Without
    an address nothing of Ray is imported."""
    address = configured_ray_address()
    if address is None:
        return extract_features(images, extractor_for(settings),
                                FeatureCache(settings.cache_dir),
                                batch_size=settings.batch_size, progress=progress)
    from clustering.distributed.cache_fill import extract_on_cluster

    started = time.monotonic()

    def report(done: int, total: int) -> None:
        if progress is not None:
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            progress(Progress(done=done, total=total, computed=done, cached=0, skipped=0,
                              elapsed_s=elapsed, images_per_s=rate,
                              eta_s=(total - done) / rate if rate > 0 else None))

    found = Discovery(root=os.path.commonpath([str(ref.path) for ref in images]) if images
                      else "", images=list(images))
    return extract_on_cluster(found, settings, address, on_progress=report)


def engine_of(found: FeatureSet) -> dict[str, Any]:
    """Where ``found`` was computed, for the job's result: ``{"name": "local"}`` or the
    Ray cluster's address with the images each node extracted."""
    engine = getattr(found, "engine", None)
    if engine is None:
        return {"name": "local"}
    return {"name": engine.name, "address": engine.address,
            "images_per_node": dict(engine.images_per_node), "nodes": dict(engine.nodes)}


# ---- the kinds ---------------------------------------------------------------------------

def features_job(inputs: dict[str, Any], progress: ProgressCallback,
                 results: Path) -> dict[str, Any]:
    """Extract features into the cache; the pages then read them from there."""
    found = run_features(images_from(inputs["images"]), settings_from(inputs["settings"]),
                         progress)
    return {"images": len(found.names), "computed": found.computed, "cached": found.cached,
            "skipped": len(found.skipped), "seconds": found.seconds,
            "engine": engine_of(found)}


def scan_job(inputs: dict[str, Any], progress: ProgressCallback,
             results: Path) -> dict[str, Any]:
    """Perceptual hashes and quality scores (one decode each) into the cache."""
    from clustering.review.scan import scan_images

    settings = settings_from(inputs["settings"])
    signatures, scores = scan_images(images_from(inputs["images"]),
                                     cache=FeatureCache(settings.cache_dir), progress=progress)
    return {"images": len(scores), "skipped": len(signatures.skipped)}


def map_job(inputs: dict[str, Any], progress: ProgressCallback,
            results: Path) -> dict[str, Any]:
    """The UMAP or t-SNE map of the PCA-reduced (cached) features, saved as ``.npy``."""
    from clustering.pipeline import map_2d, reduce_features

    settings = settings_from(inputs["settings"])
    found = run_features(images_from(inputs["images"]), settings)
    if not found.names:
        raise InputError("none of the images could be decoded, so there is nothing to map")
    reduced = reduce_features(found.features, settings).reduced

    def step(fraction: float, what: str) -> None:
        progress(Progress(done=int(fraction * 100), total=100, computed=0, cached=0, skipped=0,
                          elapsed_s=0.0, images_per_s=0.0, eta_s=None))

    projection = map_2d(reduced, settings, progress=step)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"map-{job_key(MAP, inputs)}.npy"
    np.save(path, projection.coords.astype(np.float32))
    return {"coords": str(path), "method": projection.method,
            "parameters": projection.parameters, "seconds": projection.seconds,
            "names": len(found.names)}


def save_model(model: SavedModel, results: Path) -> Path:
    """A saved run's model as a file an assign job can read (named by its content)."""
    data = model.to_bytes()
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"model-{hashlib.blake2b(data, digest_size=16).hexdigest()}.npz"
    if not path.exists():
        path.write_bytes(data)
    return path


def assign_job(inputs: dict[str, Any], progress: ProgressCallback,
               results: Path) -> dict[str, Any]:
    """Place new images in a saved run (``inputs["model"]``: its model.npz), as
    ``python -m clustering assign`` does; the table is saved as CSV."""
    from clustering.assign import place_images
    from clustering.export.saved_model import SavedModel

    settings = settings_from(inputs["settings"])
    model = SavedModel.from_bytes(Path(inputs["model"]).read_bytes())
    table, features = place_images(model, images_from(inputs["images"]), settings.cache_dir,
                                   batch_size=settings.batch_size, progress=progress)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"assign-{job_key(ASSIGN, inputs)}.csv"
    table.to_csv(path, index=False)
    return {"table": str(path), "placed": len(table),
            "skipped": [[s.name, s.reason] for s in features.skipped]}


KINDS: dict[str, Work] = {FEATURES: features_job, SCAN: scan_job, MAP: map_job,
                          ASSIGN: assign_job}


def run(kind: str, inputs: dict[str, Any], progress: ProgressCallback,
        results: Path) -> dict[str, Any]:
    """Do the work of one job; ``progress`` may raise to stop it between batches."""
    if kind not in KINDS:
        raise InputError(f"unknown job kind {kind!r}")
    return KINDS[kind](inputs, progress, results)
