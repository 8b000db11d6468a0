"""What a clustering run keeps so that new images can be placed in it later.

``model.npz`` beside ``run.json`` holds only arrays and one JSON text (read with
``allow_pickle=False``, so opening a saved run never runs code): the fitted L2 +
PCA reduction, the centroids, the 2-D map, each cluster's distance quantile, the
content hashes of the clustered images with their results, and the extractor's
settings. :meth:`SavedModel.assign` then gives new images a cluster, a distance, a
place on the same map and an ``unsure`` flag; an image that was clustered (same
content hash) gets exactly its saved row back.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import normalize

from clustering.clusters.kmeans import nearest_centroids
from clustering.errors import InputError
from clustering.features.extract import FeatureSet
from clustering.reduce.pca import fit_plane, on_plane
from clustering.results import RunResult

MODEL_FILE = "model.npz"
FORMAT_VERSION = 1
# An image is "unsure" when it lies farther from its centroid than this quantile of
# the distances of the images clustered there: farther than most of its cluster.
UNSURE_QUANTILE = 0.95
MAP_NEIGHBOURS = 5  # clustered images a new one is placed among, on a UMAP/t-SNE map
PLACE_CHUNK = 256  # new images placed at once (bounds the distance matrix)
MAX_MODEL_BYTES = 512 * 1024 * 1024  # arrays read from a model.npz, all together
_ARRAYS = ("pca_mean", "pca_components", "pca_scale", "centroids", "map_mean",
           "map_components", "cluster_limits", "hashes", "labels", "distances", "coords")


class NotASavedRun(InputError):
    """A folder or file that holds no usable saved run; the message says why."""


@dataclass
class SavedModel:
    """The fitted reduction, centroids and 2-D map of one run, as plain arrays.

    ``pca_scale`` divides the PCA scores (whitening); it is all ones otherwise.
    ``cluster_limits[c]`` is the :data:`UNSURE_QUANTILE` of cluster ``c``'s distances.
    """

    normalize: bool
    pca_mean: np.ndarray
    pca_components: np.ndarray
    pca_scale: np.ndarray
    centroids: np.ndarray
    map_mean: np.ndarray
    map_components: np.ndarray
    cluster_limits: np.ndarray
    hashes: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    coords: np.ndarray
    extractor: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    # The clustered images' reduced features, kept only when the map is not PCA (UMAP,
    # t-SNE): a new image is then placed among its nearest clustered neighbours.
    reduced: np.ndarray | None = None

    @classmethod
    def from_result(cls, result: RunResult) -> SavedModel:
        """Everything :meth:`assign` needs, taken from a finished run."""
        features = result.features.features
        reducer, reduced = result.reducer, result.reduced
        if reducer.pca_ is None:  # no PCA: an identity "projection"
            dim = features.shape[1]
            mean, components, scale = np.zeros(dim), np.eye(dim), np.ones(dim)
        else:
            pca = reducer.pca_
            mean, components = pca.mean_, pca.components_
            scale = np.sqrt(pca.explained_variance_) if pca.whiten else np.ones(len(components))
        map_mean, map_components = fit_plane(reduced, result.settings.seed)
        clustering = result.clustering
        limits = np.array([np.quantile(clustering.distances[clustering.labels == c],
                                       UNSURE_QUANTILE) if np.any(clustering.labels == c)
                           else 0.0 for c in range(clustering.k)])
        return cls(normalize=bool(reducer.normalize), pca_mean=mean, pca_components=components,
                   pca_scale=scale, centroids=np.asarray(clustering.centers, dtype=np.float32),
                   map_mean=map_mean, map_components=map_components, cluster_limits=limits,
                   hashes=np.asarray(result.features.hashes, dtype=str),
                   labels=clustering.labels, distances=clustering.distances,
                   coords=result.coords, extractor=dict(result.features.extractor),
                   settings=asdict(result.settings),
                   reduced=None if result.map.method == "pca" else reduced.astype(np.float32))

    # ---- using it ----------------------------------------------------------------

    def reduce(self, features: np.ndarray) -> np.ndarray:
        """Features -> the run's reduced space (L2, centring, PCA, whitening)."""
        X = np.asarray(features, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.pca_mean.shape[0]:
            raise NotASavedRun(f"features have {X.shape[-1]} values per image but the saved "
                               f"run expects {self.pca_mean.shape[0]}")
        if self.normalize:
            X = normalize(X)
        return (((X - self.pca_mean) @ self.pca_components.T) / self.pca_scale).astype(np.float32)

    def project(self, reduced: np.ndarray) -> np.ndarray:
        """Reduced features -> ``x``, ``y`` on the saved map.

        A PCA map is a linear projection. UMAP and t-SNE have none, so a new image goes
        where its :data:`MAP_NEIGHBOURS` nearest clustered images are (weighted by
        inverse distance), in the map's own coordinates.
        """
        if self.reduced is None or not len(self.reduced):
            return on_plane(reduced, (self.map_mean, self.map_components))
        out = np.empty((len(reduced), 2), dtype=np.float32)
        k = min(MAP_NEIGHBOURS, len(self.reduced))
        for start in range(0, len(reduced), PLACE_CHUNK):
            rows = np.asarray(reduced[start:start + PLACE_CHUNK], dtype=np.float32)
            gaps = np.linalg.norm(rows[:, None, :] - self.reduced[None, :, :], axis=2)
            nearest = np.argpartition(gaps, k - 1, axis=1)[:, :k]
            weights = 1.0 / (np.take_along_axis(gaps, nearest, axis=1) + 1e-9)
            weights /= weights.sum(axis=1, keepdims=True)
            out[start:start + len(rows)] = np.einsum("ik,ikj->ij", weights,
                                                     self.coords[nearest])
        return out

    def assign(self, features: FeatureSet) -> pd.DataFrame:
        """One row per image: file, cluster, distance_to_centroid, x, y, unsure, clustered.

        ``clustered`` marks images of the saved run (same content hash): they get
        their saved cluster, distance and place. The others go to the nearest
        centroid; ``unsure`` is true when the distance exceeds that cluster's
        :data:`UNSURE_QUANTILE` distance among the clustered images.
        """
        reduced = self.reduce(features.features)
        labels, distances = nearest_centroids(reduced, self.centroids)
        coords = self.project(reduced).astype(np.float64)
        saved_row = {h: i for i, h in enumerate(self.hashes.tolist())}
        rows = np.array([saved_row.get(h, -1) for h in features.hashes], dtype=np.int64)
        known = rows >= 0
        labels[known] = self.labels[rows[known]]
        distances[known] = self.distances[rows[known]]
        coords[known] = self.coords[rows[known]]
        return pd.DataFrame({
            "file": features.names, "cluster": labels.astype(int),
            "distance_to_centroid": np.round(distances.astype(float), 6),
            "x": np.round(coords[:, 0], 6), "y": np.round(coords[:, 1], 6),
            "unsure": distances > self.cluster_limits[labels], "clustered": known})

    # ---- files ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The ``model.npz`` content: arrays and one JSON text, nothing executable."""
        meta = {"format": FORMAT_VERSION, "normalize": self.normalize,
                "unsure_quantile": UNSURE_QUANTILE, "extractor": self.extractor,
                "settings": self.settings}
        out = io.BytesIO()
        extra = {} if self.reduced is None else {"reduced": self.reduced}
        np.savez_compressed(out, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                            **{name: getattr(self, name) for name in _ARRAYS}, **extra)
        return out.getvalue()

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())
        return path

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "model.npz") -> SavedModel:
        """Read :meth:`to_bytes` output; :class:`NotASavedRun` when it is anything else."""
        try:
            _check_npz(data)
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                meta = json.loads(npz["meta"].tobytes())
                arrays = {name: npz[name] for name in _ARRAYS}
                reduced = npz["reduced"] if "reduced" in npz.files else None
        except (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile,
                EOFError) as exc:
            raise NotASavedRun(f"{what} is not a saved model written by ClusterLens "
                               f"({type(exc).__name__}: {str(exc)[:120]})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise NotASavedRun(f"{what} has an unknown format (expected version "
                               f"{FORMAT_VERSION})")
        model = cls(normalize=bool(meta.get("normalize")), extractor=meta.get("extractor") or {},
                    settings=meta.get("settings") or {}, reduced=reduced, **arrays)
        model._check_shapes(what)
        return model

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> SavedModel:
        """The model saved in ``run_dir`` by ``cluster --out``."""
        folder = Path(run_dir)
        if not folder.is_dir():
            raise NotASavedRun(f"saved run not found: {folder} is not a folder")
        path = folder / MODEL_FILE
        if not path.is_file():
            raise NotASavedRun(f"{folder} is not a saved run: it has no {MODEL_FILE} (write "
                               f"one with 'python -m clustering cluster INPUT --out {folder}')")
        return cls.from_bytes(path.read_bytes(), str(path))

    def _check_shapes(self, what: str) -> None:
        k, n = len(self.centroids), len(self.hashes)
        dims = self.pca_components.shape
        consistent = (self.pca_components.ndim == 2 and self.pca_mean.shape == (dims[1],)
                      and self.pca_scale.shape == (dims[0],) and k >= 1
                      and self.centroids.shape == (k, dims[0])
                      and self.map_components.shape == (2, dims[0])
                      and self.map_mean.shape == (dims[0],)
                      and self.cluster_limits.shape == (k,)
                      and self.labels.shape == self.distances.shape == (n,)
                      and self.coords.shape == (n, 2)
                      and (self.reduced is None or self.reduced.shape == (n, dims[0]))
                      and (n == 0 or 0 <= self.labels.min() <= self.labels.max() < k))
        if not consistent:
            raise NotASavedRun(f"{what} is damaged: its arrays do not fit together")


def _check_npz(data: bytes, limit: int = MAX_MODEL_BYTES) -> None:
    """Refuse an ``.npz`` whose arrays would take more than ``limit`` bytes, before loading.

    Each array's own header (shape and dtype) is read and checked against both the
    limit and the member's declared size, so neither a lying zip header nor a
    lying array header makes :func:`numpy.load` allocate more.
    """
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"{info.filename}: unsupported .npy version {version}")
                shape, _, dtype = read_header(member)
            if dtype.hasobject:
                raise ValueError(f"{info.filename} holds Python objects")
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            total += size
            if size > info.file_size or total > limit:
                raise ValueError(f"{info.filename} declares {size:,} bytes of data "
                                 f"(limit {limit:,} in all)")
