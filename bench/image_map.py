"""The Clusters page's image map as the dashboard builds it, at 10k and 100k points.

    PYTHONPATH=. .venv/bin/python -m bench.image_map --sizes 10000,100000 --runs 5

Builds the figure with ``dashboard.charts.scatter_figure`` (scattergl above 1,500
points, one typical image per cluster at its centre; no per-point thumbnails above
300 points, as the page does) for 20 clusters, then measures in headless Chromium
(Debian's /usr/bin/chromium, software WebGL, offline plotly.js) ``Plotly.newPlot``
(first draw) and ``Plotly.relayout`` to a zoomed range (pan/zoom redraw). Also the
Python side: building the figure and its JSON (what Streamlit sends per rerun).
Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from plotly.offline import get_plotlyjs

from bench._common import load_average, median, table, write_results
from bench.map_render import CLUSTERS, PAGE, measure_page, thumbnail_uri
from dashboard.charts import map_images, scatter_figure


def build(n: int) -> tuple[dict, float, int]:
    """The page's map figure for ``n`` points: (figure JSON, build seconds, JSON bytes)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (CLUSTERS, 2))
    labels = rng.integers(0, CLUSTERS, n)
    coords = centres[labels] + rng.normal(0, 1, (n, 2))
    names = [f"folder/image_{i:06d}.jpg" for i in range(n)]
    cluster_names = {c: f"cluster {c}" for c in range(CLUSTERS)}
    centre_uris = {c: thumbnail_uri(c) for c in range(CLUSTERS)}
    start = time.perf_counter()
    fig = scatter_figure(coords, labels, names, cluster_names, "PCA",
                         images=map_images(coords, labels, centre_uris, {}))
    text = fig.to_json()
    seconds = time.perf_counter() - start
    return json.loads(text), seconds, len(text)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows, results = [], {"load_before": load_average()}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--use-angle=swiftshader",
                                          "--enable-unsafe-swiftshader"])
        for n in (int(s) for s in args.sizes.split(",")):
            builds = [build(n) for _ in range(args.runs)]
            figure, _, size = builds[0]
            path = Path(tmp) / f"image-map-{n}.html"
            path.write_text(PAGE.format(js=get_plotlyjs(), data=json.dumps(figure["data"]),
                                        images=json.dumps(figure["layout"]["images"])))
            timing, errors = measure_page(browser, path, args.runs)
            build_s = median([b[1] for b in builds])
            results[n] = {**timing, "build_s": [b[1] for b in builds], "figure_json_bytes": size,
                          "errors": errors}
            rows.append([f"{n:,}", f"{build_s * 1000:.0f}", f"{size / 1e6:.2f}",
                         f"{median(timing['draw']):.0f}", f"{median(timing['redraw']):.0f}",
                         len(errors)])
        browser.close()
    results["load_after"] = load_average()
    print(table(["points", "figure build ms", "figure JSON MB", "first draw ms",
                 "zoom redraw ms", "page errors"], rows))
    print(f"load average before/after: {results['load_before']} / {results['load_after']}")
    write_results("image_map", {"runs": args.runs, "results": results})


if __name__ == "__main__":
    main()
