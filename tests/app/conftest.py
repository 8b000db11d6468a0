"""AppTests run background jobs at once, in the test's own thread: the job code is the
real one (claim, run, record), only the worker process is skipped, so a page that
submits a job finds it done within the same run (tests/jobs and tests/e2e start real
worker processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustering.jobs import supervisor, worker
from clustering.jobs.store import JobStore


class Finished:
    """A worker process that has already exited."""
    pid = 0

    @staticmethod
    def poll() -> int:
        return 0


def run_inline(db_path: Path) -> Finished:
    worker.run_worker(JobStore(db_path))
    return Finished()


@pytest.fixture(autouse=True)
def jobs_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "launch_worker", run_inline)
