"""ClusterLens dashboard: `streamlit run app.py` (or `make run`).

A router over the pages in ``pages/``; add a page by adding a line to
``dashboard.router.PAGES``. Each page starts with ``router.ensure_routed``, so a deep
link that reaches a page before this router has run goes through it all the same.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import errors, job_results, jobs, persist, router, sources, state
from dashboard.markdown import escape


def sidebar_status(slot: DeltaGenerator) -> None:
    """Where the user is in the flow: images, features, k (drawn into ``slot``)."""
    data, feature_run = state.source(), state.run()
    with slot.container():
        st.caption("**Images:** " + (f"{len(data.discovery.images)} from {escape(data.label)}"
                                     if data else "none chosen yet"))
        if feature_run is not None:
            st.caption(f"**Features:** {feature_run.features.extractor.get('label', '')}")
        if state.K in st.session_state and feature_run is not None:
            st.caption(f"**k:** {st.session_state[state.K]}")


st.set_page_config(page_title="ClusterLens", page_icon=":material/scatter_plot:", layout="wide")
page = st.navigation([st.Page(path, title=title, icon=icon) for path, title, icon in router.PAGES])
status = st.sidebar.empty()
try:
    persist.restore_at_start()  # a reload with ?session=… brings the saved work back
    sources.keep_session_alive()
    sources.open_demo_at_start()
    persist.show_notice()
    job_results.collect()  # jobs that ended while the page was closed: their results, no click
    if page.title != "Features":
        with st.sidebar:
            jobs.show_progress(jobs.FEATURES, "Features")
    sidebar_status(status)
    try:
        with router.routing():
            page.run()
    finally:  # also after st.stop() / st.rerun(): the choices made in this run are kept
        persist.autosave()
    sidebar_status(status)  # again, with what the page just changed (skipped after st.stop)
except Exception as exc:  # the last line of defence: a message, never a traceback
    errors.show_error(f"showing the {page.title} page", exc)
