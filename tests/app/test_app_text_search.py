"""Clusters page with a CLIP run: the text search box (paged matches with their clusters,
ringed on the map) and names from the user's words. (A run without text: see
test_app_clusters.)"""

from __future__ import annotations

import shutil

import pytest

from tests.app.app_helpers import (button, charts, coloured_uploads, extract, new_app,
                                   no_traceback, plotly_values, upload)


@pytest.fixture
def clip_clusters(hub_preset, tmp_path, monkeypatch):
    """The Clusters page of 15 uploaded images with tiny random CLIP features, k = 3."""
    shutil.copytree(hub_preset("clip"), tmp_path / "models" / "clip_tiny")
    monkeypatch.setenv("CLUSTERLENS_MODELS", str(tmp_path / "models"))
    at = extract(upload(new_app(), coloured_uploads(5)), "clip_tiny")
    at.session_state["k"] = 3
    return at.switch_page("pages/clusters.py").run()


def test_search_box_pages_matches_marks_them_and_words_name_clusters(clip_clusters):
    at = clip_clusters
    no_traceback(at)
    at.text_input(key="text_search_query").set_value("a cat").run()
    no_traceback(at)
    names = at.session_state["cluster_names"].names
    captions = [image.caption for element in at.get("image") for image in element.proto.imgs]
    matches = [c for c in captions if "score" in c]
    assert len(matches) == 12  # first page of 15
    assert all(any(f"\n{name} · score" in c for name in names.values()) for c in matches)
    scores = [float(c.rsplit("score ", 1)[1]) for c in matches]
    assert scores == sorted(scores, reverse=True)
    [scatter] = charts(at).values()
    [ringed] = [t for t in scatter["data"] if t["name"].startswith("text matches")]
    assert len(plotly_values(ringed["customdata"])) == 12
    page = next(n.key for n in at.number_input if n.key.startswith("search_page_"))
    at.number_input(key=page).set_value(2).run()
    captions = [i.caption for e in at.get("image") for i in e.proto.imgs if "score" in i.caption]
    assert len(captions) == 3
    # names from the user's words replace the suggestions (the downloads use these names)
    at.text_area(key="name_words_text").set_value("sunset, kitten\nold car").run()
    button(at, "Name the clusters from these words").click().run()
    no_traceback(at)
    named = list(at.dataframe[0].value["name"])
    assert all(name.split(" ")[0] in ("sunset", "kitten", "old") for name in named)
    assert sorted(at.session_state["cluster_names"].names.values()) == sorted(named)
