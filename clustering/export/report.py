"""A one-file HTML report of a run, to share: opens offline in any browser.

Charts are inline SVG rather than plotly: plotly's JavaScript alone is ~4.7 MB and a
report needs no interaction beyond a tooltip (SVG ``<title>``). Thumbnails are
embedded as base64 JPEG data URIs, so the file references nothing outside itself.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from clustering.clusters.members import clusters_overview, typical_order
from clustering.errors import ImageLoadError
from clustering.export.colours import cluster_colour
from clustering.export.tables import result_record
from clustering.images.loading import make_thumbnail
from clustering.results import RunResult

REPORT_TYPICAL = 8  # typical images shown per cluster
REPORT_THUMB = 128  # thumbnail long side (px) in the cluster rows
CENTRE_THUMB = 64  # long side of the image drawn at each cluster's centre on the map
REPORT_MAP_POINTS = 5000  # points drawn on the map at most (an even sample above)
CHART_W, CHART_H = 420, 260

ReadImage = Callable[[str], bytes]
ReportProgress = Callable[[int, int], None]  # (clusters done, clusters)

_CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.charts{display:flex;flex-wrap:wrap;gap:16px}.cluster{margin:14px 0;padding:8px;
border-left:6px solid var(--c);background:#fafafa}.thumbs img{height:96px;margin:2px;
border-radius:3px}.missing{color:#999;font-size:.9em}svg{background:#fff;border:1px solid #eee}
svg text{font-size:11px;fill:#444}"""


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _thumb(read_image: ReadImage, name: str, size: int) -> str | None:
    """A data URI of ``name``'s thumbnail, or None when it cannot be read (noted in the report)."""
    try:
        return _data_uri(make_thumbnail(read_image(name), size))
    except (ImageLoadError, OSError, KeyError, ValueError):
        return None


def _scale(values: np.ndarray, low: float, high: float) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    span = float(values.max() - values.min()) if len(values) else 0.0
    return np.full(len(values), (low + high) / 2) if span == 0 else (
        low + (values - values.min()) / span * (high - low))


