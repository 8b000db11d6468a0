"""The feature-extractor interface and the factory that builds one by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

MODELS = ("vgg16", "vgg19", "handcrafted")
LAYERS = ("pooled", "fc1", "fc2")
PRECISIONS = ("float32", "bfloat16")


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


def make_extractor(model: str = "vgg16", layer: str = "pooled",
                   weights: str | Path | None = None, precision: str = "float32",
                   allow_download: bool = True) -> FeatureExtractor:
    """Build the extractor for ``model`` (``vgg16``, ``vgg19`` or ``handcrafted``).

    Raises ``ValueError`` for an unknown name and
    :class:`clustering.weights.WeightsUnavailable` when VGG weights cannot be found.
    """
    model = model.lower()
    if model == "handcrafted":
        from clustering.handcrafted import HandcraftedExtractor

        return HandcraftedExtractor()
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    from clustering.vgg import VGGExtractor

    return VGGExtractor(model, layer, weights=weights, precision=precision,
                        allow_download=allow_download)
