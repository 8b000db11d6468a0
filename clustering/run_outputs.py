"""Suggested names and the HTML report for a finished :class:`RunResult`.

The glue between a run and :mod:`clustering.cluster_names` / :mod:`clustering.html_report`:
both need an image's bytes by file name, which a run read from a folder, a zip or a
list of files (its ``Discovery``), or, for a ``.npz`` of features, from the input
folder recorded in it (if still there).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from clustering.cluster_names import NameProgress, NameSuggestions, ReadImage, suggest_names
from clustering.html_report import ReportProgress, build_report
from clustering.pipeline import RunResult


def image_reader(result: RunResult) -> ReadImage:
    """``read(name) -> bytes`` for the run's images; raises ``OSError``/``KeyError`` if gone."""
    refs = {ref.name: ref for ref in result.discovery.images}
    root = Path(result.discovery.root)

    def read(name: str) -> bytes:
        if name in refs:
            return refs[name].read_bytes()
        path = (root / name).resolve()
        if not path.is_relative_to(root.resolve()):
            raise KeyError(name)
        return path.read_bytes()

    return read


def name_clusters(result: RunResult, progress: NameProgress | None = None) -> NameSuggestions:
    """Suggested names for the run's clusters (ImageNet classes or pixel words)."""
    run = result.clustering
    return suggest_names(result.features.features, run.labels, run.distances,
                         result.features.names, result.features.extractor,
                         image_reader(result), progress)


def report_bytes(result: RunResult, cluster_names: Mapping[int, str],
                 progress: ReportProgress | None = None) -> bytes:
    """The self-contained HTML report of the run (for a download button)."""
    return build_report(result, cluster_names, image_reader(result), progress)


def write_report(result: RunResult, cluster_names: Mapping[int, str], path: str | Path) -> Path:
    """Write :func:`report_bytes` to ``path`` (folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report_bytes(result, cluster_names))
    return path
