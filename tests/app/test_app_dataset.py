"""Distributed result: opened from the Data page, shown read-only on its own page."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from dashboard.roots import ROOTS_ENV
from tests.app.app_helpers import (button, charts, messages, new_app, no_traceback, plotly_values)
from tests.helpers import write_distributed_result


def open_result(at, text: str):
    at.switch_page("pages/data.py").run()
    at.text_input(key="distributed_path").input(text)
    return button(at, "Open this result").click().run()


def test_a_result_inside_the_roots_opens_with_map_one_cluster_and_csv(tmp_path: Path,
                                                                       monkeypatch) -> None:
    folder = write_distributed_result(tmp_path / "run", tmp_path / "photos")
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = open_result(new_app(), str(folder))
    no_traceback(at)
    assert at.title[0].value == "Distributed result"
    assert [m.value for m in at.metric] == ["12", "3", "0", "2"]
    figure = next(iter(charts(at).values()))
    assert sum(len(plotly_values(t["x"])) for t in figure["data"]) == 12
    assert len(figure["data"]) == 3  # one trace per cluster
    at.switch_page("pages/dataset.py")  # AppTest keeps the page only when told
    at.selectbox(key="dataset_cluster").set_value(2).run()
    no_traceback(at)
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert sorted(captions) == [f"c2_{i}.png" for i in range(4)]  # that cluster's, only
    assert any("4 images nearest the centroid" in c.value for c in at.caption)
    download = at.get("download_button")[0].proto
    # A click that also reruns the page can lose the made-on-click file: Streamlit drops
    # the answer still queued when the rerun starts, and the button spins for 3 minutes.
    assert download.label == "Download labels.csv" and download.ignore_rerun
    from dashboard import distributed

    frame = pd.read_csv(io.BytesIO(distributed.labels_csv(folder)))
    assert len(frame) == 12 and frame["cluster"].tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_images_outside_the_roots_are_listed_not_shown(tmp_path: Path, monkeypatch) -> None:
    folder = write_distributed_result(tmp_path / "allowed" / "run", tmp_path / "elsewhere")
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path / "allowed"))
    at = open_result(new_app(), str(folder))
    no_traceback(at)
    assert not at.get("image")
    assert any("names only" in c.value for c in at.caption)


def test_refused_folders_give_a_message(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "allowed" / "plain").mkdir(parents=True)
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path / "allowed"))
    at = new_app()
    for text, expected in (("/etc", "outside the folders this server allows"),
                           (str(tmp_path / "allowed" / "plain"), "holds no distributed result")):
        open_result(at, text)
        no_traceback(at)
        assert any(expected in e for e in messages(at, "error")), messages(at, "error")
    assert "distributed_result" not in at.session_state


def test_the_page_without_a_result_points_to_the_data_page() -> None:
    at = new_app().switch_page("pages/dataset.py").run()
    no_traceback(at)
    assert any("No distributed result opened" in m for m in messages(at, "info"))
