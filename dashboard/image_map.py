"""The image map: points coloured by cluster, drawn as their thumbnails where the user looks.

Whatever the view (the overview, or after a zoom, pan or double-click reset), every
point in it is drawn as its thumbnail when it holds at most ``MAP_THUMBS_IN_VIEW``
points; above that a spread sample is: the view is cut into a grid of about that
many cells and each cell that holds points shows the one nearest its centre, so every
region is represented. Thumbnails are plotly layout images sized to the view (one grid
cell each), read from the on-disk thumbnail store; only the view's are sent, by
:mod:`dashboard.map_view`, which also reads the view back from the chart and fetches
the hovered point's image. The Clusters page, the "Add images" map of a reopened run
and the Compare page all draw this map.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from clustering.export.colours import cluster_colour
from clustering.files.discover import ImageRef
from clustering.settings import MAP_THUMBS_IN_VIEW
from dashboard import map_view, thumbnails
from dashboard.charts import scatter_figure, selected_indices

POINT_PX = 96  # thumbnails drawn on the map
HOVER_PX = 192  # the image shown on hover
PADDING = 0.04  # the overview's margin around the points, as a share of their span
FILL = 0.92  # share of a grid cell a thumbnail takes (a gap between neighbours)

log = logging.getLogger(__name__)

View = tuple[float, float, float, float]  # x0, x1, y0, y1


@dataclass(frozen=True)
class Marks:
    """Points drawn again on top of the map with their own symbol (new images as
    stars, images that moved between runs...), in their cluster's colour."""

    name: str
    indices: Sequence[int]
    symbol: str = "star"
    texts: Sequence[str] = field(default_factory=list)  # hover text, default the file name


def overview(coords: np.ndarray) -> View:
    """The box around every point, with a small margin (what plotly's autorange shows)."""
    if not len(coords):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = coords.min(axis=0), coords.max(axis=0)
    pad = np.where(high > low, (high - low) * PADDING, 1.0)
    return (float(low[0] - pad[0]), float(high[0] + pad[0]),
            float(low[1] - pad[1]), float(high[1] + pad[1]))


def pick_thumbnails(coords: np.ndarray, view: View, limit: int = MAP_THUMBS_IN_VIEW
                    ) -> tuple[np.ndarray, int]:
    """The points of ``view`` to draw as thumbnails, and the grid side (cells per axis)
    that sizes them.

    Every point in view when there are at most ``limit``; else one per cell of a grid of
    about ``limit`` cells (the point nearest the cell's centre), so each region of the
    view that holds points shows one of them.
    """
    x0, x1, y0, y1 = view
    inside = np.flatnonzero((coords[:, 0] >= x0) & (coords[:, 0] <= x1)
                            & (coords[:, 1] >= y0) & (coords[:, 1] <= y1))
    if len(inside) <= limit:
        return inside, max(3, math.ceil(math.sqrt(len(inside))))
    side = max(1, math.isqrt(limit))
    unit = (coords[inside] - (x0, y0)) / (x1 - x0, y1 - y0) * side  # grid units
    cell = np.minimum(np.floor(unit).astype(np.int64), side - 1)
    off_centre = np.square(unit - cell - 0.5).sum(axis=1)
    cell_id = cell[:, 1] * side + cell[:, 0]
    order = np.lexsort((off_centre, cell_id))  # by cell, nearest the centre first
    _, first = np.unique(cell_id[order], return_index=True)
    return np.sort(inside[order[first]]), side


def layout_images(coords: np.ndarray, picked: np.ndarray, uris: dict[int, str], view: View,
                  side: int) -> list[dict]:
    """Plotly layout images at the ``picked`` points that have a thumbnail, each the size
    of one grid cell of ``view`` (the image keeps its shape inside)."""
    width, height = (view[1] - view[0]) / side * FILL, (view[3] - view[2]) / side * FILL
    return [{"source": uris[int(i)], "xref": "x", "yref": "y", "x": float(coords[i, 0]),
             "y": float(coords[i, 1]), "sizex": width, "sizey": height, "xanchor": "center",
             "yanchor": "middle", "layer": "above", "name": str(int(i))}
            for i in picked if int(i) in uris]


