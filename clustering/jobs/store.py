"""The job table: one SQLite file (``jobs.sqlite3``) in the cache folder.

Why SQLite: one file beside the feature cache, no server to start, and safe when the
dashboard's server and several worker processes read and write it at once (WAL mode
lets readers go on while one writer commits; every transaction here is short).

A job is a row: what to do (``kind`` + ``inputs``), who asked (``owner``), a ``key``
that names the work (its file listing with sizes and times, plus the settings), so two
sessions asking for the same work share one row, its state, progress and result.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustering.cache import default_cache_dir

DB_FILE = "jobs.sqlite3"
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, FAILED, CANCELLED)
BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    inputs TEXT NOT NULL,
    state TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    rate REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    error_kind TEXT,
    result TEXT,
    pid INTEGER,
    heartbeat REAL,
    cancel INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (key, state);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
"""


@dataclass
class Job:
    """One row of the job table."""

    id: int
    kind: str
    key: str
    owner: str
    inputs: dict[str, Any]
    state: str
    done: int
    total: int
    rate: float  # images (or steps) per second of new work
    created: float
    started: float | None
    finished: float | None
    error: str | None  # one line for the user
    error_kind: str | None  # the exception's class name
    result: dict[str, Any] | None
    pid: int | None
    heartbeat: float | None
    cancel: bool
    attempts: int

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate, when there is one."""
        if self.state != RUNNING or self.rate <= 0 or self.total <= self.done:
            return None
        return (self.total - self.done) / self.rate

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        values = dict(row)
        values["inputs"] = json.loads(values["inputs"])
        values["result"] = json.loads(values["result"]) if values["result"] else None
        values["cancel"] = bool(values["cancel"])
        return cls(**values)


def default_db_path() -> Path:
    """``jobs.sqlite3`` in the feature cache folder."""
    return default_cache_dir() / DB_FILE


class JobStore:
    """The job table at ``path`` (created on first use)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, taken at once (no upgrade deadlock between writers)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- asking for work ---------------------------------------------------------------

    def submit(self, kind: str, key: str, owner: str, inputs: dict[str, Any]) -> Job:
        """A job doing this work: the queued, running or done one with the same ``key``
        (shared, whoever asked first owns it), else a new queued one."""
        with self._write() as db:
            row = db.execute("SELECT * FROM jobs WHERE key = ? AND kind = ? AND state IN "
                             "(?, ?, ?) ORDER BY id DESC LIMIT 1",
                             (key, kind, QUEUED, RUNNING, DONE)).fetchone()
            if row is None:
                cursor = db.execute(
                    "INSERT INTO jobs (kind, key, owner, inputs, state, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (kind, key, owner, json.dumps(inputs), QUEUED, time.time()))
                row = db.execute("SELECT * FROM jobs WHERE id = ?",
                                 (cursor.lastrowid,)).fetchone()
        return Job.from_row(row)

    def get(self, job_id: int) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        return Job.from_row(row) if row else None

    def jobs(self, limit: int = 100) -> list[Job]:
        """The newest jobs first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Job.from_row(r) for r in rows]

    def ahead_of(self, job: Job) -> int:
        """Queued jobs that will start before ``job``."""
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE state = ? AND id < ?",
                              (QUEUED, job.id)).fetchone()[0]

    def count(self, *states: str) -> int:
        with self._connect() as db:
            marks = ", ".join("?" * len(states))
            return db.execute(f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks})",
                              states).fetchone()[0]

    def cancel(self, job_id: int, owner: str) -> bool:
        """Cancel the owner's job: a queued one at once, a running one at its next batch.
        False when the job is not ``owner``'s or already finished."""
        with self._write() as db:
            row = db.execute("SELECT state, owner FROM jobs WHERE id = ?",
                             (int(job_id),)).fetchone()
            if row is None or row["owner"] != owner or row["state"] not in ACTIVE:
                return False
            if row["state"] == QUEUED:
                db.execute("UPDATE jobs SET state = ?, finished = ?, error = ? WHERE id = ?",
                           (CANCELLED, time.time(), "cancelled before it started", job_id))
            else:
                db.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))
        return True

    # ---- doing the work (worker side) --------------------------------------------------

    def claim(self, pid: int, max_running: int) -> Job | None:
        """The oldest queued job, now running under ``pid``; None when there is none or
        ``max_running`` jobs already run."""
        with self._write() as db:
            running = db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?",
                                 (RUNNING,)).fetchone()[0]
            if running >= max_running:
                return None
            row = db.execute("SELECT id FROM jobs WHERE state = ? ORDER BY id LIMIT 1",
                             (QUEUED,)).fetchone()
            if row is None:
                return None
            now = time.time()
            db.execute("UPDATE jobs SET state = ?, pid = ?, started = ?, heartbeat = ?, "
                       "attempts = attempts + 1 WHERE id = ?",
                       (RUNNING, pid, now, now, row["id"]))
            return Job.from_row(db.execute("SELECT * FROM jobs WHERE id = ?",
                                           (row["id"],)).fetchone())

    def progress(self, job_id: int, done: int, total: int, rate: float) -> bool:
        """Record progress (and a heartbeat); True when the owner asked to cancel."""
        with self._write() as db:
            db.execute("UPDATE jobs SET done = ?, total = ?, rate = ?, heartbeat = ? "
                       "WHERE id = ?", (done, total, rate, time.time(), job_id))
            return bool(db.execute("SELECT cancel FROM jobs WHERE id = ?",
                                   (job_id,)).fetchone()[0])

    def beat(self, job_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET heartbeat = ? WHERE id = ?", (time.time(), job_id))

    def finish(self, job_id: int, state: str, result: dict[str, Any] | None = None,
               error: str | None = None, error_kind: str | None = None) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET state = ?, result = ?, error = ?, error_kind = ?, "
                       "finished = ?, heartbeat = ? WHERE id = ?",
                       (state, json.dumps(result) if result is not None else None, error,
                        error_kind, time.time(), time.time(), job_id))

    # ---- after a crash -----------------------------------------------------------------

    def requeue_stale(self, is_alive: Callable[[int | None], bool], stale_after_s: float,
                      max_attempts: int) -> list[int]:
        """Jobs "running" whose worker is gone (``is_alive(pid)`` false, or no heartbeat
        for ``stale_after_s``): queued again (the cache keeps their finished part), or
        failed with the reason after ``max_attempts`` starts. Returns their ids."""
        now = time.time()
        moved = []
        with self._write() as db:
            for row in db.execute("SELECT id, pid, heartbeat, attempts, cancel FROM jobs "
                                  "WHERE state = ?", (RUNNING,)).fetchall():
                if is_alive(row["pid"]) and now - (row["heartbeat"] or 0) < stale_after_s:
                    continue
                if row["cancel"]:
                    db.execute("UPDATE jobs SET state = ?, finished = ? WHERE id = ?",
                               (CANCELLED, now, row["id"]))
                elif row["attempts"] >= max_attempts:
                    db.execute("UPDATE jobs SET state = ?, finished = ?, error = ?, "
                               "error_kind = ? WHERE id = ?",
                               (FAILED, now, f"its worker stopped {row['attempts']} times "
                                             f"(server restarts or crashes); what it finished "
                                             f"is cached", "WorkerLost", row["id"]))
                else:
                    db.execute("UPDATE jobs SET state = ?, pid = NULL, cancel = 0 WHERE id = ?",
                               (QUEUED, row["id"]))
                moved.append(row["id"])
        return moved
