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
from clustering.export.tables import csv_bytes, json_bytes
from clustering.files.discover import ImageRef
from clustering.settings import MAP_METHODS
from dashboard import choices, compute, router, sources, state, text_search, thumbnails
from dashboard.charts import map_images, scatter_figure, selected_indices, stratified_sample
from dashboard.export_zip import clusters_zip
from dashboard.progress import duration
from dashboard.fingerprint import combine
from dashboard.galleries import page_count, page_items
from dashboard.hover import hover_images

router.ensure_routed(__file__)

PER_PAGE = 24
SELECTION_PREVIEW = 24
OVERVIEW_IMAGES = 8  # most typical thumbnails per cluster in the overview
MAP_THUMBS_UP_TO = 300  # every point is drawn as its thumbnail up to this many images
HOVER_IMAGES = 300  # points (a stratified sample above this) whose image shows on hover
CENTRE_PX, POINT_PX, HOVER_PX = 112, 64, 128
FIND_OPTIONS = 500  # most typical images of a cluster offered by "show on map"
MAP_LABELS = {"pca": "PCA (instant)", "umap": "UMAP", "tsne": "t-SNE"}


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
note = projection.parameters.get("instead_of")
st.caption(f"Each dot is an image, placed by {projection.method.upper()} "
           f"({duration(projection.seconds)} to compute) and coloured by cluster; each "
           "cluster's most typical image sits at its centre. Hover a dot to see its image; drag "
           "a box or a lasso (or click a dot) to see the images selected."
           + (f" PCA was used instead of {note}." if note else ""))
labels = result.labels
centres = {c: images[int(typical_order(labels, result.distances, c)[0])]
           for c in range(analysis.k) if overview["images"][c]}
points = ({i: ref for i, ref in enumerate(images)} if len(images) <= MAP_THUMBS_UP_TO else {})
hover = {int(i): images[int(i)] for i in stratified_sample(labels, HOVER_IMAGES)}
find_key = f"find_{analysis.clustering_key}"
highlight = st.session_state.get(find_key)
figure = scatter_figure(
    analysis.result.coords, labels, analysis.names, names, projection.method.upper(),
    images=map_images(analysis.result.coords, labels, thumbnails.data_uris(centres, CENTRE_PX),
                      thumbnails.data_uris(points, POINT_PX)),
    highlight=highlight)
text_search.mark_matches(figure, analysis.result.coords, matches, analysis.names)
with st.container(key="image_map"):
    event = st.plotly_chart(figure, key=f"map_{analysis.clustering_key}_{projection.method}",
                            on_select="rerun", selection_mode=("points", "box", "lasso"))
hover_images("image_map", thumbnails.data_uris(hover, HOVER_PX))
chosen = selected_indices(event["selection"]["points"])
if chosen:
    st.write(f"**{len(chosen)} images selected**"
             + (f" (the first {SELECTION_PREVIEW} are shown)" if len(chosen) > SELECTION_PREVIEW
                else ""))
    shown = chosen[:SELECTION_PREVIEW]
    thumbnails.show_thumbnails([images[i] for i in shown],
                               [f"{analysis.names[i]} · {names[int(labels[i])]}" for i in shown])

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
    analysis, analysis.result.labels(names)))
record = analysis.result.record(input_label=analysis.run.source.label)
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
                        lambda: analysis.result.report(names),
                        "report.html", "text/html", on_click="ignore", icon=":material/summarize:")
