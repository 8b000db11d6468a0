"""The Clusters page in Chromium on the demo set: open a cluster from the overview, hover
the map (image shown), select on it, and open the downloaded HTML report from disk.

Set CLUSTERLENS_SCREENSHOTS=DIR to keep the overview, map and report screenshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboard.map_view import TOOLTIP_ID
from tests.e2e.browser import box_select, extract_offline, open_page, wait_idle

pytestmark = pytest.mark.e2e

ALL_DECODED = "[...document.images].every(i => i.complete && i.naturalWidth > 0)"


def test_overview_map_hover_selection_and_report(app: Page, tmp_path: Path):
    shots = Path(os.environ.get("CLUSTERLENS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    app.get_by_role("button", name="Use the demo set").click()
    wait_idle(app)
    extract_offline(app)
    open_page(app, "Clusters")
    expect(app.get_by_test_id("stException")).to_have_count(0)

    first_card = app.locator(".st-key-overview_0")
    expect(first_card.get_by_test_id("stImage").first).to_be_visible()
    cards = app.locator(".st-key-overview_0, .st-key-overview_1, .st-key-overview_2")
    top, bottom = cards.first.bounding_box(), cards.last.bounding_box()
    app.screenshot(path=str(shots / "overview.png"), clip={
        "x": top["x"], "y": top["y"], "width": top["width"],
        "height": bottom["y"] + bottom["height"] - top["y"]})
    size = int(re.search(r"(\d+) images", first_card.inner_text()).group(1))
    first_card.get_by_role("button", name="Open").click()
    dialog = app.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("stImage")).to_have_count(min(size, 24))
    app.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    wait_idle(app)

    chart = app.locator(".st-key-image_map").get_by_test_id("stPlotlyChart")
    chart.scroll_into_view_if_needed()
    point = chart.locator(".scatterlayer .point").first
    expect(point).to_be_visible()
    box = point.bounding_box()
    app.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = app.locator(f"#{TOOLTIP_ID}")
    expect(tip).to_be_visible(timeout=10_000)
    expect(tip.locator("img")).to_have_count(1, timeout=10_000)  # fetched on hover
    assert tip.locator("img").evaluate("i => i.naturalWidth") > 0
    frame = chart.bounding_box()
    app.screenshot(path=str(shots / "map.png"), clip={
        "x": frame["x"], "y": frame["y"], "width": frame["width"], "height": frame["height"]})

    box_select(app, chart)
    expect(app.get_by_text(re.compile(r"\d+ images selected"))).to_be_visible()

    with app.expect_download() as download:
        app.get_by_role("button", name="Report (HTML)").click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    errors: list[str] = []
    viewer = app.context.new_page()
    viewer.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    viewer.on("pageerror", lambda e: errors.append(str(e)))
    viewer.on("request", lambda r: errors.append(f"request to {r.url}")
              if not r.url.startswith(("file:", "data:")) else None)
    viewer.goto(report.as_uri())
    viewer.wait_for_load_state("load")
    assert viewer.locator("img").count() > 8
    assert viewer.evaluate(ALL_DECODED)
    viewer.screenshot(path=str(shots / "report.png"))
    viewer.close()
    assert errors == []
