"""Background jobs: the table, a worker, the supervisor's recovery, sharing the cache
with the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from clustering.cli import main as cli_main
from clustering.files.discover import discover
from clustering.jobs import supervisor as supervising
from clustering.jobs import work, worker
from clustering.jobs.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobStore
from clustering.pipeline import compute_features
from clustering.settings import Settings

OFFLINE = Settings(model="handcrafted")


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3")


def submit(store: JobStore, folder: Path, owner: str = "alice", kind: str = work.FEATURES,
           settings: Settings = OFFLINE):
    inputs = work.make_inputs(discover(folder).images, settings)
    return store.submit(kind, work.job_key(kind, inputs), owner, inputs)


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_same_work_is_one_job_and_other_settings_another(store, image_folder):
    first = submit(store, image_folder, "alice")
    again = submit(store, image_folder, "bob")
    assert again.id == first.id and again.owner == "alice"
    pca_only = submit(store, image_folder, "bob", settings=OFFLINE.replace(pca=5))
    assert pca_only.id == first.id  # PCA does not change the features
    other = submit(store, image_folder, "bob", settings=OFFLINE.replace(model="vgg16"))
    assert other.id != first.id
    (image_folder / "red_0.png").touch()  # a file changed: new work
    assert submit(store, image_folder, "bob").id not in (first.id, other.id)


def test_claims_respect_the_limit_and_the_order(store, image_folder, tmp_path):
    first = submit(store, image_folder)
    second = submit(store, tmp_path / "images" / "nested")
    assert store.ahead_of(second) == 1
    assert store.claim(pid=1, max_running=1).id == first.id
    assert store.claim(pid=2, max_running=1) is None  # one at a time
    assert store.get(second.id).state == QUEUED and store.ahead_of(second) == 0


def test_only_the_owner_cancels(store, image_folder):
    job = submit(store, image_folder, "alice")
    assert not store.cancel(job.id, "mallory")
    assert store.get(job.id).state == QUEUED
    assert store.cancel(job.id, "alice")
    assert store.get(job.id).state == CANCELLED


def test_a_worker_runs_the_job_and_the_command_line_reuses_its_cache(store, image_folder,
                                                                     capsys):
    job = submit(store, image_folder)
    assert worker.run_worker(store, max_running=1) == 1
    done = store.get(job.id)
    assert done.state == DONE and done.result["images"] == 12 and done.result["computed"] == 12
    assert done.done == done.total == 12
    assert done.result["engine"] == {"name": "local"}  # no Ray address configured
    again = compute_features(discover(image_folder), OFFLINE)
    assert again.computed == 0 and again.cached == 12
    assert cli_main(["cluster", str(image_folder), "--out", str(image_folder.parent / "out"),
                     "--model", "handcrafted", "--k", "3"]) == 0
    assert "12 cached" in capsys.readouterr().err
    assert submit(store, image_folder).id == job.id  # done work is not asked again


def test_a_cancel_stops_a_running_job_and_keeps_what_it_cached(store, image_folder):
    job = submit(store, image_folder)
    claimed = store.claim(pid=1, max_running=1)
    store.cancel(job.id, "alice")
    assert store.get(job.id).state == RUNNING  # stops at its next progress report
    assert worker.run_job(store, claimed) == CANCELLED
    assert "cancelled" in store.get(job.id).error


def test_a_failure_is_one_line(store, image_folder, caplog):
    job = submit(store, image_folder, settings=OFFLINE.replace(
        model="vgg16", weights=str(image_folder / "no.h5")))
    assert worker.run_worker(store, max_running=1) == 1
    failed = store.get(job.id)
    assert failed.state == FAILED and failed.error_kind == "WeightsUnavailable"
    assert "\n" not in failed.error and "no.h5" in failed.error
    assert any(f"job {job.id} (features) failed" in r.getMessage() for r in caplog.records)


def test_a_dead_workers_job_is_queued_again_then_failed_after_three_tries(store, image_folder,
                                                                          monkeypatch):
    job = submit(store, image_folder)
    launched = []
    monkeypatch.setattr(supervising, "launch_worker", lambda path: launched.append(path))
    for attempt in range(1, 4):
        store.claim(pid=dead_pid(), max_running=1)
        supervising.Supervisor(store, max_running=1).kick()
        assert store.get(job.id).state == (QUEUED if attempt < 3 else FAILED)
    assert "stopped 3 times" in store.get(job.id).error
    assert len(launched) == 2  # a worker for each time it was queued again


def test_a_restarted_server_resumes_the_job_without_recomputing(store, image_folder):
    images = discover(image_folder).images
    compute_features(discover(image_folder / "nested"), OFFLINE)  # half finished before
    job = submit(store, image_folder)
    store.claim(pid=dead_pid(), max_running=1)  # ... when the server was killed
    boss = supervising.Supervisor(store, max_running=1)
    boss.kick()  # a real worker process
    deadline = time.monotonic() + 60
    while store.get(job.id).state not in (DONE, FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
    resumed = store.get(job.id)
    assert resumed.state == DONE, resumed.error
    assert resumed.result["cached"] == 6 and resumed.result["computed"] == len(images) - 6
    assert resumed.attempts == 2
