"""Streamlit glue shared by the pages: state keys, cached library calls, thumbnails, errors.

Pages only draw; every computation goes through :mod:`clustering` via the cached
wrappers here. Results and settings live under plain ``st.session_state`` keys so
they survive moving between pages.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st

import clustering.discover as discovery
from clustering.cache import FeatureCache, default_cache_dir
from clustering.discover import Discovery, ImageRef, InputError
from clustering.duplicates import DuplicateFinder, Signatures, compute_signatures
from clustering.extractor import FeatureExtractor, make_extractor
from clustering.features import FeatureSet, Progress, extract_features
from clustering.fingerprint import combine, content_fingerprint, file_stamps
from clustering.galleries import default_names
from clustering.kmeans import InvalidK, KSweep, TooFewImages
from clustering.loading import ImageLoadError, make_thumbnail
from clustering.quality import QualityScorer, score_images
from clustering.review import annotate_labels
from clustering.pipeline import Clustering, Settings, cluster_at, reduce_features, sweep_k
from clustering.reduce import FeatureReducer, project_2d, variance_curve
from clustering.roots import PathRefused, RootsConfigError
from clustering.uploads import Upload, UploadTooLarge, save_uploads
from clustering.weights import SPECS, WeightsUnavailable, models_dir

APP_DIR = Path(__file__).resolve().parent.parent
DEMO_DIR = APP_DIR / "demo" / "images"

# Page files (also the targets of st.page_link / st.switch_page).
DATA_PAGE = "app_pages/data.py"
FEATURES_PAGE = "app_pages/features.py"
CHOOSE_K_PAGE = "app_pages/choose_k.py"
CLUSTERS_PAGE = "app_pages/clusters.py"
DUPLICATES_PAGE = "app_pages/duplicates_quality.py"
EVALUATE_PAGE = "app_pages/evaluate.py"

# Session-state keys.
SOURCE = "source"  # DataSource: the images chosen on the Data page
DEMO_OFFERED = "demo_offered"  # the demo set was opened at session start (make run)
UPLOAD_DIR = "upload_dir"  # this session's temporary folder for uploads
UPLOAD_SIGNATURES = "upload_signatures"  # {uploader key: what it held when last used}
RUN = "run"  # FeatureRun: features of the source and the settings they were made with
WEIGHTS_PROBLEM = "weights_problem"  # {"model", "layer", "message"} after WeightsUnavailable
K = "k"  # the chosen number of clusters
K_FOR = "k_for"  # the analysis the chosen k belongs to
NAMES = "cluster_names"  # {"for": clustering key, "names": {cluster: name}}
DUP_SENSITIVITY = "dup_sensitivity"  # duplicate finder sensitivity, 0 (strict) .. 1 (loose)
KEEP_CHOICES = "keep_choices"  # {"for": source key, "keep": {file: keep?}} the user's overrides
REVIEW = "review"  # {"for": source key, "duplicates": file,group,keep frame, "scores": frame}
TRUTH = "truth"  # {"for": source key, "name": where it came from, "truth": file -> label}

MODEL_LABELS = {"vgg16": "VGG16 (ImageNet weights)", "vgg19": "VGG19 (ImageNet weights)",
                "handcrafted": "Offline extractor (no download: colour, texture, shape)"}
LAYER_LABELS = {"pooled": "pooled block5 (512 values, 58 MB weights)",
                "fc1": "fc1 (4096 values, 550 MB weights)",
                "fc2": "fc2 (4096 values, 550 MB weights)"}
PCA_MODES = ("variance", "components", "none")
PCA_MODE_LABELS = {"variance": "Keep a fraction of the variance",
                   "components": "Keep a number of components", "none": "No PCA"}
DEFAULTS: dict[str, Any] = {"model": "vgg16", "layer": "pooled", "pca_mode": "variance",
                            "pca_fraction": 0.95, "pca_components": 50, "whiten": False,
                            "normalize": True, "k_range": (2, 20),
                            DUP_SENSITIVITY: 0.5}
THUMB_PX = 192
PROGRESS_EVERY_S = 0.25

_LOG = logging.getLogger("clusterlens")
T = TypeVar("T")


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


@dataclass
class Reduction:
    """PCA output for a run: the fitted reducer, reduced features, 2-D map, variance curve."""

    key: str
    reducer: FeatureReducer
    reduced: np.ndarray
    coords: np.ndarray
    curve: np.ndarray


@dataclass
class Analysis:
    """Everything the Choose k and Clusters pages draw."""

    run: FeatureRun
    reduction: Reduction
    sweep: KSweep
    clustering: Clustering
    clustering_key: str

    @property
    def k(self) -> int:
        return self.clustering.k

    @property
    def names(self) -> list[str]:
        return self.run.features.names


# ---- settings that survive page changes ---------------------------------------------

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


def current_settings() -> Settings:
    """A :class:`Settings` from what the Features page shows now."""
    mode = setting("pca_mode")
    pca = {"variance": float(setting("pca_fraction")), "components": int(setting("pca_components")),
           "none": None}[mode]
    return Settings(model=setting("model"), layer=setting("layer"), pca=pca,
                    whiten=bool(setting("whiten")), normalize=bool(setting("normalize")),
                    cache_dir=str(default_cache_dir()))


# ---- errors ---------------------------------------------------------------------------

def explain(exc: BaseException, action: str) -> str:
    """What happened and what to do, in words, for an exception raised while ``action``."""
    if isinstance(exc, (PathRefused, UploadTooLarge)):
        return str(exc)
    if isinstance(exc, RootsConfigError):
        return f"The server's folder configuration is broken: {exc}. Ask the operator to fix it."
    if isinstance(exc, InputError):
        return f"{exc}. Choose another folder or upload the images."
    if isinstance(exc, TooFewImages):
        return f"{exc}. Add more images on the Data page."
    if isinstance(exc, InvalidK):
        return f"{exc}. Choose a smaller k."
    if isinstance(exc, WeightsUnavailable):
        return str(exc)
    if isinstance(exc, MemoryError):
        return (f"The server ran out of memory while {action}. Use fewer images, the pooled "
                f"layer, or the offline extractor.")
    if isinstance(exc, OSError):
        return (f"A file could not be read or written while {action}: "
                f"{exc.strerror or exc}. Check that the files still exist and try again.")
    return (f"Something unexpected went wrong while {action} ({type(exc).__name__}: {exc}). "
            f"Try again; if it happens again, reload the page and start from the Data page. "
            f"The details are in the server log.")


def show_error(action: str, exc: BaseException) -> None:
    """Log ``exc`` with its traceback (server side) and show the plain explanation."""
    _LOG.warning("error while %s", action, exc_info=exc)
    st.error(explain(exc, action), icon=":material/error:")


def attempt(action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``fn(*args, **kwargs)``, or None after showing what went wrong."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # every failure becomes a message, never a traceback
        show_error(action, exc)
        return None


# ---- data source ----------------------------------------------------------------------

def source() -> DataSource | None:
    return st.session_state.get(SOURCE)


def use_demo() -> None:
    """Make the bundled demo set the source (or say why it cannot be)."""
    if not DEMO_DIR.is_dir():
        st.error("The demo set is not installed here (demo/images is missing). Rebuild it with "
                 "`python demo/build_demo.py`, or upload images instead.", icon=":material/error:")
        return
    found = attempt("reading the demo set", discovery.discover, DEMO_DIR)
    if found is not None:
        set_source(DataSource("the bundled demo set", found))


def open_demo_at_start() -> None:
    """With ``CLUSTERLENS_OPEN_DEMO=1`` (``make run``), a new session starts on the demo set."""
    if os.environ.get("CLUSTERLENS_OPEN_DEMO") == "1" and not st.session_state.get(DEMO_OFFERED):
        st.session_state[DEMO_OFFERED] = True
        if source() is None:
            use_demo()


def set_source(new: DataSource) -> None:
    """Use ``new`` images from now on; results made from the old ones are dropped."""
    st.session_state[SOURCE] = new
    for key in (RUN, K, K_FOR, NAMES, WEIGHTS_PROBLEM, KEEP_CHOICES, REVIEW, TRUTH):
        st.session_state.pop(key, None)


def save_session_upload(uploads: Sequence[Upload]) -> Discovery:
    """Save ``uploads`` in a new temporary folder for this session.

    The previous upload's folder is deleted only once the new one is in place, so a
    refused upload leaves the images in use untouched.
    """
    folder = Path(tempfile.mkdtemp(prefix="clusterlens-upload-"))
    try:
        found = save_uploads(uploads, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    old = st.session_state.get(UPLOAD_DIR)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    st.session_state[UPLOAD_DIR] = str(folder)
    return found


def refs_by_name(discovery: Discovery) -> dict[str, ImageRef]:
    return {ref.name: ref for ref in discovery.images}


# ---- thumbnails -----------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=5_000)
def _thumbnail(path: str, member: str, size: int, mtime: int, px: int) -> tuple[bytes | None, str]:
    """``size`` and ``mtime`` only key the cache, so a changed file gets a new thumbnail."""
    ref = ImageRef(name=path, path=Path(path), member=member or None)
    try:
        return make_thumbnail(ref.read_bytes(), px), ""
    except ImageLoadError as exc:
        return None, str(exc)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return None, f"cannot read file: {exc}"


def thumbnail(ref: ImageRef, px: int = THUMB_PX) -> tuple[bytes | None, str]:
    """A small JPEG of ``ref`` (cached by file identity), or None and the reason."""
    _, path, member, size, mtime = file_stamps([ref])[0]
    return _thumbnail(path, member, size, mtime, px)


def show_thumbnails(refs: Sequence[ImageRef], captions: Sequence[str] | None = None,
                    columns: int = 6) -> None:
    """A grid of thumbnails with captions (file names without folders unless given)."""
    captions = (list(captions) if captions is not None
                else [PurePosixPath(ref.name).name for ref in refs])
    for start in range(0, len(refs), columns):
        row = st.columns(columns)
        for col, ref, caption in zip(row, refs[start:start + columns],
                                     captions[start:start + columns]):
            data, reason = thumbnail(ref)
            with col:
                if data is None:
                    st.warning(f"{ref.name}: {reason}", icon=":material/broken_image:")
                else:
                    st.image(data, caption=caption, width="stretch")


# ---- features -------------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the feature extractor…", max_entries=4)
def _extractor(model: str, layer: str, folder: str, stamp: tuple[int, int] | None
               ) -> FeatureExtractor:
    """``folder`` and ``stamp`` only key the cache (where the weights are, which file)."""
    extractor = make_extractor(model, layer)
    load = getattr(extractor, "load", None)
    if load is not None:
        load()  # build the Keras network now, once per process
    return extractor


def get_extractor(model: str, layer: str) -> FeatureExtractor:
    """The shared extractor (Keras model held by st.cache_resource).

    Keyed by the weights file's size and time, so a newly supplied file is picked up.
    """
    stamp = None
    if model != "handcrafted":
        path = models_dir() / SPECS[(model, layer != "pooled")].filename
        stamp = (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else None
    return _extractor(model, layer, str(models_dir()), stamp)


@st.cache_data(show_spinner=False, max_entries=64)
def _fingerprint(stamps: tuple, _images: Sequence[ImageRef]) -> str:
    return content_fingerprint(_images)


def progress_text(p: Progress) -> str:
    """``"12 / 40 images · 5.1 images/s · about 6 s left"``."""
    parts = [f"{p.done} / {p.total} images"]
    if p.images_per_s > 0:
        parts.append(f"{p.images_per_s:.1f} images/s")
    if p.eta_s is not None and p.done < p.total:
        parts.append(f"about {duration(p.eta_s)} left")
    if p.cached:
        parts.append(f"{p.cached} from cache")
    if p.skipped:
        parts.append(f"{p.skipped} skipped")
    return " · ".join(parts)


def duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    return f"{minutes // 60} h {minutes % 60} min"


@st.cache_data(show_spinner=False, max_entries=8)
def _features(key: str, cache_dir: str, _images: Sequence[ImageRef],
              _extractor: FeatureExtractor) -> FeatureSet:
    # The progress bar is created in here so a cache hit replays it (and its removal).
    bar = st.empty()
    last = [0.0]

    def report(p: Progress) -> None:
        now = time.monotonic()
        if p.done == p.total or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            bar.progress(p.done / max(1, p.total), text=progress_text(p))

    try:
        return extract_features(_images, _extractor, FeatureCache(cache_dir), progress=report)
    finally:
        bar.empty()


def compute_run(data: DataSource, settings: Settings) -> FeatureRun:
    """Features of ``data`` (st.cache_data keyed by file contents + extractor + cache dir)."""
    extractor = get_extractor(settings.model, settings.layer)
    images = data.discovery.images
    key = combine(_fingerprint(file_stamps(images), images), extractor.cache_key)
    features = _features(key, settings.cache_dir or "", images, extractor)
    return FeatureRun(key=key, settings=settings, features=features, source=data)


def run() -> FeatureRun | None:
    return st.session_state.get(RUN)


# ---- PCA, k sweep, clustering ---------------------------------------------------------

@st.cache_data(show_spinner="Reducing features with PCA…", max_entries=16)
def _reduction(key: str, pca: int | float | None, whiten: bool, normalize: bool, seed: int,
               _features: np.ndarray) -> Reduction:
    settings = Settings(pca=pca, whiten=whiten, normalize=normalize, seed=seed)
    reducer, reduced = reduce_features(_features, settings)
    return Reduction(key=key, reducer=reducer, reduced=reduced,
                     coords=project_2d(reduced, seed),
                     curve=variance_curve(_features, normalize_rows=normalize))


def reduction(feature_run: FeatureRun) -> Reduction:
    s = feature_run.settings
    key = combine(feature_run.key, s.pca, s.whiten, s.normalize, s.seed)
    return _reduction(key, s.pca, s.whiten, s.normalize, s.seed, feature_run.features.features)


@st.cache_data(show_spinner="Trying each k…", max_entries=16)
def _sweep(key: str, k_min: int, k_max: int, seed: int, _reduced: np.ndarray) -> KSweep:
    return sweep_k(_reduced, Settings(k_min=k_min, k_max=k_max, seed=seed))


@st.cache_data(show_spinner=False, max_entries=64)
def _clustering(key: str, k: int, seed: int, _reduced: np.ndarray) -> Clustering:
    return cluster_at(_reduced, k, Settings(seed=seed))


def k_limits(n_images: int) -> tuple[int, int]:
    """The k range the dashboard offers for ``n_images`` (raises when too few)."""
    if n_images < 3:
        raise TooFewImages(f"only {n_images} loadable image(s): at least 3 are needed to cluster")
    return 2, min(n_images - 1, 50)


def k_range(n_images: int) -> tuple[int, int]:
    """The k range to sweep: the user's range clamped to what ``n_images`` allow."""
    low, high = k_limits(n_images)
    k_min, k_max = (min(max(int(v), low), high) for v in setting("k_range"))
    return k_min, max(k_min, k_max)


