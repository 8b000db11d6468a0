"""Evaluate page: score the clustering against known labels (a truth CSV ``file,label``):
scores, a cluster x label heatmap, the scores of every k swept, unmatched files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from clustering.review.evaluate import (METRICS, EvaluationInputError, best_k, evaluate, labelings,
                                 read_truth, score_labelings)
from dashboard import choices, compute, errors, router, sources, state

router.ensure_routed(__file__)

DEMO_LABELS = router.APP_DIR / "demo" / "labels.csv"
METRIC_LABELS = {"homogeneity": "Homogeneity", "completeness": "Completeness",
                 "v_measure": "V-measure", "nmi": "NMI", "ari": "ARI"}
LISTED = 20  # unmatched files listed by name


@st.cache_data(show_spinner="Clustering at every k of the sweep…", max_entries=16)
def _labelings(key: str, ks: tuple[int, ...], seed: int, n_init: int,
               _reduced: np.ndarray) -> dict[int, np.ndarray]:
    return labelings(_reduced, ks, seed=seed, n_init=n_init)


def store_truth(name: str, source) -> None:
    """Read a truth CSV and keep it for this source (or show why it cannot be used)."""
    try:
        truth = read_truth(source)
    except EvaluationInputError as exc:
        st.session_state.pop(state.TRUTH, None)
        st.session_state["truth_problem"] = f"This truth CSV cannot be used: {exc}."
        return
    st.session_state.pop("truth_problem", None)
    st.session_state[state.TRUTH] = {"for": key, "name": name, "truth": truth}


def use_upload() -> None:
    file = st.session_state.get("truth_file")
    if file is not None:
        store_truth(file.name, io.BytesIO(file.getvalue()))


def is_demo(data: state.DataSource) -> bool:
    try:
        return Path(data.discovery.root).resolve() == sources.DEMO_DIR.resolve()
    except (OSError, TypeError):
        return False


def heatmap(table: pd.DataFrame, names: dict[int, str]) -> go.Figure:
    rows = [names.get(int(c), f"cluster {c}") if str(c).lstrip("-").isdigit() else str(c)
            for c in table.index]
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=[str(c) for c in table.columns], y=rows,
                                  colorscale="Blues", text=table.to_numpy(),
                                  texttemplate="%{text}", hovertemplate=(
                                      "%{y} · %{x}: %{z} images<extra></extra>")))
    figure.update_layout(title="Images per cluster and true label",
                         xaxis_title="true label", yaxis_title="cluster",
                         yaxis_autorange="reversed", height=120 + 40 * len(rows),
                         margin={"t": 60, "b": 40})
    return figure


st.title("Evaluate")
analysis = compute.require_analysis()
data = analysis.run.source
key = compute.source_key(data)
names = choices.cluster_names(analysis)

st.caption("Score the clustering against labels you already know: a CSV with a `file` column "
           "(the names shown on the Data page, e.g. `folder/photo.jpg`) and a `label` column.")
left, right = st.columns([3, 2])
left.file_uploader("Truth CSV (file,label)", type=["csv", "txt"], key="truth_file",
                   on_change=use_upload)
if is_demo(data) and DEMO_LABELS.is_file():
    right.button("Use the demo set's labels", icon=":material/label:",
                 on_click=store_truth, args=("demo/labels.csv", DEMO_LABELS))

if st.session_state.get("truth_problem"):
    st.error(st.session_state["truth_problem"], icon=":material/error:")
stored = st.session_state.get(state.TRUTH)
if not stored or stored["for"] != key:
    st.info("Upload a truth CSV to see the scores.", icon=":material/info:")
    st.stop()

truth = stored["truth"]
labels = dict(zip(analysis.names, analysis.clustering.labels.tolist()))
try:
    result = evaluate(labels, truth)
except EvaluationInputError as exc:
    st.error(f"The truth CSV ({stored['name']}) cannot be used: {exc}. Check that its file "
             f"names are the ones shown on the Data page.", icon=":material/error:")
    st.stop()

st.subheader(f"Scores at k = {analysis.k}")
st.caption(f"Against {stored['name']}: {result.matched} images matched. 1 is a perfect match; "
           f"ARI is 0 for a random clustering.")
for column, metric in zip(st.columns(len(METRICS)), METRICS):
    column.metric(METRIC_LABELS[metric], f"{result.scores[metric]:.3f}")
if result.only_in_truth or result.only_in_labels:
    for files, text in ((result.only_in_truth, "in the truth CSV are not among the images"),
                        (result.only_in_labels, "have no label in the truth CSV")):
        if files:
            shown = ", ".join(files[:LISTED]) + (" …" if len(files) > LISTED else "")
            st.warning(f"{len(files)} files {text} (left out of the scores): {shown}",
                       icon=":material/warning:")

st.plotly_chart(heatmap(result.contingency, names), key="contingency")

st.subheader("Every k of the sweep")
ks = tuple(int(k) for k in analysis.sweep.ks_)
settings = analysis.run.settings
by_k = errors.attempt("clustering at every k", _labelings, analysis.key, ks,
                      settings.seed, settings.n_init, analysis.reduction.reduced)
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
