"""How two clusterings of the same images agree: ARI/NMI, contingency, images that moved.

Cluster numbers of two runs are arbitrary, so "moved" needs a matching first: the
one-to-one pairing of A's and B's clusters that keeps the most images together
(Hungarian algorithm on the contingency table). An image moved when its B cluster
is not the one matched to its A cluster (or its A cluster has no match because
B has fewer clusters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from scipy.optimize import linear_sum_assignment

from clustering.errors import EvaluationInputError
from clustering.review.evaluate import as_assignments, read_labels, scores


class CompareInputError(EvaluationInputError):
    """Two labellings that cannot be compared (no file in common); the message says why."""


@dataclass
class RunComparison:
    """Agreement of run A and run B on the files both clustered."""

    ari: float
    nmi: float
    contingency: pd.DataFrame  # rows: A's clusters, columns: B's clusters, cells: images
    matching: dict[object, object]  # A cluster -> B cluster (best one-to-one pairing)
    moved: pd.DataFrame  # file, cluster_a, cluster_b, matched_b
    matched: int  # files in both runs
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Share of common files that stayed in the matched cluster."""
        return 1.0 - len(self.moved) / self.matched


def best_matching(contingency: pd.DataFrame) -> dict[object, object]:
    """The one-to-one pairing of rows to columns that maximises the images kept together."""
    rows, cols = linear_sum_assignment(-contingency.to_numpy())
    return {contingency.index[r]: contingency.columns[c] for r, c in zip(rows, cols)}


def compare_runs(a: pd.Series | Mapping[str, object],
                 b: pd.Series | Mapping[str, object]) -> RunComparison:
    """Compare ``file -> cluster`` of run A with run B on the files both list.

    Raises :class:`CompareInputError` when no file name is in both.
    """
    a, b = as_assignments(a), as_assignments(b)
    common = a.index.intersection(b.index, sort=False)
    if common.empty:
        raise CompareInputError(
            f"no file names in common between run A ({len(a)} files) and run B "
            f"({len(b)} files); were they run on the same images?")
    in_a, in_b = a[common], b[common]
    table = pd.crosstab(pd.Series(in_a.values, name="cluster_a"),
                        pd.Series(in_b.values, name="cluster_b"))
    matching = best_matching(table)
    expected = in_a.map(matching)
    moved_mask = expected.isna().to_numpy() | (expected.to_numpy() != in_b.to_numpy())
    moved = pd.DataFrame({"file": common[moved_mask], "cluster_a": in_a.values[moved_mask],
                          "cluster_b": in_b.values[moved_mask],
                          "matched_b": expected.values[moved_mask]})
    agreement = scores(in_a.astype(str).values, in_b.astype(str).values)
    return RunComparison(
        ari=agreement["ari"], nmi=agreement["nmi"],
        contingency=table, matching=matching,
        moved=moved.sort_values("file", kind="stable").reset_index(drop=True),
        matched=len(common), only_in_a=sorted(set(a.index) - set(common)),
        only_in_b=sorted(set(b.index) - set(common)))


def compare_label_files(path_a, path_b) -> RunComparison:
    """:func:`compare_runs` of two ``labels.csv`` files (paths or file objects)."""
    return compare_runs(read_labels(path_a), read_labels(path_b))


def contingency_frame(comparison: RunComparison) -> pd.DataFrame:
    """The contingency table as a flat CSV-ready frame: cluster_a, then one column per B cluster."""
    table = comparison.contingency.copy()
    table.columns = [f"b:{c}" for c in table.columns]
    return table.rename_axis("cluster_a").reset_index()
