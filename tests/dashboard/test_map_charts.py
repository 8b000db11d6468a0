"""The image map's parts: stratified sample, thumbnails placed on the map, highlight,
contingency heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.charts import (CENTRE_IMAGE, MapImage, contingency_figure, map_images,
                              scatter_figure, stratified_sample)


def test_stratified_sample_keeps_every_cluster_in_proportion():
    labels = np.array([0] * 900 + [1] * 90 + [2] * 10)
    sample = stratified_sample(labels, 100)
    counts = np.bincount(labels[sample])
    assert list(counts) == [90, 9, 1] and len(set(sample)) == len(sample)
    assert list(stratified_sample(labels[:50], 100)) == list(range(50))


def test_centre_images_sit_at_the_cluster_mean_and_are_drawn_last():
    coords = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]])
    labels = np.array([0, 0, 1])
    placed = map_images(coords, labels, {0: "c0", 1: "c1"}, {2: "p2"})
    assert [i.uri for i in placed] == ["p2", "c0", "c1"]
    assert (placed[1].x, placed[1].y) == (1.0, 0.0)
    assert placed[1].width == CENTRE_IMAGE * 10 > placed[0].width
    assert placed[1].height == CENTRE_IMAGE * 10


def test_map_figure_carries_images_and_a_highlight():
    coords = np.random.default_rng(0).normal(size=(5, 2))
    fig = scatter_figure(coords, np.array([0, 0, 1, 1, 1]), list("abcde"), {0: "A", 1: "B"},
                         "UMAP", images=[MapImage(0, 0, "data:x", 1, 1)], highlight=3)
    assert fig.layout.images[0].source == "data:x"
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