def analyse(feature_run: FeatureRun) -> Analysis:
    """Reduce, sweep the chosen k range and cluster at the chosen k (all cached).

    A new analysis starts at the suggested k; a stored k outside the range is
    refused with :class:`InvalidK` and reset to the suggestion.
    """
    n = len(feature_run.features.names)
    low, high = k_limits(n)
    k_min, k_max = k_range(n)
    red = reduction(feature_run)
    seed = feature_run.settings.seed
    sweep = _sweep(red.key, k_min, k_max, seed, red.reduced)
    if st.session_state.get(K_FOR) != red.key or K not in st.session_state:
        st.session_state[K], st.session_state[K_FOR] = sweep.choice_.k, red.key
    k = int(st.session_state[K])
    if not low <= k <= high:
        st.session_state[K] = sweep.choice_.k
        raise InvalidK(f"k={k} is not possible with {n} images: k must be between {low} and "
                       f"{high}. k was reset to the suggested {sweep.choice_.k}")
    k = st.session_state[K] = min(max(k, k_min), k_max)  # inside the range swept
    clustering = _clustering(red.key, k, seed, red.reduced)
    return Analysis(run=feature_run, reduction=red, sweep=sweep, clustering=clustering,
                    clustering_key=combine(red.key, k))


def require_analysis() -> Analysis:
    """The current analysis, or a pointer to the page that is missing (and stop)."""
    current = run()
    if current is None:
        st.info("Nothing to show yet: choose images on the Data page and extract their "
                "features on the Features page.", icon=":material/info:")
        st.page_link(FEATURES_PAGE if source() else DATA_PAGE,
                     label="Go to Features" if source() else "Go to Data",
                     icon=":material/arrow_forward:")
        st.stop()
    try:
        return analyse(current)
    except InvalidK as exc:
        show_error("clustering", exc)
        return analyse(current)
    except Exception as exc:  # shown as a message; the page cannot go on without it
        show_error("clustering", exc)
        st.stop()


