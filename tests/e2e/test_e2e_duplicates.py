"""Duplicates & quality and Evaluate in a real headless Chromium: upload images with a
mirrored copy, a smaller copy and a blank image, download the remove list; score the
demo set against its labels. Screenshots go to CLUSTERLENS_SCREENSHOTS (or a temp dir)."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from playwright.sync_api import Page, expect

from tests.e2e.browser import SLOW_MS, extract_offline, open_page, upload, wait_idle
from tests.app.test_app_duplicates_quality import photo

pytestmark = pytest.mark.e2e


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLUSTERLENS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_duplicates_page_and_remove_list_download(app: Page, tmp_path: Path):
    files = []
    for i in range(6):
        files.append(tmp_path / f"photo_{i}.png")
        photo(i).save(files[-1])
    ImageOps.mirror(photo(0)).save(tmp_path / "mirrored.png")
    photo(1).resize((80, 60)).save(tmp_path / "small.png")
    Image.new("RGB", (160, 120), (128, 128, 128)).save(tmp_path / "blank.png")
    files += [tmp_path / n for n in ("mirrored.png", "small.png", "blank.png")]
    upload(app, files)
    expect(app.get_by_text("9 images found")).to_be_visible()
    extract_offline(app)

    open_page(app, "Duplicates & quality")
    # The scan is a background job: its result shows when the page next polls.
    expect(app.get_by_text(re.compile(r"2 groups"))).to_be_visible(timeout=SLOW_MS)
    expect(app.get_by_text("features of the current run", exact=False)).to_be_visible()
    expect(app.get_by_test_id("stException")).to_have_count(0)
    expect(app.get_by_test_id("stAlertContentError")).to_have_count(0)
    app.screenshot(path=str(shots(tmp_path) / "duplicates.png"), full_page=True)

    # A copy side by side with its keeper: aligned, the difference, the reason.
    app.get_by_role("button", name="Compare").last.click()
    dialog = app.get_by_role("dialog")
    expect(dialog.get_by_text("this copy is smaller", exact=False)).to_be_visible()
    expect(dialog.get_by_test_id("stImage")).to_have_count(3)
    expect(dialog.get_by_text("Where they differ, in red", exact=False)).to_be_visible()
    expect(dialog.get_by_test_id("stImage").nth(2).locator("img")).to_be_visible()
    app.screenshot(path=str(shots(tmp_path) / "side-by-side.png"))
    app.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    wait_idle(app)

    with app.expect_download() as download:
        app.get_by_role("button", name="Remove list (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted((r["file"], r["reason"]) for r in rows) == [
        ("mirrored.png", "mirror of photo_0.png"), ("small.png", "resize of photo_1.png")]

    # Keep the smaller copy too: it leaves the remove list.
    app.get_by_test_id("stCheckbox").filter(has_text="Keep").nth(3).click()
    wait_idle(app)
    with app.expect_download() as download:
        app.get_by_role("button", name="Remove list (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [r["file"] for r in rows] == ["mirrored.png"]


def test_evaluate_the_demo_set_against_its_labels(app: Page, tmp_path: Path):
    app.get_by_role("button", name="Use the demo set").click()
    wait_idle(app)
    expect(app.get_by_text(re.compile(r"\d+ images found"))).to_be_visible()
    extract_offline(app)
    open_page(app, "Evaluate")
    app.get_by_role("button", name="Use the demo set's labels").click()
    wait_idle(app)
    expect(app.get_by_test_id("stMetric").filter(has_text="ARI")).to_be_visible()
    expect(app.get_by_text(re.compile(r"Best k by ARI"))).to_be_visible()
    expect(app.get_by_test_id("stAlertContentError")).to_have_count(0)
    app.screenshot(path=str(shots(tmp_path) / "evaluate.png"), full_page=True)
