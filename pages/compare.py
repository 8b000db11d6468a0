"""Compare page: how the current clustering agrees with another run of the same images
(another extractor, e.g. VGG16 vs VGG19, or an uploaded labels.csv)."""

from __future__ import annotations

import streamlit as st

from clustering.export.tables import csv_bytes
from clustering.review.compare import compare_runs, contingency_frame
from clustering.review.evaluate import normalise_name
from dashboard import backbones, choices, compute, comparing, router, sources, thumbnails
from dashboard.charts import contingency_figure
from dashboard.errors import attempt
from dashboard.image_map import Marks, image_map

router.ensure_routed(__file__)

MOVED_SHOWN = 24
OTHER_MODEL, UPLOADED = "Another feature extractor", "An uploaded labels.csv"

st.title("Compare two runs")
analysis = compute.require_analysis()
names = choices.cluster_names(analysis)
current_model = analysis.run.features.extractor.get("model", analysis.run.settings.model)
st.caption(f"Run A is the current clustering ({analysis.run.features.extractor.get('label', '')}"
           f", k = {analysis.k}). Choose run B: the same images with another extractor and the "
           "same k, or a labels.csv from another run.")
how = st.radio("Run B", (OTHER_MODEL, UPLOADED), horizontal=True, key="compare_how")
comparison = None
if how == OTHER_MODEL:
    others = [m for m in backbones.model_options()
              if m not in (current_model, analysis.run.settings.model, backbones.FOLDER)]
    model = st.selectbox("Extractor of run B", others, format_func=backbones.model_label,
                         key="compare_model")
    if st.toggle("Compute run B", key="compare_run",
                 help="Extracts the other features (cached: a second time is instant)."):
        other = attempt("computing run B", comparing.labels_with_model, analysis, model)
        if other is not None:
            label_b = backbones.model_label(model)
            comparison = attempt("comparing the runs", compare_runs,
                                 comparing.current_labels(analysis), other)
else:
    upload = st.file_uploader("labels.csv of run B (columns file, cluster)", type="csv",
                              key="compare_upload")
    if upload is not None:
        label_b = upload.name
        comparison = attempt("comparing the runs", comparing.compare_with_file, analysis, upload)

if comparison is not None:
    cols = st.columns(4)
    cols[0].metric("Adjusted Rand index", f"{comparison.ari:.3f}",
                   help="1 = the same grouping, 0 = no better than chance")
    cols[1].metric("Normalised mutual information", f"{comparison.nmi:.3f}",
                   help="1 = each run's clusters tell the other's exactly, 0 = nothing")
    cols[2].metric("Images kept together", f"{comparison.agreement:.0%}",
                   help="in the matching pair of clusters (best one-to-one pairing)")
    cols[3].metric("Images in both runs", comparison.matched)
    if comparison.only_in_a or comparison.only_in_b:
        st.caption(f"{len(comparison.only_in_a)} images only in run A and "
                   f"{len(comparison.only_in_b)} only in run B are left out.")
    table = comparison.contingency.rename(index=lambda c: names.get(c, str(c)))
    st.plotly_chart(contingency_figure(table, "run A (current)", f"run B ({label_b})"),
                    key="compare_heatmap")
    st.download_button("Contingency table (CSV)", csv_bytes(contingency_frame(comparison)),
                       "contingency.csv", "text/csv", on_click="ignore", icon=":material/table:")
    st.subheader("Map of run A, images that moved marked")
    position = {normalise_name(n): i for i, n in enumerate(analysis.names)}
    moved_at = [(position[f], f"{f}: {names.get(a, a)} → {b} in run B")
                for f, a, b in zip(comparison.moved["file"], comparison.moved["cluster_a"],
                                   comparison.moved["cluster_b"]) if f in position]
    by_name = sources.refs_by_name(analysis.run.source.discovery)
    image_map("compare_map", analysis.result.coords, analysis.clustering.labels, analysis.names,
              names, [by_name.get(n) for n in analysis.names],
              axis_title=analysis.result.map.method.upper(),
              marks=[Marks("moved", [i for i, _ in moved_at], "x", [t for _, t in moved_at])])
    st.subheader(f"Images that moved ({len(comparison.moved)})")
    if comparison.moved.empty:
        st.success("No image moved: both runs group the images the same way.")
    else:
        refs = {normalise_name(ref.name): ref
                for ref in sources.refs_by_name(analysis.run.source.discovery).values()}
        moved = comparison.moved.head(MOVED_SHOWN)
        st.caption("Run A's cluster → run B's cluster" + (
            f" (the first {MOVED_SHOWN})" if len(comparison.moved) > MOVED_SHOWN else ""))
        thumbnails.show_thumbnails(
            [refs[file] for file in moved["file"]],
            [f"{file}: {names.get(a, a)} → {b}" for file, a, b in
             zip(moved["file"], moved["cluster_a"], moved["cluster_b"])])
