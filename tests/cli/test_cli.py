"""The command line: outputs, summaries and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from clustering.cli import main
from clustering.export.tables import csv_bytes, neutralise
from tests.helpers import save_image

pytestmark = pytest.mark.slow  # builds a (random-weight) VGG16 once per process


@pytest.fixture
def mixed_folder(image_folder: Path) -> Path:
    (image_folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (image_folder / "empty.png").write_bytes(b"")
    (image_folder / "notes.txt").write_text("ignored")
    save_image(image_folder / "=HYPERLINK(1).png", (200, 40, 40), seed=99)
    return image_folder


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def test_cluster_writes_the_three_files(with_keras_home, mixed_folder: Path, tmp_path: Path,
                                        capsys) -> None:
    out = tmp_path / "out"
    assert run_cli("cluster", mixed_folder, "--out", out, "--k-range", "2:6") == 0
    labels = pd.read_csv(out / "labels.csv")
    assert list(labels.columns) == ["file", "cluster", "cluster_name", "distance_to_centroid",
                                    "x", "y"]
    assert len(labels) == 13 and "nested/red_1.png" in set(labels["file"])
    assert "'=HYPERLINK(1).png" in set(labels["file"])  # neutralised formula
    skipped = pd.read_csv(out / "skipped.csv")
    assert dict(zip(skipped["file"], skipped["reason"])) == {
        "broken.jpg": "truncated image file",
        "empty.png": "empty file (0 bytes)"}
    run = json.loads((out / "run.json").read_text())
    assert run["counts"] == {"found": 15, "clustered": 13, "skipped": 2,
                             "features_computed": 13, "features_from_cache": 0}
    assert run["extractor"]["weights"]["published_imagenet_weights"] is False
    assert run["k"]["value"] == labels["cluster"].nunique()
    assert run["k"]["sweep"]["k"] == [2, 3, 4, 5, 6] and "elbow" in run["k"]["how"] or "silhouette" in run["k"]["how"]
    assert run["versions"]["scikit-learn"]
    printed = capsys.readouterr().out
    assert "clustered 13 image(s)" in printed and "2 skipped" in printed

    assert run_cli("cluster", mixed_folder, "--out", out, "--k", "3") == 0
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["features_computed"] == 0 and run["counts"]["features_from_cache"] == 13
    assert run["k"] == {"value": 3, "how": "given by the user"}


def test_features_file_then_cluster(with_keras_home, image_folder: Path, tmp_path: Path) -> None:
    npz = tmp_path / "f.npz"
    assert run_cli("features", image_folder, "--out", npz) == 0
    assert run_cli("cluster", npz, "--out", tmp_path / "o", "--k", "3", "--pca", "none") == 0
    labels = pd.read_csv(tmp_path / "o" / "labels.csv")
    assert len(labels) == 12 and labels["cluster"].nunique() == 3


def test_scan_lists_refused_files(mixed_folder: Path, tmp_path: Path, capsys) -> None:
    assert run_cli("scan", mixed_folder, "--out", tmp_path / "s.csv") == 0
    printed = capsys.readouterr().out
    assert "13 loadable image(s), 2 skipped" in printed and "broken.jpg" in printed
    assert len(pd.read_csv(tmp_path / "s.csv")) == 2


@pytest.mark.parametrize("args,code,message", [
    (["cluster", "{missing}", "--out", "{out}"], 3, "input not found"),
    (["cluster", "{empty}", "--out", "{out}"], 3, "no images found"),
    (["cluster", "{folder}", "--out", "{out}", "--k", "40"], 4, "smaller than the number of images (12)"),
    (["cluster", "{junk}", "--out", "{out}"], 3, "none of the 2 image(s) could be loaded"),
])
def test_errors_have_exit_codes_and_one_line(with_keras_home, image_folder, tmp_path, capsys,
                                             args, code, message) -> None:
    (tmp_path / "empty").mkdir()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.jpg").write_bytes(b"x")
    (junk / "b.png").write_bytes(b"")
    paths = {"missing": tmp_path / "nope", "empty": tmp_path / "empty", "folder": image_folder,
             "junk": junk, "out": tmp_path / "out"}
    assert run_cli(*[a.format(**paths) for a in args]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)


def test_missing_weights_exit_code(image_folder: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    assert run_cli("cluster", image_folder, "--out", tmp_path / "o", "--model", "vgg19") == 5
    err = capsys.readouterr().err
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in err and "https://" in err


def test_bad_arguments_exit_2(image_folder: Path, tmp_path: Path) -> None:
    for bad in (["cluster", str(image_folder), "--out", "o", "--pca", "2.5"],
                ["cluster", str(image_folder), "--out", "o", "--k-range", "5:2"],
                ["cluster", str(image_folder), "--out", "o", "--model", "resnet"],
                ["cluster", str(image_folder)]):
        with pytest.raises(SystemExit) as info:
            main(bad)
        assert info.value.code == 2


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "clustering", "cluster", str(tmp_path / "x"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 3
    assert done.stderr.strip() == f"error: input not found: {tmp_path / 'x'}"


def test_help_explains_every_option() -> None:
    done = subprocess.run([sys.executable, "-m", "clustering", "cluster", "--help"],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    for option in ("--model", "--layer", "--k ", "--k-range", "--pca", "--weights",
                   "--cache-dir", "--seed", "--no-recursive", "exit codes"):
        assert option in done.stdout


def test_formula_cells_are_neutralised() -> None:
    assert [neutralise(v) for v in ("=1+1", "+x", "-x", "@x", "ok", 3)] == \
        ["'=1+1", "'+x", "'-x", "'@x", "ok", 3]
    frame = pd.DataFrame({"file": ["=cmd|' /C calc'!A0"], "cluster": [-1]})
    assert csv_bytes(frame).decode().splitlines()[1] == "'=cmd|' /C calc'!A0,-1"
