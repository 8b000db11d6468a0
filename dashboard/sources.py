"""Where a session's images come from: the demo set, an upload, a server folder.

Uploads (images and weights files) live in the session's own folder of one
:class:`~dashboard.upload_store.UploadStore` (``$CLUSTERLENS_UPLOAD_DIR``, or
``clusterlens-uploads`` in the temp folder), deleted when the session ends.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

import clustering.files.discover as discovery
from clustering.files.discover import Discovery, ImageRef
from dashboard import state
from dashboard.errors import attempt
from dashboard.roots import configured_roots, resolve_inside
from dashboard.router import APP_DIR
from dashboard.upload_store import UploadStore
from dashboard.uploads import Upload, env_number, max_total_bytes, save_uploads

DEMO_DIR = APP_DIR / "demo" / "images"
UPLOAD_DIR_ENV = "CLUSTERLENS_UPLOAD_DIR"
GRACE_ENV = "CLUSTERLENS_SESSION_GRACE_S"
# Streamlit keeps a disconnected session for 2 minutes so that a browser whose network
# blinked can resume it; its files must outlive that window.
DEFAULT_GRACE_S = 150.0
IMAGES_PREFIX = "images-"  # one sub-folder per upload; the previous one goes when replaced
WEIGHTS_FOLDER = "weights"
LOG = logging.getLogger("clusterlens")


def allowed_roots() -> list[Path]:
    """The server folders users may open (demo set, ``$CLUSTERLENS_ROOTS``, config file)."""
    return configured_roots(APP_DIR, DEMO_DIR)


def server_path(text: str) -> Path:
    """The real path of the folder or ``.zip`` named by ``text`` if it is inside an
    allowed root (:class:`~dashboard.roots.PathRefused` otherwise)."""
    return resolve_inside(text, allowed_roots())


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


@st.cache_resource(show_spinner=False)
def upload_store() -> UploadStore:
    """The server's one store, made on the first page view; it first deletes what a
    crashed server left (folders older than the store's maximum age)."""
    root = os.environ.get(UPLOAD_DIR_ENV) or Path(tempfile.gettempdir()) / "clusterlens-uploads"
    store = UploadStore(root)
    removed = store.remove_stale()
    if removed:
        LOG.info("removed %d stale upload folder(s) from %s", len(removed), store.root)
    return store


def grace_s() -> float:
    """How long a disconnected session's files wait for it to come back (``$GRACE_ENV``)."""
    return env_number(GRACE_ENV, DEFAULT_GRACE_S)


@dataclass(frozen=True)
class _Watch:
    """What the session-end hook needs: the store, this session's folder id, its Streamlit id."""

    store: UploadStore
    store_id: str
    session_id: str


def _session_ended(watch: _Watch) -> None:
    """Streamlit released the session's resources (it disconnected): delete its files
    after the grace period unless the session came back (a reconnect) by then."""
    def end() -> None:
        if runtime.exists() and runtime.get_instance().is_active_session(watch.session_id):
            return  # reconnected: its hook is registered again and fires on the next disconnect
        if watch.store.end_session(watch.store_id):
            LOG.info("deleted the uploads of a closed session (%s)", watch.store_id)

    timer = threading.Timer(grace_s(), end)
    timer.daemon = True
    timer.start()


@st.cache_resource(scope="session", on_release=_session_ended, show_spinner=False)
def _watch(store_id: str, session_id: str) -> _Watch:
    """A session-scoped resource: Streamlit calls its ``on_release`` when the session
    disconnects, which is the one session-end hook Streamlit 1.67 offers."""
    return _Watch(upload_store(), store_id, session_id)


def keep_session_alive() -> None:
    """On every run: re-arm the session-end hook (a reconnected session needs it again)
    and mark the session's folder as in use, so a restart's age sweep spares it."""
    store_id = st.session_state.get(state.STORE_ID)
    if store_id:
        ctx = get_script_run_ctx()
        _watch(store_id, ctx.session_id if ctx else "")
        upload_store().touch(store_id)


def session_folder() -> Path:
    """This session's own folder (made on first use), deleted when the session ends."""
    store_id = st.session_state.setdefault(state.STORE_ID, secrets.token_urlsafe(16))
    keep_session_alive()
    return upload_store().folder(store_id)


def weights_folder() -> Path:
    """Where this session's uploaded weights files are kept (never Keras' shared folder)."""
    return session_folder() / WEIGHTS_FOLDER


def save_session_upload(uploads: Sequence[Upload]) -> Discovery:
    """Save ``uploads`` in a new sub-folder of this session's folder.

    The store's quota is checked first (a clear message when the server is full), and
    what zips really unpack to counts against it. The previous upload's folder is
    deleted only once the new one is in place, so a refused upload leaves the images
    in use untouched.
    """
    store = upload_store()
    store.check_room(sum(len(u.data) for u in uploads))
    folder = session_folder() / f"{IMAGES_PREFIX}{uuid.uuid4().hex}"
    try:
        found = save_uploads(uploads, folder, limit=min(max_total_bytes(), store.room()))
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
