"""The dashboard's side of background jobs: submit, follow and cancel them.

A session keeps the ids of the jobs it waits for under :data:`PENDING` (``{slot:
{"id": ..., ...}}``, one slot per kind of work) and an owner token (:data:`OWNER`);
both are saved with the session's record (``dashboard/persist.py``), so a reload or
another browser on the same ``?session=`` address follows the same job. While a job
is active, :func:`show_progress` redraws its progress every second and reruns the app
when it ends, so the result appears with no button to press (a finished feature job
becomes results in ``dashboard/job_results.py``; a scan or a map is read from the
cache by the page that asked for it with :func:`ask`).
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from clustering.files.discover import ImageRef
from clustering.jobs import work
from clustering.jobs.store import ACTIVE, CANCELLED, FAILED, QUEUED, Job, JobStore
from clustering.jobs.supervisor import supervisor
from clustering.settings import Settings
from dashboard import errors
from dashboard.progress import duration

OWNER = "jobs_owner"  # this user's token: only its jobs can be cancelled from here
PENDING = "jobs_pending"  # {slot: {"id": job id, ...}} jobs whose result this session awaits
NOTES = "jobs_notes"  # {slot: [(kind, text)]} what a finished job said, shown once
FAILED_WORK = "jobs_failed"  # {slot: (job key, advice)} work that failed: not asked again
POLL_S = 1.0  # how often an active job's progress is redrawn
FEATURES = "features"
SCAN = "scan"  # the duplicate and quality scan
MAP = "map"  # a UMAP or t-SNE map
ASSIGN = "assign"  # new images placed in a reopened run ("Add images")
ACTIONS = {FEATURES: "extracting features", SCAN: "hashing the images and scoring their quality",
           MAP: "drawing the map", ASSIGN: "placing the new images"}


def owner() -> str:
    return st.session_state.setdefault(OWNER, secrets.token_urlsafe(16))


def job_store() -> JobStore:
    return supervisor().store


def results_dir() -> Path:
    """Where jobs keep results too large for the table (and the files they read)."""
    return job_store().path.parent / work.RESULTS_DIR


def submit(slot: str, kind: str, images: Sequence[ImageRef], settings: Settings,
           **extra: Any) -> Job:
    """Ask for the work (shared with anyone who asked for the same) and wait for it in
    ``slot``; ``extra`` inputs go with the file listing and settings. A worker starts at
    once when a slot is free."""
    boss = supervisor()  # the table in this server's cache folder
    inputs = work.make_inputs(images, settings, **extra)
    job = boss.store.submit(kind, work.job_key(kind, inputs), owner(), inputs)
    st.session_state.setdefault(PENDING, {})[slot] = {"id": job.id}
    st.session_state.setdefault(NOTES, {}).pop(slot, None)
    boss.kick()
    return boss.store.get(job.id) or job  # as it is now (shared work may be done already)


def ask(slot: str, kind: str, images: Sequence[ImageRef], settings: Settings) -> Job | None:
    """The job doing this work (asked for when needed), or None when it failed or was
    cancelled for this session: then :func:`show_state` says so and offers Try again
    (failed work is never asked again by itself, so a page cannot loop on it)."""
    failed = st.session_state.setdefault(FAILED_WORK, {})
    key = work.job_key(kind, work.make_inputs(images, settings))
    if slot in failed and failed[slot][0] == key:
        return None
    last = pending(slot)
    if last is not None and last.key == key and last.state in (FAILED, CANCELLED):
        failed[slot] = (key, explain_failure(last, ACTIONS[slot]) if last.state == FAILED
                        else "Cancelled. What was finished is cached.")
        return None
    return submit(slot, kind, images, settings)


def show_state(slot: str, label: str) -> None:
    """The progress of the work of ``slot`` (see :func:`show_progress`), or why it stopped
    with a Try again button."""
    failed = st.session_state.setdefault(FAILED_WORK, {})
    if slot in failed:
        st.error(failed[slot][1], icon=":material/error:")
        if st.button("Try again", key=f"retry_{slot}", icon=":material/refresh:"):
            del failed[slot]
            st.session_state.get(PENDING, {}).pop(slot, None)  # ask anew
            st.rerun()
        return
    show_progress(slot, label)


def pending(slot: str) -> Job | None:
    """The job this session waits for in ``slot``, if any."""
    entry = st.session_state.get(PENDING, {}).get(slot)
    return job_store().get(entry["id"]) if entry else None


def cancel(slot: str) -> bool:
    """Cancel this session's job in ``slot`` (False when another session owns it)."""
    job = pending(slot)
    return job is not None and job_store().cancel(job.id, owner())


