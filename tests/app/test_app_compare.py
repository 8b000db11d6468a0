"""Compare page: the current clustering against an uploaded labels.csv or another extractor."""

from __future__ import annotations

import json

import pandas as pd

from clustering.export.tables import csv_bytes
from tests.app.app_helpers import (analysed_app, charts, messages, new_app, no_traceback)


def open_compare(at, k: int = 3):
    at.session_state["k"] = k
    return at.switch_page("pages/compare.py").run()


def labels_csv(files: list[str], clusters: list[int]) -> bytes:
    return csv_bytes(pd.DataFrame({"file": files, "cluster": clusters}))


def test_points_to_the_missing_step():
    at = open_compare(new_app())
    no_traceback(at)
    assert any("Nothing to show yet" in m for m in messages(at, "info"))


def test_same_grouping_uploaded_agrees_fully():
    at = open_compare(analysed_app())
    names = at.session_state["run"].features.names
    clusters = [names.index(n) // 3 for n in names]  # 3 colours, 3 images each, in order
    at.radio(key="compare_how").set_value("An uploaded labels.csv").run()
    at.file_uploader(key="compare_upload").set_value(
        [("b.csv", labels_csv(names, [7 - c for c in clusters]), "text/csv")]).run()
    no_traceback(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Adjusted Rand index"] == "1.000"
    assert metrics["Images kept together"] == "100%"
    assert "Images in each pair of clusters" in charts(at)
    assert messages(at, "success") == ["No image moved: both runs group the images the same way."]


def test_moved_images_are_shown():
    at = open_compare(analysed_app())
    names = at.session_state["run"].features.names
    at.radio(key="compare_how").set_value("An uploaded labels.csv").run()
    at.file_uploader(key="compare_upload").set_value(
        [("b.csv", labels_csv(names, [0] * 8 + [1]), "text/csv")]).run()
    no_traceback(at)
    moved = [img.proto.imgs[0].caption for img in at.get("image")]
    assert moved and all("→" in caption for caption in moved)
    [marks] = [t for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
               if t.get("name", "").startswith("moved (")]  # on the image map
    assert len(marks["text"]) == len(moved) and all("→" in t for t in marks["text"])
    assert float(next(m.value for m in at.metric if m.label == "Adjusted Rand index")) < 1


def test_a_file_with_no_common_images_is_a_message():
    at = open_compare(analysed_app())
    at.radio(key="compare_how").set_value("An uploaded labels.csv").run()
    at.file_uploader(key="compare_upload").set_value(
        [("b.csv", labels_csv(["x.png", "y.png"], [0, 1]), "text/csv")]).run()
    no_traceback(at)
    assert any("no file names in common" in m for m in messages(at, "error"))


def test_another_extractor_is_run_and_compared(with_keras_home):
    at = open_compare(analysed_app())
    at.selectbox(key="compare_model").set_value("vgg16").run()
    at.toggle(key="compare_run").set_value(True).run()
    no_traceback(at)
    assert not messages(at, "error")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Images in both runs"] == "9"
    assert -1 <= float(metrics["Adjusted Rand index"]) <= 1
