"""The 2-D map of the images: PCA (default), UMAP or t-SNE of the PCA-reduced features.

PCA is the default because it is instant, deterministic and keeps distances
comparable across the map; UMAP and t-SNE separate clusters better visually but
cost seconds to minutes (measured in ``bench/projections.py``) and their distances
between clusters mean little. All three run on the PCA-reduced features, never on
the raw 512/4096-d features: both neighbour methods are slower and noisier there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustering.reduce.pca import project_2d
from clustering.settings import MAP_METHODS, Settings

UMAP_NEIGHBOURS = 15  # umap-learn's default; capped at images - 1
TSNE_PERPLEXITY = 30.0  # openTSNE's default; capped at (images - 1) / 3
TSNE_REPORT_EVERY = 25  # t-SNE iterations between progress reports
MIN_IMAGES = {"pca": 2, "umap": 4, "tsne": 4}  # below: every point at the origin (as PCA)

MapProgress = Callable[[float, str], None]  # (fraction done 0..1, what is running)


@dataclass
class MapProjection:
    """2-D coordinates (n, 2) float32, the method used, its parameters and cost."""

    coords: np.ndarray
    method: str
    parameters: dict[str, Any]
    seconds: float

    def describe(self) -> dict[str, Any]:
        """What ``run.json`` records about the map."""
        return {"method": self.method, "parameters": self.parameters,
                "seconds": round(self.seconds, 3)}


def parse_map(value: str) -> str:
    """``"UMAP"`` -> ``"umap"``; a one-line ``ValueError`` for anything unknown."""
    method = str(value).strip().lower().replace("-", "")
    if method not in MAP_METHODS:
        raise ValueError(f"unknown map {value!r}; choose one of {', '.join(MAP_METHODS)}")
    return method


def _jobs() -> int:
    """Half the cores (at least one), as k-means uses: the machine is shared."""
    return max(1, (os.cpu_count() or 2) // 2)


def project_map(reduced: np.ndarray, method: str = Settings.map, seed: int = Settings.seed,
                progress: MapProgress | None = None) -> MapProjection:
    """The 2-D map of ``reduced`` (PCA-reduced features, one row per image) by ``method``.

    Too few images for a neighbour method (fewer than ``MIN_IMAGES``) give the PCA
    map, recorded as such, rather than an error: the map is a view, not a result.
    """
    requested = method = parse_map(method)
    X = np.asarray(reduced, dtype=np.float32)
    report = progress or (lambda fraction, what: None)
    start = time.perf_counter()
    if len(X) < MIN_IMAGES[method] or X.ndim != 2 or X.shape[1] < 2:
        method = "pca"
    report(0.0, f"{method.upper()} map of {len(X)} images")
    if method == "umap":
        coords = _umap(X, seed)
        parameters = {"n_neighbors": min(UMAP_NEIGHBOURS, len(X) - 1), "min_dist": 0.1}
    elif method == "tsne":
        coords, parameters = _tsne(X, seed, report)
    else:
        coords, parameters = project_2d(X, seed), {}
    if method != requested:
        parameters["instead_of"] = f"{requested} (needs at least {MIN_IMAGES[requested]} images)"
    report(1.0, f"{method.upper()} map done")
    return MapProjection(np.asarray(coords, dtype=np.float32), method, parameters,
                         time.perf_counter() - start)


def _umap(X: np.ndarray, seed: int) -> np.ndarray:
    """UMAP with a fixed seed (reproducible; umap-learn then runs its layout single-threaded)."""
    import warnings

    import umap

    model = umap.UMAP(n_components=2, n_neighbors=min(UMAP_NEIGHBOURS, len(X) - 1),
                      min_dist=0.1, random_state=seed, n_jobs=1)
    with warnings.catch_warnings():  # "n_jobs overridden by random_state": intended
        warnings.simplefilter("ignore", UserWarning)
        return model.fit_transform(X)


def _tsne(X: np.ndarray, seed: int, report: MapProgress) -> tuple[np.ndarray, dict[str, Any]]:
    """openTSNE (FFT-accelerated, linear in n) with progress from its iteration callback."""
    from openTSNE import TSNE

    perplexity = min(TSNE_PERPLEXITY, (len(X) - 1) / 3)
    early, main = 250, 500  # openTSNE's default exaggeration and optimisation phases
    done = {"iterations": 0}

    def callback(iteration: int, error: float, embedding: np.ndarray) -> bool:
        done["iterations"] += TSNE_REPORT_EVERY
        report(min(0.99, done["iterations"] / (early + main)),
               f"t-SNE iteration {done['iterations']} of {early + main}")
        return False  # never stop early

    model = TSNE(n_components=2, perplexity=perplexity, early_exaggeration_iter=early,
                 n_iter=main, random_state=seed, n_jobs=_jobs(), callbacks=callback,
                 callbacks_every_iters=TSNE_REPORT_EVERY, verbose=False)
    return np.asarray(model.fit(X)), {"perplexity": perplexity, "iterations": early + main}
