"""Jobs in Chromium against a real server: Run on Features, close the page at once, open the
same address later: progress, then the clusters, with no click on Run. A second user's
job waits ("queued") while the first runs (CLUSTERLENS_MAX_JOBS=1), then ends too."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from clustering.jobs.store import DONE, JobStore
from tests.e2e.browser import SLOW_MS, open_page, wait_idle
from tests.e2e.conftest import dashboard_server
from tests.e2e.test_e2e_persist import coloured, shot

pytestmark = pytest.mark.e2e
SLOW = Path(__file__).parent / "slow"
ROOT = Path(__file__).resolve().parents[2]
PER_IMAGE_S = 0.35  # test-only slow-down (tests/e2e/slow/sitecustomize.py): 12 images ~ 4 s


@pytest.fixture()
def slow_server(tmp_path: Path, allowed_folder: Path) -> Iterator[tuple[str, Path]]:
    """A server whose jobs take ~0.35 s an image, one job at a time; yields (url, home)."""
    env = {"CLUSTERLENS_TEST_SLOW_S": str(PER_IMAGE_S), "CLUSTERLENS_MAX_JOBS": "1",
           "PYTHONPATH": f"{SLOW}:{ROOT}"}
    with dashboard_server(tmp_path, allowed_folder, env=env) as url:
        yield url, tmp_path


def open_folder(page: Page, url: str, folder: Path) -> None:
    """Open ``folder`` in a new session and pick the offline extractor (Run not pressed)."""
    page.goto(url)
    expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_role("tab", name="Folder on this server").click()
    page.get_by_label("Folder path (or a .zip) on the server").fill(str(folder))
    page.get_by_role("button", name="Use this folder").click()
    wait_idle(page)
    open_page(page, "Features")
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=re.compile("Offline extractor")).click()
    wait_idle(page)


def wait_for(store: JobStore, state: str, count: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while sum(j.state == state for j in store.jobs()) < count:
        assert time.monotonic() < deadline, [(j.id, j.state, j.error) for j in store.jobs()]
        time.sleep(0.3)


def test_a_job_outlives_its_page_and_a_second_user_waits(slow_server, browser: Browser,
                                                          allowed_folder: Path):
    url, home = slow_server
    mine = allowed_folder / f"jobs-{uuid.uuid4().hex[:8]}"
    theirs = allowed_folder / f"jobs-{uuid.uuid4().hex[:8]}"
    coloured(mine, (4, 4, 4))
    coloured(theirs, (3, 3, 3))

    # Both pages are ready before the first Run, so that the second Run comes while the
    # first job (~4 s) still runs, however slow the machine is at opening pages.
    other = browser.new_context(viewport={"width": 1280, "height": 2000})
    second = other.new_page()
    open_folder(second, url, theirs)
    first = browser.new_context(viewport={"width": 1280, "height": 2000})
    page = first.new_page()
    open_folder(page, url, mine)
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text(re.compile(r"Extracting features: (queued|running)"))).to_be_visible(
        timeout=30_000)
    address = page.url
    first.close()  # within a few seconds of Run: the tab is gone

    second.get_by_role("button", name="Run").click()
    expect(second.get_by_text("Extracting features: queued, next to start")).to_be_visible(
        timeout=30_000)
    shot(second, "jobs-queued")

    store = JobStore(home / "cache" / "jobs.sqlite3")
    wait_for(store, DONE, 1)  # the first job ended with no page open
    later = browser.new_context(viewport={"width": 1280, "height": 2000})
    back = later.new_page()
    back.goto(address)
    expect(back.get_by_text(re.compile("Restored your saved work"))).to_be_visible(
        timeout=SLOW_MS)
    wait_idle(back)
    open_page(back, "Clusters")
    expect(back.get_by_text("Every cluster at a glance")).to_be_visible(timeout=SLOW_MS)
    expect(back.get_by_test_id("stMetric").nth(1)).to_contain_text("12")
    open_page(back, "Features")
    shot(back, "jobs-result-after-return")

    # The second user's job started when the first ended; its page shows the result
    # by itself (the progress redraws every second and reruns the app at the end).
    expect(second.get_by_text(re.compile(r"Done: 9 images"))).to_be_visible(timeout=SLOW_MS)
    assert [j.state for j in store.jobs()] == [DONE, DONE]
    for context in (other, later):
        context.close()
