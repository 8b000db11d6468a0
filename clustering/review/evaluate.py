"""Cluster labels scored against known labels (a truth CSV with ``file,label``).

File names are matched exactly, after dropping a leading ``./``. Files in one table
and not the other are reported, not fatal; a truth or labels CSV that cannot be
used raises :class:`TruthFileError` or :class:`LabelsFileError` with a plain message.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import pandas as pd
from sklearn import metrics

from clustering.clusters.kmeans import ImageClusterer
from clustering.errors import EvaluationInputError, LabelsFileError, TruthFileError
from clustering.review.truth import read_truth_capped

METRICS = ("homogeneity", "completeness", "v_measure", "nmi", "ari")

CsvSource = str | os.PathLike | IO


def normalise_name(name: str) -> str:
    """A file name as matched: leading ``./`` removed."""
    while name.startswith("./"):
        name = name[2:]
    return name


def read_assignments(source: CsvSource, value: str, what: str,
                     error: type[EvaluationInputError]) -> pd.Series:
    """``file -> value`` from a CSV with ``file`` and ``value`` columns (names trimmed)."""
    label = f"{what} CSV{'' if hasattr(source, 'read') else f' {source}'}"
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise error(f"{label} is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise error(f"cannot read {label}: {getattr(exc, 'strerror', None) or exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("file", value) if c not in frame.columns]
    if missing:
        raise error(f"{label} needs columns 'file' and '{value}'; it has "
                    f"{', '.join(map(repr, frame.columns)) or 'none'}")
    frame = frame[["file", value]].apply(lambda column: column.str.strip())
    if frame.empty:
        raise error(f"{label} has a header but no rows")
    blank = frame[(frame["file"] == "") | (frame[value] == "")]
    if len(blank):
        raise error(f"{label}: {len(blank)} row(s) without a file name or {value} "
                    f"(the first is data row {blank.index[0] + 1})")
    frame["file"] = frame["file"].map(normalise_name)
    frame = frame.drop_duplicates()
    twice = frame["file"][frame["file"].duplicated()]
    if len(twice):
        raise error(f"{label}: {twice.iloc[0]!r} is listed with two different {value}s")
    return frame.set_index("file")[value]


def read_truth(source: CsvSource, file_column: str | None = None,
               label_column: str | None = None) -> pd.Series:
    """``file -> label`` from a truth CSV whose columns have common names
    (``file``/``filename``/``image``/``path``…, ``label``/``class``/``category``…)
    or are named here: :func:`~clustering.review.truth.read_truth_capped` with no cap."""
    what = f"truth CSV{'' if hasattr(source, 'read') else f' {source}'}"
    return read_truth_capped(source, None, what, file_column, label_column)


def read_labels(source: CsvSource) -> pd.Series:
    """``file -> cluster`` from a labels CSV (such as ``labels.csv``); whole numbers as int."""
    clusters = read_assignments(source, "cluster", "labels", LabelsFileError)
    numbers = pd.to_numeric(clusters, errors="coerce")
    if numbers.notna().all() and (numbers % 1 == 0).all():
        return numbers.astype(np.int64)
    return clusters


@dataclass
class Evaluation:
    """Scores of one labelling, the cluster x label table and the unmatched files."""

    scores: dict[str, float]
    contingency: pd.DataFrame
    matched: int
    only_in_labels: list[str] = field(default_factory=list)
    only_in_truth: list[str] = field(default_factory=list)


def scores(truth: Sequence, predicted: Sequence) -> dict[str, float]:
    """Homogeneity, completeness, V-measure, NMI and ARI of ``predicted`` vs ``truth``."""
    homogeneity, completeness, v_measure = metrics.homogeneity_completeness_v_measure(
        truth, predicted)
    return {"homogeneity": float(homogeneity), "completeness": float(completeness),
            "v_measure": float(v_measure),
            "nmi": float(metrics.normalized_mutual_info_score(truth, predicted)),
            "ari": float(metrics.adjusted_rand_score(truth, predicted))}


def as_assignments(assignments: pd.Series | Mapping[str, object]) -> pd.Series:
    """``file -> value`` as a Series whose file names are matched the same way everywhere."""
    series = pd.Series(assignments, dtype=object)
    series.index = [normalise_name(str(name)) for name in series.index]
    return series


def evaluate(labels: pd.Series | Mapping[str, object],
             truth: pd.Series | Mapping[str, object]) -> Evaluation:
    """Score ``file -> cluster`` against ``file -> label`` on the files both list.

    Raises :class:`TruthFileError` when no file name is in both.
    """
    labels, truth = as_assignments(labels), as_assignments(truth)
    common = labels.index.intersection(truth.index, sort=False)
    if common.empty:
        raise TruthFileError(
            f"no file names in common between the labels ({len(labels)} files, e.g. "
            f"{labels.index[0]!r}) and the truth ({len(truth)} files, e.g. "
            f"{truth.index[0]!r})" if len(labels) and len(truth) else
            "no file names in common: one of the tables is empty")
    predicted, known = labels[common], truth[common]
    table = pd.crosstab(pd.Series(predicted.values, name="cluster"),
                        pd.Series(known.values, name="label"))
    return Evaluation(scores=scores(known.astype(str).values, predicted.astype(str).values),
                      contingency=table, matched=len(common),
                      only_in_labels=sorted(set(labels.index) - set(common)),
                      only_in_truth=sorted(set(truth.index) - set(common)))


def labelings(reduced: np.ndarray, ks: Iterable[int], seed: int = 0,
              n_init: int = 4) -> dict[int, np.ndarray]:
    """k-means++ labels of ``reduced`` features for each k in ``ks``."""
    return {int(k): ImageClusterer(int(k), n_init=n_init, random_state=seed).fit(reduced).labels_
            for k in ks}


def score_labelings(labelings_by_k: Mapping[int, Sequence], names: Sequence[str],
                    truth: pd.Series | Mapping[str, object]) -> pd.DataFrame:
    """One row per k: the :data:`METRICS` of that k's labels (in ``names`` order)."""
    rows = []
    for k, labels in sorted(labelings_by_k.items()):
        result = evaluate(dict(zip(names, labels)), truth)
        rows.append({"k": int(k), **result.scores, "matched": result.matched})
    return pd.DataFrame(rows, columns=["k", *METRICS, "matched"])


def best_k(table: pd.DataFrame, metric: str = "ari") -> int:
    """The k whose labels score best on ``metric`` (the smallest such k on ties)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    return int(table.loc[table[metric].idxmax(), "k"])
