"""Clusters page: every cluster at a glance, the map made of images, galleries (most
typical first), suggested names, downloads (labels, run.json, zip, HTML report)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from clustering.clusters.members import clusters_overview, typical_order
from clustering.export.colours import cluster_colour
from clustering.export.report import build_report
from clustering.export.tables import csv_bytes, json_bytes, result_record, run_labels
from clustering.files.discover import ImageRef
from clustering.settings import MAP_METHODS
from dashboard import (added_map, choices, compute, jobs, router, sources, state, text_search,
                       thumbnails)
from dashboard.export_zip import clusters_zip
from dashboard.progress import duration
from dashboard.fingerprint import combine
from dashboard.image_map import image_map
from dashboard.paging import page_slice, range_text

router.ensure_routed(__file__)

PER_PAGE = 24
SELECTION_PREVIEW = 24
OVERVIEW_IMAGES = 8  # most typical thumbnails per cluster in the overview
FIND_OPTIONS = 500  # most typical images of a cluster offered by "show on map"
MAP_LABELS = {"pca": "PCA (instant)", "umap": "UMAP", "tsne": "t-SNE"}


@st.fragment
def gallery(order: np.ndarray, images: Sequence[ImageRef], key: str) -> None:
    """One cluster's thumbnails, a page at a time (paging reruns only this part)."""
    shown = page_slice(len(order), PER_PAGE, f"page_{key}")
    st.caption(f"{range_text(shown, len(order), 'Images')}, most typical first (nearest the "
               f"centre of the cluster).")
    thumbnails.show_thumbnails([images[i] for i in order[shown]])


@st.dialog("Cluster", width="large")
def cluster_dialog(cluster: int, title: str) -> None:
    """A cluster's full gallery, opened from its overview card."""
    st.subheader(title)
    gallery(typical_order(result.labels, result.distances, cluster), images,
            f"dialog_{analysis.clustering_key}_{cluster}")


def overview_card(cluster: int, order: np.ndarray, silhouette: float | None) -> None:
    """One cluster: colour, name, size, mean silhouette, its most typical images, Open."""
    with st.container(border=True, key=f"overview_{cluster}"):
        info, pictures = st.columns([2, 7], vertical_alignment="center")
        with info:
            st.markdown(f'<span style="color:{cluster_colour(cluster)}">●</span> '
                        f"**{html.escape(names[cluster])}**", unsafe_allow_html=True)
            quality = "–" if pd.isna(silhouette) else f"{silhouette:.2f}"
            st.caption(f"{len(order)} images · silhouette {quality}")
            if st.button("Open", key=f"open_{cluster}", icon=":material/open_in_full:"):
                cluster_dialog(cluster, f"{names[cluster]} ({len(order)} images)")
        with pictures:
            cols = st.columns(OVERVIEW_IMAGES)
            for col, index in zip(cols, order[:OVERVIEW_IMAGES]):
                data, reason = thumbnails.thumbnail(images[index])
                if data is None:
                    col.caption(reason)
                else:
                    col.image(data, width="stretch")


st.title("Clusters")
analysis = compute.require_analysis()
result = analysis.clustering
suggestions = compute.suggested_names(analysis)
names = choices.cluster_names(analysis)
refs = sources.refs_by_name(analysis.run.source.discovery)
images = [refs[name] for name in analysis.names]
overview = clusters_overview(result.labels, result.distances, result.silhouettes,
                             analysis.names, names)

cols = st.columns(3)
cols[0].metric("Clusters (k)", analysis.k)
cols[1].metric("Images", len(images))
cols[2].metric("Mean silhouette", f"{np.nanmean(result.silhouettes):.3f}")

st.subheader("Every cluster at a glance")
st.caption("Each row is a group of similar images: its name, how many images it holds, how "
           "well they fit together (silhouette: 1 = clearly apart from the other groups, 0 = on "
           "a border) and its most typical images. **Open** shows all of them.")
if suggestions.source == "pixels":
    st.caption(f":material/info: The names describe colours, light and texture, not objects: "
               f"{suggestions.reason}. Rename a cluster below.")
else:
    st.caption(f":material/info: Names: {suggestions.reason}. Rename a cluster below.")
