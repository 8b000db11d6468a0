"""Opening a distributed (Ray) result folder: which folder, its map sample, its clusters.

A dataset folder written by ``cluster --engine ray`` can hold millions of rows, so
nothing here loads the whole result: :class:`~clustering.distributed.result.DistributedResult`
(pyarrow only, no Ray) draws the map's stratified sample, reads one cluster at a
time and writes the labels CSV chunk by chunk. Cached values are keyed by the
folder and the modification time of its ``run.json``, so a re-run is read afresh.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from clustering.distributed.layout import DatasetError
from clustering.distributed.result import DistributedResult
from clustering.files.discover import ImageRef
from dashboard import sources, state
from dashboard.roots import PathRefused

GALLERY_IMAGES = 24  # thumbnails of one cluster shown at a time


def _stamp(folder: Path) -> int:
    return (folder / "run.json").stat().st_mtime_ns


def open_result(text: str) -> Path:
    """Check that ``text`` names a result folder inside the allowed roots and remember it."""
    folder = sources.server_path(text)
    if not folder.is_dir():
        raise PathRefused(f"{folder} is a file; give the folder passed as --out")
    DistributedResult(folder)  # refuses a folder without run.json and clusters/
    st.session_state[state.DISTRIBUTED] = str(folder)
    return folder


def current() -> Path | None:
    """The result folder this session opened, if any."""
    folder = st.session_state.get(state.DISTRIBUTED)
    return Path(folder) if folder else None


@st.cache_resource(max_entries=8, show_spinner=False)
def _result(folder: str, stamp: int) -> DistributedResult:
    return DistributedResult(folder)


def result(folder: Path) -> DistributedResult:
    """The reader of ``folder`` (shared by sessions; it holds only the file listing)."""
    return _result(str(folder), _stamp(folder))


@st.cache_data(max_entries=8, show_spinner="Drawing the map sample…")
def _map_sample(folder: str, stamp: int) -> pd.DataFrame:
    return DistributedResult(folder).sample_map()


def map_sample(folder: Path) -> pd.DataFrame:
    """At most ~50,000 points of the map, every cluster represented."""
    return _map_sample(str(folder), _stamp(folder))


@st.cache_data(max_entries=16, show_spinner="Reading the cluster…")
def _cluster_rows(folder: str, stamp: int, cluster: int) -> pd.DataFrame:
    return DistributedResult(folder).cluster_rows(cluster)


def cluster_rows(folder: Path, cluster: int) -> pd.DataFrame:
    """One cluster's rows, nearest its centroid first."""
    return _cluster_rows(str(folder), _stamp(folder), cluster).sort_values(
        "distance_to_centroid", kind="stable")


def image_refs(folder: Path, names: list[str]) -> list[ImageRef] | None:
    """The images behind ``names``, or None when their folder is not inside the roots.

    The result records where the images were (run.json ``input``); a folder outside
    the allowed roots is never read, whatever the result file says.
    """
    root = result(folder).record.get("input")
    if not isinstance(root, str) or not root:
        return None
    try:
        base = sources.server_path(str(root))
    except (PathRefused, DatasetError):
        return None
    refs = []
    for name in names:
        path = (base / name).resolve()
        if not path.is_relative_to(base):  # a name with ../ in a tampered file
            return None
        refs.append(ImageRef(name, path, None))
    return refs


def labels_csv(folder: Path) -> bytes:
    """labels.csv built chunk by chunk from the Parquet shards when the user clicks.

    Streamlit 1.67's download button turns whatever it is given into one ``bytes``
    object (a file object must be seekable and is read whole), so the file is held
    once, on click, in a thread apart from the page; the page itself never holds it.
    """
    return b"".join(DistributedResult(folder).iter_labels_csv())
