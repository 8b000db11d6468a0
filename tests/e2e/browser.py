"""Browser helpers for the end-to-end tests (Playwright, sync API)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

SLOW_MS = 180_000  # feature extraction in a cold server (TensorFlow start, model build)


def wait_idle(page: Page, timeout: float = SLOW_MS) -> None:
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_timeout(300)
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=timeout)
    page.wait_for_timeout(300)


def open_page(page: Page, title: str) -> None:
    """Click ``title`` in the sidebar navigation."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    heading = page.get_by_role("heading", name=title, exact=True, level=1)
    expect(heading.first).to_be_visible(timeout=SLOW_MS)
    wait_idle(page)
    # While a page reruns, Streamlit keeps its old elements beside the new ones (two
    # headings for a few seconds on a slow CPU); they are gone once the run ends.
    expect(heading).to_have_count(1, timeout=SLOW_MS)


def upload(page: Page, paths: list[Path]) -> None:
    """Put files in the Data page's first uploader (images or zips)."""
    page.get_by_test_id("stFileUploader").first.locator("input[type=file]").set_input_files(
        [str(p) for p in paths])
    wait_idle(page)


def extract_offline(page: Page) -> None:
    """On the Features page, run the offline extractor and wait for the result."""
    extract_with(page, "Offline extractor")


def extract_with(page: Page, option: str) -> None:
    """On the Features page, run the extractor whose option contains ``option``; wait."""
    open_page(page, "Features")
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).click()
    wait_idle(page)
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text(re.compile(r"Done: \d+ images"))).to_be_visible(timeout=SLOW_MS)
    wait_idle(page)


def choose_option(page: Page, label: str, index: int, tries: int = 3) -> None:
    """Pick option ``index`` of the select box labelled ``label``.

    A click that lands while the page is still settling (a rerun just started) can
    close the list again; the click is then retried, a bounded number of times.
    """
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    for _ in range(tries):
        wait_idle(page)
        box.click()
        try:
            page.get_by_role("option").nth(index).click(timeout=5_000)
            wait_idle(page)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"the options of {label!r} never opened")


def box_select(page: Page, chart: Locator) -> None:
    """Drag a box over the whole plotting area of ``chart`` (selects every point), with
    the toolbar's box select tool (on the image map a plain drag zooms)."""
    chart.hover()
    chart.locator('.modebar-btn[data-val="select"]').click()
    area = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + 3, area["y"] + 3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2, steps=5)
    page.mouse.move(area["x"] + area["width"] - 3, area["y"] + area["height"] - 3, steps=5)
    page.mouse.up()
    wait_idle(page)


def download_on_click(page: Page, button: str, timeout_ms: float = 60_000) -> Path:
    """Click the download button labelled ``button``; the downloaded file's path.

    One click: a button whose data is made on click (Streamlit's deferred download)
    must not rerun the page (``on_click="ignore"``), or the answer can be lost.
    """
    with page.expect_download(timeout=timeout_ms) as download:
        page.get_by_role("button", name=button).click()
    return Path(download.value.path())
