"""What a run produces, as plain data: the reduction, the clustering and the whole run.

Below the pipeline (which builds them) and the exporters (which write them), so both
import these types and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clustering.clusters.kmeans import KSweep
from clustering.features.extract import FeatureSet
from clustering.files.discover import Discovery, Skipped
from clustering.reduce.pca import FeatureReducer
from clustering.reduce.projection import MapProjection
from clustering.settings import Settings


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