@st.fragment
def _thumbnails_in_view(target: str, drawing: str, coords: np.ndarray,
                        refs: Sequence[ImageRef | None]) -> None:
    """The view's thumbnails, sent to the chart (a zoom reruns only this)."""
    start = time.perf_counter()
    view = map_view.current_view(target, drawing) or overview(coords)
    picked, side = pick_thumbnails(coords, view)
    uris = thumbnails.data_uris({int(i): refs[i] for i in picked if refs[i] is not None},
                                POINT_PX)
    token = f"{drawing}:{view}:{len(picked)}"
    images = layout_images(coords, picked, uris, view, side)
    map_view.draw_view(target, drawing, images, token)
    log.info("view %s: %d in view drawn, %d thumbnails, %.4f s", view, len(picked), len(images),
             time.perf_counter() - start)


@st.fragment
def _hover_image(target: str, drawing: str, refs: Sequence[ImageRef | None]) -> None:
    """The hovered point's image (a hover reruns only this)."""
    index = map_view.hovered(target, drawing)
    preview = None
    if index is not None and 0 <= index < len(refs):
        data, reason = (thumbnails.thumbnail(refs[index], HOVER_PX) if refs[index] is not None
                        else (None, "no image file here"))
        preview = {"index": index, "uri": thumbnails.data_uri(data) if data else "",
                   "reason": reason}
    map_view.draw_hover(target, drawing, preview)


def image_map(target: str, coords: np.ndarray, labels: np.ndarray, names: Sequence[str],
              cluster_names: dict[int, str], refs: Sequence[ImageRef | None], *,
              axis_title: str = "PCA", marks: Sequence[Marks] = (),
              highlight: int | None = None, chart_key: str | None = None) -> list[int]:
    """Draw the map inside ``st.container(key=target)`` (``target``: letters, digits,
    ``_`` and ``-``); returns the indices of the points the user selected.

    ``refs[i]`` is point ``i``'s image (None where the file is not here: a dot only);
    ``chart_key`` names the points drawn (a new one starts from the overview).
    """
    coords = np.asarray(coords, dtype=float)
    figure = scatter_figure(coords, labels, names, cluster_names, axis_title,
                            highlight=highlight)
    for mark in marks:
        add_marks(figure, coords, labels, names, mark)
    # a drag zooms and a double-click goes back to the overview (the toolbar's box and
    # lasso select); a rerun keeps the user's zoom
    chart_key = chart_key or f"{target}_chart"
    figure.update_layout(dragmode="zoom", uirevision=chart_key)
    with st.container(key=target):
        event = st.plotly_chart(figure, key=chart_key, on_select="rerun",
                                selection_mode=("points", "box", "lasso"),
                                config={"scrollZoom": True})
    drawing = f"{chart_key}:{len(coords)}"  # what a view or a hover sent back is about
    _thumbnails_in_view(target, drawing, coords, refs)
    _hover_image(target, drawing, refs)
    return selected_indices(event["selection"]["points"])


def add_marks(figure: go.Figure, coords: np.ndarray, labels: np.ndarray,
              names: Sequence[str], mark: Marks) -> None:
    """Draw ``mark``'s points on top, outlined, with its symbol and name in the legend."""
    idx = np.asarray(mark.indices, dtype=int)
    if not len(idx):
        return
    figure.add_trace(go.Scatter(
        x=coords[idx, 0], y=coords[idx, 1], mode="markers", customdata=idx,
        name=f"{mark.name} ({len(idx)})",
        text=list(mark.texts) or [names[i] for i in idx],
        marker={"symbol": mark.symbol, "size": 16,
                "color": [cluster_colour(int(labels[i])) for i in idx],
                "line": {"width": 1.5, "color": "black"}},
        hovertemplate="<b>%{text}</b><extra></extra>"))
