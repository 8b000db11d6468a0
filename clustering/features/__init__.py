"""Stage 3, images → features: VGG16/VGG19 (Keras), keras-hub presets (CLIP, SigLIP 2,
DINOv2) or the offline extractor, cached.

:func:`make_extractor` builds an extractor by name; :func:`extract_features` runs it
over many images with the on-disk cache.
"""

from clustering.features.base import FeatureExtractor
from clustering.features.extract import FeatureSet, extract_features
from clustering.features.registry import extractor_for, make_extractor

__all__ = ["FeatureExtractor", "FeatureSet", "extract_features", "extractor_for",
           "make_extractor"]
