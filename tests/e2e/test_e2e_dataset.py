"""A distributed (Ray) result opened in Chromium: map, one cluster's gallery, CSV download."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import download_on_click, wait_idle
from tests.e2e.conftest import dashboard_server
from tests.helpers import write_distributed_result

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("CLUSTERLENS_SCREENSHOTS")  # a folder to save screenshots in, if set


def test_a_distributed_result_opens_and_its_csv_downloads(page: Page, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    folder = write_distributed_result(allowed / "run", allowed / "photos", per_cluster=5)
    with dashboard_server(tmp_path / "home", allowed) as url:
        page.goto(url)
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=60_000)
        wait_idle(page)
        page.get_by_text("Open a distributed result (Ray)").click()
        page.get_by_label("Result folder on the server").fill(str(folder))
        page.get_by_role("button", name="Open this result").click()
        expect(page.get_by_role("heading", name="Distributed result", level=1)).to_be_visible(
            timeout=60_000)
        wait_idle(page)
        expect(page.locator(".js-plotly-plot")).to_have_count(1)
        expect(page.get_by_test_id("stImage")).to_have_count(5)  # cluster 0's images
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/distributed_result.png", full_page=True)
        csv = download_on_click(page, "Download labels.csv")  # made on click (deferred)
        frame = pd.read_csv(io.BytesIO(csv.read_bytes()))
        assert len(frame) == 15 and set(frame["cluster"]) == {0, 1, 2}
