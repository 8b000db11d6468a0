"""Distributed result page: a Ray result folder, read-only (map sample, one cluster, CSV).

Kept apart from the Clusters page, which works on features held in memory: here
nothing but a sample and one cluster are ever read, whatever the result's size.
"""

from __future__ import annotations

import streamlit as st

from clustering.clusters.members import default_name, named_clusters
from dashboard import distributed, errors, router, thumbnails
from dashboard.charts import scatter_figure

router.ensure_routed(__file__)

st.title("Distributed result")
folder = distributed.current()
if folder is None:
    st.info("No distributed result opened. On the Data page, open the folder that "
            "`cluster --engine ray` wrote (inside the allowed folders).", icon=":material/info:")
    st.page_link(router.DATA_PAGE, label="Open one on the Data page",
                 icon=":material/arrow_back:")
    st.stop()

result = errors.attempt("reading the result", distributed.result, folder)
if result is None:
    st.stop()
record = result.record
counts = record.get("counts", {})
sizes = counts.get("cluster_sizes", [])
engine = record.get("engine", {})
st.caption(f"From `{folder}`.")
found, k_col, skipped_col, nodes_col = st.columns(4)
found.metric("Images clustered", f"{counts.get('clustered', 0):,}")
k_col.metric("Clusters", len(sizes))
skipped_col.metric("Skipped", f"{counts.get('skipped', 0):,}")
nodes_col.metric("Ray nodes", len(engine.get("nodes", [])))
per_node = engine.get("images_per_node", {})
if per_node:
    st.caption("Images extracted per node: " + ", ".join(
        f"`{node[:8]}` {count:,}" for node, count in per_node.items()))

sample = errors.attempt("drawing the map", distributed.map_sample, folder)
if sample is not None and len(sample):
    names = named_clusters(sample["cluster"])
    shown = "every image" if len(sample) >= counts.get("clustered", 0) else \
        f"a sample of {len(sample):,} (every cluster represented)"
    st.subheader("Map")
    st.caption(f"The 2-D map of {shown}.")
    st.plotly_chart(scatter_figure(sample[["x", "y"]].to_numpy(), sample["cluster"].to_numpy(),
                                   sample["file"].tolist(), names), key="dataset_map")

st.subheader("One cluster")
cluster = st.selectbox("Cluster", range(len(sizes)), key="dataset_cluster",
                       format_func=lambda c: f"{default_name(c)} ({sizes[c]:,} images)")
if cluster is not None:
    rows = errors.attempt("reading the cluster", distributed.cluster_rows, folder, int(cluster))
    if rows is not None:
        first = rows.head(distributed.GALLERY_IMAGES)
        refs = distributed.image_refs(folder, first["file"].tolist())
        st.caption(f"The {len(first)} images nearest the centroid, of {len(rows):,}.")
        if refs is None:
            st.caption("The images' folder is not inside the allowed folders: names only.")
            st.dataframe(first[["file", "distance_to_centroid"]], hide_index=True)
        else:
            thumbnails.show_thumbnails(refs)

st.download_button("Download labels.csv", data=lambda: distributed.labels_csv(folder),
                   file_name="labels.csv", mime="text/csv", on_click="ignore",
                   icon=":material/download:", key="dataset_labels_csv")