def cluster_names(analysis: Analysis) -> dict[int, str]:
    """The clusters' names (renamed ones kept while this clustering stays)."""
    stored = st.session_state.get(NAMES)
    if not stored or stored["for"] != analysis.clustering_key:
        stored = {"for": analysis.clustering_key, "names": default_names(analysis.k)}
        st.session_state[NAMES] = stored
    return stored["names"]


def rename_cluster(cluster: int, widget_key: str) -> None:
    """on_change callback: store the new name typed for ``cluster``."""
    name = str(st.session_state[widget_key]).strip()
    st.session_state[NAMES]["names"][cluster] = name or f"cluster {cluster}"


def k_reason(analysis: Analysis) -> str:
    """How the current k was chosen, for run.json."""
    choice = analysis.sweep.choice_
    if analysis.k == choice.k:
        return choice.rule
    return f"chosen in the dashboard (the suggestion was k={choice.k}: {choice.rule})"


def recorded_settings(analysis: Analysis) -> Settings:
    """The run's settings with the k actually used and the k range swept."""
    ks = analysis.sweep.ks_
    return replace(analysis.run.settings, k=analysis.k, k_min=int(ks[0]), k_max=int(ks[-1]))


# ---- duplicates, quality, evaluation --------------------------------------------------

def source_key(data: DataSource) -> str:
    """A content fingerprint of the source's files (cached by their stat stamps)."""
    images = data.discovery.images
    return _fingerprint(file_stamps(images), images)


