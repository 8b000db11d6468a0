"""Extract features for many images: cache first, decoding overlapped with inference.

A thin layer over the per-image engine (:class:`~clustering.images.engine.ImageMapper`):
workers decode and resize images to the network's input size, the network runs on
batches in the calling thread, and every batch lands in the cache as it is computed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clustering.cache import FeatureCache
from clustering.features.base import FeatureExtractor
from clustering.files.discover import ImageRef, Skipped
from clustering.images.engine import ImageMapper, Progress, ProgressCallback
from clustering.images.loading import load_for_model
from clustering.settings import Settings

__all__ = ["FeatureExtraction", "FeatureSet", "Progress", "ProgressCallback", "extract_features"]


@dataclass
class FeatureSet:
    """Features of the loadable images, in input order, and the files skipped."""

    names: list[str]
    hashes: list[str]
    features: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)
    extractor: dict[str, Any] = field(default_factory=dict)
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0


class FeatureExtraction:
    """Runs an extractor over images with a cache (scikit-learn style: settings here).

    ``batch_size`` images go through the network at once; ``workers`` threads decode.
    """

    def __init__(self, extractor: FeatureExtractor, cache: FeatureCache | None = None,
                 batch_size: int = Settings.batch_size, workers: int = Settings.workers,
                 progress: ProgressCallback | None = None) -> None:
        self.extractor = extractor
        self.cache = cache
        self.batch_size = batch_size
        self.workers = workers
        self.progress = progress

    def run(self, images: Sequence[ImageRef]) -> FeatureSet:
        """Features for ``images`` (cached ones are not recomputed)."""
        prepare = functools.partial(load_for_model, size=self.extractor.input_size)
        mapped = ImageMapper(prepare, self.extractor.dim, cache_key=self.extractor.cache_key,
                             cache=self.cache, batch=self.extractor.extract,
                             batch_size=self.batch_size, workers=self.workers,
                             progress=self.progress).run(images)
        return FeatureSet(names=mapped.names, hashes=mapped.hashes, features=mapped.values,
                          skipped=mapped.skipped, extractor=self.extractor.describe(),
                          computed=mapped.computed, cached=mapped.cached, seconds=mapped.seconds)


def extract_features(images: Sequence[ImageRef], extractor: FeatureExtractor,
                     cache: FeatureCache | None = None, batch_size: int = Settings.batch_size,
                     progress: ProgressCallback | None = None) -> FeatureSet:
    """Convenience wrapper: ``FeatureExtraction(...).run(images)``."""
    return FeatureExtraction(extractor, cache, batch_size=batch_size,
                             progress=progress).run(images)
