"""Finished jobs become the session's results, as a page run would have made them.

Called at the start of every run (``app.py``), so a session that comes back after the
work ended (a reload, another browser on the same address) finds its features, the
k sweep and the clusters (or the images it added to a reopened run) without pressing
a button again.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from clustering.files.discover import Skipped
from clustering.jobs import work
from clustering.jobs.store import ACTIVE, CANCELLED, DONE, FAILED, Job
from dashboard import compute, errors, jobs, persist, state
from dashboard.engine import ran_on


def _same_images(job: Job) -> bool:
    data = state.source()
    return data is not None and [r[0] for r in job.inputs["images"]] == [
        ref.name for ref in data.discovery.images]


def _features_done(job: Job) -> None:
    """Use a finished feature job: read the features from the cache, reduce, sweep k."""
    settings = work.settings_from(job.inputs["settings"])
    data = state.source()
    feature_run = compute.compute_run(data, settings)
    done = job.result or {}  # what the job did, not this read from the cache
    feature_run.features = replace(feature_run.features, computed=done.get("computed", 0),
                                   cached=done.get("cached", 0), seconds=done.get("seconds", 0.0))
    if persist.REOPENING in st.session_state:  # a reopened run: its own k and names
        st.session_state[persist.REOPEN_MESSAGE] = ("success",
                                                    persist.finish_reopen(feature_run, job))
        return
    st.session_state[state.RUN] = feature_run
    if not feature_run.features.names:
        jobs.note(jobs.FEATURES, "error",
                  f"None of the {len(data.discovery.images)} images could be decoded (the "
                  f"reasons are listed below). Go back to the Data page and choose other files.")
        return
    for key in (state.K, state.K_FOR, state.NAMES):
        st.session_state.pop(key, None)
    try:
        analysis = compute.session_analysis(feature_run)
    except Exception as exc:  # a message, never a traceback
        errors.log_error("trying each k", exc)
        jobs.note(jobs.FEATURES, "error", errors.explain(exc, "trying each k"))
        return
    jobs.note(jobs.FEATURES, "complete", f"Done: {len(feature_run.features.names)} images, "
                                         f"suggested k = {analysis.sweep.choice_.k}")
    where = ran_on(done.get("engine") or {})
    if where:
        jobs.note(jobs.FEATURES, "info", where)


def _features_failed(job: Job) -> None:
    if job.error_kind == "WeightsUnavailable":
        settings = job.inputs["settings"]
        st.session_state[state.WEIGHTS_PROBLEM] = {"model": settings["model"],
                                                "layer": settings["layer"],
                                                "message": job.error or ""}
    else:
        jobs.note(jobs.FEATURES, "error", jobs.explain_failure(job, "extracting features"))


def collect() -> None:
    """Turn this session's finished jobs into results (on every run, any page: who
    comes back after the work ended sees them with no click)."""
    _collect_features()
    _collect_added()


def _collect_added() -> None:
    """New images placed in a reopened run ("Add images"): the table the job saved."""
    job = jobs.pending(jobs.ASSIGN)
    if job is None or job.state in ACTIVE:
        return
    del st.session_state[jobs.PENDING][jobs.ASSIGN]
    if job.state == FAILED:  # the worker wrote its one line in the server log
        jobs.note(jobs.ASSIGN, "error", jobs.explain_failure(job, "placing the new images"))
    if job.state != DONE:
        return
    table = pd.read_csv(job.result["table"], dtype={"file": str})
    skipped = st.session_state.pop(persist.ADDED_SKIPPED, []) + job.result["skipped"]
    st.session_state[persist.ADDED] = {
        "table": table, "images": {ref.name: ref for ref in work.images_from(
            job.inputs["images"])}, "skipped": [Skipped(name, why) for name, why in skipped]}
    if table.empty:
        jobs.note(jobs.ASSIGN, "warning", "None of these files could be placed (no loadable "
                                          "images).")


def _collect_features() -> None:
    job = jobs.pending(jobs.FEATURES)
    if job is None or job.state in ACTIVE:
        return
    del st.session_state[jobs.PENDING][jobs.FEATURES]
    if not _same_images(job):
        return  # the user chose other images meanwhile
    if job.state != DONE:
        st.session_state.pop(persist.REOPENING, None)  # a reopening ends with its job
    if job.state == DONE:
        _features_done(job)
    elif job.state == FAILED:  # the worker wrote its one line in the server log
        _features_failed(job)
    elif job.state == CANCELLED:
        jobs.note(jobs.FEATURES, "info", "Cancelled. What was finished is cached: Run again "
                                         "goes on from there.")
