"""The map's points: highlight, WebGL at scale; the contingency heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.charts import contingency_figure, scatter_figure


def test_map_figure_carries_a_highlight():
    coords = np.random.default_rng(0).normal(size=(5, 2))
    fig = scatter_figure(coords, np.array([0, 0, 1, 1, 1]), list("abcde"), {0: "A", 1: "B"},
                         "UMAP", highlight=3)
    assert fig.data[-1].name == "found" and list(fig.data[-1].customdata) == [3]
    assert fig.layout.xaxis.title.text == "UMAP 1"


def test_many_points_use_webgl():
    labels = np.zeros(5000, dtype=int)
    fig = scatter_figure(np.zeros((5000, 2)), labels, ["x"] * 5000, {0: "A"})
    assert fig.data[0].type == "scattergl"


def test_contingency_heatmap_counts():
    table = pd.DataFrame([[3, 0], [1, 2]], index=["red", "blue"], columns=[0, 1])
    fig = contingency_figure(table, "A", "B")
    assert fig.data[0].z.tolist() == [[3, 0], [1, 2]] and list(fig.data[0].y) == ["red", "blue"]