text_search.words_box(analysis)
for c in range(analysis.k):
    overview_card(c, typical_order(result.labels, result.distances, c),
                  overview["mean silhouette"][c])

matches = text_search.search_section(analysis, names, images)

st.subheader("Map of the images")
method = st.segmented_control("Map layout", MAP_METHODS, format_func=MAP_LABELS.__getitem__,
                              required=True, **state.bind(state.MAP))
projection = analysis.result.map
if method != "pca" and projection.method == "pca":
    jobs.show_state(jobs.MAP, f"Drawing the {MAP_LABELS[method]} map (the PCA map is shown "
                              f"until it is ready)")
note = projection.parameters.get("instead_of")
st.caption(f"Each point is an image, placed by {projection.method.upper()} "
           f"({duration(projection.seconds)} to compute) and coloured by cluster. Drag a box (or "
           "scroll) to zoom: the images in view are drawn; double-click for the whole map "
           "again. Hover a point to see its image; click a point, or use the box or lasso "
           "select tool above the map, to see the images selected."
           + (f" PCA was used instead of {note}." if note else ""))
labels = result.labels
find_key = f"find_{analysis.clustering_key}"
chosen = image_map("image_map", analysis.result.coords, labels, analysis.names, names, images,
                   axis_title=projection.method.upper(), marks=text_search.match_marks(matches),
                   highlight=st.session_state.get(find_key),
                   chart_key=f"map_{analysis.clustering_key}_{projection.method}")
if chosen:
    st.write(f"**{len(chosen)} images selected**"
             + (f" (the first {SELECTION_PREVIEW} are shown)" if len(chosen) > SELECTION_PREVIEW
                else ""))
    shown = chosen[:SELECTION_PREVIEW]
    thumbnails.show_thumbnails([images[i] for i in shown],
                               [f"{analysis.names[i]} · {names[int(labels[i])]}" for i in shown])

if added_map.placed():
    st.subheader("Images added to the reopened run")
    st.caption("The saved run's map with the images placed in it: new ones as stars (hollow "
               "when unsure), images already in the run as diamonds.")
    added_map.show_added_map()

st.subheader("Clusters")
with st.expander("Table of the clusters"):
    st.dataframe(overview, hide_index=True)
options = [f"{c}: {names[c]} ({overview['images'][c]} images)" for c in range(analysis.k)]
shown_key = f"gallery_{analysis.clustering_key}"
st.session_state.setdefault(shown_key, 0)
cluster = st.selectbox("Show the images of", range(analysis.k), format_func=options.__getitem__,
                       **state.bind(shown_key, variant=combine(*options)))
name_key = f"name_{analysis.clustering_key}_{cluster}"
st.session_state[name_key] = names[cluster]
st.text_input("Name of this cluster (used in the downloads)", key=name_key,
              on_change=choices.rename_cluster, args=(cluster, name_key))
order = typical_order(labels, result.distances, cluster)
findable = [None, *(int(i) for i in order[:FIND_OPTIONS])]
st.selectbox("Show an image of this cluster on the map", findable, key=find_key,
             format_func=lambda i: "—" if i is None else analysis.names[i])
gallery(order, images, f"{analysis.clustering_key}_{cluster}")

st.subheader("Downloads")
labels_csv = csv_bytes(choices.review_columns(  # + duplicates, flags if known
    analysis, run_labels(analysis.result, names)))
record = result_record(analysis.result, input_label=analysis.run.source.label)
cols = st.columns(4)
cols[0].download_button("Labels (CSV)", labels_csv, "labels.csv", "text/csv", on_click="ignore",
                        icon=":material/table:")
cols[1].download_button("Run record (run.json)", json_bytes(record), "run.json",
                        "application/json", on_click="ignore", icon=":material/description:")
cols[2].download_button("Images by cluster (.zip)",
                        lambda: clusters_zip(images, labels, names,
                                             {"labels.csv": labels_csv}),
                        "clusters.zip", "application/zip", on_click="ignore",
                        icon=":material/folder_zip:")
cols[3].download_button("Report (HTML)",
                        lambda: build_report(analysis.result, names),
                        "report.html", "text/html", on_click="ignore", icon=":material/summarize:")
