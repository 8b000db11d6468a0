"""The second run of the Compare page: the same images with another extractor, or an
uploaded labels.csv, against the current clustering."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from clustering.pipeline import analyse
from clustering.review.compare import RunComparison, compare_runs
from clustering.review.evaluate import read_labels
from dashboard import compute, state


def current_labels(analysis: compute.Analysis) -> pd.Series:
    """``file -> cluster`` of the current clustering."""
    return pd.Series(analysis.clustering.labels.astype(int), index=list(analysis.names))


@st.cache_data(show_spinner="Clustering with the other extractor…", max_entries=8)
def _labels_with(key: str, k: int, _run: state.FeatureRun) -> pd.Series:
    settings = _run.settings.replace(k=k, k_min=k, k_max=k)
    result = analyse(_run.features, settings, _run.source.discovery)
    return pd.Series(result.clustering.labels.astype(int), index=list(_run.features.names))


def labels_with_model(analysis: compute.Analysis, model: str) -> pd.Series:
    """``file -> cluster`` of the same images, PCA settings and k with ``model``'s features
    (extracted through the same cache as the Features page; cached by content)."""
    settings = analysis.run.settings.replace(model=model, layer="pooled", weights=None)
    other = compute.compute_run(analysis.run.source, settings)
    return _labels_with(other.key, analysis.k, other)


def compare_with_file(analysis: compute.Analysis, upload) -> RunComparison:
    """The current clustering against an uploaded labels CSV (file object)."""
    return compare_runs(current_labels(analysis), read_labels(upload))

