"""Redraw cost of a plotly WebGL map (``scattergl``) in headless Chromium, 10k and 100k points.

    PYTHONPATH=. .venv/bin/python -m bench.map_render --sizes 10000,100000 --runs 5

One self-contained page per size (plotly.js inlined, so it runs offline), 20
cluster traces, one ``layout.images`` thumbnail per cluster centre (a data-URI
JPEG, as the dashboard would place the most typical image). Measured in the page:
``Plotly.newPlot`` (first draw) and ``Plotly.relayout`` to a zoomed range (a
redraw, what pan/zoom costs), medians of ``--runs``. Chromium: Debian's
/usr/bin/chromium, headless, software WebGL (no GPU here).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from plotly.offline import get_plotlyjs

from bench._common import median, table, write_results

CLUSTERS = 20
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>{js}</script></head>
<body><div id="map" style="width:900px;height:700px"></div><script>
const data = {data}; const images = {images};
window.measure = async (runs) => {{
  const draw = [], redraw = [];
  for (let r = 0; r < runs; r++) {{
    let t = performance.now();
    await Plotly.newPlot('map', data, {{images, showlegend: false}});
    draw.push(performance.now() - t);
    t = performance.now();
    await Plotly.relayout('map', {{'xaxis.range': [-1 - r * 0.1, 1], 'yaxis.range': [-1, 1]}});
    redraw.push(performance.now() - t);
  }}
  return {{draw, redraw}};
}};
</script></body></html>"""


def thumbnail_uri(seed: int) -> str:
    pixels = np.random.default_rng(seed).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def measure_page(browser, path: Path, runs: int) -> tuple[dict, list[str]]:
    """Open ``path`` and run its ``window.measure(runs)``: the timings and page errors."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    page.goto(path.as_uri())
    timing = page.evaluate(f"window.measure({runs})")
    page.close()
    return timing, errors


def page_for(n: int) -> str:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (CLUSTERS, 2))
    labels = rng.integers(0, CLUSTERS, n)
    xy = centres[labels] + rng.normal(0, 1, (n, 2))
    data = [{"type": "scattergl", "mode": "markers", "x": xy[labels == c, 0].round(4).tolist(),
             "y": xy[labels == c, 1].round(4).tolist(), "marker": {"size": 4},
             "customdata": np.flatnonzero(labels == c).tolist(),
             "hovertemplate": "image %{customdata}<extra></extra>"} for c in range(CLUSTERS)]
    images = [{"source": thumbnail_uri(c), "xref": "x", "yref": "y", "x": float(cx),
               "y": float(cy), "sizex": 1.5, "sizey": 1.5, "xanchor": "center",
               "yanchor": "middle", "layer": "above"} for c, (cx, cy) in enumerate(centres)]
    return PAGE.format(js=get_plotlyjs(), data=json.dumps(data), images=json.dumps(images))


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--use-angle=swiftshader",
                                          "--enable-unsafe-swiftshader"])
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"map-{n}.html"
            path.write_text(page_for(n))
            timing, errors = measure_page(browser, path, args.runs)
            results[n] = {**timing, "page_bytes": path.stat().st_size, "errors": errors}
            rows.append([f"{n:,}", f"{path.stat().st_size / 1e6:.1f}",
                         f"{median(timing['draw']):.0f}", f"{median(timing['redraw']):.0f}",
                         len(errors)])
        browser.close()
    print(table(["points", "page MB", "first draw ms", "zoom redraw ms", "page errors"], rows))
    write_results("map_render", {"runs": args.runs, "results": results})


if __name__ == "__main__":
    main()
