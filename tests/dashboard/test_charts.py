"""Dashboard helpers without Streamlit: figures, selections, galleries, fingerprints."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.charts import (elbow_figure, k_from_points, scatter_figure, selected_indices,
                               silhouette_k_figure, silhouette_samples_figure, variance_figure)
from clustering.files.discover import discover
from dashboard.fingerprint import combine, content_fingerprint, file_stamps
from clustering.clusters.members import clusters_overview, default_names, typical_order
from dashboard.galleries import page_count
from tests.helpers import save_image

KS = np.arange(2, 9)


def test_k_curves_mark_the_chosen_and_suggested_k():
    fig = elbow_figure(KS, np.linspace(10, 1, len(KS)), chosen=5, suggested=4)
    [trace] = fig.data
    assert list(trace.customdata) == list(KS)
    assert list(trace.marker.symbol).index("star") == 2  # k=4
    assert trace.marker.color[3] != trace.marker.color[0]  # k=5 stands out
    assert fig.layout.annotations[0].text == "suggested k=4"
    assert silhouette_k_figure(KS, np.linspace(0.1, 0.5, len(KS)), 3, 3).layout.title.text == (
        "Mean silhouette vs k")


def test_silhouette_plot_stacks_sorted_bars_per_cluster():
    labels = np.array([0, 1, 0, 1, 0])
    values = np.array([0.1, 0.5, 0.7, np.nan, 0.3])
    fig = silhouette_samples_figure(values, labels, list("abcde"), default_names(2))
    assert [list(t.x) for t in fig.data] == [[0.7, 0.3, 0.1], [0.5]]
    assert list(fig.data[0].hovertext) == ["c", "e", "a"]
    assert "a sample of 4 images" in fig.layout.title.text


def test_variance_figure_in_percent():
    fig = variance_figure(np.array([0.5, 0.8, 1.0]), components=2, target=0.8)
    assert list(fig.data[0].y) == [50.0, 80.0, 100.0]


def test_scatter_carries_image_indices_and_names():
    coords = np.arange(12, dtype=float).reshape(6, 2)
    labels = np.array([1, 0, 1, 0, 1, 0])
    fig = scatter_figure(coords, labels, [f"f{i}" for i in range(6)], {0: "A", 1: "B"})
    assert [list(t.customdata) for t in fig.data] == [[1, 3, 5], [0, 2, 4]]
    assert [t.name for t in fig.data] == ["A (3)", "B (3)"]
    assert list(fig.data[1].text) == ["f0", "f2", "f4"]


def test_reading_selections():
    points = [{"x": 4, "customdata": [7]}, {"x": 5.0, "customdata": 2}, {"customdata": [7]}]
    assert selected_indices(points) == [7, 2]
    assert k_from_points(points) == 4
    assert k_from_points([]) is None and selected_indices([]) == []


def test_galleries_order_by_typicality_and_page():
    labels = np.array([0, 1, 0, 0, 1])
    distances = np.array([0.9, 0.1, 0.2, 0.5, 0.3])
    order = typical_order(labels, distances, 0)
    assert list(order) == [2, 3, 0]
    assert page_count(0, 24) == 1 and page_count(25, 24) == 2
    summary = clusters_overview(labels, distances, np.array([0.5, 0.2, np.nan, 0.1, 0.4]),
                              list("abcde"), {0: "X", 1: "Y"})
    assert summary.to_dict("list") == {"cluster": [0, 1], "name": ["X", "Y"], "images": [3, 2],
                                       "mean silhouette": [0.3, 0.3],
                                       "most typical image": ["c", "b"]}


def test_fingerprint_follows_content_not_time(tmp_path):
    for i in range(3):
        save_image(tmp_path / f"{i}.png", (80 * i, 0, 0), seed=i)
    images = discover(tmp_path).images
    before = content_fingerprint(images)
    stamps = file_stamps(images)
    (tmp_path / "0.png").write_bytes((tmp_path / "0.png").read_bytes())  # same bytes, new mtime
    assert content_fingerprint(images) == before
    save_image(tmp_path / "1.png", (1, 2, 3), seed=9)
    assert content_fingerprint(images) != before
    assert file_stamps(images) != stamps
    assert combine("a", 1) == combine("a", 1) != combine("a", 2)


@pytest.mark.parametrize("k", [2, 5])
def test_default_names(k):
    assert default_names(k) == {c: f"cluster {c}" for c in range(k)}
