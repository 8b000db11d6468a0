"""Assign: place new images in a saved run (the ``assign`` command, "Add images").

The features of the new images come from the extractor the run used (checked to give
the same features), then :meth:`~clustering.export.saved_model.SavedModel.assign`
gives each a cluster, a distance, a place on the run's map and an ``unsure`` flag.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from clustering.cache import FeatureCache
from clustering.errors import WeightsUnavailable
from clustering.export.saved_model import SavedModel
from clustering.features import FeatureExtractor, FeatureSet, extract_features, make_extractor
from clustering.files.discover import ImageRef
from clustering.images.engine import ProgressCallback


def saved_run_extractor(model: SavedModel,
                        weights: str | os.PathLike | None = None) -> FeatureExtractor:
    """The extractor the saved run used, checked to give the same features.

    ``weights`` overrides where the VGG weights file is (the saved path may not exist
    here); its content must still be the one the run used. Raises
    :class:`~clustering.features.weights.WeightsUnavailable` otherwise.
    """
    saved = model.settings
    extractor = make_extractor(saved.get("model", "vgg16"), saved.get("layer", "pooled"),
                               weights if weights is not None else saved.get("weights"),
                               saved.get("precision", "float32"))
    expected = model.extractor.get("cache_key")
    if extractor.cache_key != expected:
        raise WeightsUnavailable(
            f"the features here would differ from the saved run's: it used {expected}, this "
            f"machine gives {extractor.cache_key} (pass the run's weights file with --weights)")
    return extractor


def place_images(model: SavedModel, images: Sequence[ImageRef],
                 cache_dir: str | os.PathLike | None = None,
                 weights: str | os.PathLike | None = None, batch_size: int = 16,
                 progress: ProgressCallback | None = None) -> tuple[pd.DataFrame, FeatureSet]:
    """Features of ``images`` (``ImageRef`` list; cached ones are read) placed in ``model``.

    Returns :meth:`SavedModel.assign`'s table and the features (with the skipped files).
    """
    features = extract_features(images, saved_run_extractor(model, weights),
                                FeatureCache(cache_dir), batch_size=batch_size, progress=progress)
    return model.assign(features), features
