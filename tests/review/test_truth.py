"""Truth CSVs read fast, capped relative to the images, parsed once per content."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from clustering.review import truth as truth_table
from clustering.review.evaluate import TruthFileError, read_truth
from clustering.review.truth import read_truth_capped, row_cap, truth_from_bytes
from tests.helpers import count_calls


@pytest.mark.parametrize(("text", "expected"), [
    ("file,label\na.png,x\n./b.png,y\n././c.png,x\n",
     {"a.png": "x", "b.png": "y", "c.png": "x"}),
    (" File , LABEL ,notes\n a.png , x ,long note\nsub/b.png,y,\na.png,x,again\n",
     {"a.png": "x", "sub/b.png": "y"}),
    ("label,file\nx,a.png\n", {"a.png": "x"}),
])
def test_the_table_read_and_the_cli_reader_is_the_same_one(text, expected):
    # The command line's read_truth is this reader without a cap (one reader, one table).
    fast = read_truth_capped(io.StringIO(text))
    want = pd.Series(expected, name="label")
    want.index.name = "file"
    pd.testing.assert_series_equal(fast, want)
    pd.testing.assert_series_equal(read_truth(io.StringIO(text)), want)


@pytest.mark.parametrize(("text", "message"), [
    ("", "truth CSV is empty"),
    ("name,group\na,b\n", "has no label column .*; it has 'group'"),
    ("image,path,label\na,b,c\n", "several possible file name columns \\('image', 'path'\\)"),
    ("file,label\n", "has a header but no rows"),
    ("file,label\na.png,x\nb.png,\n", r"1 row\(s\) without a file name or label \(the first is "
                                      r"data row 2\)"),
    ("file,label\na.png,x\n./a.png,y\n", "'a.png' is listed with two different labels"),
])
def test_unusable_truth_files_are_explained(text, message):
    with pytest.raises(TruthFileError, match=message):
        read_truth_capped(io.StringIO(text))


def test_columns_named_by_the_user_are_read(monkeypatch):
    data = b"Photo,Path,Kind\na.png,/x/a.png,red\nb.png,/x/b.png,blue\n"
    assert truth_table.truth_header(io.BytesIO(data)) == ["photo", "path", "kind"]
    truth = truth_from_bytes(data, 2, file_column="photo", label_column="kind")
    assert truth.to_dict() == {"a.png": "red", "b.png": "blue"}
    other = truth_from_bytes(data, 2, file_column="path", label_column="kind")
    assert other.to_dict() == {"/x/a.png": "red", "/x/b.png": "blue"}  # keyed by the columns


def test_rows_are_capped_relative_to_the_images_with_the_reason():
    assert row_cap(None) is None and row_cap(10) == 100_000 and row_cap(50_000) == 500_000
    rows = "".join(f"img_{i}.png,c{i % 3}\n" for i in range(100_001))
    text = "file,label\n" + rows
    assert len(read_truth_capped(io.StringIO(text), n_images=10_001)) == 100_001
    with pytest.raises(TruthFileError, match=r"more than 100,000 rows but only 55 images are "
                                             r"clustered: at most 10 rows per image"):
        read_truth_capped(io.StringIO(text), n_images=55)


def test_uploaded_bytes_are_parsed_once_per_content(monkeypatch):
    calls = []
    real = truth_table.read_truth_capped

    def counting(source, n_images=None, **columns):
        calls.append(n_images)
        return real(source, n_images, **columns)

    monkeypatch.setattr(truth_table, "read_truth_capped", counting)
    data = b"file,label\na.png,x\nb.png,y\n"
    first = truth_from_bytes(data, n_images=5)
    assert truth_from_bytes(data, n_images=5) is first
    assert truth_from_bytes(data, n_images=6) is first  # same cap, same parse
    assert calls == [5]
    truth_from_bytes(data + b"c.png,z\n", n_images=5)
    assert calls == [5, 5]
    for i in range(truth_table.CACHED_TRUTH_FILES):
        truth_from_bytes(data + f"d{i}.png,z\n".encode(), n_images=5)
    truth_from_bytes(data, n_images=5)  # pushed out of the cache: parsed again
    assert len(calls) == 2 + truth_table.CACHED_TRUTH_FILES + 1


def test_a_refused_file_is_refused_from_memory_the_second_time(monkeypatch):
    calls = count_calls(monkeypatch, truth_table, "read_truth_capped")
    data = b"file,label\n" + b"".join(b"i%d.png,x\n" % i for i in range(100_001))
    for _ in range(2):
        with pytest.raises(TruthFileError, match="more than 100,000 rows"):
            truth_from_bytes(data, n_images=3)
    assert calls == [1]
