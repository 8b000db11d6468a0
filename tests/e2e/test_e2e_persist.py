"""Work that lasts, in Chromium: a reload restores everything; a downloaded bundle reopens
in another browser session, and new images land on its map marked new."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import SLOW_MS, extract_offline, open_page, upload, wait_idle
from tests.helpers import COLOURS, save_image

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("CLUSTERLENS_SHOTS", "/tmp/clusterlens-shots"))


def coloured(folder: Path, per_colour: tuple[int, ...]) -> list[Path]:
    return [save_image(folder / f"{name}_{i}.png", colour, seed=10 * g + i)
            for g, ((name, colour), n) in enumerate(zip(COLOURS.items(), per_colour))
            for i in range(n)]


def choose_k(page: Page, k: int) -> None:
    """Click the elbow chart's point for ``k`` (the sweep starts at 2)."""
    open_page(page, "Choose k")
    page.get_by_test_id("stPlotlyChart").first.locator(".scatterlayer .point").nth(k - 2).click(
        force=True)
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"k: {k}")


def rename_shown_cluster(page: Page, name: str) -> None:
    open_page(page, "Clusters")
    box = page.get_by_label("Name of this cluster (used in the downloads)")
    box.fill(name)
    box.press("Enter")
    wait_idle(page)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_reload_brings_everything_back(app: Page, tmp_path: Path):
    upload(app, coloured(tmp_path, (7, 7, 6)))
    expect(app.get_by_text("20 images found")).to_be_visible()
    extract_offline(app)
    choose_k(app, 4)
    rename_shown_cluster(app, "Reds and more")
    assert re.search(r"[?&]session=[A-Za-z0-9_-]{40,}", app.url), app.url

    app.reload()
    expect(app.get_by_text(re.compile("Restored your saved work"))).to_be_visible(timeout=SLOW_MS)
    wait_idle(app)
    shot(app, "persist-after-reload")
    sidebar = app.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("20 from")
    expect(sidebar).to_contain_text("k: 4")
    open_page(app, "Clusters")
    expect(app.get_by_label("Name of this cluster (used in the downloads)")).to_have_value(
        "Reds and more")
    expect(app.get_by_test_id("stMetric").first).to_contain_text("4")


def test_a_saved_bundle_reopens_in_another_session_and_takes_new_images(
        app: Page, browser: Browser, allowed_folder: Path, tmp_path: Path):
    folder = allowed_folder / f"persist-{uuid.uuid4().hex[:8]}"
    coloured(folder, (3, 3, 3))
    app.get_by_role("tab", name="Folder on this server").click()
    app.get_by_label("Folder path (or a .zip) on the server").fill(str(folder))
    app.get_by_role("button", name="Use this folder").click()
    wait_idle(app)
    expect(app.get_by_text("9 images found")).to_be_visible()
    extract_offline(app)
    choose_k(app, 3)
    rename_shown_cluster(app, "Saved name")
    open_page(app, "Data")
    with app.expect_download() as download:
        app.get_by_role("button", name="Save (download a bundle)").click()
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    assert 0 < bundle.stat().st_size < 200_000

    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    try:
        other = context.new_page()
        other.goto(app.url.split("?")[0].rsplit("/", 1)[0] + "/")
        expect(other.get_by_role("heading", name="Data")).to_be_visible(timeout=60_000)
        wait_idle(other)
        other.get_by_test_id("stFileUploader").filter(has_text="A bundle saved here").locator(
            "input[type=file]").set_input_files(str(bundle))
        wait_idle(other)
        # Reopening and placing are background jobs: the page shows their result when
        # it next polls, after the worker process has started (seconds on a slow CPU).
        expect(other.get_by_text(re.compile(r"Reopened the bundle bundle\.zip: 9 images, "
                                            r"features ready in \d+\.\d s"))).to_be_visible(
            timeout=SLOW_MS)
        expect(other.get_by_test_id("stSidebar")).to_contain_text("k: 3")

        new = [save_image(tmp_path / "new" / "red_new.png", COLOURS["red"], seed=777),
               folder / "green_0.png"]  # one new image, one that the run already holds
        other.get_by_test_id("stFileUploader").filter(
            has_text="Images, or .zip archives of images").last.locator(
            "input[type=file]").set_input_files([str(p) for p in new])
        wait_idle(other)
        other.get_by_role("button", name="Place these images").click()
        wait_idle(other)
        expect(other.get_by_text(re.compile(r"2 images placed: 1 new"))).to_be_visible(
            timeout=SLOW_MS)
        expect(other.get_by_text("NEW · red_new.png")).to_be_visible()
        expect(other.get_by_text("already in the run · green_0.png")).to_be_visible()
        other.get_by_test_id("stPlotlyChart").last.scroll_into_view_if_needed()
        legend = other.locator(".legendtext")
        expect(legend.filter(has_text=re.compile(r"^new(, unsure)? \(1\)$"))).to_have_count(1)
        expect(legend.filter(has_text="already in the run (1)")).to_have_count(1)
        shot(other, "persist-added-images")

        open_page(other, "Clusters")
        expect(other.get_by_label("Name of this cluster (used in the downloads)")).to_have_value(
            "Saved name")
        added_map = other.locator(".st-key-added_map")
        added_map.scroll_into_view_if_needed()
        expect(added_map.locator(".legendtext").filter(
            has_text=re.compile(r"^new(, unsure)? \(1\)$"))).to_have_count(1)
        expect(added_map.locator(".scatterlayer .trace").last.locator(".point")).to_have_count(1)
        shot(other, "persist-reopened-clusters")
    finally:
        context.close()
