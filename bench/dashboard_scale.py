"""Is the dashboard responsive on a real-sized photo library?

Generates folders of 800x600 JPEG photos (varied content from ``make_photo``, one in
twenty with a near-duplicate: mirrored, resized or re-encoded) under ``bench/data/``,
starts the dashboard on a free port with that folder allowed (``CLUSTERLENS_ROOTS``)
and its own cache folder, and drives it in Debian's headless Chromium: open the folder
on the Data page, extract with the offline extractor, then open every page. Reports,
per page, the seconds until it is ready (no "running" indicator, its heading drawn),
cold (first visit, computing) and warm (a second visit), and the server's memory
(RSS of the streamlit process and its children, peak while sampling).

    PYTHONPATH=. nice -n 5 .venv/bin/python -m bench.dashboard_scale --images 10000
    PYTHONPATH=. nice -n 5 .venv/bin/python -m bench.dashboard_scale --images 10000,50000
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageOps

from bench._common import DATA, load_average, photo_folder, table, write_results

SIZE = (800, 600)
COPY_EVERY = 20  # one photo in this many also has a near-duplicate
PAGES = ["Choose k", "Clusters", "Duplicates & quality", "Evaluate", "Data", "Features"]
SETTLE_MS = 150  # wait after a click before looking for the end of the run it started
SLOW_MS = 1_800_000  # a cold computation at 50,000 images
TARGETS_10K = {"Duplicates & quality": (30.0, 3.0)}  # cold, warm seconds
OTHER_PAGE_S, SERVER_GB = 3.0, 2.0


def _copy(job: tuple[Path, Path, int]) -> None:
    """A near-duplicate of ``source``: mirrored, resized to 60 % or re-encoded."""
    source, target, kind = job
    if target.exists():
        return
    image = Image.open(source).convert("RGB")
    if kind == 0:
        image = ImageOps.mirror(image)
    elif kind == 1:
        image = image.resize((image.width * 6 // 10, image.height * 6 // 10))
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    image.save(tmp, "JPEG", quality=70 if kind == 2 else 88)
    os.replace(tmp, target)


def library(n_images: int) -> Path:
    """``bench/data/dashboard_scale_<n>/``: ``n_images`` photos, one in COPY_EVERY of the
    originals with a near-duplicate (made once; originals shared between sizes)."""
    copies = n_images // COPY_EVERY
    originals = photo_folder("dashboard_photos", n_images - copies, size=SIZE)
    folder = DATA / f"dashboard_scale_{n_images}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in originals:
        os.link(path, folder / path.name)
    step = len(originals) // max(1, copies)
    jobs = [(originals[i * step], folder / f"copy_{i:05d}.jpg", i % 3)
            for i in range(copies)]
    print(f"making {len(jobs)} near-duplicates in {folder}", file=sys.stderr, flush=True)
    for job in jobs:
        _copy(job)
    marker.touch()
    return folder


class MemoryWatch:
    """Peak RSS (bytes) of a process and its children, sampled every ``every_s``."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> int:
        return sum(_rss(pid) for pid in _tree(self.pid))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self.now())


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def ready(page, start: float) -> float:
    """Seconds from ``start`` until the page's script run has ended."""
    from playwright.sync_api import expect

    page.wait_for_timeout(SETTLE_MS)
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(
        1, timeout=SLOW_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    return time.perf_counter() - start


def visit(page, title: str) -> dict[str, float]:
    """Open ``title`` from the sidebar; seconds until it is ready (and, on Duplicates &
    quality, until the duplicate groups are drawn, before quality scoring ends)."""
    from playwright.sync_api import expect

    start = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, exact=True, level=1)).to_be_visible(
        timeout=SLOW_MS)
    times = {}
    if title == "Duplicates & quality":
        expect(page.get_by_text(re.compile(r"^Remove list \(")).first).to_be_visible(
            timeout=SLOW_MS)
        times["groups"] = time.perf_counter() - start
    times["ready"] = ready(page, start)
    return times


