"""Clusters page: map, summary, galleries (typical first, paged), renaming, downloads."""

from __future__ import annotations

from tests.app.app_helpers import (analysed_app, charts, fresh_streamlit,  # noqa: F401
                                    messages, new_app, no_traceback, plotly_values)


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
    summary = at.dataframe[0].value
    assert list(summary["cluster"]) == [0, 1, 2] and summary["images"].sum() == 9
    assert len(at.get("image")) == summary["images"][0]  # the first cluster's gallery
    assert [b.proto.label for b in at.get("download_button")] == [
        "Labels (CSV)", "Run record (run.json)", "Images by cluster (.zip)"]


def test_gallery_starts_with_the_most_typical_image():
    at = open_clusters(analysed_app(), k=3)
    result = at.session_state["run"].features
    first_caption = at.get("image")[0].proto.imgs[0].caption
    summary = at.dataframe[0].value
    assert first_caption == summary["most typical image"][0]
    assert first_caption in result.names


def test_clusters_can_be_renamed_and_names_survive_page_changes():
    at = open_clusters(analysed_app(), k=3)
    at.selectbox[0].set_value(1).run()
    at.text_input[0].input("Greens").run()
    no_traceback(at)
    assert at.session_state["cluster_names"]["names"][1] == "Greens"
    assert list(at.dataframe[0].value["name"]) == ["cluster 0", "Greens", "cluster 2"]
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/clusters.py").run()
    assert list(at.dataframe[0].value["name"]) == ["cluster 0", "Greens", "cluster 2"]
    at.session_state["k"] = 2  # another clustering: fresh names
    at.run()
    assert list(at.dataframe[0].value["name"]) == ["cluster 0", "cluster 1"]


def test_large_clusters_are_paged():
    at = open_clusters(analysed_app(red=28, blue=3, green=3), k=2)
    no_traceback(at)
    names = at.session_state["run"].features.names
    sizes = dict(zip(at.dataframe[0].value["cluster"], at.dataframe[0].value["images"]))
    big = max(sizes, key=sizes.get)
    at.selectbox[0].set_value(big).run()
    assert sizes[big] > 24 and len(at.get("image")) == 24
    at.number_input[0].set_value(2).run()
    no_traceback(at)
    assert len(at.get("image")) == sizes[big] - 24
    assert all(img.proto.imgs[0].caption in names for img in at.get("image"))
