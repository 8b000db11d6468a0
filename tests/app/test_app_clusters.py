"""Clusters page: overview, image map, map layout, galleries (typical first, paged),
suggested names and renaming, find on map, downloads (report included)."""

from __future__ import annotations

import json

from dashboard.map_view import hover_key, view_key
from tests.app.app_helpers import (analysed_app, button, charts, messages, new_app, no_traceback,
                                   plotly_values)

SUGGESTED = ["green · smooth", "blue · dark · smooth", "red · smooth"]


def open_clusters(at, k: int | None = None):
    if k is not None:
        at.session_state["k"] = k
    return at.switch_page("pages/clusters.py").run()


def test_points_to_the_missing_step():
    at = open_clusters(new_app())
    no_traceback(at)
    assert any("Nothing to show yet" in m for m in messages(at, "info"))


def test_map_summary_gallery_and_downloads():
    at = open_clusters(analysed_app(), k=3)
    no_traceback(at)
    assert [m.value for m in at.metric][:2] == ["3", "9"]
    [scatter] = charts(at).values()
    indices = sorted(i for trace in scatter["data"] for i in plotly_values(trace["customdata"]))
    assert indices == list(range(9))
    assert all("%{text}" in trace["hovertemplate"] for trace in scatter["data"])
    # 9 images, all in the overview: each drawn as its thumbnail (sent to the chart by
    # the view component, not inside the figure); nothing hovered yet
    view, hover = (json.loads(c.proto.json) for c in at.get("bidi_component"))
    assert sorted(int(i["name"]) for i in view["images"]) == list(range(9))
    assert all(i["source"].startswith("data:image/jpeg;base64,") for i in view["images"])
    assert hover["preview"] is None
    summary = at.dataframe[0].value
    assert list(summary["cluster"]) == [0, 1, 2] and summary["images"].sum() == 9
    # overview: 3 typical images per 3-image cluster, then the first cluster's gallery
    assert len(at.get("image")) == 9 + summary["images"][0]
    assert [b.label for b in at.button] == ["Open"] * 3
    assert [b.proto.label for b in at.get("download_button")] == [
        "Labels (CSV)", "Run record (run.json)", "Images by cluster (.zip)", "Report (HTML)"]


def test_a_zoom_sends_the_view_s_thumbnails_and_a_hover_its_image():
    at = open_clusters(analysed_app(), k=3)
    [chart] = at.get("plotly_chart")
    xs = sorted(x for t in json.loads(chart.proto.spec)["data"] for x in plotly_values(t["x"]))
    drawing = json.loads(at.get("bidi_component")[0].proto.json)["drawing"]
    at.session_state[view_key("image_map")] = {"view": {"x": [xs[0] - 1e-6, xs[2] + 1e-6],
                                                         "y": [-1e9, 1e9], "reset": False,
                                                         "for": drawing}}
    at.session_state[hover_key("image_map")] = {"hover": {"index": 4, "for": drawing}}
    at.run()
    no_traceback(at)
    view, hover = (json.loads(c.proto.json) for c in at.get("bidi_component"))
    assert len(view["images"]) == 3  # the 3 leftmost points
    assert hover["preview"]["index"] == 4 and hover["preview"]["uri"].startswith("data:image/")
    # a view sent while the map showed other points (another run, layout) is not used
    at.session_state[view_key("image_map")]["view"]["for"] = "other points"
    at.run()
    assert len(json.loads(at.get("bidi_component")[0].proto.json)["images"]) == 9


def test_gallery_starts_with_the_most_typical_image():
    at = open_clusters(analysed_app(), k=3)
    result = at.session_state["run"].features
    first_caption = at.get("image")[9].proto.imgs[0].caption  # after the overview
    summary = at.dataframe[0].value
    assert first_caption == summary["most typical image"][0]
    assert first_caption in result.names


def test_clusters_can_be_renamed_and_names_survive_page_changes():
    at = open_clusters(analysed_app(), k=3)
    at.selectbox[0].set_value(1).run()
    at.text_input[0].input("Greens").run()
    no_traceback(at)
    assert at.session_state["cluster_names"].names[1] == "Greens"
    renamed = [SUGGESTED[0], "Greens", SUGGESTED[2]]
    assert list(at.dataframe[0].value["name"]) == renamed
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/clusters.py").run()
    assert list(at.dataframe[0].value["name"]) == renamed
    at.session_state["k"] = 2  # another clustering: fresh suggested names
    at.run()
    assert "Greens" not in list(at.dataframe[0].value["name"])


def test_large_clusters_are_paged():
    at = open_clusters(analysed_app(red=28, blue=3, green=3), k=2)
    no_traceback(at)
    names = at.session_state["run"].features.names
    sizes = dict(zip(at.dataframe[0].value["cluster"], at.dataframe[0].value["images"]))
    big = max(sizes, key=sizes.get)
    at.selectbox[0].set_value(big).run()
    overview = sum(min(8, n) for n in sizes.values())
    assert sizes[big] > 24 and len(at.get("image")) == overview + 24
    at.number_input[0].set_value(2).run()
    no_traceback(at)
    assert len(at.get("image")) == overview + sizes[big] - 24
    assert all(img.proto.imgs[0].caption in names for img in at.get("image")[overview:])


def test_names_start_from_the_suggestion_and_reach_the_labels_csv():
    at = open_clusters(analysed_app(), k=3)
    no_traceback(at)
    assert list(at.dataframe[0].value["name"]) == SUGGESTED
    assert at.text_input[0].value == SUGGESTED[0]
    assert any("colours, light and texture" in c.value and "offline extractor" in c.value
               for c in at.caption)
    # no text encoder: no search box, one line on which models can search
    assert not [t for t in at.text_input if t.key == "text_search_query"]
    assert any("CLIP or SigLIP" in c.value for c in at.caption)


def test_map_layout_can_be_changed_and_is_recorded():
    at = open_clusters(analysed_app(), k=3)
    at.button_group(key="_w_map_method").set_value("tsne").run()
    no_traceback(at)
    assert at.session_state["map_method"] == "tsne"
    [scatter] = charts(at).values()
    assert scatter["layout"]["xaxis"]["title"]["text"] == "TSNE 1"
    assert any("placed by TSNE" in c.value for c in at.caption)
    assert at.session_state["k"] == 3  # the clustering stays; only the map changed


def test_an_image_can_be_shown_on_the_map():
    at = open_clusters(analysed_app(), k=3)
    names = at.session_state["run"].features.names
    finder = at.selectbox[1]  # after "Show the images of"
    target = finder.options[1]  # the cluster's most typical image
    finder.set_value(names.index(target)).run()
    no_traceback(at)
    [scatter] = charts(at).values()
    star = scatter["data"][-1]
    assert star["name"] == "found" and star["text"] == [target]


def test_open_shows_the_whole_cluster():
    at = open_clusters(analysed_app(red=12, blue=3, green=3), k=2)
    before = len(at.get("image"))
    button(at, "Open").click().run()
    no_traceback(at)
    assert len(at.get("image")) > before
