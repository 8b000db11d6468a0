"""The dashboard in a real headless Chromium: upload, extract, pick k on the chart,
galleries, map selection, CSV download; a refused folder; a corrupt upload."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import SLOW_MS, box_select, choose_option, open_page, upload, wait_idle
from tests.helpers import COLOURS, save_image

pytestmark = pytest.mark.e2e


@pytest.fixture()
def images(tmp_path: Path) -> list[Path]:
    """Two small images of each test colour."""
    return [save_image(tmp_path / f"{name}_{i}.png", colour, seed=10 * g + i)
            for g, (name, colour) in enumerate(COLOURS.items()) for i in range(2)]


def sidebar_k(page: Page) -> int:
    text = page.get_by_test_id("stSidebar").inner_text()
    return int(re.search(r"k:\s*(\d+)", text).group(1))


def test_upload_extract_choose_k_on_the_chart_browse_and_download(app: Page, images):
    upload(app, images)
    expect(app.get_by_text("6 images found")).to_be_visible()

    open_page(app, "Features")
    app.get_by_role("button", name="Run").click()
    expect(app.get_by_text(re.compile(r"Done: 6 images, suggested k = \d+"))).to_be_visible(
        timeout=SLOW_MS)
    wait_idle(app)
    expect(app.get_by_test_id("stAlertContentWarning")).to_contain_text("custom weights")

    open_page(app, "Choose k")
    before = sidebar_k(app)
    points = app.get_by_test_id("stPlotlyChart").first.locator(".scatterlayer .point")
    expect(points).to_have_count(4)  # k = 2..5 for 6 images
    target = 5 if before != 5 else 2
    points.nth(target - 2).click(force=True)
    wait_idle(app)
    expect(app.get_by_test_id("stSidebar")).to_contain_text(f"k: {target}")
    expect(app.get_by_test_id("stSlider").nth(1)).to_contain_text(str(target))

    open_page(app, "Clusters")
    expect(app.get_by_test_id("stMetric").first).to_contain_text(str(target))
    gallery = app.get_by_test_id("stImage")
    expect(gallery.first).to_be_visible()
    choose_option(app, "Show the images of", 1)
    expect(app.get_by_text(re.compile(r"most typical first"))).to_be_visible()
    expect(gallery.first).to_be_visible()

    box_select(app, app.get_by_test_id("stPlotlyChart").first)
    expect(app.get_by_text("6 images selected")).to_be_visible()

    with app.expect_download() as download:
        app.get_by_role("button", name="Labels (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(row["file"] for row in rows) == sorted(p.name for p in images)
    assert {int(row["cluster"]) for row in rows} <= set(range(target))
    assert all(row["cluster_name"] for row in rows)  # the suggested names


def test_a_folder_outside_the_allowed_roots_is_refused(app: Page, allowed_folder):
    app.get_by_role("tab", name="Folder on this server").click()
    field = app.get_by_label("Folder path (or a .zip) on the server")
    field.fill("/etc")
    field.press("Enter")
    wait_idle(app)
    app.get_by_role("button", name="Use this folder").click()
    wait_idle(app)
    expect(app.get_by_text(re.compile("outside the folders this server allows"))).to_be_visible()
    expect(app.get_by_text("No images chosen yet.")).to_be_visible()

    field.fill(str(allowed_folder / "shared"))
    field.press("Enter")
    wait_idle(app)
    app.get_by_role("button", name="Use this folder").click()
    wait_idle(app)
    expect(app.get_by_text("3 images found")).to_be_visible()


def test_a_corrupt_upload_is_listed_with_its_reason(app: Page, images, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg at all")
    upload(app, images[:3] + [broken])
    expect(app.get_by_text("3 images found")).to_be_visible()
    expect(app.get_by_text("1 files skipped")).to_be_visible()
    table = app.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    expect(table).to_contain_text("broken.jpg")
