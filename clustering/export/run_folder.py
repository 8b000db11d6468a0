"""A run's output folder: labels.csv, skipped.csv, run.json and model.npz."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from clustering.export.saved_model import MODEL_FILE, SavedModel
from clustering.export.tables import (result_record, run_labels, skipped_frame, write_csv,
                                      write_json)
from clustering.results import RunResult


def write_run(result: RunResult, out_dir: str | Path,
              cluster_names: Mapping[int, str] | None = None) -> dict[str, Path]:
    """Write labels.csv (with ``cluster_names`` if given), skipped.csv, run.json and
    model.npz (what ``assign`` needs to place new images) into ``out_dir``."""
    out = Path(out_dir)
    return {"labels": write_csv(run_labels(result, cluster_names), out / "labels.csv"),
            "skipped": write_csv(skipped_frame(result.skipped), out / "skipped.csv"),
            "run": write_json(result_record(result), out / "run.json"),
            "model": SavedModel.from_result(result).save(out / MODEL_FILE)}
