"""A session's work that lasts: saved on the server under a secret id in the URL, restored
on reload, downloaded as a bundle and reopened.

The server record is a folder ``<store>/<id>/`` holding ``session.json`` (the images'
source, the settings, k, cluster names, keep/remove choices, truth labels: small,
plain JSON, never pickles) and, for uploaded images, ``images/`` (hard links to the
upload, so the session's upload folder may be deleted when the session ends).
Features are not saved: they are in the content-addressed feature cache, so a restore
recomputes nothing that was computed before.

The id is 32 random bytes (``secrets``), checked against a strict pattern before it
names a folder, and a record is found only by its exact id (nothing lists them): a
user sees another's work only through a shared link. Opening a link *forks* the
record under a new id, so the person who shared it never sees what is done after,
and two tabs never overwrite each other. Records untouched for ``max_age_s`` are
deleted at the next session start.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from clustering.cache import default_cache_dir
from clustering.clusters.members import default_names
from clustering.export.bundle import Bundle, read_bundle, read_run_folder, write_bundle
from clustering.export.saved_model import SavedModel
from clustering.export.tables import result_record, run_labels
from clustering.files.discover import Discovery, discover
from clustering.jobs import work
from clustering.jobs.store import DONE, Job
from clustering.settings import Settings
from dashboard import compute, jobs, sources, state
from dashboard.choices import cluster_names
from dashboard.errors import explain
from dashboard.fingerprint import combine
from dashboard.markdown import escape
from dashboard.upload_store import InvalidSessionId, check_token, remove_stale_folders
from dashboard.uploads import Upload, save_uploads

LOG = logging.getLogger("clusterlens")

STORE_ENV = "CLUSTERLENS_SESSIONS"  # where records live (default: <feature cache>/sessions)
MAX_AGE_S = 7 * 24 * 3600.0  # a record untouched for a week is deleted
RECORD_FILE = "session.json"
IMAGES_DIR = "images"
ADDED_DIR = "added"  # images uploaded to place in a reopened run
RECORD_VERSION = 1
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a session.json larger than this is not read
QUERY_KEY = "session"
ID_SHORTEST = 32  # a record id is a 43-character token; shorter ones are refused

# Session-state keys of this module.
SESSION_ID = "persist_id"  # this session's record id (also in the URL)
RESTORED = "persist_restored"  # the URL was looked at once in this session
NOTICE = "persist_notice"  # what the restore did, shown once on the Data page
SAVED_JSON = "persist_saved"  # the last JSON written (nothing is written when unchanged)
REOPENED = "reopened"  # {"label", "bundle": Bundle, "reachable": why not or None}
REOPENING = "reopening"  # the label of a reopened run whose feature job has not ended
REOPEN_MESSAGE = "reopen_message"  # (kind, text): what reopening did, said on the Data page
ADDED = "added_images"  # {"table": placed images, "images": {name: ImageRef}, "skipped"}
ADDED_SKIPPED = "added_skipped"  # [[name, reason]] files refused before placing
WIDGET_SETTINGS = ("model", "layer", "pca_mode", "pca_fraction", "pca_components", "whiten",
                   "normalize", "k_range", state.DUP_SENSITIVITY)


def new_id() -> str:
    """A fresh unguessable id (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def _is_id(name: str) -> bool:
    try:
        check_id(name)
    except InvalidSessionId:
        return False
    return True


def check_id(session_id: object) -> str:
    """``session_id`` when it is a token this server could have made (it names a
    folder); :class:`InvalidSessionId` otherwise."""
    return check_token(session_id, ID_SHORTEST)


def _link_or_copy(src: str, dst: str) -> None:
    """Hard link (no bytes copied) where the file system allows it, else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class SessionStore:
    """Session records under ``root``; ``clock`` gives the time (a test passes a fake)."""

    def __init__(self, root: str | os.PathLike, max_age_s: float = MAX_AGE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.max_age_s = max_age_s
        self.clock = clock

    def folder(self, session_id: str) -> Path:
        return self.root / check_id(session_id)

    def images_dir(self, session_id: str) -> Path:
        return self.folder(session_id) / IMAGES_DIR

    def save(self, session_id: str, record: dict[str, Any]) -> None:
        """Write ``record`` atomically (a reader sees the old or the new file, never half)."""
        folder = self.folder(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".session-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out)
            os.replace(tmp, folder / RECORD_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._touch(folder)

    def load(self, session_id: str) -> dict[str, Any] | None:
        """The record, or None when there is none (expired, never saved, unreadable)."""
        path = self.folder(session_id) / RECORD_FILE
        try:
            if path.is_symlink() or path.stat().st_size > MAX_RECORD_BYTES:
                return None
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
            return None
        if self.clock() - path.stat().st_mtime > self.max_age_s:
            return None  # expired, even if nobody has cleaned it up yet
        return record

    def keep_images(self, session_id: str, source: Path) -> Path:
        """Hard-link the files under ``source`` into the record (replacing what was there)."""
        target = self.images_dir(session_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.folder(session_id), prefix=".images-"))
        try:
            shutil.copytree(source, staging, symlinks=True, dirs_exist_ok=True,
                            copy_function=_link_or_copy)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def fork(self, session_id: str) -> tuple[str, dict[str, Any]] | None:
        """A copy of the record under a new id (images hard-linked), or None when absent."""
        record = self.load(session_id)
        if record is None:
            return None
        copy = new_id()
        self.folder(copy).mkdir(parents=True)
        images = self.images_dir(session_id)
        if images.is_dir() and not images.is_symlink():
            self.keep_images(copy, images)
        if record.get("source", {}).get("kind") == "upload":
            record["source"]["path"] = str(self.images_dir(copy))
        self.save(copy, record)
        return copy, record

    def remove_stale(self) -> list[str]:
        """Delete records untouched for ``max_age_s``; return their ids."""
        return remove_stale_folders(self.root, self.clock() - self.max_age_s, _is_id)

    def _touch(self, folder: Path) -> None:
        now = self.clock()
        os.utime(folder, (now, now))
        os.utime(folder / RECORD_FILE, (now, now))


def store() -> SessionStore:
    """The server's store: ``$CLUSTERLENS_SESSIONS`` or ``sessions/`` in the feature cache."""
    return SessionStore(os.environ.get(STORE_ENV) or default_cache_dir() / "sessions")


# ---- what a session holds, as JSON and back ----------------------------------------------

def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def describe_source(data: state.DataSource) -> dict[str, str]:
    """Where the images are: the demo set, an allowed server folder, or a private upload."""
    root = Path(data.discovery.root)
    if _inside(root, sources.DEMO_DIR):
        return {"kind": "demo", "path": str(root), "label": data.label}
    if any(_inside(root, Path(r)) for r in sources.allowed_roots()):
        return {"kind": "folder", "path": str(root), "label": data.label}
    return {"kind": "upload", "path": str(root), "label": data.label}


def _settings_dict(settings: Settings) -> dict[str, Any]:
    return {k: v for k, v in asdict(settings).items() if k not in ("cache_dir", "weights")}


def settings_from(saved: dict[str, Any]) -> Settings:
    """A :class:`Settings` from a saved dict: known fields only, this server's cache."""
    known = {f.name for f in fields(Settings)} - {"cache_dir", "weights"}
    values = {k: v for k, v in saved.items() if k in known}
    try:
        settings = Settings(**values)
    except (TypeError, ValueError):
        settings = Settings()
    return settings.replace(cache_dir=str(default_cache_dir()))


def session_record() -> dict[str, Any] | None:
    """This session's work as plain JSON (None when nothing was chosen yet)."""
    data = state.source()
    if data is None:
        return None
    ss = st.session_state
    feature_run = state.run()
    names, keep, truth = state.cluster_names(), state.keep_choices(), state.truth()
    return {
        "version": RECORD_VERSION,
        "source": describe_source(data),
        "widgets": {key: state.setting(key) for key in WIDGET_SETTINGS},
        "run_settings": _settings_dict(feature_run.settings) if feature_run else None,
        "k": ss.get(state.K), "k_for": ss.get(state.K_FOR),
        "names": names.to_json() if names else None,
        "keep": keep.to_json() if keep else None,
        "jobs": jobs.saved(),
        "truth": truth.to_json() if truth else None,
    }


def _widgets_from(saved: dict[str, Any]) -> None:
    for key in WIDGET_SETTINGS:
        if key in saved:
            value = saved[key]
            st.session_state[key] = tuple(value) if key == "k_range" else value


def _widgets_for(settings: Settings) -> dict[str, Any]:
    """The Features page's values that give ``settings`` (what a bundle records)."""
    pca = settings.pca
    mode = "none" if pca is None else "variance" if isinstance(pca, float) else "components"
    widgets = {"model": settings.model, "layer": settings.layer, "pca_mode": mode,
               "whiten": settings.whiten, "normalize": settings.normalize,
               "k_range": (settings.k_min, settings.k_max)}
    if mode != "none":
        widgets["pca_fraction" if mode == "variance" else "pca_components"] = pca
    return widgets


def _discover_source(saved: dict[str, Any]) -> Discovery:
    """Find the saved source's images again: the demo set, a server folder inside the
    allowed roots, or uploaded images kept in a record of this server's store."""
    path = str(saved.get("path", ""))
    if saved.get("kind") == "demo":
        return discover(sources.DEMO_DIR)
    if saved.get("kind") == "upload" and _inside(Path(path), store().root):
        return discover(path)
    return discover(sources.server_path(path))


def restore(record: dict[str, Any]) -> str:
    """Put a saved record's work back into this session; return what was restored."""
    saved_source = record["source"]
    found = _discover_source(saved_source)
    state.set_source(state.DataSource(str(saved_source.get("label", "saved images")), found))
    _widgets_from(record.get("widgets") or {})
    jobs.restore(record.get("jobs"))
    if not record.get("run_settings"):
        return f"{len(found.images)} images from {escape(saved_source.get('label'))}"
    feature_run = compute.compute_run(state.source(), settings_from(record["run_settings"]))
    ss = st.session_state
    ss[state.RUN] = feature_run
    for key, value in ((state.K, record.get("k")), (state.K_FOR, record.get("k_for"))):
        if value is not None:
            ss[key] = value
    for kind, saved in ((state.KeepChoices, record.get("keep")),
                        (state.ClusterNames, record.get("names")),
                        (state.TruthLabels, record.get("truth"))):
        if saved:
            state.remember(kind.from_json(saved))
    return (f"{len(found.images)} images from {escape(saved_source.get('label'))}, their features, "
            f"k = {ss.get(state.K)} and your choices")


def session_id() -> str:
    """This session's id (made on first use)."""
    return st.session_state.setdefault(SESSION_ID, new_id())


def restore_at_start() -> None:
    """Once per session: restore the work named by the URL's id (forked to a new id).

    An id that is malformed, unknown or expired starts a fresh session with a message;
    the URL always ends up naming this session's own id.
    """
    ss = st.session_state
    if not ss.get(RESTORED):
        ss[RESTORED] = True
        sessions = store()
        try:
            sessions.remove_stale()
        except OSError as exc:
            LOG.warning("could not clean the session store: %s", exc)
        asked = st.query_params.get(QUERY_KEY)
        if asked:
            ss[NOTICE] = _restore_from(sessions, asked)
    if st.query_params.get(QUERY_KEY) != session_id():
        st.query_params[QUERY_KEY] = session_id()


def _restore_from(sessions: SessionStore, asked: str) -> tuple[str, str]:
    """(kind, message) after trying to restore the record ``asked``."""
    try:
        forked = sessions.fork(check_id(asked))
    except InvalidSessionId:
        return "warning", "The link names no valid saved session; a new session was started."
    except OSError as exc:
        LOG.warning("could not read saved session: %s", exc)
        return "warning", "The saved session could not be read; a new session was started."
    if forked is None:
        return "info", (f"The saved session of this link has expired (sessions are kept "
                        f"{MAX_AGE_S / 86400:.0f} days) or never existed; a new session was "
                        f"started.")
    st.session_state[SESSION_ID], record = forked
    try:
        return "success", f"Restored your saved work: {restore(record)}."
    except Exception as exc:  # images gone, folder no longer allowed ...: say it, go on
        LOG.warning("restoring a saved session failed: %s", exc)
        return "warning", ("Your saved session could not be restored completely: "
                           + explain(exc, "restoring the saved session"))


def show_notice() -> None:
    """Say once what the restore at session start did."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        kind, text = notice
        getattr(st, kind)(text, icon=":material/restore:")


def autosave() -> None:
    """Save this session's work on the server when it changed since the last save.

    Uploaded images are hard-linked into the record once (the record then points at
    its own copy), so they outlive the session's temporary upload folder. A failure
    is logged, never shown: the page the user is on must not break because of it.
    """
    try:
        _save()
    except Exception as exc:  # noqa: BLE001 - a full disk must not break the page
        LOG.warning("could not save the session: %s", exc)


def _save() -> None:
    record = session_record()
    if record is None:
        return
    sessions = store()
    sid = session_id()
    source = record["source"]
    own = sessions.images_dir(sid)
    if source["kind"] == "upload" and not _inside(Path(source["path"]), own):
        kept = sessions.keep_images(sid, Path(source["path"]))
        source["path"] = str(kept)
        # The same files under the record (same names and contents, so the same content
        # keys): the results made from them stay valid.
        state.source().discovery = discover(kept)
    text = json.dumps(record, sort_keys=True, default=str)
    if st.session_state.get(SAVED_JSON) != text:
        sessions.save(sid, json.loads(text))
        st.session_state[SAVED_JSON] = text


# ---- bundles: download, reopen, add images ---------------------------------------------

def bundle_maker(analysis: compute.Analysis) -> Callable[[], bytes]:
    """What makes the current clustering's bundle (no images): run.json with the source,
    labels, names, keep/remove choices, truth labels, the fitted model.

    The session's choices are read now, in the script run: the returned function is
    run by the download button when clicked, outside the session (no session state).
    """
    names = dict(cluster_names(analysis))
    record = result_record(analysis.result, input_label=analysis.run.source.label)
    record["source"] = describe_source(analysis.run.source)
    stored_keep, truth = state.keep_choices(), state.truth()
    keep = dict(stored_keep.keep) if stored_keep else {}
    labels = run_labels(analysis.result, names)
    result = analysis.result
    return lambda: write_bundle(Bundle(
        run=record, labels=labels, cluster_names=names,
        review={f: "keep" if v else "remove" for f, v in keep.items()},
        truth=truth.truth if truth else None, model=SavedModel.from_result(result)))


def reopen_bundle(data: bytes, label: str) -> str:
    """Reopen an uploaded bundle; return what happened (raises with a plain message)."""
    return _reopen(read_bundle(data), label)


def reopen_folder(text: str) -> str:
    """Reopen a run folder written by ``cluster --out`` inside the allowed roots."""
    folder = sources.server_path(text)
    return _reopen(read_run_folder(folder), f"saved run {folder}")


def _saved_source(bundle: Bundle) -> dict[str, str]:
    """The bundle's source; a CLI run records only its input path (a server folder)."""
    saved = bundle.run.get("source")
    if isinstance(saved, dict) and isinstance(saved.get("path"), str):
        kind = saved.get("kind") if saved.get("kind") in ("demo", "upload") else "folder"
        return {"kind": kind, "path": saved["path"],
                "label": str(saved.get("label", saved["path"]))}
    path = str(bundle.run.get("input", ""))
    return {"kind": "folder", "path": path, "label": f"server folder {path}"}


def _reopen(bundle: Bundle, label: str) -> str:
    """Keep ``bundle`` for "Add images" and, when its images can be found here, make its
    work the session's: same images, settings, k, names, choices (features from cache).
    Returns Markdown (what came from the bundle or the user is escaped)."""
    st.session_state[REOPENED] = {"label": label, "bundle": bundle}
    label = escape(label)
    st.session_state.pop(ADDED, None)
    saved = _saved_source(bundle)
    if saved["kind"] == "upload":
        return (f"Reopened {label}. Its images were uploaded and are not kept in a bundle, so "
                f"only its map is shown; upload them again to see the galleries. You can "
                f"place new images on its map below.")
    found = _discover_source(saved)  # PathRefused / InputError say why the images are gone
    if not found.images:
        return f"Reopened {label}, but {escape(saved['path'])} holds no images now."
    state.set_source(state.DataSource(saved["label"], found))
    settings = settings_from(bundle.run.get("settings") or {}).replace(k=None)
    for key, value in _widgets_for(settings).items():
        st.session_state[key] = value
    st.session_state[REOPENING] = label  # the feature job below finishes the reopening
    job = jobs.submit(jobs.FEATURES, work.FEATURES, found.images, settings)
    if job.state != DONE:
        return (f"Reopened {label}: the features of its {len(found.images)} images are being "
                f"extracted in the background (those already cached are read); its clusters "
                f"appear here when they are ready.")
    st.session_state[jobs.PENDING].pop(jobs.FEATURES)
    return finish_reopen(compute.compute_run(state.source(), settings), job)


def finish_reopen(feature_run: state.FeatureRun, job: Job) -> str:
    """The reopened bundle's k, names, keep/remove choices and truth on its features
    (made by ``job``); returns what happened, in Markdown."""
    bundle: Bundle = st.session_state[REOPENED]["bundle"]
    label = st.session_state.pop(REOPENING)
    seconds = (job.result or {}).get("seconds", 0.0)
    st.session_state[state.RUN] = feature_run
    k = int(bundle.run.get("k", {}).get("value", 0)) or None
    if k is not None:
        low, high = state.setting("k_range")
        st.session_state["k_range"] = (min(low, k), max(high, k))
    analysis = compute.session_analysis(feature_run)
    if k is not None and k != analysis.k:
        st.session_state[state.K] = k
        analysis = compute.session_analysis(feature_run)
    state.remember(state.ClusterNames(
        combine(analysis.key, analysis.k),
        {int(c): n for c, n in bundle.cluster_names.items()} or default_names(analysis.k)))
    key = compute.source_key(feature_run.source)
    state.remember(state.KeepChoices(key, {f: c == "keep" for f, c in bundle.review.items()}))
    if bundle.truth is not None:
        state.remember(state.TruthLabels(key, f"the truth labels in {label}", bundle.truth))
    same = _same_labels(bundle.labels, analysis)
    return (f"Reopened {label}: {len(feature_run.features.names)} images, features ready in "
            f"{seconds:.1f} s (cached ones are read, not recomputed), k = {analysis.k}"
            + ("" if same else "; note: some images now fall in other clusters than when it "
                               "was saved (the images or the extractor changed)") + ".")


def _same_labels(saved: pd.DataFrame, analysis: compute.Analysis) -> bool:
    now = dict(zip(analysis.names, analysis.clustering.labels.tolist()))
    return all(now.get(f) == int(c) for f, c in zip(saved["file"], saved["cluster"]))


def save_added(uploads: Sequence[Upload]) -> Discovery:
    """Uploaded new images, saved in this session's record (replacing earlier ones)."""
    folder = store().folder(session_id()) / ADDED_DIR
    shutil.rmtree(folder, ignore_errors=True)
    return save_uploads(uploads, folder)


def find_added(text: str) -> Discovery:
    """New images from a server folder inside the allowed roots."""
    return discover(sources.server_path(text))


def add_images(found: Discovery) -> None:
    """Place ``found``'s images in the reopened run's model: a background job (the Data
    page follows it; ``dashboard/job_results.py`` shows its result)."""
    bundle: Bundle = st.session_state[REOPENED]["bundle"]
    settings = settings_from(bundle.run.get("settings") or {})
    st.session_state.pop(ADDED, None)
    st.session_state[ADDED_SKIPPED] = [[s.name, s.reason] for s in found.skipped]
    jobs.submit(jobs.ASSIGN, work.ASSIGN, found.images, settings,
                model=str(work.save_model(bundle.model, jobs.results_dir())))
