"""The 2-D map: PCA default, UMAP and t-SNE on reduced features, progress, tiny inputs, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustering.cli import main
from clustering.reduce.projection import parse_map, project_map
from clustering.settings import MAP_METHODS


def blobs(n_per: int = 40, dims: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (3, dims))
    labels = np.repeat(np.arange(3), n_per)
    return (centres[labels] + rng.normal(0, 0.5, (len(labels), dims))).astype(np.float32), labels


@pytest.mark.parametrize("method", MAP_METHODS)
def test_each_map_keeps_well_separated_groups_apart(method: str) -> None:
    X, labels = blobs()
    seen: list[float] = []
    result = project_map(X, method, seed=0, progress=lambda f, what: seen.append(f))
    assert result.coords.shape == (len(X), 2) and result.method == method
    assert np.isfinite(result.coords).all()
    centroids = np.array([result.coords[labels == g].mean(axis=0) for g in range(3)])
    spread = max(np.linalg.norm(result.coords[labels == g] - centroids[g], axis=1).mean()
                 for g in range(3))
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a)]
    assert min(gaps) > 2 * spread  # groups stay apart on the map
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    if method == "tsne":
        assert len(seen) > 5  # iteration progress, not only start and end


def test_same_seed_same_map() -> None:
    X, _ = blobs(20)
    a, b = (project_map(X, "umap", seed=3).coords for _ in range(2))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_too_few_images_fall_back_to_pca_and_say_so() -> None:
    X = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    result = project_map(X, "tsne")
    assert result.method == "pca" and "tsne" in result.parameters["instead_of"]
    assert result.coords.shape == (3, 2)


def test_unknown_map_is_a_one_line_error() -> None:
    assert parse_map(" UMAP ") == "umap"
    with pytest.raises(ValueError, match="choose one of pca, umap, tsne"):
        parse_map("mds")


def test_cli_map_option_changes_coordinates_and_is_recorded(image_folder: Path,
                                                             tmp_path: Path) -> None:
    coords = {}
    for method in ("pca", "tsne"):
        out = tmp_path / method
        assert main(["cluster", str(image_folder), "--out", str(out), "--model", "handcrafted",
                     "--k", "3", "--map", method]) == 0
        record = json.loads((out / "run.json").read_text())
        assert record["settings"]["map"] == method and record["map"]["method"] == method
        coords[method] = pd.read_csv(out / "labels.csv")[["x", "y"]].to_numpy()
    assert not np.allclose(coords["pca"], coords["tsne"])


def test_cli_refuses_an_unknown_map(image_folder: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cluster", str(image_folder), "--out", "x", "--map", "mds"])
    assert exit_info.value.code == 2 and "invalid choice: 'mds'" in capsys.readouterr().err
