"""Paging widgets: which slice of a long list a page of the dashboard draws."""

from __future__ import annotations

import streamlit as st

from dashboard.galleries import page_count


def page_slice(n_items: int, per_page: int, key: str, label: str = "Page") -> slice:
    """The items of the page the user picked (a number input, shown only when there is
    more than one page). The widget's key includes the page count, so a list that
    shrinks (a new sensitivity, say) never holds a page that no longer exists."""
    pages = page_count(n_items, per_page)
    page = 1
    if pages > 1:
        with st.columns([1, 3])[0]:  # a narrow box: it holds a page number
            page = int(st.number_input(f"{label} (of {pages:,})", 1, pages, step=1,
                                       key=f"{key}_of_{pages}"))
    start = (page - 1) * per_page
    return slice(start, min(n_items, start + per_page))


def range_text(shown: slice, n_items: int, what: str) -> str:
    """``"Groups 11–20 of 312"``."""
    return f"{what} {shown.start + 1:,}–{shown.stop:,} of {n_items:,}"
