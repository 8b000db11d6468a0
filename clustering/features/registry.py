"""Build a feature extractor by name: the only place that knows every extractor."""

from __future__ import annotations

from pathlib import Path

from clustering.features.base import FeatureExtractor
from clustering.features.handcrafted import HandcraftedExtractor
from clustering.features.hub import HubExtractor
from clustering.features.presets import is_preset_model
from clustering.features.vgg import VGGExtractor
from clustering.settings import LAYERS, PRECISIONS, Settings


def make_extractor(model: str = Settings.model, layer: str = Settings.layer,
                   weights: str | Path | None = None, precision: str | None = None,
                   allow_download: bool = True) -> FeatureExtractor:
    """Build the extractor for ``model``: ``vgg16``, ``vgg19``, ``handcrafted``, a
    keras-hub preset name or a preset folder (:mod:`~clustering.features.presets`).

    ``precision`` None means the default for this CPU (:func:`~clustering.settings.
    default_precision`), the same default the command line and the dashboard use.
    Raises ``ValueError`` for an unknown layer or precision and
    :class:`~clustering.errors.WeightsUnavailable` when weights cannot be found.
    """
    if model.lower() == "handcrafted":
        return HandcraftedExtractor()
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if is_preset_model(model):
        return HubExtractor(model, precision=precision, allow_download=allow_download)
    model = model.lower()
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    return VGGExtractor(model, layer, weights=weights, precision=precision,
                        allow_download=allow_download)


def extractor_for(settings: Settings) -> FeatureExtractor:
    """The extractor the settings name (model, layer, weights, precision)."""
    return make_extractor(settings.model, settings.layer, settings.weights, settings.precision)
