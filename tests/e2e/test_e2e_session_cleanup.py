"""A real server and real browser sessions: a closed session's uploads are deleted, what a
crashed server left is removed at start, and a file name is never rendered as Markdown."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.app.app_helpers import png
from tests.e2e.browser import upload, wait_idle
from tests.e2e.conftest import dashboard_server

pytestmark = pytest.mark.e2e
GONE_WITHIN_S = 30


def open_with_upload(browser: Browser, url: str, image: Path, requests: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=60_000)
    upload(page, [image])
    expect(page.get_by_text("1 images found")).to_be_visible(timeout=60_000)
    wait_idle(page)
    return context, page


def test_closed_sessions_lose_their_uploads_and_names_stay_text(browser: Browser, tmp_path,
                                                                 allowed_folder, monkeypatch):
    uploads = tmp_path / "uploads"
    crashed = uploads / "left-by-a-crashed-server"
    crashed.mkdir(parents=True)
    (crashed / "private.png").write_bytes(png((1, 2, 3), 0))
    os.utime(crashed, (0, 0))  # untouched since 1970
    monkeypatch.setenv("CLUSTERLENS_UPLOAD_DIR", str(uploads))
    monkeypatch.setenv("CLUSTERLENS_SESSION_GRACE_S", "1")
    image = tmp_path / "![x](tracker.png).png"  # as Markdown: fetch /tracker.png
    image.write_bytes(png((200, 40, 40), 1))
    (tmp_path / "server").mkdir()
    requests: list[str] = []
    with dashboard_server(tmp_path / "server", allowed_folder) as url:
        mine, page = open_with_upload(browser, url, image, requests)
        page.screenshot(path=str(tmp_path / "data-page-name.png"), full_page=True)
        expect(page.get_by_test_id("stImageCaption").first).to_have_text(image.name)
        assert not [u for u in requests if "tracker.png" in u]
        assert not crashed.exists()
        [folder] = list(uploads.iterdir())
        assert [p.name for p in folder.rglob("*.png")] == [image.name]

        theirs, _ = open_with_upload(browser, url, image, [])
        [other] = [f for f in uploads.iterdir() if f != folder]
        mine.close()  # the tab is closed: its websocket goes, the session ends
        deadline = time.monotonic() + GONE_WITHIN_S
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not folder.exists(), "the closed session's uploads are still on disk"
        assert any(other.rglob("*.png")), "another session's uploads were deleted"
        theirs.close()