def drive(url: str, folder: Path, n_images: int, watch: MemoryWatch,
          screenshots: Path) -> dict[str, dict[str, float]]:
    """Open ``folder``, extract offline, then visit every page cold and warm."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    times: dict[str, dict[str, float]] = {}
    play = sync_playwright().start()
    browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    page.set_default_timeout(SLOW_MS)
    try:
        page.goto(url)
        expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=120_000)
        ready(page, time.perf_counter())
        start = time.perf_counter()
        page.get_by_role("tab", name="Folder on this server").click()
        page.get_by_label("Folder path (or a .zip) on the server").fill(str(folder))
        page.get_by_label("Folder path (or a .zip) on the server").press("Enter")
        ready(page, time.perf_counter())
        start = time.perf_counter()
        page.get_by_role("button", name="Use this folder").click()
        expect(page.get_by_text(re.compile(rf"{n_images:,} images found|{n_images} images "
                                           rf"found"))).to_be_visible(timeout=SLOW_MS)
        times["Data (open the folder)"] = {"cold": ready(page, start)}
        visit(page, "Features")
        page.get_by_test_id("stSelectbox").first.click()
        page.get_by_role("option", name=re.compile("Offline extractor")).click()
        ready(page, time.perf_counter())
        start = time.perf_counter()
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text(re.compile(r"Done: [\d,]+ images"))).to_be_visible(
            timeout=SLOW_MS)
        times["Features (extract + k sweep)"] = {"cold": ready(page, start)}
        for rounds in ("cold", "warm"):
            for title in PAGES:
                seen = visit(page, title)
                times.setdefault(title, {})[rounds] = seen["ready"]
                if "groups" in seen:
                    times.setdefault(f"{title}: groups drawn", {})[rounds] = seen["groups"]
                print(f"  {title} {rounds}: " + ", ".join(f"{k} {v:.1f} s" for k, v in seen.items())
                      + f", server "
                      f"{watch.now() / 2**30:.2f} GB", file=sys.stderr, flush=True)
                if rounds == "warm" and title == "Duplicates & quality":
                    page.screenshot(path=str(screenshots / f"duplicates_{n_images}.png"),
                                    full_page=True)
    except Exception:
        page.screenshot(path=str(screenshots / f"failed_{n_images}.png"), full_page=True)
        raise
    finally:
        browser.close()
        play.stop()
    return times


def measure(n_images: int, screenshots: Path) -> dict:
    """One library size: the dashboard's times per page and the server's peak memory."""
    from tests.e2e.conftest import dashboard_server

    folder = library(n_images)
    with tempfile.TemporaryDirectory(prefix="clusterlens-bench-") as home:
        with dashboard_server(Path(home), folder) as url:
            server = _server_pid(url)
            with MemoryWatch(server) as watch:
                times = drive(url, folder, n_images, watch, screenshots)
            return {"images": n_images, "times_s": times,
                    "server_peak_gb": round(watch.peak / 2**30, 3),
                    "server_end_gb": round(watch.now() / 2**30, 3)}


def _server_pid(url: str) -> int:
    """The streamlit process listening on ``url``'s port (a child of this process)."""
    port = url.rsplit(":", 1)[1]
    for pid in _tree(os.getpid())[1:]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(command) and port.encode() in command:
            return pid
    raise RuntimeError("the dashboard server process was not found")


def main() -> None:
    global SLOW_MS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="10000", help="sizes, comma-separated")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--timeout-min", type=float, default=SLOW_MS / 60_000,
                        help="give up on a step after this many minutes")
    args = parser.parse_args()
    SLOW_MS = int(args.timeout_min * 60_000)
    sizes = [int(v) for v in args.images.split(",")]
    if args.generate_only:
        for n in sizes:
            print(library(n))
        return
    screenshots = DATA / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        load_before = load_average()
        print(f"{n:,} images (load average before: {load_before})", file=sys.stderr, flush=True)
        results.append({**measure(n, screenshots), "load_before": load_before,
                        "load_after": load_average()})
    for result in results:
        print(f"\n{result['images']:,} images: server peak {result['server_peak_gb']:.2f} GB "
              f"(target < {SERVER_GB} GB at 10,000); load average before "
              f"{result['load_before']}, after {result['load_after']}")
        rows = [(page, f"{t['cold']:.1f}", f"{t['warm']:.1f}" if "warm" in t else "–")
                for page, t in result["times_s"].items()]
        print(table(["page", "cold s", "warm s"], rows))
    write_results("dashboard_scale", {"runs": results, "targets": {
        "duplicates_quality_cold_s": 30, "duplicates_quality_warm_s": 3,
        "other_pages_s": OTHER_PAGE_S, "server_gb": SERVER_GB}})


if __name__ == "__main__":
    main()
