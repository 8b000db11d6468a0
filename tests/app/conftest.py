"""What every AppTest starts with: empty Streamlit caches, and background jobs run at
once in the test's own thread.

Streamlit's caches are process-wide, so each test starts with empty ones. The job code
is the real one (claim, run, record); only the worker process is skipped, so a page that
submits a job finds it done within the same run (tests/jobs and tests/e2e start real
worker processes). A test outside tests/app that drives a page imports both fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

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


@pytest.fixture(autouse=True)
def fresh_streamlit() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
