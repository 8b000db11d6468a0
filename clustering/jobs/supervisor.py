"""Starts worker processes for queued jobs, and recovers jobs whose worker died.

One :class:`Supervisor` per job table in a process (the dashboard's server makes one
at its first page, :func:`supervisor`). It never runs work itself: it starts
``python -m clustering.jobs.worker`` processes (the same as ``python -m clustering jobs
run-worker``, with fewer imports), each in its own session so a job
outlives the page, the browser and even the server that started it. The job table
limits how many run at once (:meth:`JobStore.claim`), so several servers on one cache
folder still share the limit.

A job left "running" by a worker that is gone (killed, crashed, machine restarted) is
queued again: its features already in the cache are read, not recomputed, so it
resumes. After :data:`MAX_ATTEMPTS` starts it fails with the reason instead.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

from clustering.jobs.store import ACTIVE, QUEUED, RUNNING, JobStore, default_db_path
from clustering.settings import max_jobs

LOG = logging.getLogger("clusterlens")
STALE_AFTER_S = 60.0  # no heartbeat for this long: the worker is taken for dead
MAX_ATTEMPTS = 3
WATCH_EVERY_S = 2.0


class Handle(Protocol):
    pid: int

    def poll(self) -> int | None: ...


def launch_worker(db_path: Path) -> Handle:
    """A new worker process for the table at ``db_path`` (its output goes to ours:
    the server's log)."""
    return subprocess.Popen([sys.executable, "-m", "clustering.jobs.worker", "--db",
                             str(db_path)], stdin=subprocess.DEVNULL, start_new_session=True)


def pid_alive(pid: int | None) -> bool:
    """Whether a process ``pid`` exists on this machine."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Supervisor:
    """Keeps up to ``max_running`` workers busy on the jobs in ``store``."""

    def __init__(self, store: JobStore, max_running: int | None = None) -> None:
        self.store = store
        self.max_running = max_running or max_jobs()
        self._children: list[Handle] = []
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def kick(self) -> None:
        """Recover dead workers' jobs and start workers for what is queued; keep
        watching while any job is queued or running."""
        with self._lock:
            moved = self.store.requeue_stale(pid_alive, STALE_AFTER_S, MAX_ATTEMPTS)
            if moved:
                LOG.warning("jobs %s: their worker was gone; queued again (or failed after "
                            "%d tries)", moved, MAX_ATTEMPTS)
            self._children = [c for c in self._children if c.poll() is None]
            running_pids = {job.pid for job in self.store.jobs(limit=500) if job.state == RUNNING}
            starting = [c for c in self._children if c.pid not in running_pids]
            queued, running = self.store.count(QUEUED), self.store.count(RUNNING)
            wanted = min(queued, self.max_running - running) - len(starting)
            for _ in range(max(0, wanted)):
                self._children.append(launch_worker(self.store.path))
            if self._watcher is None or not self._watcher.is_alive():
                self._watcher = threading.Thread(target=self._watch, name="clusterlens-jobs",
                                                 daemon=True)
                self._watcher.start()

    def _watch(self) -> None:
        """While jobs are active, kick every few seconds (a worker may die, a queued
        job may wait for a free slot); then stop until the next submit."""
        stop = threading.Event()
        while not stop.wait(WATCH_EVERY_S):
            try:
                if self.store.count(*ACTIVE) == 0:
                    return
                self.kick()
            except Exception as exc:  # noqa: BLE001 - the next submit starts a new watch
                LOG.warning("job supervisor stopped watching: %s", exc)
                return


_SUPERVISORS: dict[Path, Supervisor] = {}
_LOCK = threading.Lock()


def supervisor(db_path: str | os.PathLike | None = None) -> Supervisor:
    """This process' supervisor of the table at ``db_path`` (made, and kicked once to
    recover what a previous server left, on first use)."""
    path = Path(db_path) if db_path else default_db_path()
    with _LOCK:
        found = _SUPERVISORS.get(path)
        if found is None:
            found = _SUPERVISORS[path] = Supervisor(JobStore(path))
            found.kick()
    return found
