"""A text search in Chromium: the demo set with a tiny random CLIP preset from the server's
models folder, "a cat" typed on the Clusters page, matches shown and ringed on the map.

Set CLUSTERLENS_SCREENSHOTS=DIR to keep the screenshots (Features page, search).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import extract_with, open_page, wait_idle

pytestmark = pytest.mark.e2e


def test_search_by_text_on_a_clip_run(app: Page, server_home: Path, hub_preset, tmp_path):
    shots = Path(os.environ.get("CLUSTERLENS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    models = server_home / "models"
    if not (models / "clip_tiny").is_dir():
        shutil.copytree(hub_preset("clip"), models / "clip_tiny")
    app.get_by_role("button", name="Use the demo set").click()
    wait_idle(app)
    extract_with(app, "clip_tiny")
    app.screenshot(path=str(shots / "features_preset.png"))
    open_page(app, "Clusters")
    expect(app.get_by_test_id("stException")).to_have_count(0)

    box = app.get_by_label("Describe what you are looking for")
    box.fill("a cat")
    box.press("Enter")
    wait_idle(app)
    expect(app.get_by_text(re.compile(r"Matches 1–\d+ of \d+ for “a cat”"))).to_be_visible()
    expect(app.get_by_text(re.compile(r"score -?\d\.\d{3}")).first).to_be_visible()
    chart = app.locator(".st-key-image_map").get_by_test_id("stPlotlyChart")
    chart.scroll_into_view_if_needed()
    expect(chart.get_by_text("text matches")).to_be_visible()
    expect(app.get_by_test_id("stException")).to_have_count(0)
    heading = app.get_by_role("heading", name="Find images by text")
    heading.scroll_into_view_if_needed()
    top, frame = heading.bounding_box(), chart.bounding_box()
    app.screenshot(path=str(shots / "text_search.png"), clip={
        "x": frame["x"], "y": top["y"], "width": frame["width"],
        "height": frame["y"] + frame["height"] - top["y"]})
