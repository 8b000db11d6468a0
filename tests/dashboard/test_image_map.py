"""The image map's pieces that need no browser: which points get thumbnails, their size,
the view sent by the browser, the "Add images" points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.added_map import placed_points
from dashboard.image_map import layout_images, overview, pick_thumbnails
from dashboard.map_view import parse_view


def test_every_point_in_view_up_to_the_limit():
    coords = np.random.default_rng(0).uniform(0, 10, (2000, 2))
    view = (2.0, 4.0, 2.0, 4.5)
    picked, side = pick_thumbnails(coords, view, limit=300)
    inside = ((coords[:, 0] >= 2) & (coords[:, 0] <= 4) & (coords[:, 1] >= 2)
              & (coords[:, 1] <= 4.5))
    assert 60 < inside.sum() <= 300 and list(picked) == list(np.flatnonzero(inside))
    assert side == int(np.ceil(np.sqrt(inside.sum())))


def test_a_crowded_view_shows_one_point_per_occupied_region():
    rng = np.random.default_rng(1)
    # a dense blob and a few stragglers far away: the stragglers' regions are shown too
    coords = np.vstack([rng.normal(0, 0.5, (20_000, 2)), [[9.5, 9.5], [-9.5, 9.5]]])
    view = (-10.0, 10.0, -10.0, 10.0)
    picked, side = pick_thumbnails(coords, view, limit=300)
    assert side == 17 and len(picked) <= 300 and len(set(picked)) == len(picked)
    assert {20_000, 20_001} <= set(picked)
    cells = {tuple(c) for c in np.floor((coords + 10) / 20 * side).astype(int)}
    shown = {tuple(c) for c in np.floor((coords[picked] + 10) / 20 * side).astype(int)}
    assert shown == cells  # each region that holds points shows one of them


def test_layout_images_fill_one_grid_cell_and_skip_missing_thumbnails():
    coords = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    images = layout_images(coords, np.array([0, 2]), {0: "data:a", 1: "data:b"},
                           (0.0, 10.0, 0.0, 5.0), side=5)
    assert [i["source"] for i in images] == ["data:a"]
    assert images[0]["sizex"] == 10 / 5 * 0.92 and images[0]["sizey"] == 5 / 5 * 0.92
    assert images[0]["xref"] == "x" and images[0]["layer"] == "above"


def test_overview_pads_the_points():
    x0, x1, y0, y1 = overview(np.array([[0.0, 0.0], [10.0, 20.0]]))
    assert x0 < 0 < 10 < x1 and y0 < 0 < 20 < y1
    assert overview(np.zeros((0, 2))) == (-1.0, 1.0, -1.0, 1.0)


def test_view_parsing():
    assert parse_view({"x": [3, 1], "y": [0, 2], "reset": False}) == (1.0, 3.0, 0.0, 2.0)
    assert parse_view({"x": [0, 1], "y": [0, 1], "reset": True}) is None
    for bad in (None, "x", {"x": [0, 1]}, {"x": [0, 0], "y": [0, 1]},
                {"x": ["a", 1], "y": [0, 1]}, {"x": [0, float("inf")], "y": [0, 1]}):
        assert parse_view(bad) is None


def test_placed_points_follow_the_saved_ones_and_are_marked():
    saved = pd.DataFrame({"file": ["a", "b"], "cluster": [0, 1], "x": [0.0, 1.0], "y": [0.0, 1.0]})
    added = pd.DataFrame({"file": ["n1", "n2", "a"], "cluster": [0, 1, 0], "x": [0.1, 2.0, 0.0],
                          "y": [0.1, 2.0, 0.0], "unsure": [False, True, False],
                          "clustered": [False, False, True]})
    points = placed_points(saved, added, {0: "sea"}, {"a": "ref-a"}, {"n1": "ref-n1"})
    assert points.names == ["a", "b", "n1", "n2", "a"]
    assert points.refs == ["ref-a", None, "ref-n1", None, None]
    marks = {m.name: m for m in points.marks}
    assert marks["new"].indices == [2] and marks["new"].symbol == "star"
    assert marks["new, unsure"].indices == [3] and marks["new, unsure"].symbol == "star-open"
    assert marks["already in the run"].texts == ["a → sea (already in the run)"]
