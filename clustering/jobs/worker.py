"""A worker process: claims the oldest queued job, runs it, and the next, until none is left.

Started by the supervisor as ``python -m clustering jobs run-worker``. Progress goes
to the job table at most every :data:`PROGRESS_EVERY_S` (each write is a short
transaction); a thread beats the job's heartbeat meanwhile, so a step that reports no
progress (a t-SNE map) is never taken for a dead worker. A cancel asked by the owner
is seen at the next progress report and stops the work there (:class:`Cancelled`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

from clustering.errors import Cancelled, ClusterLensError
from clustering.images.engine import Progress
from clustering.jobs import work
from clustering.jobs.store import CANCELLED, DONE, FAILED, Job, JobStore
from clustering.settings import max_jobs

LOG = logging.getLogger("clusterlens")
PROGRESS_EVERY_S = 0.5
HEARTBEAT_EVERY_S = 2.0
WORKER_NICENESS = 5
# A worker waits this long for another job before it exits: the next job of a session
# (the scan after the features) then starts at once, without a new process' imports.
IDLE_S = 20.0
IDLE_POLL_S = 0.25  # below the dashboard's server, so pages stay quick while jobs run


def one_line(exc: BaseException) -> str:
    """The failure in one line for the user (an expected error says it all)."""
    text = str(exc) if isinstance(exc, ClusterLensError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


class _Reporter:
    """The progress callback of one job: throttled writes, cancel check."""

    def __init__(self, store: JobStore, job: Job) -> None:
        self.store, self.job = store, job
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.done < p.total and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        if self.store.progress(self.job.id, p.done, p.total, p.images_per_s):
            raise Cancelled(f"job {self.job.id} was cancelled by its owner")


def _heartbeat(store: JobStore, job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_EVERY_S):
        try:
            store.beat(job_id)
        except Exception as exc:  # noqa: BLE001 - a busy table must not kill the job
            LOG.warning("job %s: heartbeat not written: %s", job_id, exc)


def run_job(store: JobStore, job: Job) -> str:
    """Run one claimed job to its end; record the result, the cancel or the failure."""
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, job.id, stop), daemon=True)
    beat.start()
    try:
        result = work.run(job.kind, job.inputs, _Reporter(store, job),
                          store.path.parent / work.RESULTS_DIR)
    except Cancelled:
        store.finish(job.id, CANCELLED, error="cancelled by its owner; what it finished is "
                                              "cached")
        LOG.warning("job %s (%s) cancelled", job.id, job.kind)
        return CANCELLED
    except Exception as exc:  # every failure is recorded in one line, never lost
        store.finish(job.id, FAILED, error=one_line(exc), error_kind=type(exc).__name__)
        LOG.warning("job %s (%s) failed: %s", job.id, job.kind, one_line(exc))
        return FAILED
    finally:
        stop.set()
        beat.join()
    store.finish(job.id, DONE, result=result)
    return DONE


def run_worker(store: JobStore, max_running: int | None = None, idle_s: float = 0.0) -> int:
    """Run queued jobs one after another while fewer than ``max_running`` run, waiting
    up to ``idle_s`` for the next one; return how many this worker ran."""
    limit = max_running or max_jobs()
    count = 0
    idle_since = time.monotonic()
    while True:
        job = store.claim(os.getpid(), limit)
        if job is None:
            if time.monotonic() - idle_since >= idle_s or not store.path.exists():
                return count
            time.sleep(IDLE_POLL_S)
            continue
        run_job(store, job)
        count += 1
        idle_since = time.monotonic()


def main(db_path: str | os.PathLike | None = None) -> int:
    """The worker process' entry point (``python -m clustering.jobs.worker --db FILE``,
    also ``python -m clustering jobs run-worker``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s clusterlens-worker "
                                                   f"{os.getpid()} %(message)s")
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    try:
        run_worker(JobStore(Path(db_path) if db_path else None), idle_s=IDLE_S)
    except sqlite3.OperationalError as exc:  # the cache folder was deleted under us
        LOG.warning("worker stopped: the job table is gone (%s)", exc)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run queued ClusterLens jobs.")
    parser.add_argument("--db", metavar="FILE", help="the job table")
    sys.exit(main(parser.parse_args().db))
