"""Evaluate page: score the clustering against known labels (a truth CSV ``file,label``):
scores, a cluster x label heatmap, the scores of every k swept, unmatched files.

The CSV's bytes are kept and parsed by :func:`~clustering.review.truth.truth_from_bytes`
(once per content, capped relative to the images), so a rerun costs a hash, not a parse.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from clustering.clusters.members import name_of
from clustering.review.evaluate import (METRICS, EvaluationInputError, best_k, evaluate,
                                        score_labelings)
from clustering.review.truth import truth_from_bytes, truth_header
from clustering.review.truth_columns import truth_columns
from dashboard import choices, compute, errors, router, sources, state
from dashboard.charts import contingency_figure
from dashboard.markdown import escape

router.ensure_routed(__file__)

DEMO_LABELS = router.APP_DIR / "demo" / "labels.csv"
METRIC_LABELS = {"homogeneity": "Homogeneity", "completeness": "Completeness",
                 "v_measure": "V-measure", "nmi": "NMI", "ari": "ARI"}
LISTED = 20  # unmatched files listed by name


TRUTH_UPLOAD = "truth_upload"  # {"for": source key, "name": shown name, "data": CSV bytes}


def keep_truth(source_key: str, name: str, data: bytes) -> None:
    """Keep a truth CSV's bytes for this source; the column choice starts afresh."""
    st.session_state[TRUTH_UPLOAD] = {"for": source_key, "name": name, "data": data}
    for key in (state.TRUTH, "truth_file_column", "truth_label_column"):
        st.session_state.pop(key, None)


def use_upload(source_key: str) -> None:
    file = st.session_state.get("truth_file")
    if file is not None:
        keep_truth(source_key, file.name, file.getvalue())


def use_demo_labels(source_key: str) -> None:
    keep_truth(source_key, "demo/labels.csv", DEMO_LABELS.read_bytes())


def chosen_columns(data: bytes) -> tuple[str | None, str | None]:
    """The file and label columns: found by their names, else chosen by the user here."""
    header = truth_header(io.BytesIO(data))
    if len(header) < 2:
        raise EvaluationInputError(f"it needs two columns, the file names and the labels; it "
                                   f"has {', '.join(map(repr, header))}")
    try:
        truth_columns(header)
        return None, None
    except ValueError:
        st.warning("Which column holds the file names, and which the labels? This file's "
                   "column names (" + escape(", ".join(header)) + ") do not say it clearly: "
                   "choose them here.", icon=":material/table_chart:")
    left, right = st.columns(2)
    file_column = left.selectbox("Column with the file names", header, key="truth_file_column")
    label_column = right.selectbox("Column with the labels",
                                   [c for c in header if c != file_column],
                                   key="truth_label_column")
    return file_column, label_column


def load_truth(upload: dict, n_images: int) -> pd.Series | None:
    """The truth table of ``upload`` for ``n_images`` images, or None after saying why."""
    try:
        file_column, label_column = chosen_columns(upload["data"])
        return truth_from_bytes(upload["data"], n_images, file_column, label_column)
    except EvaluationInputError as exc:
        errors.log_error("reading the truth CSV", exc)
        st.error(f"This truth CSV ({escape(upload['name'])}) cannot be used: {escape(exc)}.",
                 icon=":material/error:")
        return None


def is_demo(data: state.DataSource) -> bool:
    try:
        return Path(data.discovery.root).resolve() == sources.DEMO_DIR.resolve()
    except (OSError, TypeError):
        return False


def named_rows(table: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    """``table`` with its cluster rows shown by their names."""
    return table.rename(index=lambda c: name_of(c, names)
                        if str(c).lstrip("-").isdigit() else str(c))


st.title("Evaluate")
analysis = compute.require_analysis()
data = analysis.run.source
key = compute.source_key(data)
names = choices.cluster_names(analysis)

st.caption("Score the clustering against labels you already know: a CSV with a `file` column "
           "(the names shown on the Data page, e.g. `folder/photo.jpg`) and a `label` column.")
left, right = st.columns([3, 2])
left.file_uploader("Truth CSV (file,label)", type=["csv", "txt"], key="truth_file",
                   on_change=use_upload, args=(key,))
if is_demo(data) and DEMO_LABELS.is_file():
    right.button("Use the demo set's labels", icon=":material/label:",
                 on_click=use_demo_labels, args=(key,))

upload = st.session_state.get(TRUTH_UPLOAD)
if not upload or upload["for"] != key:
    st.info("Upload a truth CSV to see the scores.", icon=":material/info:")
    st.stop()
truth = load_truth(upload, len(analysis.names))
if truth is None:
    st.stop()
stored = {"for": key, "name": upload["name"], "truth": truth}
st.session_state[state.TRUTH] = stored

labels = dict(zip(analysis.names, analysis.clustering.labels.tolist()))
try:
    result = evaluate(labels, truth)
except EvaluationInputError as exc:
    st.error(f"The truth CSV ({escape(stored['name'])}) cannot be used: {escape(exc)}. Check "
             f"that its file names are the ones shown on the Data page.", icon=":material/error:")
    st.stop()

st.subheader(f"Scores at k = {analysis.k}")
st.caption(f"Against {escape(stored['name'])}: {result.matched} images matched. 1 is a perfect match; "
           f"ARI is 0 for a random clustering.")
for column, metric in zip(st.columns(len(METRICS)), METRICS):
    column.metric(METRIC_LABELS[metric], f"{result.scores[metric]:.3f}")
if result.only_in_truth or result.only_in_labels:
    for files, text in ((result.only_in_truth, "in the truth CSV are not among the images"),
                        (result.only_in_labels, "have no label in the truth CSV")):
        if files:
            shown = escape(", ".join(files[:LISTED])) + (" …" if len(files) > LISTED else "")
            st.warning(f"{len(files)} files {text} (left out of the scores): {shown}",
                       icon=":material/warning:")

st.plotly_chart(contingency_figure(named_rows(result.contingency, names), "cluster", "true label",
                                   title="Images per cluster and true label"), key="contingency")

st.subheader("Every k of the sweep")
by_k = errors.attempt("clustering at every k", compute.labelings_of_sweep, analysis)
if by_k is not None:
    table = score_labelings(by_k, analysis.names, truth)
    metric = st.columns(4)[0].selectbox("Best k by", METRICS, index=METRICS.index("ari"),
                          format_func=METRIC_LABELS.get, key="best_metric")
    best = best_k(table, metric)
    table.insert(1, "best", np.where(table["k"] == best, "★ best", ""))
    table.insert(2, "current", np.where(table["k"] == analysis.k, "● current", ""))
    st.caption(f"Best k by {METRIC_LABELS[metric]}: **{best}** (the current k is "
               f"{analysis.k}; the sweep suggested {analysis.sweep.choice_.k}).")
    st.dataframe(table.round(3), hide_index=True, key="k_scores")
