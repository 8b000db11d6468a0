"""Duplicates & quality page: duplicate groups side by side with keep/remove choices and
a remove list, quality flags as galleries, outliers per cluster, a per-cluster summary."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from clustering.export.tables import csv_bytes
from clustering.files.limits import human_size
from clustering.jobs import work
from clustering.jobs.store import DONE
from clustering.review.containment import why_not
from clustering.review.decisions import decided, remove_list, remove_list_note, similar_apart
from clustering.review.quality import (FLAGS, OUTLIER_MIN_CLUSTER, RULES, QualityScorer,
                                       flag_counts)
from clustering.review.summary import review_summary
from dashboard import (choices, compute, errors, jobs, router, side_by_side, sources, state,
                       thumbnails)
from dashboard.paging import page_slice, range_text
from dashboard.fingerprint import combine
from dashboard.markdown import escape

router.ensure_routed(__file__)

# Nothing draws thousands of images: groups come a page at a time, each showing its
# first row; the rest of a big group is one click away, itself paged.
GROUPS_PER_PAGE = 10
PER_ROW = 6
MEMBERS_PER_PAGE = 24
PAIRS_PER_PAGE = 8
IMAGES_PER_PAGE = 24
CLUSTER_FLAGS = ("outlier", "between_clusters")


def short(name: str) -> str:
    return PurePosixPath(name).name


def draw_members(members: pd.DataFrame, refs: dict, key: str) -> None:
    """Thumbnails side by side, captions, a keep checkbox each."""
    made = thumbnails.thumbnails([refs[f] for f in members["file"]])
    for start in range(0, len(members), PER_ROW):
        columns = st.columns(PER_ROW)
        for i, row in enumerate(members.iloc[start:start + PER_ROW].itertuples(index=False)):
            data, reason = made[start + i]
            with columns[i]:
                if data is None:
                    st.warning(f"{escape(row.file)}: {escape(reason)}",
                               icon=":material/broken_image:")
                else:
                    st.image(data, width="stretch")
                widget = f"keep_{key}_{combine(row.file)}"
                st.session_state[widget] = bool(row.keep)
                st.checkbox("Keep", key=widget, on_change=choices.set_keep,
                            args=(row.file, widget, bool(row.suggested)),
                            help="Untick to put this file on the remove list.")
                # The caption under the box, so boxes stay in line when captions wrap.
                star = "★ suggested keeper  \n" if row.suggested else ""
                st.caption(f"{star}{escape(short(row.file))}  \n{row.width}×{row.height} px · "
                           f"{human_size(row.file_size)}")


def draw_group(number: int, members: pd.DataFrame, refs: dict, key: str) -> None:
    """One duplicate group (keeper first): its first row of images, and for a bigger
    group a switch that shows all of them, a page at a time."""
    with st.container(border=True):
        kept = int(members["keep"].sum())
        st.markdown(f"**Group {number}** · {len(members):,} images · "
                    f"{len(members) - kept:,} to remove")
        if len(members) <= PER_ROW or not st.toggle(
                f"Show all {len(members):,} images", key=f"all_{key}_{number}"):
            draw_members(members.head(PER_ROW), refs, key)
            side_by_side.group_buttons(
                members, refs, f"pair_{key}_{number}", PER_ROW,
                {f: f"on the remove list: {why} of the keeper (the duplicate check)"
                 for f, why in zip(members["file"], members["reason"]) if why})
            return
        shown = page_slice(len(members), MEMBERS_PER_PAGE, f"members_{key}_{number}",
                           "Page of this group")
        st.caption(range_text(shown, len(members), "Images"))
        draw_members(members.iloc[shown], refs, key)


def similar_caption(row: Any) -> str:
    """What set the pair apart (geometry is missing for flat images: "–")."""
    correlation = ("–" if pd.isna(row.correlation)
                   else f"{row.correlation:.2f} (a copy needs {row.needed_correlation:.2f})")
    overlap = "–" if pd.isna(row.kept_area) else f"{row.kept_area:.0%}"
    return (f"Not a duplicate: {why_not()} · {row.hash_distance} hash bits apart · "
            f"correlation {correlation} · overlap {overlap}")


def draw_similar(similar: pd.DataFrame, refs: dict, key: str) -> None:
    """Pairs that look alike but are different shots, a page at a time, and the table."""
    st.write(f"**{len(similar):,} pairs** look alike (same scene, re-framed or a burst) "
             f"but are different photos: they are never put on the remove list.")
    shown = page_slice(len(similar), PAIRS_PER_PAGE, f"similar_{key}", "Page of pairs")
    st.caption(range_text(shown, len(similar), "Pairs"))
    rows = similar.iloc[shown]
    for start in range(0, len(rows), 2):
        columns = st.columns(2)
        for column, row in zip(columns, rows.iloc[start:start + 2].itertuples(index=False)):
            with column, st.container(border=True):
                thumbnails.show_thumbnails([refs[row.file_a], refs[row.file_b]],
                                           [short(row.file_a), short(row.file_b)], columns=2)
                st.caption(similar_caption(row))
                side_by_side.pair_button(refs[row.file_a], refs[row.file_b],
                                         f"similar_pair_{key}_{combine(row.file_a, row.file_b)}",
                                         (short(row.file_a), short(row.file_b)))
    with st.expander(f"All {len(similar):,} similar pairs (table)"):
        st.dataframe(similar, hide_index=True, key="similar_table")


def flag_caption(row: dict, flags: list[str]) -> str:
    parts = [short(row["file"])]
    for flag in flags:
        if row[flag]:
            score = RULES[flag][0]
            parts.append(f"{flag}: {score} = {row[score] + 0.0:.3g}")  # no "-0"
    return "  \n".join(parts)


def paged_gallery(rows: pd.DataFrame, flags: list[str], refs: dict, key: str) -> None:
    """Flagged images with their scores, a page at a time."""
    shown = page_slice(len(rows), IMAGES_PER_PAGE, key)
    st.caption(range_text(shown, len(rows), "Images"))
    page = rows.iloc[shown].to_dict("records")
    thumbnails.show_thumbnails([refs[r["file"]] for r in page],
                               [flag_caption(r, flags) for r in page])


st.title("Duplicates & quality")
data = state.source()
if data is None:
    st.info("Nothing to show yet: choose images on the Data page.", icon=":material/info:")
    st.page_link(router.DATA_PAGE, label="Go to Data", icon=":material/arrow_forward:")
    st.stop()

scan = jobs.ask(jobs.SCAN, work.SCAN, data.discovery.images, state.current_settings())
if scan is None or scan.state != DONE:
    jobs.show_state(jobs.SCAN, "Hashing the images and scoring their quality")
    st.stop()  # the page draws itself when the scan (a background job) ends
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
    dupes = dupes.sort_values("group", kind="stable")  # keeper first within each group
    sizes = dupes.groupby("group", sort=True).size()
    ends = np.cumsum(sizes.to_numpy())  # group i's rows: ends[i - 1] - sizes[i] .. ends[i - 1]
    if sizes.empty:
        st.success("No duplicates found at this sensitivity.", icon=":material/check_circle:")
    else:
        st.write(f"**{len(sizes):,} groups** of duplicates ({len(dupes):,} images); "
                 f"**{len(removal):,} files** on the remove list. The suggested keeper "
                 f"(most pixels, then the biggest file) is ticked; change any tick.")
        shown = page_slice(len(sizes), GROUPS_PER_PAGE, f"groups_{key}", "Page of groups")
        st.caption(range_text(shown, len(sizes), "Groups") + ", biggest first.")
        for i in range(shown.start, shown.stop):
            draw_group(int(sizes.index[i]), dupes.iloc[ends[i] - sizes.iloc[i]:ends[i]],
                       refs, key)
    st.caption(remove_list_note(removal))
    with st.expander(f"Remove list ({len(removal):,} files)", expanded=bool(len(removal))):
        st.dataframe(removal, hide_index=True, key="remove_list")
        st.download_button("Remove list (CSV)", csv_bytes(removal), "remove_list.csv",
                           "text/csv", on_click="ignore", icon=":material/delete_sweep:",
                           disabled=removal.empty)

    st.subheader("Similar shots (not duplicates)")
    similar = similar_apart(finder.similar_, dupes)
    if similar.empty:
        st.caption("No pairs of different shots look alike at this sensitivity.")
    else:
        draw_similar(similar, refs, key)

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
        paged_gallery(flagged, chosen, refs, f"flagged_{key}_{combine(*chosen)}")

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
            st.success(f"No outliers in the current clustering (clusters of fewer than "
                       f"{OUTLIER_MIN_CLUSTER} images get no outlier score).",
                       icon=":material/check_circle:")
        else:
            per_cluster = outliers["cluster"].value_counts().sort_index()
            cluster = st.selectbox(
                "Outliers of", per_cluster.index.tolist(), key=f"outliers_{analysis.clustering_key}",
                format_func=lambda c: f"{names[int(c)]} ({per_cluster[c]:,} images)")
            paged_gallery(outliers[outliers["cluster"] == cluster], list(CLUSTER_FLAGS), refs,
                          f"outliers_{analysis.clustering_key}_{cluster}")

# ---- per cluster ----------------------------------------------------------------------
st.subheader("Per cluster")
if analysis is None:
    st.caption("Shown once there is a clustering (Choose k).")
else:
    table = errors.attempt("summarising the clusters", review_summary,
                           compute.clusters_table(analysis), dupes, report)
    if table is not None:
        names = choices.cluster_names(analysis)
        table.insert(1, "name", [names[int(c)] for c in table["cluster"]])
        st.dataframe(table, hide_index=True, key="cluster_summary", column_config={
            c: st.column_config.NumberColumn(format="percent")
            for c in ("duplicate_share", "removable_share", "flagged_share")})

# What the Clusters page's labels.csv adds (the user's keep choices included).
state.remember(state.Review(
    key, duplicates=dupes[["file", "group", "keep"]] if dupes is not None else None,
    scores=scored[0] if scored is not None else None))
