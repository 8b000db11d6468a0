"""The dashboard's side of background jobs: submit, follow, cancel, and use the result.

A session keeps the ids of the jobs it waits for under :data:`PENDING` (``{slot:
{"id": ..., ...}}``, one slot per kind of work) and an owner token (:data:`OWNER`);
both are saved with the session's record (``dashboard/persist.py``), so a reload or
another browser on the same ``?session=`` address follows the same job. At the start
of every run :func:`collect` turns finished jobs into the session's results (features
from the content-keyed cache, as a page run would have made them); while a job is
active, :func:`show_progress` redraws its progress every second and reruns the app
when it ends, so the result appears with no button to press.
"""

from __future__ import annotations

import builtins
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import streamlit as st

from clustering.cache import default_cache_dir
from clustering.files.discover import ImageRef
from clustering.jobs import work
from clustering.jobs.store import (ACTIVE, CANCELLED, DONE, FAILED, QUEUED, Job, JobStore)
from clustering.jobs.supervisor import supervisor
from clustering.settings import Settings
from dashboard import compute, errors, state
from dashboard.progress import duration

LOG = logging.getLogger("clusterlens")

OWNER = "jobs_owner"  # this user's token: only its jobs can be cancelled from here
PENDING = "jobs_pending"  # {slot: {"id": job id, ...}} jobs whose result this session awaits
NOTES = "jobs_notes"  # {slot: [(kind, text)]} what a finished job said, shown once
FAILED_WORK = "jobs_failed"  # {slot: (job key, advice)} work that failed: not asked again
POLL_S = 1.0  # how often an active job's progress is redrawn
FEATURES = "features"
SCAN = "scan"  # the duplicate and quality scan


def owner() -> str:
    return st.session_state.setdefault(OWNER, secrets.token_urlsafe(16))


def job_store() -> JobStore:
    return supervisor(default_cache_dir() / "jobs.sqlite3").store


def submit(slot: str, kind: str, images: Sequence[ImageRef], settings: Settings,
           **meta: Any) -> Job:
    """Ask for the work (shared with anyone who asked for the same) and wait for it in
    ``slot``; a worker starts at once when a slot is free."""
    boss = supervisor(default_cache_dir() / "jobs.sqlite3")
    inputs = work.make_inputs(images, settings)
    job = boss.store.submit(kind, work.job_key(kind, inputs), owner(), inputs)
    st.session_state.setdefault(PENDING, {})[slot] = {"id": job.id, **meta}
    st.session_state.setdefault(NOTES, {}).pop(slot, None)
    boss.kick()
    return boss.store.get(job.id) or job  # as it is now (shared work may be done already)


def ready(slot: str, kind: str, images: Sequence[ImageRef], settings: Settings,
          label: str) -> bool:
    """Whether the work is done (its result is in the cache): asks for it when needed and,
    while it runs, shows its progress. A failure is shown once with a Try again button
    (never resubmitted by itself)."""
    failed = st.session_state.setdefault(FAILED_WORK, {})
    inputs = work.make_inputs(images, settings)
    if slot in failed and failed[slot][0] == work.job_key(kind, inputs):
        st.error(failed[slot][1], icon=":material/error:")
        if st.button("Try again", key=f"retry_{slot}", icon=":material/refresh:"):
            del failed[slot]
            st.rerun()
        return False
    job = submit(slot, kind, images, settings)
    if job.state == DONE:
        st.session_state[PENDING].pop(slot, None)
        return True
    show_progress(slot, label)
    return False


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

def _note(slot: str, kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, {}).setdefault(slot, []).append((kind, text))


def notes(slot: str) -> list[tuple[str, str]]:
    """What the finished job of ``slot`` said (each shown once)."""
    return st.session_state.setdefault(NOTES, {}).pop(slot, [])


def _same_images(job: Job) -> bool:
    data = state.source()
    return data is not None and [r[0] for r in job.inputs["images"]] == [
        ref.name for ref in data.discovery.images]


def _features_done(job: Job, meta: dict[str, Any]) -> None:
    """Use a finished feature job: read the features from the cache, reduce, sweep k."""
    settings = work.settings_from(job.inputs["settings"])
    data = state.source()
    feature_run = compute.compute_run(data, settings)
    done = job.result or {}  # what the job did, not this read from the cache
    feature_run.features = replace(feature_run.features, computed=done.get("computed", 0),
                                   cached=done.get("cached", 0), seconds=done.get("seconds", 0.0))
    st.session_state[state.RUN] = feature_run
    if not feature_run.features.names:
        _note(FEATURES, "error", f"None of the {len(data.discovery.images)} images could be "
                                 f"decoded (the reasons are listed below). Go back to the Data "
                                 f"page and choose other files.")
        return
    for key in (state.K, state.K_FOR, state.NAMES):
        st.session_state.pop(key, None)
    try:
        analysis = compute.analyse(feature_run)
    except Exception as exc:  # a message, never a traceback
        errors.log_error("trying each k", exc)
        _note(FEATURES, "error", errors.explain(exc, "trying each k"))
        return
    _note(FEATURES, "complete", f"Done: {len(feature_run.features.names)} images, suggested "
                                f"k = {analysis.sweep.choice_.k}")


def _features_failed(job: Job) -> None:
    if job.error_kind == "WeightsUnavailable":
        settings = job.inputs["settings"]
        st.session_state[state.WEIGHTS_PROBLEM] = {"model": settings["model"],
                                                "layer": settings["layer"],
                                                "message": job.error or ""}
    else:
        _note(FEATURES, "error", explain_failure(job, "extracting features"))


def _failed_work(slot: str) -> Callable[[Job], None]:
    """For work a page asks for by itself (:func:`ready`): remember the failure, so the
    page shows it instead of asking again."""
    def record(job: Job) -> None:
        st.session_state.setdefault(FAILED_WORK, {})[slot] = (
            job.key, explain_failure(job, ACTIONS[slot]))
    return record


DONE_HANDLERS: dict[str, Callable[[Job, dict[str, Any]], None]] = {
    FEATURES: _features_done, SCAN: lambda job, meta: None}  # the page reads the cache
FAILED_HANDLERS: dict[str, Callable[[Job], None]] = {FEATURES: _features_failed,
                                                     SCAN: _failed_work(SCAN)}
ACTIONS = {FEATURES: "extracting features", SCAN: "hashing the images and scoring their quality"}


def collect() -> None:
    """Turn this session's finished jobs into results (on every run, any page)."""
    for slot, entry in list(st.session_state.get(PENDING, {}).items()):
        job = job_store().get(entry["id"])
        if job is None or job.state in ACTIVE:
            continue
        del st.session_state[PENDING][slot]
        if not _same_images(job):
            continue  # the user chose other images meanwhile
        if job.state == DONE:
            DONE_HANDLERS[slot](job, entry)
        elif job.state == FAILED:
            LOG.warning("job %s (%s) failed: %s", job.id, job.kind, job.error)
            FAILED_HANDLERS[slot](job)
        elif job.state == CANCELLED:
            _note(slot, "info", "Cancelled. What was finished is cached: Run again goes on "
                                "from there.")


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
                                 if slot in DONE_HANDLERS and isinstance(entry, dict)
                                 and isinstance(entry.get("id"), int)}
