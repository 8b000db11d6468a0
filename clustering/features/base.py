"""The feature-extractor interface every extractor implements (see :mod:`.registry`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

class FeatureExtractor(ABC):
    """Turns batches of uint8 RGB images (N, S, S, 3) into float32 features (N, D).

    ``input_size`` is S: the loader resizes every image to S x S before
    :meth:`extract`. ``cache_key`` must change whenever the features would.
    """

    input_size: int = 224

    @property
    @abstractmethod
    def cache_key(self) -> str:
        """A file-name-safe id of everything that determines the features."""

    @property
    @abstractmethod
    def label(self) -> str:
        """What the user is shown, e.g. ``VGG16 · block5 pooled · ImageNet weights``."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Number of features per image."""

    @abstractmethod
    def extract(self, batch: np.ndarray) -> np.ndarray:
        """Features of a uint8 batch (N, S, S, 3) as float32 (N, dim)."""

    def describe(self) -> dict[str, Any]:
        """Settings recorded in ``run.json``."""
        return {"label": self.label, "cache_key": self.cache_key, "dim": self.dim}