@st.cache_data(show_spinner="Hashing the images for duplicate search…", max_entries=8)
def _signatures(key: str, cache_dir: str, _images: Sequence[ImageRef]) -> Signatures:
    return compute_signatures(_images, cache=FeatureCache(cache_dir))


def signatures(data: DataSource) -> Signatures:
    """Perceptual hashes and sizes of the source (st.cache_data by content, disk cache)."""
    return _signatures(source_key(data), str(default_cache_dir()), data.discovery.images)


@st.cache_data(show_spinner="Scoring image quality…", max_entries=8)
def _quality_scores(key: str, cache_dir: str, _images: Sequence[ImageRef]
                    ) -> tuple[pd.DataFrame, list]:
    return score_images(_images, cache=FeatureCache(cache_dir))


def quality_scores(data: DataSource) -> tuple[pd.DataFrame, list]:
    """Quality scores of the source and the files skipped (cached by content)."""
    return _quality_scores(source_key(data), str(default_cache_dir()), data.discovery.images)


@st.cache_data(show_spinner=False, max_entries=32)
def _duplicates(key: str, sensitivity: float, feature_key: str | None, _sig: Signatures,
                _features: FeatureSet | None) -> DuplicateFinder:
    return DuplicateFinder(sensitivity=sensitivity).fit(_sig, features=_features)


