"""``duplicates``, ``quality`` and ``evaluate`` from the command line: files and exit codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import skimage.data
from PIL import Image, ImageEnhance, ImageOps

from clustering.cli import main


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real photos: coffee with four copies (the PNG is the biggest file), five others and
    a darkened copy of one of them (chelsea)."""
    folder = tmp_path_factory.mktemp("photos")
    coffee = Image.fromarray(skimage.data.coffee())
    coffee.save(folder / "coffee.jpg", quality=90)
    coffee.save(folder / "coffee_copy.png")
    ImageOps.mirror(coffee).save(folder / "coffee_mirror.jpg", quality=90)
    coffee.resize((300, 200)).save(folder / "coffee_small.jpg", quality=90)
    coffee.save(folder / "coffee_q35.jpg", quality=35)
    for name in ("chelsea", "astronaut", "rocket", "camera", "coins"):
        Image.fromarray(getattr(skimage.data, name)()).save(folder / f"{name}.jpg", quality=90)
    ImageEnhance.Brightness(Image.fromarray(skimage.data.chelsea())).enhance(0.1).save(
        folder / "dark_cat.jpg", quality=90)
    return folder


def _one_error_line(capsys: pytest.CaptureFixture, message: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)


def test_duplicates_writes_file_group_keep_reason(photos: Path, tmp_path: Path, capsys):
    out = tmp_path / "dups.csv"
    assert run_cli("duplicates", photos, "--hash-only", "--out", out) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["file", "group", "keep", "reason"]
    why = dict(zip(frame["file"], frame["reason"]))
    assert why["coffee_mirror.jpg"] == "mirror" and why["coffee_small.jpg"] == "resize"
    assert why["dark_cat.jpg"] == "brightness" and why["chelsea.jpg"] == ""
    groups = frame.groupby("group")["file"].apply(sorted).to_dict()
    assert groups == {1: ["coffee.jpg", "coffee_copy.png", "coffee_mirror.jpg", "coffee_q35.jpg",
                          "coffee_small.jpg"], 2: ["chelsea.jpg", "dark_cat.jpg"]}
    # same pixels: the biggest file is kept
    assert frame.loc[frame["keep"], "file"].tolist() == ["coffee_copy.png", "chelsea.jpg"]
    printed = capsys.readouterr().out
    assert "2 duplicate group(s) holding 7 image(s); 5 file(s) suggested for removal" in printed


def test_duplicates_with_the_offline_extractor_needs_no_network(photos: Path, tmp_path: Path,
                                                                capsys):
    cropped = tmp_path / "photos"
    cropped.mkdir()
    chelsea = Image.fromarray(skimage.data.chelsea())
    chelsea.save(cropped / "cat.jpg", quality=90)
    chelsea.crop((20, 15, chelsea.width - 15, chelsea.height - 10)).save(cropped / "cat_crop.jpg")
    Image.fromarray(skimage.data.astronaut()).save(cropped / "astronaut.jpg")
    out = tmp_path / "dups.csv"
    assert run_cli("duplicates", cropped, "--model", "handcrafted", "--sensitivity", "normal",
                   "--cache-dir", tmp_path / "cache", "--out", out) == 0
    assert sorted(pd.read_csv(out)["file"]) == ["cat.jpg", "cat_crop.jpg"]
    assert "hashes + features" in capsys.readouterr().out


@pytest.mark.parametrize("args, code, message", [
    (["duplicates", "{missing}", "--hash-only", "--out", "{out}"], 3, "input not found"),
    (["duplicates", "{junk}", "--hash-only", "--out", "{out}"], 3,
     "none of the 2 image(s) could be loaded"),
    (["quality", "{junk}", "--no-outliers", "--out", "{out}"], 3,
     "none of the 2 image(s) could be loaded"),
    (["duplicates", "{photos}", "--out", "{out}"], 5, "vgg16_weights"),
])
def test_errors_have_exit_codes_and_one_line(photos: Path, tmp_path: Path, capsys, monkeypatch,
                                             args, code, message):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-weights"))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (junk / "b.png").write_bytes(b"")
    paths = {"missing": tmp_path / "nope", "junk": junk, "photos": photos,
             "out": tmp_path / "out.csv"}
    assert run_cli(*[a.format(**paths) for a in args]) == code
    _one_error_line(capsys, message)


