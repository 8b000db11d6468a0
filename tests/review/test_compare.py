"""compare: ARI/NMI, contingency, Hungarian-matched moved images, CLI and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clustering.cli import main
from clustering.review.compare import CompareInputError, compare_runs

# B renumbers A's clusters (0->5, 1->3, 2->4) and moves 2.jpg and 9.jpg.
A = {f"{i}.jpg": i // 3 for i in range(9)} | {"9.jpg": 2, "onlyA.jpg": 0}
B = {f"{i}.jpg": {0: 5, 1: 3, 2: 4}[i // 3] for i in range(9)} | {"9.jpg": 3, "onlyB.jpg": 5}
B["2.jpg"] = 3


def test_renumbered_identical_runs_agree_fully() -> None:
    renamed = {name: cluster + 10 for name, cluster in A.items()}
    result = compare_runs(A, renamed)
    assert result.ari == pytest.approx(1) and result.nmi == pytest.approx(1)
    assert result.moved.empty and result.agreement == 1


def test_matching_undoes_renumbering_and_lists_moved_images() -> None:
    result = compare_runs(A, B)
    assert result.matching == {0: 5, 1: 3, 2: 4}
    assert result.moved.to_dict("records") == [
        {"file": "2.jpg", "cluster_a": 0, "cluster_b": 3, "matched_b": 5},
        {"file": "9.jpg", "cluster_a": 2, "cluster_b": 3, "matched_b": 4}]
    assert result.matched == 10 and result.only_in_a == ["onlyA.jpg"]
    assert result.only_in_b == ["onlyB.jpg"]
    assert result.contingency.loc[0, 5] == 2 and result.contingency.loc[0, 3] == 1
    assert int(result.contingency.to_numpy().sum()) == 10
    assert 0 < result.ari < 1 and 0 < result.nmi < 1


def test_more_clusters_in_a_than_b_moves_the_unmatched_cluster() -> None:
    a = {"1": 0, "2": 0, "3": 1, "4": 1, "5": 2}
    b = {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    result = compare_runs(a, b)
    assert result.moved["file"].tolist() == ["5"]


def test_no_common_files_is_a_clear_error() -> None:
    with pytest.raises(CompareInputError, match="no file names in common"):
        compare_runs({"a.jpg": 0}, {"b.jpg": 0})


def write_labels(path: Path, mapping: dict[str, int]) -> Path:
    pd.DataFrame({"file": list(mapping), "cluster": list(mapping.values()),
                  "x": 0.0, "y": 0.0}).to_csv(path, index=False)
    return path


def test_cli_prints_scores_and_writes_tables(tmp_path: Path, capsys) -> None:
    a, b = write_labels(tmp_path / "a.csv", A), write_labels(tmp_path / "b.csv", B)
    code = main(["compare", str(a), str(b), "--out", str(tmp_path / "c.csv"),
                 "--moved", str(tmp_path / "m.csv")])
    out = capsys.readouterr().out
    assert code == 0 and "2 image(s) moved" in out and "0->5" in out and "ari" in out
    table = pd.read_csv(tmp_path / "c.csv")
    assert list(table.columns) == ["cluster_a", "b:3", "b:4", "b:5"]
    assert pd.read_csv(tmp_path / "m.csv")["file"].tolist() == ["2.jpg", "9.jpg"]


@pytest.mark.parametrize("content, message", [
    (None, "cannot read labels CSV"), ("", "is empty"), ("file,label\na,1\n", "needs columns")])
def test_cli_bad_labels_file_exits_3_with_one_line(tmp_path: Path, capsys, content,
                                                   message) -> None:
    good = write_labels(tmp_path / "a.csv", A)
    bad = tmp_path / "bad.csv"
    if content is not None:
        bad.write_text(content)
    assert main(["compare", str(good), str(bad)]) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
