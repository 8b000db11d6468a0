"""The image map at 10,000 and 100,000 points: from a zoom to the view's thumbnails drawn.

    PYTHONPATH=. .venv/bin/python -m bench.image_map --sizes 10000,100000 --runs 5

Serves bench/_image_map_app.py (the dashboard's ``dashboard.image_map``, nothing else on
the page) with ``streamlit run`` and opens it in headless Chromium (Debian's
/usr/bin/chromium, software WebGL). The points are 20 clusters (as in
bench/map_render.py); point ``i`` shows image ``i mod 5,000`` of generated 160x120 JPEGs
whose thumbnails are put in the on-disk thumbnail store first (as after a first visit),
and the server starts with nothing in memory, so each zoom reads its thumbnails from
disk. Each of ``--runs`` zooms goes to a new region (a 1.5 x 1.5 box around another
cluster's centre: ~150 points in view at 10,000, a spread sample of ~300 of ~1,500 at
100,000), made as a user's drag ends: ``Plotly.relayout`` on the chart. Measured:

- zoom -> drawn: from the relayout to the view's layout images in the page (includes the
  component's 150 ms wait for the end of a zoom, the rerun of the view's fragment, the
  thumbnails' transfer and plotly's redraw), median;
- bytes per zoom: websocket bytes received by the page for that zoom (and sent);
- server time: the view fragment's own time (choice of points, thumbnail reads, sending),
  from the app's log.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from bench._common import DATA, ROOT, load_average, median, table, write_results

DISTINCT = 5_000
CHART = ".st-key-bench_map .js-plotly-plot"
ZOOM = """([x0, x1, y0, y1]) => new Promise((resolve) => {
  const gd = document.querySelector('%s');
  const before = gd.getAttribute('data-view-token');
  const start = performance.now();
  const seen = new MutationObserver(() => {
    if (gd.getAttribute('data-view-token') === before) return;
    seen.disconnect();
    resolve({ms: performance.now() - start,
             images: gd.querySelectorAll('.layer-above .imagelayer image').length});
  });
  seen.observe(gd, {attributes: true, attributeFilter: ['data-view-token']});
  Plotly.relayout(gd, {'xaxis.range': [x0, x1], 'yaxis.range': [y0, y1]});
})""" % CHART


def images_folder() -> Path:
    """DISTINCT small JPEGs (made once, kept in bench/data)."""
    folder = DATA / "image-map-jpegs"
    if len(list(folder.glob("*.jpg"))) == DISTINCT:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    for i in range(DISTINCT):
        c0, c1 = rng.uniform(0, 255, (2, 3))
        t = (xx / 160 * rng.uniform(-1, 1) + yy / 120 * rng.uniform(-1, 1))[..., None]
        pixels = c0 + (c1 - c0) * (t - t.min()) / (np.ptp(t) + 1e-6)
        pixels += rng.normal(0, 12, pixels.shape)
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(
            folder / f"img_{i:05d}.jpg", quality=85)
    return folder


def fill_store(folder: Path, cache: Path) -> None:
    """Every image's map thumbnail in the on-disk store, as after a first visit."""
    from clustering.cache import content_hash
    from clustering.images.loading import make_thumbnail
    from dashboard.image_map import POINT_PX
    from dashboard.thumb_store import ThumbnailStore

    store = ThumbnailStore(cache)
    for path in sorted(folder.glob("*.jpg")):
        data = path.read_bytes()
        store.put(content_hash(data), POINT_PX, make_thumbnail(data, POINT_PX))


def serve(n: int, folder: Path, cache: Path, log: Path, out: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLUSTERLENS_CACHE": str(cache),
           "CLUSTERLENS_MAP_POINTS": str(n), "CLUSTERLENS_MAP_IMAGES": str(folder),
           "CLUSTERLENS_MAP_LOG": str(log)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "bench/_image_map_app.py",
         "--server.headless", "true", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=out.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the map app did not start")


def measure(browser, url: str, runs: int, log: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    received, sent = [0], [0]

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda data: received.__setitem__(0, received[0] + len(data)))
        ws.on("framesent", lambda data: sent.__setitem__(0, sent[0] + len(data)))

    page.on("websocket", on_socket)
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(f"{CHART} .layer-above .imagelayer image", state="attached",
                           timeout=300_000)
    first_s = time.perf_counter() - start
    first_bytes = received[0]
    page.wait_for_timeout(1000)
    centres = np.random.default_rng(0).normal(0, 4, (20, 2))  # as the app places clusters
    zooms = []
    for r in range(runs):
        cx, cy = centres[r % len(centres)]
        before = (received[0], sent[0], len(log.read_text().splitlines()))
        result = page.evaluate(ZOOM, [cx - 0.75, cx + 0.75, cy - 0.75, cy + 0.75])
        page.wait_for_timeout(500)  # let the last frames of the rerun arrive
        lines = log.read_text().splitlines()[before[2]:]
        server = [float(m.group(1)) for m in map(re.compile(r"([\d.]+) s$").search, lines) if m]
        zooms.append({"ms": result["ms"], "images": result["images"],
                      "received": received[0] - before[0], "sent": sent[0] - before[1],
                      "server_s": server[-1] if server else None})
    page.close()
    return {"first_view_s": first_s, "first_view_bytes": first_bytes, "zooms": zooms}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = images_folder()
    rows, results = [], {"load_before": load_average()}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        cache = Path(tmp) / "cache"
        fill_store(folder, cache)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--use-angle=swiftshader",
                                          "--enable-unsafe-swiftshader"])
        for n in (int(s) for s in args.sizes.split(",")):
            log = Path(tmp) / f"views-{n}.log"
            log.touch()
            process, url = serve(n, folder, cache, log, Path(tmp) / f"server-{n}.log")
            try:
                found = measure(browser, url, args.runs, log)
            finally:
                process.terminate()
                process.wait(timeout=30)
            zooms = found["zooms"]
            results[n] = found
            rows.append([f"{n:,}", f"{found['first_view_s']:.1f}",
                         f"{found['first_view_bytes'] / 1e6:.1f}",
                         f"{median([z['ms'] for z in zooms]):.0f}",
                         f"{max(z['ms'] for z in zooms):.0f}",
                         f"{median([z['images'] for z in zooms]):.0f}",
                         f"{median([z['received'] for z in zooms]) / 1e3:.0f}",
                         f"{median([z['sent'] for z in zooms]) / 1e3:.1f}",
                         f"{median([z['server_s'] or 0 for z in zooms]) * 1000:.0f}"])
        browser.close()
    results["load_after"] = load_average()
    print(table(["points", "first view s", "first view MB", "zoom -> drawn ms (median)",
                 "slowest ms", "thumbnails", "KB received", "KB sent", "server ms"], rows))
    print(f"load average before/after: {results['load_before']} / {results['load_after']}")
    write_results("image_map", {"runs": args.runs, "results": results})


if __name__ == "__main__":
    main()
