"""Reading a run folder written by ``cluster --out`` as a bundle (for the dashboard's Reopen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clustering.export.bundle import BundleError, read_run_folder
from clustering.export.saved_model import MODEL_FILE
from clustering.export.run_folder import write_run
from clustering.pipeline import run_pipeline
from clustering.settings import Settings


@pytest.fixture
def run_dir(image_folder: Path, tmp_path: Path) -> Path:
    result = run_pipeline(image_folder, Settings(model="handcrafted", k=3, pca=4,
                                                 cache_dir=str(tmp_path / "cache")))
    write_run(result, tmp_path / "out", {0: "=red", 1: "green", 2: "blue"})
    return tmp_path / "out"


def test_a_run_folder_reads_like_a_bundle(run_dir: Path):
    bundle = read_run_folder(run_dir)
    assert bundle.run["k"]["value"] == 3
    assert bundle.cluster_names == {0: "=red", 1: "green", 2: "blue"}  # neutralised and restored
    assert len(bundle.labels) == 12 and set(bundle.labels["cluster"]) == {0, 1, 2}
    assert bundle.model is not None and bundle.model.centroids.shape[0] == 3
    assert np.isfinite(bundle.labels["x"].astype(float)).all()


def test_what_is_no_saved_run_is_refused_in_words(run_dir: Path, tmp_path: Path):
    with pytest.raises(BundleError, match="not a folder"):
        read_run_folder(tmp_path / "missing")
    (run_dir / MODEL_FILE).unlink()
    with pytest.raises(BundleError, match=f"no {MODEL_FILE}"):
        read_run_folder(run_dir)
    (run_dir / MODEL_FILE).write_bytes(b"not an npz")
    with pytest.raises(BundleError, match="not a saved model"):
        read_run_folder(run_dir)
    (run_dir / "labels.csv").write_text("file,cluster\na.png,seven\n")
    with pytest.raises(BundleError, match="whole numbers"):
        read_run_folder(run_dir)
