"""What the user decided about a clustering: cluster names, keep/remove overrides."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from clustering.clusters.members import default_name
from clustering.review.decisions import annotate_labels
from clustering.review.quality import QualityScorer
from dashboard import state
from dashboard.compute import Analysis, clusters_table, source_key, suggested_names


def cluster_names(analysis: Analysis) -> dict[int, str]:
    """The clusters' names: the suggested ones until renamed (renames kept while this
    clustering stays)."""
    stored = st.session_state.get(state.NAMES)
    if not stored or stored["for"] != analysis.clustering_key:
        stored = {"for": analysis.clustering_key,
                  "names": dict(suggested_names(analysis).names)}
        st.session_state[state.NAMES] = stored
    return stored["names"]


def rename_cluster(cluster: int, widget_key: str) -> None:
    """on_change callback: store the new name typed for ``cluster``."""
    name = str(st.session_state[widget_key]).strip()
    st.session_state[state.NAMES]["names"][cluster] = name or default_name(cluster)


def keep_choices(key: str) -> dict[str, bool]:
    """The user's keep/remove overrides for the source with ``key``."""
    stored = st.session_state.get(state.KEEP_CHOICES)
    if not stored or stored["for"] != key:
        stored = st.session_state[state.KEEP_CHOICES] = {"for": key, "keep": {}}
    return stored["keep"]


def set_keep(file: str, widget_key: str, suggested: bool) -> None:
    """on_change callback: remember the keep checkbox of ``file`` (dropped when it is
    back to the suggestion)."""
    choices = st.session_state[state.KEEP_CHOICES]["keep"]
    value = bool(st.session_state[widget_key])
    if value == suggested:
        choices.pop(file, None)
    else:
        choices[file] = value


def review_columns(analysis: Analysis, labels: pd.DataFrame) -> pd.DataFrame:
    """``labels`` plus duplicate groups and quality flags when they were computed in this
    session for these images (flags re-applied to the current clustering)."""
    stored = st.session_state.get(state.REVIEW)
    if not stored or stored["for"] != source_key(analysis.run.source):
        return labels
    report = None
    if stored.get("scores") is not None:
        report = QualityScorer().flag(stored["scores"], clusters_table(analysis))
    return annotate_labels(labels, stored.get("duplicates"), report)
