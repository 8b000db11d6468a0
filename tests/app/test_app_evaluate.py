"""Evaluate page: scores against a truth CSV, heatmap, per-k table, bad CSVs, demo labels."""

from __future__ import annotations

import io

import pytest

from clustering.review import truth as truth_table
from dashboard import state
from clustering.review.evaluate import best_k, evaluate, labelings, read_truth, score_labelings
from clustering.pipeline import cluster_at, reduce_features
from clustering.settings import Settings
from tests.app.app_helpers import (analysed_app, button, charts, extract, messages, new_app,
                                   no_traceback)
from tests.helpers import count_calls

PAGE = "pages/evaluate.py"
TRUTH = "file,label\n" + "".join(f"{c}_{i}.png,{c}\n" for c in ("red", "green", "blue")
                                 for i in range(3))
LABELS = ("Homogeneity", "Completeness", "V-measure", "NMI", "ARI")


def with_truth(at, text: str, name: str = "truth.csv"):
    at.switch_page(PAGE).run()
    return at.file_uploader(key="truth_file").set_value((name, text.encode(), "text/csv")).run()


def shown_scores(at) -> dict[str, float]:
    return {m.label: float(m.value) for m in at.metric if m.label in LABELS}


def test_points_to_the_missing_step():
    at = new_app().switch_page(PAGE).run()
    no_traceback(at)
    assert any("Nothing to show yet" in m for m in messages(at, "info"))


def test_scores_match_the_library_and_the_k_table_marks_the_best():
    at = analysed_app()
    at.session_state["k"] = 3
    at = with_truth(at, TRUTH)
    no_traceback(at)
    assert not at.error
    run = at.session_state[state.RUN]
    names = run.features.names
    truth = read_truth(io.StringIO(TRUTH))
    # The clustering the page scored, recomputed with the library.
    reduced = reduce_features(run.features.features, run.settings).reduced
    clustering = cluster_at(reduced, 3, Settings(seed=run.settings.seed))
    expected = evaluate(dict(zip(names, clustering.labels.tolist())), truth)
    assert shown_scores(at) == pytest.approx(
        {label: round(expected.scores[m], 3) for label, m in
         zip(LABELS, ("homogeneity", "completeness", "v_measure", "nmi", "ari"))}, abs=1e-9)
    heat = charts(at)["Images per cluster and true label"]
    assert heat["data"][0]["type"] == "heatmap"
    table = next(d.value for d in at.dataframe if "best" in d.value.columns)
    sweep_ks = list(table["k"])
    by_k = score_labelings(labelings(reduced, sweep_ks, seed=run.settings.seed,
                                     n_init=run.settings.n_init), names, truth)
    assert table.loc[table["best"] != "", "k"].tolist() == [best_k(by_k)]
    assert table.loc[table["current"] != "", "k"].tolist() == [3]


@pytest.mark.parametrize("text, expected", [
    ("", "is empty"),
    ("picture\na.png\n", "needs two columns, the file names and the labels; it has 'picture'"),
    ("file,label\n", "has a header but no rows"),
    ("file,label\nnot_here.png,x\nnor_this.png,y\n", "no file names in common"),
])
def test_bad_truth_csvs_give_plain_messages(text, expected):
    at = with_truth(analysed_app(), text)
    no_traceback(at)
    assert any(expected in m for m in messages(at, "error")), messages(at, "error")
    assert not shown_scores(at)


def test_unusual_column_names_are_chosen_in_the_page_not_with_a_command_line_option():
    text = "Picture,Notes,Kind\n" + "".join(f"{c}_{i}.png,n,{c}\n" for c in ("red", "green", "blue")
                                           for i in range(3))
    at = with_truth(analysed_app(), text)
    no_traceback(at)
    assert any("do not say it clearly" in w for w in messages(at, "warning"))
    assert not any("--" in m for m in messages(at, "error") + messages(at, "warning"))
    at.selectbox(key="truth_file_column").set_value("picture").run()
    at.selectbox(key="truth_label_column").set_value("kind").run()
    no_traceback(at)
    assert not at.error and shown_scores(at)["ARI"] == 1.0


def test_a_huge_truth_csv_is_refused_with_the_reason_and_parsed_once(monkeypatch):
    calls = count_calls(monkeypatch, truth_table, "read_truth_capped")
    text = TRUTH + "".join(f"other_{i}.png,x\n" for i in range(100_000))
    at = with_truth(analysed_app(), text)
    at.switch_page("pages/choose_k.py").run()
    at.switch_page(PAGE).run()  # a revisit (and every rerun) does not parse again
    no_traceback(at)
    assert calls == [1]
    assert any("more than 100,000 rows but only 9 images are clustered" in e
               for e in messages(at, "error")), messages(at, "error")
    assert not shown_scores(at)


def test_file_names_from_the_truth_csv_are_not_markdown():
    text = TRUTH + "![x](http://tracker.invalid/p.png),red\n"
    at = with_truth(analysed_app(), text)
    no_traceback(at)
    [warning] = [w for w in messages(at, "warning") if "not among the images" in w]
    assert "\\!\\[x\\]\\(http\\:" in warning and "](http" not in warning


def test_files_missing_on_either_side_are_reported_not_fatal():
    text = "\n".join(TRUTH.splitlines()[:-2]) + "\nghost.png,red\n"  # 2 images unlabelled
    at = with_truth(analysed_app(), text)
    no_traceback(at)
    assert not at.error and len(shown_scores(at)) == 5
    warnings = messages(at, "warning")
    assert any("1 files in the truth CSV are not among the images" in w and "ghost.png" in w
               for w in warnings)
    assert any("2 files have no label" in w for w in warnings)


def test_demo_labels_button_only_for_the_demo_set():
    at = analysed_app()
    at.switch_page(PAGE).run()
    assert not [b for b in at.button if b.label == "Use the demo set's labels"]


def test_demo_labels_in_one_click():
    at = new_app()
    button(at, "Use the demo set").click().run()
    at = extract(at)
    at.switch_page(PAGE).run()
    button(at, "Use the demo set's labels").click().run()
    no_traceback(at)
    assert not at.error and len(shown_scores(at)) == 5
    assert shown_scores(at)["ARI"] > 0.2
    assert any("demo/labels.csv" in c.value and "images matched" in c.value for c in at.caption)