def status_text(job: Job, unit: str = "images") -> str:
    """``queued, 2 ahead of you`` or ``running: 1,234 / 10,000 images, 9.8 images/s,
    about 15 min left``."""
    if job.state == QUEUED:
        ahead = job_store().ahead_of(job)
        return f"queued, {ahead} ahead of you" if ahead else "queued, next to start"
    if job.total == 0:
        return "running: starting…"
    parts = [f"running: {job.done:,} / {job.total:,} {unit}"]
    if job.rate > 0:
        parts.append(f"{job.rate:,.1f} {unit}/s")
    if job.eta_s is not None:
        parts.append(f"about {duration(job.eta_s)} left")
    return ", ".join(parts)


def explain_failure(job: Job, action: str) -> str:
    """The usual one-line advice for a failed job (its error rebuilt from the table)."""
    kind = job.error_kind or ""
    message = (job.error or "").removeprefix(f"{kind}: ")
    known = {cls.__name__: cls for cls, _ in errors.ADVICE}
    cls = known.get(kind) or getattr(builtins, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        cls = type(kind or "Error", (Exception,), {})
    return errors.explain(cls(message), action)


# ---- finished jobs become results -------------------------------------------------------

def note(slot: str, kind: str, text: str) -> None:
    """Something to say once about the finished job of ``slot`` (see :func:`notes`)."""
    st.session_state.setdefault(NOTES, {}).setdefault(slot, []).append((kind, text))


def notes(slot: str) -> list[tuple[str, str]]:
    """What the finished job of ``slot`` said (each shown once)."""
    return st.session_state.setdefault(NOTES, {}).pop(slot, [])


def show_progress(slot: str, label: str) -> None:
    """While the job of ``slot`` is active: its progress, redrawn every second, with a
    Cancel button for its owner; the app reruns when it ends (the result then shows)."""
    job = pending(slot)
    if job is None or job.state not in ACTIVE:
        return

    @st.fragment(run_every=POLL_S)
    def panel() -> None:
        now = job_store().get(job.id)
        if now is None or now.state not in ACTIVE:
            st.rerun(scope="app")
        st.info(f"{label}: {status_text(now)}", icon=":material/hourglass_top:")
        st.caption("This runs on the server: you may close this page and come back with the "
                   "same address.")
        if now.owner == owner() and st.button("Cancel", key=f"cancel_{slot}",
                                              icon=":material/stop:"):
            cancel(slot)
            st.rerun(scope="app")

    panel()


def saved() -> dict[str, Any]:
    """What the session record keeps of this session's jobs (plain JSON)."""
    return {"owner": owner(), "pending": st.session_state.get(PENDING, {})}


def restore(record: dict[str, Any] | None) -> None:
    """Follow the saved record's jobs again (a reload, another browser)."""
    if not record:
        return
    if isinstance(record.get("owner"), str):
        st.session_state[OWNER] = record["owner"]
    pending_jobs = record.get("pending") or {}
    st.session_state[PENDING] = {slot: dict(entry) for slot, entry in pending_jobs.items()
                                 if slot in ACTIONS and isinstance(entry, dict)
                                 and isinstance(entry.get("id"), int)}
