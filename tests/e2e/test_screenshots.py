"""A screenshot of every page on the demo set (offline extractor), with no error shown.

Set CLUSTERLENS_SCREENSHOTS=DIR to keep the PNGs (they go to a temporary folder
otherwise); docs/screenshots/ holds the ones picked for the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import extract_offline, open_page, wait_idle

pytestmark = pytest.mark.e2e


def shoot(page: Page, folder: Path, name: str) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_every_page_on_the_demo_set(app: Page, tmp_path: Path):
    folder = Path(os.environ.get("CLUSTERLENS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    app.get_by_role("button", name="Use the demo set").click()
    wait_idle(app)
    expect(app.get_by_text(re.compile(r"\d+ images found"))).to_be_visible()
    shoot(app, folder, "1-data")

    extract_offline(app)
    shoot(app, folder, "2-features")

    open_page(app, "Choose k")
    expect(app.get_by_test_id("stPlotlyChart")).to_have_count(4)
    shoot(app, folder, "3-choose-k")

    open_page(app, "Clusters")
    expect(app.get_by_test_id("stImage").first).to_be_visible()
    app.get_by_label("Name of this cluster (used in the downloads)").fill("Green leaves")
    app.keyboard.press("Enter")
    wait_idle(app)
    expect(app.get_by_text("Green leaves").first).to_be_visible()  # the overview's card
    shoot(app, folder, "4-clusters")
    assert len(list(folder.glob("*.png"))) >= 4
