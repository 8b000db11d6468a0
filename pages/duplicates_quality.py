"""Duplicates & quality page: duplicate groups side by side with keep/remove choices and
a remove list, quality flags as galleries, outliers per cluster, a per-cluster summary."""

from __future__ import annotations

from pathlib import PurePosixPath

import pandas as pd
import streamlit as st

from clustering.export.tables import csv_bytes
from clustering.review.decisions import decided, remove_list
from clustering.review.quality import FLAGS, QualityScorer, flag_counts
from clustering.review.summary import review_summary
from dashboard import choices, compute, errors, router, sources, state, thumbnails
from dashboard.fingerprint import combine
from dashboard.markdown import escape

router.ensure_routed(__file__)

MAX_GROUPS = 40  # groups drawn (the remove list always covers all of them)
PER_ROW = 6
MAX_FLAGGED = 48
FLAG_SCORES = {"low_information": "entropy", "too_dark": "brightness", "too_bright": "brightness",
               "blurry": "sharpness", "tiny": "short_side", "odd_aspect": "aspect_ratio",
               "grayscale": "saturation", "outlier": "outlier_z",
               "between_clusters": "silhouette"}
CLUSTER_FLAGS = ("outlier", "between_clusters")


def size_text(n_bytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1024 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return ""


def short(name: str) -> str:
    return PurePosixPath(name).name


def draw_group(number: int, members: pd.DataFrame, refs: dict, key: str) -> None:
    """One duplicate group: thumbnails side by side, captions, a keep checkbox each."""
    with st.container(border=True):
        kept = int(members["keep"].sum())
        st.markdown(f"**Group {number}** · {len(members)} images · "
                    f"{len(members) - kept} to remove")
        columns = st.columns(PER_ROW)
        for i, row in enumerate(members.itertuples(index=False)):
            with columns[i % len(columns)]:
                data, reason = thumbnails.thumbnail(refs[row.file])
                if data is None:
                    st.warning(f"{escape(row.file)}: {escape(reason)}",
                               icon=":material/broken_image:")
                else:
                    st.image(data, width="stretch")
                star = "★ suggested keeper  \n" if row.suggested else ""
                st.caption(f"{star}{escape(short(row.file))}  \n{row.width}×{row.height} px · "
                           f"{size_text(int(row.file_size))}")
                widget = f"keep_{key}_{combine(row.file)}"
                st.session_state[widget] = bool(row.keep)
                st.checkbox("Keep", key=widget, on_change=choices.set_keep,
                            args=(row.file, widget, bool(row.suggested)),
                            help="Untick to put this file on the remove list.")


def flag_caption(row: dict, flags: list[str]) -> str:
    parts = [short(row["file"])]
    for flag in flags:
        if row[flag]:
            score = FLAG_SCORES[flag]
            parts.append(f"{flag}: {score} = {row[score] + 0.0:.3g}")  # no "-0"
    return "  \n".join(parts)


st.title("Duplicates & quality")
data = state.source()
if data is None:
    st.info("Nothing to show yet: choose images on the Data page.", icon=":material/info:")
    st.page_link(router.DATA_PAGE, label="Go to Data", icon=":material/arrow_forward:")
    st.stop()

refs = sources.refs_by_name(data.discovery)
key = compute.source_key(data)
feature_run = state.run()
analysis = compute.current_analysis()

# ---- duplicates -----------------------------------------------------------------------
st.subheader("Duplicates")
st.slider("Sensitivity", 0.0, 1.0, step=0.05, **state.bind(state.DUP_SENSITIVITY),
          help="0 finds only near-identical copies; 1 also finds looser matches (and more "
               "false ones). Changing it is instant: the image hashes are kept.")
finder = errors.attempt("looking for duplicates", compute.duplicates, data,
                    state.setting(state.DUP_SENSITIVITY), feature_run)
dupes = None
if finder is not None:
    t = finder.thresholds_
    if feature_run is not None:
        st.caption(f"Compared by perceptual hash (≤ {t.hash_bits} bits apart, mirrored copies "
                   f"too) and by the **{feature_run.features.extractor.get('label', 'current')}"
                   f"** features of the current run (cosine ≥ {t.min_cosine:.2f} with hashes "
                   f"≤ {t.gate_bits} bits apart).")
    else:
        st.caption(f"Compared by **perceptual hash only** (≤ {t.hash_bits} bits apart, "
                   f"mirrored copies too). Extract features on the Features page to also "
                   f"catch crops.")
    overrides = choices.keep_choices(key)
    dupes = decided(finder.to_frame(details=True), overrides)
    if finder.skipped_:
        st.warning(f"{len(finder.skipped_)} files could not be read and were left out.",
                   icon=":material/warning:")
    removal = remove_list(dupes, overrides)
    groups = list(dupes.groupby("group", sort=True))
    if not groups:
        st.success("No duplicates found at this sensitivity.", icon=":material/check_circle:")
    else:
        st.write(f"**{len(groups)} groups** of duplicates ({len(dupes)} images); "
                 f"**{len(removal)} files** on the remove list. The suggested keeper "
                 f"(most pixels, then the biggest file) is ticked; change any tick.")
        for number, members in groups[:MAX_GROUPS]:
            draw_group(int(number), members, refs, key)
        if len(groups) > MAX_GROUPS:
            st.caption(f"The first {MAX_GROUPS} groups are shown; the remove list covers all "
                       f"{len(groups)}.")
    with st.expander(f"Remove list ({len(removal)} files)", expanded=bool(len(removal))):
        st.dataframe(removal, hide_index=True, key="remove_list")
        st.download_button("Remove list (CSV)", csv_bytes(removal), "remove_list.csv",
                           "text/csv", on_click="ignore", icon=":material/delete_sweep:",
                           disabled=removal.empty)

# ---- quality --------------------------------------------------------------------------
st.subheader("Quality flags")
scored = errors.attempt("scoring image quality", compute.quality_scores, data)
report = None
if scored is not None:
    scores, skipped = scored
    clusters = compute.clusters_table(analysis) if analysis is not None else None
    report = QualityScorer().flag(scores, clusters)
    counts = flag_counts(report)
    st.caption("Images per flag" + ("" if analysis is not None else
                                    " (outlier and between_clusters need a clustering)"))
    st.dataframe(pd.DataFrame([counts]), hide_index=True, key="flag_counts")
    image_flags = [f for f in FLAGS if f not in CLUSTER_FLAGS]
    chosen = st.multiselect("Show images flagged as", image_flags,
                            default=[f for f in image_flags if counts[f]],
                            format_func=lambda f: f"{f} ({counts[f]})", key="flag_filter")
    flagged = report[report[chosen].any(axis=1)] if chosen else report.iloc[:0]
    if chosen and flagged.empty:
        st.success("No image carries the chosen flags.", icon=":material/check_circle:")
    elif not flagged.empty:
        rows = flagged.head(MAX_FLAGGED).to_dict("records")
        st.caption(f"{len(flagged)} images" + (f" (the first {MAX_FLAGGED} shown)"
                                               if len(flagged) > MAX_FLAGGED else ""))
        thumbnails.show_thumbnails([refs[r["file"]] for r in rows],
                           [flag_caption(r, chosen) for r in rows])

    st.subheader("Outliers per cluster")
    if analysis is None:
        st.info("No clustering yet: outliers are images far from the centre of their cluster, "
                "so they need one. Extract features and choose k first.",
                icon=":material/info:")
        st.page_link(router.CHOOSE_K_PAGE, label="Go to Choose k", icon=":material/arrow_forward:")
    else:
        names = choices.cluster_names(analysis)
        outliers = report[report["outlier"] | report["between_clusters"]].merge(
            clusters[["file", "cluster"]], on="file").sort_values(
            ["cluster", "outlier_z"], ascending=[True, False])
        if outliers.empty:
            st.success("No outliers in the current clustering (clusters of fewer than 5 "
                       "images get no outlier score).", icon=":material/check_circle:")
        for cluster, members in outliers.groupby("cluster", sort=True):
            st.markdown(f"**{names[int(cluster)]}** · {len(members)} images")
            rows = members.to_dict("records")
            thumbnails.show_thumbnails([refs[r["file"]] for r in rows],
                               [flag_caption(r, list(CLUSTER_FLAGS)) for r in rows])

# ---- per cluster ----------------------------------------------------------------------
st.subheader("Per cluster")
if analysis is None:
    st.caption("Shown once there is a clustering (Choose k).")
else:
    table = errors.attempt("summarising the clusters", review_summary, compute.clusters_table(analysis),
                       dupes, report)
    if table is not None:
        names = choices.cluster_names(analysis)
        table.insert(1, "name", [names[int(c)] for c in table["cluster"]])
        st.dataframe(table, hide_index=True, key="cluster_summary", column_config={
            c: st.column_config.NumberColumn(format="percent")
            for c in ("duplicate_share", "removable_share", "flagged_share")})

# What the Clusters page's labels.csv adds (the user's keep choices included).
st.session_state[state.REVIEW] = {
    "for": key, "duplicates": dupes[["file", "group", "keep"]] if dupes is not None else None,
    "scores": scored[0] if scored is not None else None}
