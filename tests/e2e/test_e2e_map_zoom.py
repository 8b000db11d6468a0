"""The image map in Chromium on 2,000 points: thumbnails follow a zoom (every point in a
view of ~100 drawn as its image), a double-click goes back to the overview, and hovering
any point shows its image.

The map is served alone (bench/_image_map_app.py: precomputed points, 40 small JPEGs
shared by them), so no features need extracting. Set CLUSTERLENS_SCREENSHOTS=DIR to keep
the zoomed map's screenshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from dashboard.map_view import TOOLTIP_ID
from tests.e2e.conftest import ROOT, dashboard_server

pytestmark = pytest.mark.e2e

POINTS = 2000
CHART = ".st-key-bench_map .js-plotly-plot"
IMAGES = f"{CHART} .layer-above .imagelayer image"
# Every point's position (data -> page pixels) from the drawn chart.
POSITIONS = f"""() => {{
  const gd = document.querySelector('{CHART}'), xa = gd._fullLayout.xaxis,
        ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect(), out = [];
  for (const t of gd._fullData) {{
    if (!t.customdata) continue;
    for (let i = 0; i < t.x.length; i++)
      out.push([Number(t.customdata[i]), t.x[i], t.y[i], box.left + xa._offset + xa.l2p(t.x[i]),
                box.top + ya._offset + ya.l2p(t.y[i])]);
  }}
  return out;
}}"""


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("map")
    rng = np.random.default_rng(0)
    for i in range(40):
        pixels = np.zeros((48, 64, 3), np.uint8) + rng.integers(0, 255, 3).astype(np.uint8)
        pixels[12:36, 16:48] = 255 - pixels[0, 0]
        Image.fromarray(pixels).save(home / f"img_{i:02d}.jpg")
    with dashboard_server(home, home, "bench/_image_map_app.py", {
            "PYTHONPATH": str(ROOT), "CLUSTERLENS_MAP_POINTS": str(POINTS),
            "CLUSTERLENS_MAP_IMAGES": str(home)}) as url:
        yield url


def token(page: Page) -> str:
    return page.locator(CHART).get_attribute("data-view-token") or ""


def wait_new_view(page: Page, before: str) -> None:
    expect(page.locator(CHART)).not_to_have_attribute("data-view-token", before or "-",
                                                      timeout=30_000)


def test_thumbnails_follow_the_zoom_and_hover_shows_any_image(page: Page, map_server: str,
                                                             tmp_path: Path):
    page.goto(map_server)
    expect(page.locator(IMAGES).first).to_be_attached(timeout=60_000)
    overview = page.locator(IMAGES).count()
    assert 100 < overview <= 300  # a spread sample of the 2,000 points

    points = np.array(page.evaluate(POSITIONS))
    assert len(points) == POINTS
    # a square around the densest cluster's middle point holding about 100 points
    centre = points[np.argmin(np.abs(points[:, 1] - np.median(points[:, 1]))
                              + np.abs(points[:, 2] - np.median(points[:, 2]))), 1:3]
    half = np.sort(np.max(np.abs(points[:, 1:3] - centre), axis=1))[99]
    inside = int((np.max(np.abs(points[:, 1:3] - centre), axis=1) <= half).sum())
    before = token(page)
    page.evaluate(f"""Plotly.relayout(document.querySelector('{CHART}'), {{
        'xaxis.range': [{centre[0] - half}, {centre[0] + half}],
        'yaxis.range': [{centre[1] - half}, {centre[1] + half}]}})""")
    wait_new_view(page, before)
    assert page.locator(IMAGES).count() == inside and 95 <= inside <= 105
    shots = Path(os.environ.get("CLUSTERLENS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.locator(CHART).screenshot(path=str(shots / "map-zoomed.png"))

    # hover: any point shows its own image, fetched when hovered
    page.mouse.move(10, 10)
    points = np.array(page.evaluate(POSITIONS))
    near = points[np.argmin(np.abs(points[:, 1] - centre[0]) + np.abs(points[:, 2] - centre[1]))]
    page.mouse.move(near[3], near[4])
    tip = page.locator(f"#{TOOLTIP_ID}")
    expect(tip.locator("img")).to_have_count(1, timeout=15_000)
    assert tip.locator("img").evaluate("i => i.naturalWidth") > 0

    # a double-click resets the view: the overview's thumbnails again
    before = token(page)
    area = page.locator(f"{CHART} .nsewdrag").first.bounding_box()
    page.mouse.dblclick(area["x"] + 5, area["y"] + 5)
    wait_new_view(page, before)
    expect(page.locator(IMAGES)).to_have_count(overview)
