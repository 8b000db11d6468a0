"""The remove list and labels annotated with duplicate groups and quality flags."""

from __future__ import annotations

import pandas as pd

from clustering.export.tables import csv_bytes
from clustering.review.quality import FLAGS
from clustering.review.decisions import annotate_labels, decided, remove_list, remove_list_note

DUPES = pd.DataFrame({"file": ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"],
                      "group": [1, 1, 1, 2, 2], "keep": [True, False, False, True, False]})


def test_remove_list_follows_the_suggestions():
    out = remove_list(DUPES)
    assert list(out.columns) == ["file", "group", "reason"]
    assert out.values.tolist() == [["b.jpg", 1, "duplicate of a.jpg"],
                                   ["c.jpg", 1, "duplicate of a.jpg"],
                                   ["e.jpg", 2, "duplicate of d.jpg"]]


def test_overrides_change_the_remove_list():
    out = remove_list(DUPES, {"a.jpg": False, "b.jpg": True, "e.jpg": True})
    assert out.values.tolist() == [["a.jpg", 1, "duplicate of b.jpg (your choice)"],
                                   ["c.jpg", 1, "duplicate of b.jpg"]]
    whole = remove_list(DUPES, {"d.jpg": False})
    assert whole[whole["group"] == 2]["reason"].tolist() == [
        "whole group removed (your choice)", "whole group removed"]
    assert decided(DUPES, {"a.jpg": False})["suggested"].tolist() == DUPES["keep"].tolist()


def test_remove_list_names_the_edit_while_the_suggestion_stands():
    dupes = DUPES.assign(reason=["", "crop", "mirror", "", "resize"])
    assert remove_list(dupes)["reason"].tolist() == ["crop of a.jpg", "mirror of a.jpg",
                                                     "resize of d.jpg"]
    assert remove_list(dupes, {"a.jpg": False, "b.jpg": True})["reason"].tolist() == [
        "duplicate of b.jpg (your choice)", "duplicate of b.jpg", "resize of d.jpg"]
    assert remove_list_note(remove_list(dupes)).startswith(
        "3 files on the remove list; each is contained in the image kept in its group")
    assert remove_list_note(remove_list(dupes.iloc[:0])) == "The remove list is empty."


def test_empty_remove_list_has_its_columns():
    out = remove_list(DUPES.iloc[:0])
    assert out.empty and list(out.columns) == ["file", "group", "reason"]


def test_annotate_labels_adds_group_and_flags_after_existing_columns():
    labels = pd.DataFrame({"file": ["a.jpg", "b.jpg", "x.jpg"], "cluster": [0, 1, 1]})
    report = pd.DataFrame({"file": ["a.jpg", "x.jpg"], **{f: [False, f == "blurry"] for f in FLAGS},
                           "flags": ["", "blurry"]})
    out = annotate_labels(labels, DUPES, report)
    assert list(out.columns) == ["file", "cluster", "duplicate_group", *FLAGS]
    assert out["duplicate_group"].tolist()[:2] == [1, 1] and pd.isna(out["duplicate_group"][2])
    assert out["blurry"].tolist() == [False, False, True]
    text = csv_bytes(out).decode().splitlines()
    assert text[3].startswith("x.jpg,1,,")  # no group: an empty cell
    assert list(annotate_labels(labels).columns) == ["file", "cluster"]
