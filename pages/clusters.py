"""Clusters page: the 2-D map, per-cluster galleries (most typical first), names, downloads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from clustering.export.tables import csv_bytes, json_bytes
from clustering.files.discover import ImageRef
from dashboard import choices, compute, router, sources, state, thumbnails
from dashboard.charts import scatter_figure, selected_indices
from dashboard.export_zip import clusters_zip
from dashboard.fingerprint import combine
from clustering.clusters.members import clusters_overview, typical_order
from dashboard.galleries import page_count, page_items

router.ensure_routed(__file__)

PER_PAGE = 24
SELECTION_PREVIEW = 24


@st.fragment
def gallery(order: np.ndarray, images: Sequence[ImageRef], key: str) -> None:
    """One cluster's thumbnails, a page at a time (paging reruns only this part)."""
    pages = page_count(len(order), PER_PAGE)
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages})", 1, pages, step=1, key=f"page_{key}"))
    shown = page_items(order, page, PER_PAGE)
    start = (min(max(1, page), pages) - 1) * PER_PAGE
    st.caption(f"Images {start + 1}–{start + len(shown)} of {len(order)}, most typical first "
               f"(nearest the centre of the cluster).")
    thumbnails.show_thumbnails([images[i] for i in shown])


st.title("Clusters")
analysis = compute.require_analysis()
result = analysis.clustering
names = choices.cluster_names(analysis)
refs = sources.refs_by_name(analysis.run.source.discovery)
images = [refs[name] for name in analysis.names]
sizes = np.bincount(result.labels, minlength=analysis.k)

cols = st.columns(3)
cols[0].metric("Clusters (k)", analysis.k)
cols[1].metric("Images", len(images))
cols[2].metric("Mean silhouette", f"{np.nanmean(result.silhouettes):.3f}")

st.subheader("Map of the images")
st.caption("Each dot is an image, placed by the first two PCA components and coloured by "
           "cluster. Hover to see the file name; click a dot, or drag a box or a lasso, to see "
           "the images.")
event = st.plotly_chart(scatter_figure(analysis.result.coords, result.labels,
                                       analysis.names, names),
                        key=f"map_{analysis.clustering_key}", on_select="rerun",
                        selection_mode=("points", "box", "lasso"))
chosen = selected_indices(event["selection"]["points"])
if chosen:
    st.write(f"**{len(chosen)} images selected**"
             + (f" (the first {SELECTION_PREVIEW} are shown)" if len(chosen) > SELECTION_PREVIEW
                else ""))
    shown = chosen[:SELECTION_PREVIEW]
    thumbnails.show_thumbnails([images[i] for i in shown],
                       [f"{analysis.names[i]} · {names[int(result.labels[i])]}" for i in shown])

st.subheader("Clusters")
st.dataframe(clusters_overview(result.labels, result.distances, result.silhouettes,
                             analysis.names, names), hide_index=True)
options = [f"{names[c]} ({sizes[c]} images)" for c in range(analysis.k)]
shown_key = f"gallery_{analysis.clustering_key}"
st.session_state.setdefault(shown_key, 0)
cluster = st.selectbox("Show the images of", range(analysis.k), format_func=options.__getitem__,
                       **state.bind(shown_key, variant=combine(*options)))
name_key = f"name_{analysis.clustering_key}_{cluster}"
st.session_state[name_key] = names[cluster]
st.text_input("Name of this cluster (used in the downloads)", key=name_key,
              on_change=choices.rename_cluster, args=(cluster, name_key))
gallery(typical_order(result.labels, result.distances, cluster), images,
        f"{analysis.clustering_key}_{cluster}")

st.subheader("Downloads")
labels = csv_bytes(choices.review_columns(  # + duplicates, flags if known
    analysis, analysis.result.labels(names)))
record = analysis.result.record(input_label=analysis.run.source.label)
cols = st.columns(3)
cols[0].download_button("Labels (CSV)", labels, "labels.csv", "text/csv", on_click="ignore",
                        icon=":material/table:")
cols[1].download_button("Run record (run.json)", json_bytes(record), "run.json",
                        "application/json", on_click="ignore", icon=":material/description:")
cols[2].download_button("Images by cluster (.zip)",
                        lambda: clusters_zip(images, result.labels, names,
                                             {"labels.csv": labels}),
                        "clusters.zip", "application/zip", on_click="ignore",
                        icon=":material/folder_zip:")
