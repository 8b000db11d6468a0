"""``cluster --model PRESET_DIR`` then ``search RUN_DIR TEXT`` on a tiny random CLIP preset."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from clustering.cli import main
from clustering.cli.common import EXIT_INPUT


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def clip_run(image_folder: Path, hub_preset, tmp_path: Path) -> Path:
    out = tmp_path / "clip_run"
    assert run_cli("cluster", image_folder, "--model", hub_preset("clip"), "--out", out,
                   "--k", "3") == 0
    return out


def test_search_ranks_every_image_of_the_run(clip_run, tmp_path, capsys):
    capsys.readouterr()
    assert run_cli("search", clip_run, "a cat") == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    run_files = set(pd.read_csv(clip_run / "labels.csv")["file"])
    assert list(table.columns) == ["file", "score", "cluster"]
    assert len(table) == 12 and set(table["file"]) == run_files
    assert table["score"].is_monotonic_decreasing
    out = tmp_path / "top.csv"
    assert run_cli("search", clip_run, "a dog on a beach", "--top", 5, "--out", out) == 0
    top = pd.read_csv(out)
    assert len(top) == 5 and top["score"].is_monotonic_decreasing
    assert set(top["file"]) <= run_files


def test_search_refuses_a_run_whose_model_reads_no_text(image_folder, with_keras_home,
                                                       tmp_path, capsys):
    out = tmp_path / "vgg_run"
    assert run_cli("cluster", image_folder, "--model", "vgg16", "--out", out, "--k", "3") == 0
    capsys.readouterr()
    assert run_cli("search", out, "a cat") == EXIT_INPUT
    error = capsys.readouterr().err.strip()
    assert "reads no text" in error and "CLIP or SigLIP" in error and "\n" not in error