def duplicates(data: DataSource, sensitivity: float,
               features: FeatureRun | None = None) -> DuplicateFinder:
    """The duplicate groups at ``sensitivity`` (refitted from cached signatures), using
    ``features`` when given."""
    return _duplicates(source_key(data), float(sensitivity),
                       features.key if features is not None else None, signatures(data),
                       features.features if features is not None else None)


def clusters_table(analysis: Analysis) -> pd.DataFrame:
    """``file, cluster, distance_to_centroid, silhouette`` of the current clustering."""
    result = analysis.clustering
    return pd.DataFrame({"file": list(analysis.names), "cluster": result.labels.astype(int),
                         "distance_to_centroid": result.distances.astype(float),
                         "silhouette": result.silhouettes.astype(float)})


def current_analysis() -> Analysis | None:
    """The analysis if features exist and it can be made (no message otherwise)."""
    current = run()
    if current is None:
        return None
    try:
        return analyse(current)
    except Exception as exc:  # noqa: BLE001 - the caller says there is no clustering
        _LOG.warning("no analysis for the review", exc_info=exc)
        return None


def keep_choices(key: str) -> dict[str, bool]:
    """The user's keep/remove overrides for the source with ``key``."""
    stored = st.session_state.get(KEEP_CHOICES)
    if not stored or stored["for"] != key:
        stored = st.session_state[KEEP_CHOICES] = {"for": key, "keep": {}}
    return stored["keep"]


def set_keep(file: str, widget_key: str, suggested: bool) -> None:
    """on_change callback: remember the keep checkbox of ``file`` (dropped when it is
    back to the suggestion)."""
    choices = st.session_state[KEEP_CHOICES]["keep"]
    value = bool(st.session_state[widget_key])
    if value == suggested:
        choices.pop(file, None)
    else:
        choices[file] = value


def review_columns(analysis: Analysis, labels: pd.DataFrame) -> pd.DataFrame:
    """``labels`` plus duplicate groups and quality flags when they were computed in this
    session for these images (flags re-applied to the current clustering)."""
    stored = st.session_state.get(REVIEW)
    if not stored or stored["for"] != source_key(analysis.run.source):
        return labels
    report = None
    if stored.get("scores") is not None:
        report = QualityScorer().flag(stored["scores"], clusters_table(analysis))
    return annotate_labels(labels, stored.get("duplicates"), report)
