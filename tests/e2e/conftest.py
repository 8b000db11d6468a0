"""End-to-end fixtures: a real dashboard server and Debian's headless Chromium.

The server gets its own feature cache, a KERAS_HOME with random-weight VGG16 files
(so no download is attempted; features are labelled "custom weights"), a models
folder for keras-hub presets (empty until a test copies one in), and one allowed
server folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import wait_idle
from tests.helpers import COLOURS, save_image

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 2000},
            "accept_downloads": True}


@pytest.fixture(scope="session")
def allowed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one folder (besides the demo set) the server allows, with 3 images."""
    folder = tmp_path_factory.mktemp("allowed")
    for i, colour in enumerate(COLOURS.values()):
        save_image(folder / "shared" / f"{i}.png", colour, seed=i)
    return folder


@contextmanager
def dashboard_server(home: Path, allowed_folder: Path, script: str = "app.py",
                     env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` (or ``script``, with ``env`` added) on a free port in a new
    process; yields its URL, then stops it."""
    from clustering.testing import write_random_weights

    write_random_weights("vgg16", False, home / "keras" / "models")
    env = {**os.environ, "KERAS_HOME": str(home / "keras"),
           "CLUSTERLENS_CACHE": str(home / "cache"), "CLUSTERLENS_OFFLINE": "1",
           "CLUSTERLENS_ROOTS": str(allowed_folder), "CLUSTERLENS_MODELS": str(home / "models"),
           **(env or {})}
    port = _free_port()
    log = open(home / "server.log", "wb")  # a file, not a pipe: a full pipe would block it
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared server's folder (its models folder is ``models/`` in it)."""
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="session")
def server(server_home: Path, allowed_folder: Path) -> Iterator[str]:
    """The dashboard server shared by the browser tests."""
    with dashboard_server(server_home, allowed_folder) as url:
        yield url


@pytest.fixture()
def fresh_server(tmp_path: Path, allowed_folder: Path) -> Iterator[str]:
    """A server process no browser has visited yet (its first request is the test's)."""
    with dashboard_server(tmp_path, allowed_folder) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the dashboard server did not become healthy in time")


@pytest.fixture()
def app(page: Page, server: str) -> Page:
    """A fresh session of the dashboard, on the Data page."""
    page.goto(server)
    expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=60_000)
    wait_idle(page)
    return page
