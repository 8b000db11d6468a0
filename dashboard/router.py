"""The page list and the guard that runs every page inside the ``st.navigation`` router.

Streamlit 1.67 decides per server process whether ``pages/`` is a legacy multipage
folder (``PagesManager.uses_pages_directory``, set when the first session starts,
cleared only by a call to ``st.navigation``). Until the router in ``app.py`` has run
once, a deep link such as ``/features`` runs that page alone, without the router's
sidebar and state set-up (``AppTest`` is in that case on every run). Each page
therefore starts with :func:`ensure_routed`: a page run outside the router runs
``app.py`` in its place, whose ``st.navigation`` picks this same page (its URL path is
its file name) and runs it inside the router; no rerun happens, so the widget values
of that run are kept.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent.parent
MAIN_SCRIPT = "app.py"

# Page files (also the targets of st.page_link / st.switch_page).
DATA_PAGE = "pages/data.py"
FEATURES_PAGE = "pages/features.py"
CHOOSE_K_PAGE = "pages/choose_k.py"
CLUSTERS_PAGE = "pages/clusters.py"
DUPLICATES_PAGE = "pages/duplicates_quality.py"
EVALUATE_PAGE = "pages/evaluate.py"
COMPARE_PAGE = "pages/compare.py"
DATASET_PAGE = "pages/dataset.py"

PAGES = [
    (DATA_PAGE, "Data", ":material/photo_library:"),
    (FEATURES_PAGE, "Features", ":material/memory:"),
    (CHOOSE_K_PAGE, "Choose k", ":material/show_chart:"),
    (CLUSTERS_PAGE, "Clusters", ":material/scatter_plot:"),
    (DUPLICATES_PAGE, "Duplicates & quality", ":material/content_copy:"),
    (EVALUATE_PAGE, "Evaluate", ":material/fact_check:"),
    (COMPARE_PAGE, "Compare runs", ":material/compare_arrows:"),
    (DATASET_PAGE, "Distributed result", ":material/hub:"),
]

_ROUTING = threading.local()  # each script run has its own thread


@contextmanager
def routing() -> Iterator[None]:
    """Marks the current script run as going through the router (``app.py``)."""
    _ROUTING.active = True
    try:
        yield
    finally:
        _ROUTING.active = False


def ensure_routed(page_file: str) -> None:
    """First line of every page: when run without the router, run the router instead."""
    if getattr(_ROUTING, "active", False):
        return
    runpy.run_path(str(APP_DIR / MAIN_SCRIPT), run_name="__main__")
    st.stop()  # the router ran this page; do not run it a second time
