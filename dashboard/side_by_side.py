"""Two images of a duplicate group or a similar-shots pair side by side, at a readable
size, aligned, with their difference and the reason in words
(:mod:`clustering.review.pair_view`), in a dialog opened from the Duplicates & quality
page."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

import pandas as pd
import streamlit as st

from clustering.errors import ImageLoadError
from clustering.files.discover import ImageRef
from clustering.images.loading import open_image, read_image_file
from clustering.review.pair_view import PairView, pair_view
from dashboard.fingerprint import combine
from dashboard.markdown import escape, escape_lines

Names = tuple[str, str]


@st.cache_data(max_entries=32, show_spinner="Aligning the two images…")
def _view(_first: ImageRef, _second: ImageRef, key: tuple, names: Names) -> PairView:
    """The pair view (cached by the two files' names, sizes and times: ``key``)."""
    return pair_view(open_image(read_image_file(_first)), open_image(read_image_file(_second)),
                     names)


def _key(ref: ImageRef) -> tuple:
    try:
        stat = ref.path.stat()
        return (ref.name, str(ref.path), ref.member, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return (ref.name, str(ref.path), ref.member)


def show(first: ImageRef, second: ImageRef, names: Names = ("the keeper", "this copy"),
         reason: str | None = None) -> None:
    """The pair aligned side by side, their difference and why they differ (``reason``
    when the caller knows it, e.g. the duplicate finder's; the measured one besides)."""
    try:
        view = _view(first, second, (_key(first), _key(second)), names)
    except ImageLoadError as exc:
        st.warning(f"Cannot show this pair: {escape(str(exc))}", icon=":material/broken_image:")
        return
    if reason:
        st.markdown(f"**Why**: {escape(reason)}  \n*Seen in the pixels*: {escape(view.reason)}")
    else:
        st.markdown(f"**How they differ**: {escape(view.reason)}")
    left, right, difference = st.columns(3)
    for column, image, name, ref in ((left, view.first, names[0], first),
                                     (right, view.second, names[1], second)):
        column.image(image, caption=escape_lines(f"{name}: {PurePosixPath(ref.name).name}"),
                     width="stretch")
    difference.image(view.difference, width="stretch",
                     caption=f"Where they differ, in red ({view.changed:.0%} of the picture), "
                             f"once aligned on the part they share")


@st.dialog("Side by side", width="large")
def _dialog(first: ImageRef, second: ImageRef, names: Names, reason: str | None) -> None:
    show(first, second, names, reason)


def pair_button(first: ImageRef, second: ImageRef, key: str,
                names: Names = ("the keeper", "this copy"), reason: str | None = None) -> None:
    """A button that opens the pair side by side."""
    if st.button("Compare", key=key, icon=":material/compare:",
                 help="The two side by side, aligned, with where they differ"):
        _dialog(first, second, names, reason)


def group_buttons(members: pd.DataFrame, refs: Mapping[str, ImageRef], key: str,
                  per_row: int, reasons: Mapping[str, str] | None = None) -> None:
    """Under a group's first row (keeper first): for each other member a button that
    opens it side by side with the keeper. ``reasons``: file -> why it was put in the
    group, when known."""
    keeper = members["file"].iloc[0]
    columns = st.columns(per_row)
    for column, file in zip(columns[1:], members["file"].iloc[1:per_row]):
        with column:
            pair_button(refs[keeper], refs[file], f"{key}_{combine(file)}",
                        reason=(reasons or {}).get(file))