def line_chart_svg(xs: Sequence[int], ys: Sequence[float], chosen: int, title: str,
                   y_label: str) -> str:
    """A small SVG line chart of ``ys`` against k with ``chosen`` marked."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    px, py = _scale(xs, 45, CHART_W - 15), _scale(-ys, 35, CHART_H - 35)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if k == chosen else 3.5}" '
        f'fill="{"#d62728" if k == chosen else "#636efa"}"><title>k={int(k)}: {v:.4g}</title>'
        f"</circle>" for x, y, k, v in zip(px, py, xs, ys))
    ticks = "".join(f'<text x="{x:.1f}" y="{CHART_H - 15}" text-anchor="middle">{int(k)}</text>'
                    for x, k in zip(px, xs))
    return (f'<svg width="{CHART_W}" height="{CHART_H}" role="img" aria-label="{title}">'
            f'<text x="10" y="18" style="font-size:13px;font-weight:600">{html.escape(title)}'
            f'</text><text x="10" y="{CHART_H - 2}">k (number of clusters); y: '
            f'{html.escape(y_label)}, {ys.min():.4g} to {ys.max():.4g}</text>'
            f'<polyline points="{points}" fill="none" stroke="#636efa" stroke-width="2"/>'
            f"{dots}{ticks}</svg>")


def map_svg(coords: np.ndarray, labels: np.ndarray, names: Sequence[str],
            centre_images: Mapping[int, str], cluster_names: Mapping[int, str],
            size: int = 640) -> str:
    """The 2-D map as SVG: a dot per image (file name as tooltip), each cluster's most
    typical image at its centre. Above ``REPORT_MAP_POINTS`` an even sample is drawn."""
    coords, labels = np.asarray(coords, dtype=float), np.asarray(labels)
    shown = np.arange(len(labels))
    if len(shown) > REPORT_MAP_POINTS:
        shown = np.linspace(0, len(labels) - 1, REPORT_MAP_POINTS).astype(int)
    x, y = _scale(coords[:, 0], 20, size - 20), _scale(-coords[:, 1], 20, size - 20)
    dots = "".join(f'<circle cx="{x[i]:.1f}" cy="{y[i]:.1f}" r="3" fill="{cluster_colour(int(labels[i]))}" '
                   f'fill-opacity="0.75"><title>{html.escape(names[i])}</title></circle>'
                   for i in shown)
    half = CENTRE_THUMB / 2
    centres = "".join(
        f'<image href="{uri}" x="{np.median(x[labels == c]) - half:.1f}" '
        f'y="{np.median(y[labels == c]) - half:.1f}" width="{CENTRE_THUMB}" '
        f'height="{CENTRE_THUMB}"><title>{html.escape(cluster_names[c])}</title></image>'
        for c, uri in centre_images.items())
    note = ("" if len(shown) == len(labels)
            else f"<p class=missing>{len(shown)} of {len(labels)} images drawn.</p>")
    return (f'<svg width="{size}" height="{size}" role="img" aria-label="map of the images">'
            f"{dots}{centres}</svg>{note}")


def build_report(result: RunResult, cluster_names: Mapping[int, str],
                 progress: ReportProgress | None = None, title: str = "ClusterLens report") -> bytes:
    """The report of ``result`` as UTF-8 HTML bytes (what the CLI writes and a page offers).

    Images are read with ``result.read_image``; unreadable ones are shown as missing.
    """
    run = result.clustering
    names = result.features.names
    read_image = result.read_image
    record = result_record(result)
    summary = clusters_overview(run.labels, run.distances, run.silhouettes, names, cluster_names)
    rows, centres = [], {}
    for done, row in enumerate(summary.itertuples(index=False), 1):
        cluster = int(row.cluster)
        order = typical_order(run.labels, run.distances, cluster)[:REPORT_TYPICAL]
        thumbs = [(names[i], _thumb(read_image, names[i], REPORT_THUMB)) for i in order]
        imgs = "".join(f'<img src="{uri}" alt="{html.escape(n)}" title="{html.escape(n)}">'
                       if uri else f'<span class=missing>{html.escape(n)} (unreadable)</span>'
                       for n, uri in thumbs)
        if len(order) and (centre := _thumb(read_image, names[order[0]], CENTRE_THUMB)):
            centres[cluster] = centre
        sil = "–" if row[3] is None or np.isnan(row[3]) else f"{row[3]:.3f}"
        rows.append(f'<div class=cluster style="--c:{cluster_colour(cluster)}"><b>'
                    f"{html.escape(str(row.name))}</b> — cluster {cluster}, {row.images} "
                    f"image(s), mean silhouette {sil}<div class=thumbs>{imgs}</div></div>")
        if progress:
            progress(done, len(summary))
    charts = ""
    if result.sweep is not None:
        sweep = result.sweep
        charts = (line_chart_svg(sweep.ks_, sweep.inertias_, run.k, "Elbow: inertia vs k",
                                 "inertia")
                  + line_chart_svg(sweep.ks_, sweep.silhouettes_, run.k,
                                   "Mean silhouette vs k", "mean silhouette"))
    map_method = (result.map.method if result.map else "pca").upper()
    settings = {"extractor": record["extractor"].get("label"), "map": map_method,
                "PCA components": record["pca"]["components"], "k": run.k,
                "how k was chosen": result.k_reason, "seed": result.settings.seed,
                **{f"images {key}": value for key, value in record["counts"].items()}}
    settings_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td>"
                            f"</tr>" for k, v in settings.items())
    body = (f"<h1>{html.escape(title)}</h1><p>{run.k} clusters of {len(names)} images from "
            f"<code>{html.escape(str(record['input']))}</code>, {html.escape(record['created'])}."
            f"</p><h2>Settings and counts</h2><table>{settings_rows}</table>"
            + (f"<h2>Choosing k</h2><div class=charts>{charts}</div>" if charts else
               f"<h2>Choosing k</h2><p>k = {run.k} was given, no sweep was run.</p>")
            + f"<h2>Map ({map_method})</h2>"
            + map_svg(result.coords, run.labels, names, centres, cluster_names)
            + "<h2>Clusters, most typical images first</h2>" + "".join(rows)
            + "<h2>run.json</h2><details><summary>show</summary><pre>"
            + html.escape(json.dumps(record, indent=1, default=str)) + "</pre></details>")
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{html.escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>")
    return page.encode("utf-8")
