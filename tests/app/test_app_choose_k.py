"""Choose k page: the suggestion and its rule, charts, the k slider, k out of range."""

from __future__ import annotations

from tests.app.app_helpers import (analysed_app, charts, messages, new_app, no_traceback,
                                   plotly_values)


def open_choose_k(at):
    return at.switch_page("pages/choose_k.py").run()


def test_points_to_the_missing_step():
    at = open_choose_k(new_app())
    no_traceback(at)
    assert any("Nothing to show yet" in m for m in messages(at, "info"))
    assert at.get("page_link")[0].proto.label == "Go to Data"


def test_shows_the_suggestion_its_rule_and_four_charts():
    at = open_choose_k(analysed_app())
    no_traceback(at)
    [info] = messages(at, "info")
    assert info.startswith(f"**Suggested k = {at.session_state['k']}**") and "silhouette" in info
    figures = charts(at)
    assert set(figures) == {"Elbow: inertia vs k", "Mean silhouette vs k",
                            "Silhouette of each image, by cluster", "PCA: explained variance"}
    elbow = figures["Elbow: inertia vs k"]["data"][0]
    assert plotly_values(elbow["x"]) == list(range(2, 9))
    assert plotly_values(elbow["customdata"]) == list(range(2, 9))


def test_the_slider_sets_k_and_the_clusters_follow():
    at = open_choose_k(analysed_app())
    at.slider(key="_w_k").set_value(4).run()
    no_traceback(at)
    assert at.session_state["k"] == 4
    samples = charts(at)["Silhouette of each image, by cluster"]["data"]
    assert len(samples) <= 4 and sum(len(plotly_values(t["x"])) for t in samples) == 9
    at.switch_page("pages/clusters.py").run()
    assert at.metric[0].value == "4"


def test_the_k_range_can_be_narrowed_and_k_stays_inside_it():
    at = open_choose_k(analysed_app())
    at.slider(key="_w_k").set_value(7).run()
    at.slider(key="_w_k_range").set_value((2, 5)).run()
    no_traceback(at)
    assert plotly_values(charts(at)["Elbow: inertia vs k"]["data"][0]["x"]) == [2, 3, 4, 5]
    assert at.session_state["k"] == 5


def test_k_too_large_is_explained_and_reset():
    at = open_choose_k(analysed_app())
    suggested = at.session_state["k"]
    at.session_state["k"] = 50
    at.run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "k=50 is not possible with 9 images" in error and "Choose a smaller k" in error
    assert at.session_state["k"] == suggested
