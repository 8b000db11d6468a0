"""ClusterLens dashboard: `streamlit run app.py` (or `make run`).

A router over the pages in ``app_pages/``; add a page by adding a line to PAGES.
The folder must not be called ``pages/``: Streamlit treats a ``pages/`` folder next
to the main script as a legacy multipage app (it lists every file there as a page
and bypasses this router on a deep link).
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages import _common as ui

PAGES = [
    (ui.DATA_PAGE, "Data", ":material/photo_library:"),
    (ui.FEATURES_PAGE, "Features", ":material/memory:"),
    (ui.CHOOSE_K_PAGE, "Choose k", ":material/show_chart:"),
    (ui.CLUSTERS_PAGE, "Clusters", ":material/scatter_plot:"),
    (ui.DUPLICATES_PAGE, "Duplicates & quality", ":material/content_copy:"),
    (ui.EVALUATE_PAGE, "Evaluate", ":material/fact_check:"),
]


def sidebar_status(slot: DeltaGenerator) -> None:
    """Where the user is in the flow: images, features, k (drawn into ``slot``)."""
    data, feature_run = ui.source(), ui.run()
    with slot.container():
        st.caption("**Images:** " + (f"{len(data.discovery.images)} from {data.label}"
                                     if data else "none chosen yet"))
        if feature_run is not None:
            st.caption(f"**Features:** {feature_run.features.extractor.get('label', '')}")
        if ui.K in st.session_state and feature_run is not None:
            st.caption(f"**k:** {st.session_state[ui.K]}")


st.set_page_config(page_title="ClusterLens", page_icon=":material/scatter_plot:", layout="wide")
page = st.navigation([st.Page(path, title=title, icon=icon) for path, title, icon in PAGES])
status = st.sidebar.empty()
try:
    ui.open_demo_at_start()
    sidebar_status(status)
    page.run()
    sidebar_status(status)  # again, with what the page just changed (skipped after st.stop)
except Exception as exc:  # the last line of defence: a message, never a traceback
    ui.show_error(f"showing the {page.title} page", exc)
