"""VGG16 / VGG19 feature extraction with Keras, built once per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from clustering.errors import WeightsUnavailable, first_line
from clustering.features.base import FeatureExtractor
from clustering.features.keras_import import import_keras
from clustering.features.weights import ResolvedWeights, resolve_weights
from clustering.settings import Settings, default_precision

# Bump when image decoding/resizing/preprocessing changes, so cached features expire.
PREPROCESSING_VERSION = 1

LAYER_NAMES = {"pooled": "block5 global-average-pooled", "fc1": "fc1", "fc2": "fc2"}
LAYER_DIMS = {"pooled": 512, "fc1": 4096, "fc2": 4096}

_MODELS: dict[tuple, Any] = {}
_MODELS_LOCK = threading.Lock()


class VGGExtractor(FeatureExtractor):
    """Features from a Keras VGG network at ``layer`` (``pooled``, ``fc1`` or ``fc2``).

    ``precision="bfloat16"`` runs the network under Keras' ``mixed_bfloat16``
    policy (weights stay float32); outputs are always float32.
    """

    input_size = 224

    def __init__(self, model: str = Settings.model, layer: str = Settings.layer,
                 weights: str | Path | None = None, precision: str | None = None,
                 allow_download: bool = True) -> None:
        self.model = model
        self.layer = layer
        self.precision = precision or default_precision()
        self.weights: ResolvedWeights = resolve_weights(
            model, include_top=layer != "pooled", explicit=weights,
            allow_download=allow_download)

    def load(self) -> "VGGExtractor":
        """Build (or fetch the shared) network now; otherwise the first batch does it."""
        _build(self.model, self.layer, self.weights.path, self.precision)
        return self

    @property
    def cache_key(self) -> str:
        return (f"{self.model}-{self.layer}-w{self.weights.md5[:12]}"
                f"-pp{PREPROCESSING_VERSION}-{self.precision}")

    @property
    def label(self) -> str:
        origin = ("ImageNet weights" if self.weights.imagenet
                  else "custom weights (not the published ImageNet file)")
        bf16 = " · bfloat16" if self.precision == "bfloat16" else ""
        return f"{self.model.upper()} · {LAYER_NAMES[self.layer]} · {origin}{bf16}"

    @property
    def dim(self) -> int:
        return LAYER_DIMS[self.layer]

    def extract(self, batch: np.ndarray) -> np.ndarray:
        infer = _build(self.model, self.layer, self.weights.path, self.precision)
        return np.asarray(infer(preprocess(self.model, batch)), dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": self.model, "layer": self.layer,
                "precision": self.precision, "preprocessing_version": PREPROCESSING_VERSION,
                "weights": self.weights.describe()}


def preprocess(model: str, batch: np.ndarray) -> np.ndarray:
    """Keras' own ``preprocess_input`` for the network (caffe mode: BGR, mean-centred)."""
    applications = import_keras().applications
    fn = (applications.vgg16.preprocess_input if model == "vgg16"
          else applications.vgg19.preprocess_input)
    return fn(batch.astype(np.float32))


def _build(model: str, layer: str, weights_path: Path, precision: str):
    """The compiled inference function for this network, built once and shared."""
    key = (model, layer, str(weights_path.resolve()), weights_path.stat().st_mtime_ns, precision)
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = _compile(model, layer, weights_path, precision)
        return _MODELS[key]


def _compile(model: str, layer: str, weights_path: Path, precision: str):
    keras = import_keras()
    import tensorflow as tf

    constructor = keras.applications.VGG16 if model == "vgg16" else keras.applications.VGG19
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        if layer == "pooled":
            net = constructor(weights=str(weights_path), include_top=False,
                              input_shape=(224, 224, 3), pooling="avg")
        else:
            full = constructor(weights=str(weights_path), include_top=True)
            net = keras.Model(full.inputs, full.get_layer(layer).output)
    except Exception as exc:  # wrong file, wrong shapes, not HDF5 ...
        raise WeightsUnavailable(
            f"could not load {weights_path} into {model.upper()} "
            f"({'without' if layer == 'pooled' else 'with'} its top layers): "
            f"{first_line(exc)}") from None
    finally:
        keras.config.set_dtype_policy(previous)

    @tf.function(input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32)],
                 reduce_retracing=True)
    def infer(x):
        return tf.cast(net(x, training=False), tf.float32)

    return infer
