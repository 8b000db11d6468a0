"""Truth CSVs with common column names, named columns, and ambiguous files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from clustering.cli import main
from clustering.review.evaluate import TruthFileError, read_truth


@pytest.mark.parametrize("header", ["file,label", "filename,label", "Image,Class",
                                    "path,category", "filepath,truth", "name,target"])
def test_common_column_names_are_recognised(header: str) -> None:
    truth = read_truth(io.StringIO(f"{header}\n./a.jpg,x\nb.jpg,y\n"))
    assert truth.to_dict() == {"a.jpg": "x", "b.jpg": "y"}


def test_named_columns_win_and_other_columns_are_ignored() -> None:
    text = "id,photo,label,kind\n1,a.jpg,x,p\n2,b.jpg,y,q\n"
    truth = read_truth(io.StringIO(text), file_column="Photo", label_column="kind")
    assert truth.to_dict() == {"a.jpg": "p", "b.jpg": "q"}


@pytest.mark.parametrize("text, message", [
    ("file,path,label\na,b,c\n", "several possible file name columns ('file', 'path'): "
                                 "name one with --file-column"),
    ("file,class,category\na,b,c\n", "several possible label columns ('class', 'category')"),
    ("file,colour\na,b\n", "has no label column"),
])
def test_ambiguous_or_missing_columns_get_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(TruthFileError, match="^truth CSV") as caught:
        read_truth(io.StringIO(text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_named_column_is_refused() -> None:
    with pytest.raises(TruthFileError, match="no column 'img_path'"):
        read_truth(io.StringIO("file,label\na,b\n"), file_column="img_path")


def test_cli_evaluate_takes_column_options(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    labels, truth = tmp_path / "labels.csv", tmp_path / "truth.csv"
    labels.write_text("file,cluster\na.jpg,0\nb.jpg,0\nc.jpg,1\nd.jpg,1\n")
    truth.write_text("photo,file,kind\na.jpg,x,p\nb.jpg,x,p\nc.jpg,x,q\nd.jpg,x,q\n")
    assert main(["evaluate", str(labels), str(truth)]) == 3
    assert "has no label column" in capsys.readouterr().err
    assert main(["evaluate", str(labels), str(truth), "--file-column", "photo",
                 "--label-column", "kind"]) == 0
    assert "ari           1.0000" in capsys.readouterr().out
