"""Find a keras-hub preset folder for ``--model``: a path, the models folder, keras-hub's cache.

``--model`` is ``vgg16``, ``vgg19``, ``handcrafted``, a keras-hub preset name
(``clip_vit_base_patch32``, ``siglip2_base_patch16_224``, ``dinov2_small``, ...) or the
path of a preset folder. A name is looked up in the operator's models folder
(``$CLUSTERLENS_MODELS/<name>/``), then in keras-hub's download cache (kagglehub's), and
downloaded by keras-hub only when allowed and online. A folder is checked before use:
its ``config.json`` must name a backbone ClusterLens knows and its ``model.weights.h5``
must be a readable HDF5 file; otherwise :class:`~clustering.errors.WeightsUnavailable`
says what to do, as for VGG.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from clustering.errors import WeightsUnavailable
from clustering.features.weights import file_md5
from clustering.settings import MODELS

WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"

# config.json's class_name -> the family ClusterLens treats it as.
BACKBONE_KINDS = {"CLIPBackbone": "clip", "SigLIPBackbone": "siglip",
                  "DINOV2Backbone": "dinov2"}
TEXT_KINDS = ("clip", "siglip")  # families with a text encoder: they can search by text


@dataclass(frozen=True)
class Family:
    """What a user is told about one family of backbones."""

    title: str
    licence: str


FAMILIES = {
    "clip": Family("CLIP", "MIT (OpenAI CLIP weights and code)"),
    "siglip": Family("SigLIP 2", "Apache-2.0 (Google SigLIP / SigLIP 2 weights)"),
    "dinov2": Family("DINOv2", "Apache-2.0 (Meta DINOv2 weights)"),
}
# Presets offered by name (the dashboard's list; any other keras-hub name works too).
SUGGESTED_PRESETS = ("clip_vit_base_patch32", "siglip2_base_patch16_224", "dinov2_small")


@dataclass(frozen=True)
class ResolvedPreset:
    """A checked preset folder, where it came from, and what family it is."""

    path: Path
    name: str
    source: str  # "folder", "models folder", "keras-hub cache" or "download"
    kind: str
    config_md5: str
    weights_md5: str

    @property
    def family(self) -> Family:
        return FAMILIES[self.kind]

    def describe(self) -> dict[str, object]:
        return {"preset": self.name, "path": str(self.path), "source": self.source,
                "kind": self.kind, "licence": self.family.licence,
                "config_md5": self.config_md5, "weights_md5": self.weights_md5}


def is_preset_model(model: str) -> bool:
    """Whether ``model`` names a keras-hub preset (anything but VGG and handcrafted)."""
    return model.lower() not in MODELS


def known_model(model: str) -> str:
    """``model`` if it can name an extractor (``--model``'s check); ``ValueError`` if not.

    VGG, the offline extractor, a folder, a name in the models folder or a keras-hub
    preset name pass (whether its weights can be had is checked when it is built).
    """
    path = Path(model).expanduser()
    if (not is_preset_model(model) or path.is_dir() or os.sep in model or "/" in model
            or (models_home() / model).is_dir() or _kaggle_handle(model) is not None):
        return model
    raise ValueError(f"unknown model {model!r}: choose vgg16, vgg19, handcrafted, a keras-hub "
                     f"preset name ({', '.join(SUGGESTED_PRESETS)}, ...) or a preset folder")


def models_home() -> Path:
    """The operator's models folder: ``$CLUSTERLENS_MODELS`` or ``~/.clusterlens/models``."""
    return Path(os.environ.get("CLUSTERLENS_MODELS") or "~/.clusterlens/models").expanduser()


def local_presets() -> list[Path]:
    """Preset folders in the models folder (those with a ``config.json``), by name."""
    home = models_home()
    if not home.is_dir():
        return []
    return sorted(p for p in home.iterdir() if (p / CONFIG_FILE).is_file())


def expected_weights(model: str) -> Path:
    """Where a preset's weights file would be if it is a folder or in the models folder
    (a cheap stamp for callers that keep a loaded network)."""
    path = Path(model).expanduser()
    return (path if path.is_dir() else models_home() / model) / WEIGHTS_FILE


def missing_preset_message(name: str, reason: str) -> str:
    """Plain advice when a preset cannot be used (mirrors VGG's)."""
    return (f"the model {name} cannot be used ({reason}). Copy the keras-hub preset folder "
            f"(config.json, {WEIGHTS_FILE}, ...) to {models_home() / Path(name).name} "
            f"(or pass its path with --model), or use the offline extractor "
            f"(--model handcrafted).")


def resolve_preset(model: str, allow_download: bool = True) -> ResolvedPreset:
    """The checked preset folder for ``model`` (a folder path or a preset name)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return check_preset(path, path.name, "folder")
    if os.sep in model or "/" in model:
        raise WeightsUnavailable(missing_preset_message(model, "no such folder"))
    local = models_home() / model
    if local.is_dir():
        return check_preset(local, model, "models folder")
    cached = _hub_cache_folder(model)
    if cached is not None:
        return check_preset(cached, model, "keras-hub cache")
    if not allow_download or os.environ.get("CLUSTERLENS_OFFLINE"):
        raise WeightsUnavailable(missing_preset_message(
            model, f"it is not in {models_home()} nor in keras-hub's cache"))
    return check_preset(_download(model), model, "download")


def check_preset(folder: Path, name: str, source: str) -> ResolvedPreset:
    """Check ``folder`` is a usable preset: a known backbone and readable weights."""
    config_path = folder / CONFIG_FILE
    try:
        class_name = json.loads(config_path.read_text())["class_name"]
    except (OSError, ValueError, KeyError, TypeError):
        raise WeightsUnavailable(missing_preset_message(
            name, f"{config_path} is missing or not a keras-hub config")) from None
    if class_name not in BACKBONE_KINDS:
        known = ", ".join(BACKBONE_KINDS)
        raise WeightsUnavailable(f"the preset {name} holds a {class_name}; ClusterLens "
                                 f"extracts features with {known}")
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise WeightsUnavailable(missing_preset_message(name, f"{weights} is missing"))
    if not _readable_hdf5(weights):
        raise WeightsUnavailable(missing_preset_message(
            name, f"{weights} is damaged (not a readable HDF5 file)"))
    return ResolvedPreset(path=folder, name=name, source=source,
                          kind=BACKBONE_KINDS[class_name], config_md5=file_md5(config_path),
                          weights_md5=file_md5(weights))


def _readable_hdf5(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r"):
            return True
    except OSError:
        return False


def _hub_cache_folder(name: str) -> Path | None:
    """The newest version of ``name`` in kagglehub's cache, if keras-hub downloaded it."""
    handle = _kaggle_handle(name)
    if handle is None:
        return None
    cache = Path(os.environ.get("KAGGLEHUB_CACHE") or "~/.cache/kagglehub").expanduser()
    owner, model, framework, variation, *_ = handle.split("/") + [""]
    base = cache / "models" / owner / model / framework / variation
    versions = sorted((p for p in base.glob("*") if (p / CONFIG_FILE).is_file()),
                      key=lambda p: int(p.name) if p.name.isdigit() else -1)
    return versions[-1] if versions else None


def _kaggle_handle(name: str) -> str | None:
    """``owner/model/keras/variation/version`` of a built-in keras-hub preset name."""
    from clustering.features.keras_import import import_keras, native_stderr_silenced

    import_keras()
    with native_stderr_silenced():
        import keras_hub  # noqa: F401  (registers the built-in presets)
    from keras_hub.src.utils.preset_utils import BUILTIN_PRESETS

    entry = BUILTIN_PRESETS.get(name)
    return entry["kaggle_handle"].removeprefix("kaggle://") if entry else None


def _download(name: str) -> Path:
    """The whole preset ``name`` downloaded into keras-hub's (kagglehub's) cache."""
    handle = _kaggle_handle(name)
    if handle is None:
        raise WeightsUnavailable(f"unknown model {name!r}: not vgg16, vgg19, handcrafted, a "
                                 f"keras-hub preset name nor a preset folder")
    import kagglehub

    try:
        return Path(kagglehub.model_download(handle))
    except Exception as exc:  # network and registry errors come in many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WeightsUnavailable(missing_preset_message(name, f"download failed: {first}")
                                 ) from None
