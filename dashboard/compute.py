"""The library's work, cached for the dashboard: features, the analysis, the review.

Every call goes through :mod:`clustering`; ``st.cache_data`` keys are content
fingerprints (file contents + extractor + settings), so a revisit or another session
with the same images recomputes nothing. The run itself is orchestrated once, by
:func:`clustering.pipeline.analyse`, with cached :class:`~clustering.pipeline.Steps`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from clustering.cache import FeatureCache, default_cache_dir
from clustering.clusters.kmeans import KSweep, check_enough_images
from clustering.errors import InvalidK
from clustering.features import FeatureExtractor, FeatureSet, extract_features, make_extractor
from clustering.features.presets import expected_weights, is_preset_model
from clustering.features.weights import SPECS, models_dir
from clustering.files.discover import ImageRef
from clustering.jobs import work
from clustering.jobs.store import DONE
from clustering.pipeline import Steps, analyse, cluster_at, map_2d, reduce_features, sweep_k
from clustering.reduce.projection import MapProjection
from clustering.reduce.pca import variance_curve
from clustering.review.duplicates import DuplicateFinder, Signatures
from clustering.review.evaluate import labelings
from clustering.review.names import NameSuggestions, names_for_run
from clustering.results import Clustering, Reduction, RunResult
from clustering.review.scan import scan_images
from clustering.settings import K_MAX_OFFERED, Settings
from dashboard import jobs, state
from dashboard.errors import show_error
from dashboard.fingerprint import combine, content_fingerprint, file_stamps
from dashboard.progress import ProgressBar
from dashboard.router import DATA_PAGE, FEATURES_PAGE

LOG = logging.getLogger("clusterlens")


@dataclass
class Analysis:
    """A clustering of the current features: what Choose k and Clusters draw."""

    run: state.FeatureRun
    result: RunResult
    key: str  # content key of the reduction (features + PCA settings)

    @property
    def reduction(self) -> Reduction:
        return self.result.reduction

    @property
    def sweep(self) -> KSweep:
        return self.result.sweep

    @property
    def clustering(self) -> Clustering:
        return self.result.clustering

    @property
    def k(self) -> int:
        return self.clustering.k

    @property
    def names(self) -> list[str]:
        return self.run.features.names

    @property
    def clustering_key(self) -> str:
        return combine(self.key, self.k)


# ---- features -------------------------------------------------------------------------

@st.cache_resource(show_spinner="Loading the feature extractor…", max_entries=4)
def _extractor(model: str, layer: str, weights: str | None, precision: str, folder: str,
               stamp: tuple[int, int] | None) -> FeatureExtractor:
    """``folder`` and ``stamp`` only key the cache (where the weights are, which file)."""
    extractor = make_extractor(model, layer, weights, precision)
    load = getattr(extractor, "load", None)
    if load is not None:
        load()  # build the Keras network now, once per process
    return extractor


def get_extractor(settings: Settings) -> FeatureExtractor:
    """The shared extractor for ``settings`` (Keras model held by st.cache_resource).

    Built from the same settings as the command line's (precision included), so both
    share cache entries. Keyed by the weights file's size and time, so a newly
    supplied file is picked up.
    """
    stamp, path = None, None
    if is_preset_model(settings.model):
        path = expected_weights(settings.model)
    elif settings.model != "handcrafted":
        path = models_dir() / SPECS[(settings.model, settings.layer != "pooled")].filename
    if path is not None:
        stamp = (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else None
    return _extractor(settings.model, settings.layer, settings.weights, settings.precision,
                      str(models_dir()), stamp)


@st.cache_data(show_spinner=False, max_entries=64)
def _fingerprint(stamps: str, _images: Sequence[ImageRef]) -> str:
    return content_fingerprint(_images)


def source_key(data: state.DataSource) -> str:
    """A content fingerprint of the source's files (cached by a digest of their stat
    stamps: Streamlit hashes a tuple argument item by item, 4 s at 50,000 files)."""
    images = data.discovery.images
    return _fingerprint(combine(file_stamps(images)), images)


@st.cache_data(show_spinner=False, max_entries=8)
def _features(key: str, cache_dir: str, batch_size: int, _images: Sequence[ImageRef],
              _extractor: FeatureExtractor) -> FeatureSet:
    # The progress bar is created in here so a cache hit replays it (and its removal).
    with ProgressBar("Extracting features") as bar:
        return extract_features(_images, _extractor, FeatureCache(cache_dir),
                                batch_size=batch_size, progress=bar)


def compute_run(data: state.DataSource, settings: Settings) -> state.FeatureRun:
    """Features of ``data`` (st.cache_data keyed by file contents + extractor + cache dir)."""
    extractor = get_extractor(settings)
    images = data.discovery.images
    key = combine(source_key(data), extractor.cache_key)
    features = _features(key, settings.cache_dir or "", settings.batch_size, images, extractor)
    return state.FeatureRun(key=key, settings=settings, features=features, source=data)


# ---- PCA, k sweep, clustering ---------------------------------------------------------

@st.cache_data(show_spinner="Reducing features with PCA…", max_entries=16)
def _reduction(key: str, settings: Settings, _features: np.ndarray) -> Reduction:
    return reduce_features(_features, settings)


@st.cache_data(show_spinner="Trying each k…", max_entries=16)
def _sweep(key: str, settings: Settings, _reduced: np.ndarray) -> KSweep:
    return sweep_k(_reduced, settings)


@st.cache_data(show_spinner=False, max_entries=64)
def _clustering(key: str, k: int, settings: Settings, _reduced: np.ndarray) -> Clustering:
    return cluster_at(_reduced, k, settings)


@st.cache_data(show_spinner=False, max_entries=16)
def _map(key: str, settings: Settings, _reduced: np.ndarray) -> MapProjection:
    # The progress bar is created in here so a cache hit replays it (and its removal).
    bar = st.progress(0.0, text=f"Drawing the {settings.map.upper()} map…")
    try:
        return map_2d(_reduced, settings,
                      progress=lambda fraction, what: bar.progress(fraction, text=what))
    finally:
        bar.empty()


def _without_map(settings: Settings) -> Settings:
    """The settings as reduce/sweep/cluster see them: the map method changes none of
    them, so it must not key their caches (a new map recomputes only the map)."""
    return settings.replace(k=None, map=Settings.map)


@st.cache_data(show_spinner="Measuring the variance PCA keeps…", max_entries=16)
def _variance_curve(key: str, normalize: bool, _features: np.ndarray) -> np.ndarray:
    return variance_curve(_features, normalize_rows=normalize)


def variance(analysis: Analysis) -> np.ndarray:
    """The explained-variance curve of the analysis' features (for the PCA chart)."""
    return _variance_curve(analysis.run.key, analysis.run.settings.normalize,
                           analysis.run.features.features)