def test_bad_sensitivity_is_a_usage_error(photos: Path, tmp_path: Path):
    for bad in ("2", "medium"):
        with pytest.raises(SystemExit) as info:
            run_cli("duplicates", photos, "--sensitivity", bad, "--out", tmp_path / "d.csv")
        assert info.value.code == 2


def test_quality_writes_one_row_per_image_and_counts_flags(photos: Path, tmp_path: Path,
                                                          capsys):
    out = tmp_path / "quality.csv"
    assert run_cli("quality", photos, "--no-outliers", "--out", out) == 0
    report = pd.read_csv(out, keep_default_na=False)
    assert len(report) == 11 and {"brightness", "too_dark", "flags"} <= set(report.columns)
    flagged = report.set_index("file")
    assert flagged.loc["dark_cat.jpg", "too_dark"] and not flagged.loc["coffee.jpg", "too_dark"]
    assert flagged.loc["camera.jpg", "flags"] == "grayscale"
    printed = capsys.readouterr().out
    assert "11 image(s) scored" in printed and "too_dark          1" in printed


def test_quality_flags_outliers_from_a_clustering(photos: Path, tmp_path: Path, capsys):
    out = tmp_path / "quality.csv"
    assert run_cli("quality", photos, "--model", "handcrafted", "--k", "2", "--out", out) == 0
    report = pd.read_csv(out)
    assert report["silhouette"].notna().all() and report["outlier_z"].notna().any()
    assert "outliers among k=2 clusters" in capsys.readouterr().out


@pytest.mark.slow
def test_quality_with_vgg16_random_weights(with_keras_home, photos: Path, tmp_path: Path):
    out = tmp_path / "quality.csv"
    assert run_cli("quality", photos, "--k", "3", "--out", out) == 0
    assert pd.read_csv(out)["outlier_z"].notna().any()


@pytest.fixture
def label_files(tmp_path: Path) -> tuple[Path, Path]:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,cluster,distance_to_centroid\na.jpg,0,1\nb.jpg,0,1\n"
                      "c.jpg,1,1\nd.jpg,1,1\nextra.jpg,1,1\n")
    truth = tmp_path / "truth.csv"
    truth.write_text("file,label\n./a.jpg,cat\nb.jpg,cat\nc.jpg,=dog\nd.jpg,=dog\n")
    return labels, truth


def test_evaluate_prints_scores_and_writes_the_contingency_table(label_files, tmp_path: Path,
                                                                 capsys):
    out = tmp_path / "contingency.csv"
    assert run_cli("evaluate", *label_files, "--out", out) == 0
    printed = capsys.readouterr().out
    assert "4 file(s) in both tables" in printed
    assert "1 file(s) only in the labels CSV: extra.jpg" in printed
    assert "ari           1.0000" in printed
    table = pd.read_csv(out)
    assert list(table.columns) == ["cluster", "'=dog", "cat"]  # formula neutralised
    assert table.to_dict("list") == {"cluster": [0, 1], "'=dog": [0, 2], "cat": [2, 0]}


@pytest.mark.parametrize("truth_text, message", [
    ("", "truth CSV"),
    ("picture,label\na.jpg,cat\n", "has no file name column"),
    ("file,label\nzzz.jpg,cat\n", "no file names in common"),
])
def test_evaluate_bad_truth_exits_3_with_one_line(label_files, capsys, truth_text, message):
    labels, truth = label_files
    truth.write_text(truth_text)
    assert run_cli("evaluate", labels, truth) == 3
    _one_error_line(capsys, message)


def test_evaluate_missing_labels_file_exits_3(label_files, tmp_path: Path, capsys):
    assert run_cli("evaluate", tmp_path / "nope.csv", label_files[1]) == 3
    _one_error_line(capsys, "cannot read labels CSV")
