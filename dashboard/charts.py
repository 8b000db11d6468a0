"""Plotly figures for the dashboard: k curves, silhouettes, PCA variance, the map's points,
run comparison.

Figures carry image indices in ``customdata`` so a selection on the chart maps back
to images; :func:`selected_indices` and :func:`k_from_points` read selections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from clustering.export.colours import PALETTE, cluster_colour

CHOSEN_COLOUR = "#d62728"
WEBGL_ABOVE = 1500  # points on the map above which WebGL is used


def _k_curve(ks: np.ndarray, values: np.ndarray, chosen: int, suggested: int,
             y_title: str, title: str, y_format: str) -> go.Figure:
    """A clickable line of ``values`` against k with the chosen and suggested k marked."""
    ks = np.asarray(ks, dtype=int)
    is_chosen = ks == chosen
    fig = go.Figure(go.Scatter(
        x=ks, y=values, mode="lines+markers", customdata=ks, name=y_title,
        marker={"size": np.where(is_chosen, 16, 10),
                "color": np.where(is_chosen, CHOSEN_COLOUR, PALETTE[0]).tolist(),
                "symbol": np.where(ks == suggested, "star", "circle").tolist(),
                "line": {"width": 1, "color": "white"}},
        hovertemplate=f"k=%{{x}}<br>{y_title}: %{{y:{y_format}}}<extra>click to choose</extra>"))
    if suggested in ks:
        fig.add_annotation(x=suggested, y=float(values[int(np.flatnonzero(ks == suggested)[0])]),
                           text=f"suggested k={suggested}", showarrow=True, arrowhead=2, ay=-36)
    fig.add_vline(x=chosen, line={"dash": "dash", "color": CHOSEN_COLOUR, "width": 1})
    fig.update_layout(title=title, height=360, showlegend=False, clickmode="event+select",
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_xaxes(title="k (number of clusters)", dtick=1)
    fig.update_yaxes(title=y_title)
    return fig


def elbow_figure(ks: np.ndarray, inertias: np.ndarray, chosen: int, suggested: int) -> go.Figure:
    """Inertia against k (the elbow chart)."""
    return _k_curve(ks, inertias, chosen, suggested, "inertia", "Elbow: inertia vs k", ".4g")


def silhouette_k_figure(ks: np.ndarray, silhouettes: np.ndarray, chosen: int,
                        suggested: int) -> go.Figure:
    """Mean silhouette against k (higher is better separated)."""
    return _k_curve(ks, silhouettes, chosen, suggested, "mean silhouette",
                    "Mean silhouette vs k", ".3f")


def silhouette_samples_figure(silhouettes: np.ndarray, labels: np.ndarray,
                              names: Sequence[str], cluster_names: Mapping[int, str]
                              ) -> go.Figure:
    """The classic silhouette plot: each cluster's images as bars, sorted, stacked."""
    silhouettes = np.asarray(silhouettes, dtype=float)
    labels = np.asarray(labels)
    sampled = silhouettes[~np.isnan(silhouettes)]
    low = float(min(-0.1, sampled.min())) if len(sampled) else -0.1
    fig = go.Figure()
    y0, gap = 0, max(2, len(labels) // 60)
    for cluster in sorted(cluster_names):
        idx = np.flatnonzero((labels == cluster) & ~np.isnan(silhouettes))
        idx = idx[np.argsort(-silhouettes[idx], kind="stable")]
        if not len(idx):
            continue
        fig.add_trace(go.Bar(
            x=silhouettes[idx], y=y0 + np.arange(len(idx)), orientation="h", width=1.0,
            marker={"color": cluster_colour(cluster), "line": {"width": 0}},
            name=cluster_names[cluster], hovertext=[names[i] for i in idx],
            hovertemplate="%{hovertext}<br>silhouette %{x:.3f}<extra>%{fullData.name}</extra>"))
        fig.add_annotation(x=low - 0.02, y=y0 + len(idx) / 2, xanchor="right", showarrow=False,
                           text=cluster_names[cluster], font={"size": 11})
        y0 += len(idx) + gap
    if len(sampled):
        fig.add_vline(x=float(sampled.mean()), line={"dash": "dash", "color": CHOSEN_COLOUR},
                      annotation_text=f"mean {sampled.mean():.3f}")
    note = "" if len(sampled) == len(labels) else f" (a sample of {len(sampled)} images)"
    fig.update_layout(title=f"Silhouette of each image, by cluster{note}", bargap=0,
                      height=min(900, max(320, 14 * len(cluster_names) + y0 * 2)),
                      showlegend=False, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_xaxes(title="silhouette (−1 wrong cluster · 0 on a border · 1 well placed)",
                     range=[low - 0.3, 1.0])
    fig.update_yaxes(visible=False, autorange="reversed")
    return fig


def variance_figure(curve: np.ndarray, components: int | None = None,
                    target: float | None = None) -> go.Figure:
    """Cumulative explained variance (%) against the number of PCA components."""
    curve = np.asarray(curve, dtype=float)
    fig = go.Figure(go.Scatter(x=np.arange(1, len(curve) + 1), y=curve * 100, mode="lines",
                               hovertemplate="%{x} components: %{y:.1f} %<extra></extra>"))
    if target is not None:
        fig.add_hline(y=target * 100, line={"dash": "dot"},
                      annotation_text=f"target {target:.0%}", annotation_position="bottom left")
    if components:
        fig.add_vline(x=components, line={"dash": "dash", "color": CHOSEN_COLOUR},
                      annotation_text=f"{components} used", annotation_position="bottom right")
    fig.update_layout(title="PCA: explained variance", height=320, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_xaxes(title="number of components")
    fig.update_yaxes(title="cumulative explained variance (%)", range=[0, 101])
    return fig


def scatter_figure(coords: np.ndarray, labels: np.ndarray, names: Sequence[str],
                   cluster_names: Mapping[int, str], axis_title: str = "PCA",
                   highlight: int | None = None) -> go.Figure:
    """2-D map coloured by cluster; hover shows the file; ``customdata`` = image index.

    ``highlight`` marks one image with a star (thumbnails are added by
    :mod:`dashboard.image_map`).
    Points are WebGL (``scattergl``) when there are many, so 100,000 stay responsive.
    """
    coords = np.asarray(coords)
    labels = np.asarray(labels)
    many = len(labels) > WEBGL_ABOVE
    trace = go.Scattergl if many else go.Scatter
    fig = go.Figure()
    for cluster in sorted(cluster_names):
        idx = np.flatnonzero(labels == cluster)
        fig.add_trace(trace(
            x=coords[idx, 0], y=coords[idx, 1], mode="markers", customdata=idx,
            name=f"{cluster_names[cluster]} ({len(idx)})", text=[names[i] for i in idx],
            marker={"color": cluster_colour(cluster), "size": 4 if many else 9,
                    "opacity": 0.85, "line": {"width": 0 if many else 0.5, "color": "white"}},
            hovertemplate=f"<b>%{{text}}</b><br>{cluster_names[cluster]}<extra></extra>"))
    if highlight is not None:
        fig.add_trace(go.Scatter(
            x=[coords[highlight, 0]], y=[coords[highlight, 1]], mode="markers",
            customdata=[highlight], name="found", text=[names[highlight]],
            marker={"symbol": "star", "size": 26, "color": "#ffd400",
                    "line": {"width": 2, "color": "black"}},
            hovertemplate="<b>%{text}</b><br>the image you looked for<extra></extra>"))
    fig.update_layout(
        height=620, dragmode="select", legend={"title": "cluster"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10})
    fig.update_xaxes(title=f"{axis_title} 1")
    fig.update_yaxes(title=f"{axis_title} 2")
    return fig


def selected_indices(points: Sequence[Mapping[str, Any]]) -> list[int]:
    """Image indices (from ``customdata``) of the points of a chart selection, in order."""
    found: list[int] = []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is not None and int(data) not in found:
            found.append(int(data))
    return found


def k_from_points(points: Sequence[Mapping[str, Any]]) -> int | None:
    """The k of the first clicked point on a k chart, or None."""
    for point in points:
        if point.get("x") is not None:
            return int(round(float(point["x"])))
    return None


def contingency_figure(table: pd.DataFrame, name_a: str, name_b: str,
                       title: str = "Images in each pair of clusters") -> go.Figure:
    """Heatmap of a contingency table (rows: ``name_a``'s groups, e.g. run A's clusters;
    columns: ``name_b``'s), counts written in the cells: a diagonal-like pattern means
    the two agree."""
    fig = go.Figure(go.Heatmap(
        z=table.to_numpy(), x=[str(c) for c in table.columns], y=[str(r) for r in table.index],
        colorscale="Blues", text=table.to_numpy(), texttemplate="%{text}",
        hovertemplate=f"{name_a}: %{{y}}<br>{name_b}: %{{x}}<br>%{{z}} images<extra></extra>"))
    fig.update_layout(title=title,
                      height=min(900, 160 + 28 * len(table)),
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_xaxes(title=name_b, type="category")
    fig.update_yaxes(title=name_a, type="category", autorange="reversed")
    return fig