@st.cache_data(show_spinner="Clustering at every k of the sweep…", max_entries=16)
def _labelings(key: str, ks: tuple[int, ...], seed: int, n_init: int,
               _reduced: np.ndarray) -> dict[int, np.ndarray]:
    return labelings(_reduced, ks, seed=seed, n_init=n_init)


def labelings_of_sweep(analysis: Analysis) -> dict[int, np.ndarray]:
    """The labels at every k the analysis swept (for scoring each k against a truth)."""
    settings = analysis.run.settings
    return _labelings(analysis.key, tuple(int(k) for k in analysis.sweep.ks_), settings.seed,
                      settings.n_init, analysis.reduction.reduced)


def k_limits(n_images: int) -> tuple[int, int]:
    """The k range the dashboard offers for ``n_images`` (raises when too few)."""
    check_enough_images(n_images)
    return 2, min(n_images - 1, K_MAX_OFFERED)


def k_range(n_images: int) -> tuple[int, int]:
    """The k range to sweep: the user's range clamped to what ``n_images`` allow."""
    low, high = k_limits(n_images)
    k_min, k_max = (min(max(int(v), low), high) for v in state.setting("k_range"))
    return k_min, max(k_min, k_max)


@st.cache_data(show_spinner=False, max_entries=16)
def _map_file(path: str, method: str, parameters: dict, seconds: float) -> MapProjection:
    return MapProjection(coords=np.load(path), method=method, parameters=parameters,
                         seconds=seconds)


def _map_step(key: str, feature_run: state.FeatureRun, reduced: np.ndarray,
              settings: Settings) -> MapProjection:
    """The 2-D map: PCA here (instant); UMAP and t-SNE from a background job, with the
    PCA map shown until the job ends (the Clusters page shows its progress)."""
    if settings.map == "pca":
        return _map(key, settings.replace(k=None), reduced)
    job = jobs.ask(jobs.MAP, work.MAP, feature_run.source.discovery.images, settings)
    if job is not None and job.state == DONE and job.result["names"] == len(reduced):
        found = job.result
        return _map_file(found["coords"], found["method"], found["parameters"],
                         found["seconds"])
    return _map(key, settings.replace(k=None, map="pca"), reduced)


def _cached_steps(key: str, feature_run: state.FeatureRun) -> Steps:
    """The pipeline's steps, each cached under the reduction's content ``key``."""
    return Steps(reduce=lambda X, s: _reduction(key, _without_map(s), X),
                 sweep=lambda R, s: _sweep(key, _without_map(s), R),
                 cluster=lambda R, k, s: _clustering(key, k, _without_map(s), R),
                 map=lambda R, s: _map_step(key, feature_run, R, s))


