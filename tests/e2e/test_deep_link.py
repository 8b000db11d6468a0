"""A deep link works as the very first request to a fresh server, and afterwards."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import SLOW_MS, wait_idle

pytestmark = pytest.mark.e2e


def _in_the_router(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", name=title, exact=True, level=1)).to_be_visible(
        timeout=SLOW_MS)
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    # The router's page titles, not the legacy runner's list of file names.
    expect(nav.get_by_role("link", name="Duplicates & quality", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="duplicates quality", exact=True)).to_have_count(0)
    expect(page.get_by_text("Images: none chosen yet")).to_be_visible()  # the router's status


def test_a_deep_link_as_the_first_request_lands_in_the_router(page: Page,
                                                              fresh_server: str) -> None:
    page.goto(f"{fresh_server}/features")
    _in_the_router(page, "Features")
    page.goto(f"{fresh_server}/clusters")
    _in_the_router(page, "Clusters")
