"""On a non-terminal, progress is a line every few seconds; ``quality`` without
``--model`` and without weights says what to do instead of trying a download."""

from __future__ import annotations

from pathlib import Path

import pytest
import skimage.data
from PIL import Image

from clustering.cli import main
from clustering.cli.common import progress_bar
from clustering.images.engine import Progress


def _report(done: int, total: int) -> Progress:
    return Progress(done=done, total=total, computed=done, cached=0, skipped=0, elapsed_s=1.0,
                    images_per_s=float(done), eta_s=float(total - done))


def test_non_terminal_prints_a_line_per_interval_and_the_end(
        capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(5000, "hashes", every_s=60) as update:
        for done in range(1, 5001):
            update(_report(done, 5000))
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["hashes: 1/5000 images (1.0/s, 0 cached, 0 skipped, 4999 s left)",
                     "hashes: 5000/5000 images (5000.0/s, 0 cached, 0 skipped, 0 s left)"]


def test_non_terminal_interval_is_respected(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(10, "quality", every_s=0) as update:
        for done in range(1, 11):
            update(_report(done, 10))
    assert len(capsys.readouterr().err.splitlines()) == 10  # no extra end line


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee", "chelsea", "astronaut", "rocket"):
        Image.fromarray(getattr(skimage.data, name)()).save(folder / f"{name}.jpg")
    return folder


def test_cli_on_a_pipe_prints_few_progress_lines(photos: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duplicates", str(photos), "--hash-only", "--out",
                 str(tmp_path / "d.csv")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and len(err.splitlines()) <= 2, err


def test_quality_without_model_or_weights_suggests_offline_or_no_outliers(
        photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    assert main(["quality", str(photos), "--out", str(tmp_path / "q.csv")]) == 5
    captured = capsys.readouterr()
    message = captured.err.strip().splitlines()
    assert len(message) == 1 and "outlier flags need image features" in message[0]
    assert "--model handcrafted" in message[0] and "--no-outliers" in message[0]
    assert "download" not in captured.out.lower() and "Downloading" not in captured.err
    assert not (tmp_path / "q.csv").exists()


def test_quality_without_model_still_runs_with_no_outliers(
        photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    assert main(["quality", str(photos), "--no-outliers", "--out", str(tmp_path / "q.csv")]) == 0