def session_analysis(feature_run: state.FeatureRun) -> Analysis:
    """Reduce, sweep the chosen k range and cluster at the chosen k (all cached).

    A new analysis starts at the suggested k; a stored k outside the range is
    refused with :class:`InvalidK` and reset to the suggestion.
    """
    n = len(feature_run.features.names)
    low, high = k_limits(n)
    k_min, k_max = k_range(n)
    settings = feature_run.settings.replace(k_min=k_min, k_max=k_max, k=None,
                                            map=state.setting(state.MAP))
    key = combine(feature_run.key, settings.pca, settings.whiten, settings.normalize,
                  settings.seed)
    k = st.session_state.get(state.K) if st.session_state.get(state.K_FOR) == key else None
    if k is not None and not low <= int(k) <= high:
        st.session_state.pop(state.K, None)
        raise InvalidK(f"k={k} is not possible with {n} images: k must be between {low} and "
                       f"{high}. k was reset to the suggested value")
    if k is not None:
        settings.k = min(max(int(k), k_min), k_max)  # inside the range swept
    result = analyse(feature_run.features, settings, feature_run.source.discovery,
                     steps=_cached_steps(key, feature_run), always_sweep=True)
    st.session_state[state.K], st.session_state[state.K_FOR] = result.clustering.k, key
    return Analysis(run=feature_run, result=result, key=key)


def require_analysis() -> Analysis:
    """The current analysis, or a pointer to the page that is missing (and stop)."""
    current = state.run()
    if current is None:
        st.info("Nothing to show yet: choose images on the Data page and extract their "
                "features on the Features page.", icon=":material/info:")
        st.page_link(FEATURES_PAGE if state.source() else DATA_PAGE,
                     label="Go to Features" if state.source() else "Go to Data",
                     icon=":material/arrow_forward:")
        st.stop()
    try:
        return session_analysis(current)
    except InvalidK as exc:
        show_error("clustering", exc)
        return session_analysis(current)
    except Exception as exc:  # shown as a message; the page cannot go on without it
        show_error("clustering", exc)
        st.stop()


def current_analysis() -> Analysis | None:
    """The analysis if features exist and it can be made (no message otherwise)."""
    current = state.run()
    if current is None:
        return None
    try:
        return session_analysis(current)
    except Exception as exc:  # noqa: BLE001 - the caller says there is no clustering
        LOG.warning("no analysis for the review", exc_info=exc)
        return None


@st.cache_data(show_spinner="Suggesting names for the clusters…", max_entries=16)
def _suggested_names(key: str, _result: RunResult) -> NameSuggestions:
    return names_for_run(_result)


def suggested_names(analysis: Analysis) -> NameSuggestions:
    """Suggested cluster names (ImageNet classes or pixel words), cached per clustering."""
    return _suggested_names(analysis.clustering_key, analysis.result)


def clusters_table(analysis: Analysis) -> pd.DataFrame:
    """``file, cluster, distance_to_centroid, silhouette`` of the current clustering."""
    result = analysis.clustering
    return pd.DataFrame({"file": list(analysis.names), "cluster": result.labels.astype(int),
                         "distance_to_centroid": result.distances.astype(float),
                         "silhouette": result.silhouettes.astype(float)})


# ---- duplicates and quality -----------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=8)
def _scan(key: str, cache_dir: str, _images: Sequence[ImageRef]
          ) -> tuple[Signatures, pd.DataFrame]:
    with ProgressBar("Hashing the images and scoring their quality") as bar:
        return scan_images(_images, cache=FeatureCache(cache_dir), progress=bar)


def signatures(data: state.DataSource) -> Signatures:
    """Perceptual hashes and sizes of the source (one pass with the quality scores,
    st.cache_data by content, disk cache)."""
    return _scan(source_key(data), str(default_cache_dir()), data.discovery.images)[0]


def quality_scores(data: state.DataSource) -> tuple[pd.DataFrame, list]:
    """Quality scores of the source and the files skipped (same pass as the hashes)."""
    found, scores = _scan(source_key(data), str(default_cache_dir()), data.discovery.images)
    return scores, found.skipped


@st.cache_data(show_spinner=False, max_entries=32)
def _duplicates(key: str, sensitivity: float, feature_key: str | None, _sig: Signatures,
                _features: FeatureSet | None) -> DuplicateFinder:
    # Searching reports images, then candidate pairs checked: "steps" covers both.
    with ProgressBar("Looking for duplicates", unit="steps") as bar:
        return DuplicateFinder(sensitivity=sensitivity).fit(_sig, features=_features,
                                                            progress=bar)


def duplicates(data: state.DataSource, sensitivity: float,
               features: state.FeatureRun | None = None) -> DuplicateFinder:
    """The duplicate groups at ``sensitivity`` (refitted from cached signatures), using
    ``features`` when given."""
    return _duplicates(source_key(data), float(sensitivity),
                       features.key if features is not None else None, signatures(data),
                       features.features if features is not None else None)
