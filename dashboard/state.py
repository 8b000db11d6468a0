"""What a session remembers: state keys, the user's settings, the chosen images and features.

Widgets declared inside a page lose their state when the user leaves it, so every
setting and result lives under a plain ``st.session_state`` key named here; the
defaults come from :class:`clustering.settings.Settings`, the same as the library's
and the command line's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from clustering.cache import default_cache_dir
from clustering.features.extract import FeatureSet
from clustering.files.discover import Discovery
from clustering.settings import PCA_COMPONENTS_OFFERED, Settings

# Session-state keys.
SOURCE = "source"  # DataSource: the images chosen on the Data page
DEMO_OFFERED = "demo_offered"  # the demo set was opened at session start (make run)
UPLOAD_DIR = "upload_dir"  # the folder of this session's current image upload
STORE_ID = "upload_store_id"  # this session's folder in the server's upload store
SESSION_WEIGHTS = "session_weights"  # {weights_slot(): path} weights uploaded by this session
UPLOAD_SIGNATURES = "upload_signatures"  # {uploader key: what it held when last used}
RUN = "run"  # FeatureRun: features of the source and the settings they were made with
WEIGHTS_PROBLEM = "weights_problem"  # {"model", "layer", "message"} after WeightsUnavailable
K = "k"  # the chosen number of clusters
K_FOR = "k_for"  # the analysis the chosen k belongs to
NAMES = "cluster_names"  # ClusterNames
DUP_SENSITIVITY = "dup_sensitivity"  # duplicate finder sensitivity, 0 (strict) .. 1 (loose)
KEEP_CHOICES = "keep_choices"  # KeepChoices: the user's keep/remove overrides
REVIEW = "review"  # Review: the duplicate groups and quality scores of the images
MAP = "map_method"  # the 2-D map's projection: pca, umap or tsne (a view: kept across images)
TRUTH = "truth"  # TruthLabels: known labels to score the clustering against
TRUTH_UPLOAD = "truth_upload"  # TruthUpload: the truth CSV as uploaded
DISTRIBUTED = "distributed_result"  # folder of a Ray result opened on the Data page

# Everything that belongs to the current images (dropped when they change).
RESULTS = (RUN, K, K_FOR, NAMES, WEIGHTS_PROBLEM, KEEP_CHOICES, REVIEW, TRUTH, TRUTH_UPLOAD)

MODEL_LABELS = {"vgg16": "VGG16 (ImageNet weights)", "vgg19": "VGG19 (ImageNet weights)",
                "handcrafted": "Offline extractor (no download: colour, texture, shape)"}
LAYER_LABELS = {"pooled": "pooled block5 (512 values, 58 MB weights)",
                "fc1": "fc1 (4096 values, 550 MB weights)",
                "fc2": "fc2 (4096 values, 550 MB weights)"}
PCA_MODES = ("variance", "components", "none")
PCA_MODE_LABELS = {"variance": "Keep a fraction of the variance",
                   "components": "Keep a number of components", "none": "No PCA"}


def _widget_defaults(settings: Settings) -> dict[str, Any]:
    """The widgets' starting values, read off the library's default settings."""
    pca = settings.pca
    mode = "none" if pca is None else "variance" if isinstance(pca, float) else "components"
    return {"model": settings.model, "layer": settings.layer, "pca_mode": mode,
            "pca_fraction": pca if mode == "variance" else 0.95,
            "pca_components": pca if mode == "components" else PCA_COMPONENTS_OFFERED,
            "whiten": settings.whiten, "normalize": settings.normalize,
            "k_range": (settings.k_min, settings.k_max),
            DUP_SENSITIVITY: settings.duplicate_sensitivity, MAP: settings.map}


DEFAULTS = _widget_defaults(Settings())


@dataclass
class DataSource:
    """The images the user chose and how to describe where they came from."""

    label: str
    discovery: Discovery


@dataclass
class FeatureRun:
    """Features of a source, the settings used and the cache key they are stored under."""

    key: str
    settings: Settings
    features: FeatureSet
    source: DataSource


# What the user made for one source or clustering: each record holds the ``key`` it
# belongs to and is read back only while that key is current.

@dataclass
class ClusterNames:
    """The clusters' names for one clustering (``key``): suggested, then as renamed."""

    key: str
    names: dict[int, str]

    def to_json(self) -> dict[str, Any]:
        return {"for": self.key, "names": {str(c): n for c, n in self.names.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterNames:
        return cls(str(data["for"]), {int(c): str(n) for c, n in data["names"].items()})


@dataclass
class KeepChoices:
    """The user's keep (True) / remove (False) overrides of the suggestion, by file."""

    key: str
    keep: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"for": self.key, "keep": dict(self.keep)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeepChoices:
        return cls(str(data["for"]), {str(f): bool(v) for f, v in data["keep"].items()})


@dataclass
class TruthLabels:
    """Known labels (file -> label) and where they came from (``name``)."""

    key: str
    name: str
    truth: pd.Series

    def to_json(self) -> dict[str, Any]:
        return {"for": self.key, "name": self.name,
                "truth": {str(f): str(v) for f, v in self.truth.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TruthLabels:
        return cls(str(data["for"]), str(data["name"]), pd.Series(data["truth"], dtype=str))


@dataclass
class TruthUpload:
    """A truth CSV as uploaded (parsed on the Evaluate page)."""

    key: str
    name: str
    data: bytes


@dataclass
class Review:
    """The duplicate groups (file, group, keep) and quality scores found for the images."""

    key: str
    duplicates: pd.DataFrame | None
    scores: pd.DataFrame | None


Record = TypeVar("Record", ClusterNames, KeepChoices, TruthLabels, TruthUpload, Review)


def _belonging(name: str, kind: type[Record], key: str | None) -> Record | None:
    """The record under session key ``name`` if it belongs to ``key`` (any key: None)."""
    value = st.session_state.get(name)
    return value if isinstance(value, kind) and key in (None, value.key) else None


def cluster_names(key: str | None = None) -> ClusterNames | None:
    return _belonging(NAMES, ClusterNames, key)


def keep_choices(key: str | None = None) -> KeepChoices | None:
    return _belonging(KEEP_CHOICES, KeepChoices, key)


def truth(key: str | None = None) -> TruthLabels | None:
    return _belonging(TRUTH, TruthLabels, key)


def truth_upload(key: str | None = None) -> TruthUpload | None:
    return _belonging(TRUTH_UPLOAD, TruthUpload, key)


def review(key: str | None = None) -> Review | None:
    return _belonging(REVIEW, Review, key)


def remember(record: ClusterNames | KeepChoices | TruthLabels | TruthUpload | Review) -> None:
    """Keep ``record`` in the session under its kind's key."""
    name = {ClusterNames: NAMES, KeepChoices: KEEP_CHOICES, TruthLabels: TRUTH,
            TruthUpload: TRUTH_UPLOAD, Review: REVIEW}[type(record)]
    st.session_state[name] = record


def setting(key: str) -> Any:
    """The stored value of a setting (its default until the user changes it)."""
    return st.session_state.setdefault(key, DEFAULTS.get(key))


def bind(key: str, shown: Any = None, variant: str = "") -> dict[str, Any]:
    """Widget arguments that mirror the persistent setting ``key``.

    A widget's own state is dropped when its page is left; this copies the setting
    (or ``shown``, e.g. the setting clamped to the widget's range) into the widget
    before it is drawn, and the widget's value back on every change. A new
    ``variant`` makes a new widget (the browser keeps showing a select box's old
    option labels otherwise).
    """
    widget_key = f"_w_{key}{variant}"
    st.session_state[widget_key] = setting(key) if shown is None else shown
    return {"key": widget_key, "on_change": _store, "args": (key, widget_key)}


def _store(key: str, widget_key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def weights_slot(model: str, layer: str) -> str:
    """Which weights file a network needs: fc1 and fc2 share the file with the top layers."""
    return f"{model}/{'notop' if layer == 'pooled' else 'top'}"


def current_settings() -> Settings:
    """A :class:`Settings` from what the Features page shows now (other fields default).

    ``weights`` is a file this session uploaded for the chosen network, if any: an
    upload is used by its own session only; others get the operator's weights.
    """
    mode = setting("pca_mode")
    pca = {"variance": float(setting("pca_fraction")), "components": int(setting("pca_components")),
           "none": None}[mode]
    model, layer = setting("model"), setting("layer")
    weights = st.session_state.get(SESSION_WEIGHTS, {}).get(weights_slot(model, layer))
    return Settings(model=model, layer=layer, pca=pca, weights=weights,
                    whiten=bool(setting("whiten")), normalize=bool(setting("normalize")),
                    cache_dir=str(default_cache_dir()))


def source() -> DataSource | None:
    """The images chosen on the Data page, if any."""
    return st.session_state.get(SOURCE)


def run() -> FeatureRun | None:
    """The features extracted on the Features page, if any."""
    return st.session_state.get(RUN)


def set_source(new: DataSource) -> None:
    """Use ``new`` images from now on; results made from the old ones are dropped."""
    st.session_state[SOURCE] = new
    for key in RESULTS:
        st.session_state.pop(key, None)
