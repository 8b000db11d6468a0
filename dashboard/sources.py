"""Where a session's images come from: the demo set, an upload, a server folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

import clustering.files.discover as discovery
from clustering.files.discover import Discovery, ImageRef
from dashboard import state
from dashboard.errors import attempt
from dashboard.router import APP_DIR
from dashboard.uploads import Upload, save_uploads

DEMO_DIR = APP_DIR / "demo" / "images"


def use_demo() -> None:
    """Make the bundled demo set the source (or say why it cannot be)."""
    if not DEMO_DIR.is_dir():
        st.error("The demo set is not installed here (demo/images is missing). Rebuild it with "
                 "`python demo/build_demo.py`, or upload images instead.", icon=":material/error:")
        return
    found = attempt("reading the demo set", discovery.discover, DEMO_DIR)
    if found is not None:
        state.set_source(state.DataSource("the bundled demo set", found))


def open_demo_at_start() -> None:
    """With ``CLUSTERLENS_OPEN_DEMO=1`` (``make run``), a new session starts on the demo set."""
    if (os.environ.get("CLUSTERLENS_OPEN_DEMO") == "1"
            and not st.session_state.get(state.DEMO_OFFERED)):
        st.session_state[state.DEMO_OFFERED] = True
        if state.source() is None:
            use_demo()


def save_session_upload(uploads: Sequence[Upload]) -> Discovery:
    """Save ``uploads`` in a new temporary folder for this session.

    The previous upload's folder is deleted only once the new one is in place, so a
    refused upload leaves the images in use untouched.
    """
    folder = Path(tempfile.mkdtemp(prefix="clusterlens-upload-"))
    try:
        found = save_uploads(uploads, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    old = st.session_state.get(state.UPLOAD_DIR)
    if old:
        shutil.rmtree(old, ignore_errors=True)
    st.session_state[state.UPLOAD_DIR] = str(folder)
    return found


def refs_by_name(found: Discovery) -> dict[str, ImageRef]:
    """The images of ``found`` by their names (as exports call them)."""
    return {ref.name: ref for ref in found.images}
