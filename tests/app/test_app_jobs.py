"""Features as a background job: queued and running text, the result with no button after a
reload, one job for the same work, cancel only one's own, a failure in words."""

from __future__ import annotations

import pytest

from clustering.cache import default_cache_dir
from clustering.jobs import supervisor, work, worker
from clustering.jobs.store import CANCELLED, DONE, QUEUED, JobStore
from clustering.export.run_folder import write_run
from clustering.pipeline import run_pipeline
from clustering.settings import Settings
from dashboard import jobs, persist, state
from dashboard.roots import ROOTS_ENV
from tests.app.app_helpers import (button, charts, coloured_uploads, messages, new_app,
                                   no_traceback, upload)
from tests.app.conftest import Finished
from tests.app.test_app_persist import reloaded
from tests.helpers import COLOURS, save_image


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs wait in the queue until the test runs a worker itself."""
    monkeypatch.setattr(supervisor, "launch_worker", lambda path: Finished())
    monkeypatch.setattr(supervisor.Supervisor, "_watch", lambda self: None)


def store() -> JobStore:
    return JobStore(default_cache_dir() / "jobs.sqlite3")


def run_pressed(at):
    at.switch_page("pages/features.py").run()
    at.selectbox(key="_w_model").set_value("handcrafted").run()
    return button(at, "Run").click().run()


def demo_session():
    at = new_app()
    return button(at, "Use the demo set").click().run()


def infos(at) -> str:
    return " ".join(messages(at, "info"))


def test_queued_then_the_result_appears_after_a_reload_with_no_button():
    first = run_pressed(upload(new_app(), coloured_uploads(2)))
    second = run_pressed(upload(new_app(), coloured_uploads(3)))
    no_traceback(first)
    assert "Extracting features: queued, next to start" in infos(first)
    assert "Extracting features: queued, 1 ahead of you" in infos(second)
    assert "run" not in first.session_state

    assert worker.run_worker(store(), max_running=1) == 2
    again = reloaded(first)  # the tab was closed; the same address opened later
    no_traceback(again)
    assert again.session_state[state.RUN].features.computed == 6  # by the job, as it says
    assert len(again.session_state[state.RUN].features.names) == 6
    again.switch_page("pages/clusters.py").run()
    no_traceback(again)
    assert not any("Nothing to show yet" in m for m in messages(again, "info"))


def test_the_same_work_is_one_job_and_only_its_owner_may_cancel():
    mine, theirs = run_pressed(demo_session()), run_pressed(demo_session())
    [job] = store().jobs()
    assert job.state == QUEUED
    assert mine.session_state[jobs.PENDING] == theirs.session_state[jobs.PENDING]
    assert not [b for b in theirs.button if b.label == "Cancel"]  # not theirs to cancel
    button(mine, "Cancel").click().run()
    no_traceback(mine)
    assert store().get(job.id).state == CANCELLED
    assert any("Cancelled" in m for m in messages(mine, "info"))


def test_a_reload_while_running_shows_progress_and_the_owner_can_still_cancel():
    at = run_pressed(demo_session())
    job = store().claim(pid=1, max_running=1)
    store().progress(job.id, 12, 55, 9.8)
    again = reloaded(at)
    no_traceback(again)
    assert "running: 12 / 55 images, 9.8 images/s, about 4 s left" in infos(again)
    assert again.session_state[jobs.OWNER] == at.session_state[jobs.OWNER]
    button(again, "Cancel").click().run()
    assert store().get(job.id).cancel


def test_a_failed_job_shows_the_usual_advice(monkeypatch):
    def broken(inputs, progress, results):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(work.KINDS, work.FEATURES, broken)
    at = run_pressed(demo_session())
    worker.run_worker(store(), max_running=1)
    at.run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "Something unexpected went wrong while extracting features" in error
    assert "RuntimeError: disk on fire" in error
    assert store().jobs()[0].state != DONE


def test_the_session_record_keeps_the_job_and_owner():
    at = run_pressed(demo_session())
    record = persist.store().load(at.query_params[persist.QUERY_KEY])
    assert record["jobs"]["owner"] == at.session_state[jobs.OWNER]
    assert record["jobs"]["pending"]["features"]["id"] == store().jobs()[0].id


def test_the_duplicate_scan_is_a_job_and_a_failure_is_not_retried_by_itself(monkeypatch):
    at = demo_session()
    at.switch_page("pages/duplicates_quality.py").run()
    no_traceback(at)
    assert "Hashing the images and scoring their quality: queued" in infos(at)
    assert not at.subheader  # nothing drawn before the scan ends

    real = work.KINDS[work.SCAN]
    monkeypatch.setitem(work.KINDS, work.SCAN, lambda *args: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    worker.run_worker(store(), max_running=1)
    at.run()
    assert any("No space left on device" in e for e in messages(at, "error"))
    at.run()  # shown again, not asked again
    assert [j.state for j in store().jobs()] == ["failed"]

    monkeypatch.setitem(work.KINDS, work.SCAN, real)
    button(at, "Try again").click().run()
    worker.run_worker(store(), max_running=1)
    at.run()
    no_traceback(at)
    assert [s.value for s in at.subheader][:1] == ["Duplicates"]


def test_a_tsne_map_is_a_job_and_the_pca_map_shows_until_it_ends():
    at = run_pressed(upload(new_app(), coloured_uploads(2)))
    worker.run_worker(store(), max_running=1)
    at.switch_page("pages/clusters.py").run()
    at.button_group(key="_w_map_method").set_value("tsne").run()
    no_traceback(at)
    assert "Drawing the t-SNE map (the PCA map is shown until it is ready): queued" in infos(at)
    [scatter] = charts(at).values()
    assert scatter["layout"]["xaxis"]["title"]["text"] == "PCA 1"

    worker.run_worker(store(), max_running=1)
    at.run()
    no_traceback(at)
    [scatter] = charts(at).values()
    assert scatter["layout"]["xaxis"]["title"]["text"] == "TSNE 1"
    assert [j.kind for j in store().jobs()] == ["map", "features"]


def test_reopening_a_run_whose_features_are_not_cached_is_a_job(tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    for g, colour in enumerate(COLOURS.values()):
        for i in range(3):
            save_image(folder / f"{g}_{i}.png", colour, seed=10 * g + i)
    result = run_pipeline(folder, Settings(model="handcrafted", k=3,
                                           cache_dir=str(tmp_path / "elsewhere")))
    write_run(result, tmp_path / "run", {0: "alpha", 1: "beta", 2: "gamma"})
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = new_app()
    at.text_input(key="reopen_path").set_value(str(tmp_path / "run"))
    button(at, "Reopen this run").click().run()
    no_traceback(at)
    assert any("being extracted in the background" in m for m in messages(at, "success"))
    assert "run" not in at.session_state

    worker.run_worker(store(), max_running=1)
    at.run()
    no_traceback(at)
    assert any("Reopened saved run" in m and "k = 3" in m for m in messages(at, "success"))
    assert at.session_state[state.K] == 3
    assert set(at.session_state[state.NAMES].names.values()) == {"alpha", "beta", "gamma"}
