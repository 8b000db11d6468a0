"""Find VGG ImageNet weights: a named file, Keras' cache, or Keras' own download.

Keras' cache lookup re-downloads any file whose md5 is not the published one, which
would throw away a user's fine-tuned file (and fails with no network). So we look in
the cache ourselves, load whatever file is there by path, and record whether its
md5 matches the published ImageNet weights.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from clustering.errors import WeightsUnavailable, first_line

_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications"


@dataclass(frozen=True)
class WeightsSpec:
    """The published Keras weights file for one network, with or without its top."""

    model: str
    include_top: bool
    filename: str
    md5: str

    @property
    def url(self) -> str:
        return f"{_BASE_URL}/{self.model}/{self.filename}"


SPECS = {
    ("vgg16", True): WeightsSpec("vgg16", True, "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                                 "64373286793e3c8b2b4e3219cbf3544b"),
    ("vgg16", False): WeightsSpec("vgg16", False,
                                  "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                  "6d6bbae143d832006294945121d1f1fc"),
    ("vgg19", True): WeightsSpec("vgg19", True, "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
                                 "cbe5617147190e668d6c5d5026f83318"),
    ("vgg19", False): WeightsSpec("vgg19", False,
                                  "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                  "253f8cb515780f3b799900260a226db6"),
}


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file ready to load, where it came from, and whether it is ImageNet's."""

    path: Path
    source: str  # "file", "cache" or "download"
    md5: str
    imagenet: bool  # md5 equals the published ImageNet file's

    def describe(self) -> dict[str, object]:
        return {"path": str(self.path), "source": self.source, "md5": self.md5,
                "published_imagenet_weights": self.imagenet}


def keras_home() -> Path:
    """``$KERAS_HOME`` or ``~/.keras``, read now (not at import time)."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()


def models_dir() -> Path:
    """The folder where Keras keeps downloaded weights: ``<keras home>/models``."""
    return keras_home() / "models"


def file_md5(path: Path) -> str:
    """md5 of a file, remembered per (path, size, mtime) so big files hash once."""
    stat = path.stat()
    return _md5_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _md5_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_message(spec: WeightsSpec, reason: str) -> str:
    """The plain-words explanation shown when weights cannot be had."""
    return (f"{spec.model.upper()} ImageNet weights are not available ({reason}). "
            f"Download {spec.filename} from {spec.url} and put it in {models_dir()} "
            f"(or pass it with --weights FILE), or use the offline extractor "
            f"(--model handcrafted).")


def resolve_weights(model: str, include_top: bool, explicit: str | Path | None = None,
                    allow_download: bool = True) -> ResolvedWeights:
    """Find the weights for ``model``: ``explicit`` file, then Keras' cache, then download."""
    spec = SPECS[(model, include_top)]
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(f"weights file not found: {path}")
        return _resolved(path, "file", spec)
    cached = models_dir() / spec.filename
    if cached.is_file():
        return _resolved(cached, "cache", spec)
    if not allow_download or os.environ.get("CLUSTERLENS_OFFLINE"):
        raise WeightsUnavailable(missing_message(spec, f"{spec.filename} is not in {models_dir()}"))
    return _resolved(_download(spec), "download", spec)


def _resolved(path: Path, source: str, spec: WeightsSpec) -> ResolvedWeights:
    md5 = file_md5(path)
    return ResolvedWeights(path=path, source=source, md5=md5, imagenet=md5 == spec.md5)


def _download(spec: WeightsSpec) -> Path:
    """Keras' own download into its cache (what a user with internet gets)."""
    from clustering.features.keras_import import import_keras

    get_file = import_keras().utils.get_file
    try:
        return Path(get_file(spec.filename, origin=spec.url, cache_subdir="models",
                             file_hash=spec.md5, cache_dir=str(keras_home())))
    except Exception as exc:  # network errors come in many types
        raise WeightsUnavailable(
            missing_message(spec, f"download failed: {first_line(exc, 200)}")) from None
