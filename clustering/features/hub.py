"""CLIP, SigLIP 2 and DINOv2 image embeddings from a keras-hub preset, built once per process.

CLIP and SigLIP give ``get_vision_embeddings`` (the space their text encoder shares,
so text can search the images); DINOv2 gives its CLS token. Each runs on the
preset's own image converter (resize, scale, offset). Embeddings are L2-normalised,
as these models compare them by cosine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from clustering.errors import WeightsUnavailable
from clustering.features.base import FeatureExtractor
from clustering.features.keras_import import import_keras, native_stderr_silenced
from clustering.features.presets import ResolvedPreset, resolve_preset
from clustering.settings import default_precision

# Bump when decoding/resizing/normalising changes, so cached features expire.
PREPROCESSING_VERSION = 1

_NETWORKS: dict[tuple, "_Network"] = {}
_NETWORKS_LOCK = threading.Lock()


class HubExtractor(FeatureExtractor):
    """Image embeddings of a keras-hub preset (``model``: a preset name or folder).

    ``precision="bfloat16"`` loads the network under Keras' ``mixed_bfloat16``
    policy; outputs are always float32.
    """

    def __init__(self, model: str, precision: str | None = None,
                 allow_download: bool = True) -> None:
        self.preset: ResolvedPreset = resolve_preset(model, allow_download=allow_download)
        self.precision = precision or default_precision()
        config = json.loads((self.preset.path / "config.json").read_text())["config"]
        self._dim = _embedding_dim(self.preset.kind, config)
        self.input_size = _image_size(self.preset)

    def load(self) -> "HubExtractor":
        """Build (or fetch the shared) network now; otherwise the first batch does it."""
        _network(self.preset, self.precision)
        return self

    @property
    def cache_key(self) -> str:
        return (f"hub-{self.preset.kind}-c{self.preset.config_md5[:8]}"
                f"-w{self.preset.weights_md5[:12]}-pp{PREPROCESSING_VERSION}-{self.precision}")

    @property
    def label(self) -> str:
        bf16 = " · bfloat16" if self.precision == "bfloat16" else ""
        return (f"{self.preset.family.title} · {self.preset.name} · keras-hub preset "
                f"({self.preset.source}){bf16}")

    @property
    def dim(self) -> int:
        return self._dim

    def extract(self, batch: np.ndarray) -> np.ndarray:
        embeddings = _network(self.preset, self.precision).images(batch.astype(np.float32))
        return l2_normalise(embeddings)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": self.preset.name, "layer": "embedding",
                "precision": self.precision, "preprocessing_version": PREPROCESSING_VERSION,
                **self.preset.describe()}


def l2_normalise(values: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    values = np.asarray(values, dtype=np.float32)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    return values / np.maximum(norms, 1e-12)


def text_embeddings(preset: ResolvedPreset, texts: Sequence[str],
                    precision: str = "float32") -> np.ndarray:
    """L2-normalised text embeddings of ``texts`` by a CLIP or SigLIP preset."""
    network = _network(preset, precision)
    with native_stderr_silenced():  # TF's C++ notes on the tokenizer's first int64 ops
        return l2_normalise(network.texts(list(texts)))


def _embedding_dim(kind: str, config: dict[str, Any]) -> int:
    if kind == "clip":
        return int(config["projection_dim"])
    if kind == "siglip":
        return int(config["vision_encoder"]["config"]["hidden_dim"])
    return int(config["hidden_dim"])


def _image_size(preset: ResolvedPreset) -> int:
    path = preset.path / "image_converter.json"
    try:
        return int(json.loads(path.read_text())["config"]["image_size"][0])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        raise WeightsUnavailable(f"the preset {preset.name} has no usable image converter "
                                 f"({path} is missing or damaged)") from None


class _Network:
    """A loaded preset: its backbone, image converter and (CLIP/SigLIP) preprocessor."""

    def __init__(self, preset: ResolvedPreset, precision: str) -> None:
        import_keras()  # quietly, before keras_hub imports it
        import keras_hub
        import tensorflow as tf

        self.preset = preset
        folder = str(preset.path)
        try:
            self.backbone = _load_backbone(preset, precision)
            self.converter = keras_hub.layers.ImageConverter.from_preset(folder)
        except Exception as exc:  # wrong shapes, a half-copied folder ...
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise WeightsUnavailable(f"could not load the preset {preset.name} from {folder}: "
                                     f"{first}") from None
        self._text_preprocessor = None
        self._lock = threading.Lock()

        size = _image_size(preset)

        @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
        def infer(x):
            pixels = self.converter(x)
            if preset.kind == "dinov2":
                out = self.backbone({"images": pixels}, training=False)[:, 0, :]
            else:
                out = self.backbone.get_vision_embeddings(pixels)
            return tf.cast(out, tf.float32)

        self._infer = infer

    def images(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._infer(batch))

    def texts(self, texts: list[str]) -> np.ndarray:
        token_ids = self._preprocessor()({"prompts": texts, "images": None})["token_ids"]
        embeddings = self.backbone.get_text_embeddings(token_ids)
        return np.asarray(embeddings, dtype=np.float32)

    def _preprocessor(self):
        """The preset's text preprocessor (tokenizer + packer), its image part dropped."""
        import keras_hub

        with self._lock:
            if self._text_preprocessor is None:
                cls = (keras_hub.models.CLIPPreprocessor if self.preset.kind == "clip"
                       else keras_hub.models.SigLIPPreprocessor)
                try:
                    preprocessor = cls.from_preset(str(self.preset.path))
                except Exception as exc:  # missing tokenizer files
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                    raise WeightsUnavailable(f"the preset {self.preset.name} has no usable "
                                             f"tokenizer: {first}") from None
                preprocessor.image_converter = None
                self._text_preprocessor = preprocessor
            return self._text_preprocessor


def _load_backbone(preset: ResolvedPreset, precision: str):
    """The preset's backbone; in bfloat16 every sub-layer computes under ``mixed_bfloat16``.

    ``from_preset(dtype=...)`` sets only the outer model's policy: CLIP's and SigLIP's
    encoders keep the float32 policy saved in their config. So the config is rewritten
    (every saved float32 policy becomes ``mixed_bfloat16``; weights stay float32) and
    the weights are loaded into it.
    """
    import keras
    import keras_hub

    if precision != "bfloat16":
        return keras_hub.models.Backbone.from_preset(str(preset.path))
    config = _mixed_bfloat16(json.loads((preset.path / "config.json").read_text()))
    backbone = keras.saving.deserialize_keras_object(config)
    backbone.load_weights(str(preset.path / "model.weights.h5"))
    return backbone


def _mixed_bfloat16(config: Any) -> Any:
    """``config`` with every float32 (or unset) layer dtype policy made ``mixed_bfloat16``."""
    if isinstance(config, list):
        return [_mixed_bfloat16(item) for item in config]
    if not isinstance(config, dict):
        return config
    out = {key: _mixed_bfloat16(value) for key, value in config.items()}
    policy = out.get("dtype", "absent")
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else policy
    if name in (None, "float32") and policy != "absent" and "trainable" in out:
        out["dtype"] = "mixed_bfloat16"
    return out


def _network(preset: ResolvedPreset, precision: str) -> _Network:
    """The loaded network for this preset and precision, built once and shared."""
    key = (str(preset.path.resolve()), preset.weights_md5, precision)
    with _NETWORKS_LOCK:
        if key not in _NETWORKS:
            with native_stderr_silenced():  # TF's C++ device probing on first use
                _NETWORKS[key] = _Network(preset, precision)
        return _NETWORKS[key]
