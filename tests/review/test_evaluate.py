"""Scores against a truth CSV: hand-computed metrics, file matching, bad CSVs, best k."""

from __future__ import annotations

import io
from math import comb, log
from pathlib import Path

import numpy as np
import pytest

from clustering.review.evaluate import (TruthFileError, best_k, evaluate, labelings, read_labels,
                                 read_truth, score_labelings)

# Two classes of three; three clusters of two, the middle one mixed.
TRUTH = {"1.jpg": "a", "2.jpg": "a", "3.jpg": "a", "4.jpg": "b", "5.jpg": "b", "6.jpg": "b"}
LABELS = {"1.jpg": 0, "2.jpg": 0, "3.jpg": 1, "4.jpg": 1, "5.jpg": 2, "6.jpg": 2}


def test_scores_match_hand_computed_values():
    result = evaluate(LABELS, TRUTH)
    # ARI = (sum C(n_ij,2) - E) / (max - E) with E = sum C(a_i,2) sum C(b_j,2) / C(n,2)
    pairs_in_cells = comb(2, 2) + comb(1, 2) * 2 + comb(2, 2)
    pairs_in_clusters = 3 * comb(2, 2)
    pairs_in_classes = 2 * comb(3, 2)
    expected = pairs_in_clusters * pairs_in_classes / comb(6, 2)
    ari = (pairs_in_cells - expected) / ((pairs_in_clusters + pairs_in_classes) / 2 - expected)
    # Entropies (nats): H(class) = ln 2, H(cluster) = ln 3; only the mixed cluster
    # (a third of the images) leaves class uncertainty, ln 2; each class spreads 2:1.
    h_class, h_cluster = log(2), log(3)
    h_class_given_cluster = log(2) / 3
    h_cluster_given_class = -(2 / 3 * log(2 / 3) + 1 / 3 * log(1 / 3))
    homogeneity = 1 - h_class_given_cluster / h_class
    completeness = 1 - h_cluster_given_class / h_cluster
    mutual = h_class - h_class_given_cluster
    assert result.scores == pytest.approx({
        "homogeneity": homogeneity, "completeness": completeness,
        "v_measure": 2 * homogeneity * completeness / (homogeneity + completeness),
        "nmi": mutual / ((h_class + h_cluster) / 2), "ari": ari})
    assert ari == pytest.approx(0.8 / 3.3)


def test_contingency_table_counts_each_cluster_and_label():
    table = evaluate(LABELS, TRUTH).contingency
    assert table.loc[0].tolist() == [2, 0]
    assert table.loc[1].tolist() == [1, 1]
    assert table.loc[2].tolist() == [0, 2]
    assert list(table.columns) == ["a", "b"]


def test_perfect_labels_score_one_whatever_the_cluster_numbers():
    renamed = {name: {"a": 7, "b": 3}[label] for name, label in TRUTH.items()}
    assert all(v == pytest.approx(1.0) for v in evaluate(renamed, TRUTH).scores.values())


def test_names_match_exactly_after_a_leading_dot_slash_and_the_rest_are_reported():
    truth = read_truth(io.StringIO("file,label\n./1.jpg,a\n2.jpg,a\nA.JPG,b\nonly.jpg,b\n"))
    labels = read_labels(io.StringIO("file,cluster,x\n1.jpg,0,9\n./2.jpg,0,9\na.jpg,1,9\n"))
    result = evaluate(labels, truth)
    assert result.matched == 2
    assert result.only_in_labels == ["a.jpg"]
    assert result.only_in_truth == ["A.JPG", "only.jpg"]


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("file,label\n", "no rows"),
    ("picture,label\na.jpg,x\n", "has no file name column"),
    ("file,label\na.jpg,\n", "without a file name or label"),
    ("file,label\na.jpg,x\n./a.jpg,y\n", "'a.jpg' is listed with two different labels"),
])
def test_bad_truth_csvs_raise_a_plain_message(tmp_path: Path, content: str, message: str):
    path = tmp_path / "truth.csv"
    path.write_text(content)
    with pytest.raises(TruthFileError, match=message):
        read_truth(path)


def test_unreadable_truth_and_no_common_file_raise_truth_file_error(tmp_path: Path):
    with pytest.raises(TruthFileError, match="cannot read truth CSV .*missing.csv"):
        read_truth(tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81\x00\x9f")
    with pytest.raises(TruthFileError):
        read_truth(tmp_path / "binary.csv")
    with pytest.raises(TruthFileError, match="no file names in common"):
        evaluate({"x.jpg": 0}, {"y.jpg": "a"})


def test_best_k_is_the_k_whose_labels_score_best():
    names = list(TRUTH)
    by_k = {2: [0, 0, 0, 1, 1, 1], 3: [0, 0, 1, 1, 2, 2], 4: [0, 1, 2, 3, 0, 1]}
    table = score_labelings(by_k, names, TRUTH)
    assert table["k"].tolist() == [2, 3, 4]
    assert table.loc[0, "ari"] == pytest.approx(1.0)
    assert best_k(table) == 2
    assert best_k(table, "homogeneity") == 2  # ties go to the smallest k


def test_best_k_from_reduced_features_finds_the_true_groups():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    reduced = np.concatenate([c + rng.normal(0, 0.5, (8, 2)) for c in centres])
    names = [f"{i}.jpg" for i in range(len(reduced))]
    truth = {name: str(i // 8) for i, name in enumerate(names)}
    table = score_labelings(labelings(reduced, range(2, 6)), names, truth)
    assert best_k(table) == 3
    with pytest.raises(ValueError, match="unknown metric"):
        best_k(table, "accuracy")
