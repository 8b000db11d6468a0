"""``cluster --out`` keeps model.npz; ``assign`` places images in the saved clustering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clustering.cli import main
from clustering.files.discover import discover
from clustering.pipeline import run_pipeline
from clustering.settings import Settings
from clustering.export.saved_model import MODEL_FILE, NotASavedRun, SavedModel
from tests.helpers import COLOURS, save_image


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def saved_run(image_folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    assert run_cli("cluster", image_folder, "--out", out, "--model", "handcrafted",
                   "--k", "3", "--pca", "5") == 0
    return out


def test_clustered_images_get_exactly_their_own_cluster_back(saved_run, image_folder,
                                                            tmp_path, capsys):
    assert (saved_run / MODEL_FILE).is_file()
    out = tmp_path / "assigned.csv"
    assert run_cli("assign", saved_run, image_folder, "--out", out) == 0
    assert "placed 12 image(s): 12 of the saved run" in capsys.readouterr().out
    saved = pd.read_csv(saved_run / "labels.csv").set_index("file")
    placed = pd.read_csv(out).set_index("file").loc[saved.index]
    assert list(placed.columns) == ["cluster", "distance_to_centroid", "x", "y", "unsure",
                                    "clustered"]
    assert placed["clustered"].all()
    pd.testing.assert_frame_equal(placed[["cluster", "distance_to_centroid", "x", "y"]],
                                  saved[["cluster", "distance_to_centroid", "x", "y"]])


def test_the_saved_reduction_and_map_reproduce_the_run(image_folder, tmp_path):
    for pca, whiten in ((5, False), (3, True), (None, False)):
        settings = Settings(model="handcrafted", pca=pca, whiten=whiten, k=3,
                            cache_dir=str(tmp_path / "cache"))
        result = run_pipeline(image_folder, settings)
        model = SavedModel.from_bytes(SavedModel.from_result(result).to_bytes())
        reduced = model.reduce(result.features.features)
        np.testing.assert_allclose(reduced, result.reduced, atol=1e-4)
        np.testing.assert_allclose(model.project(reduced), result.coords, atol=1e-4)
        gaps = np.linalg.norm(reduced[:, None] - model.centroids[None], axis=2)
        assert (gaps.argmin(axis=1) == result.clustering.labels).all()


def test_new_images_go_to_the_cluster_of_their_kind(saved_run, image_folder, tmp_path):
    new = tmp_path / "new"
    for name, colour in COLOURS.items():
        save_image(new / f"new_{name}.png", colour, seed=500)
    far = save_image(new / "odd.png", (255, 255, 0), seed=1)  # like nothing clustered
    out = tmp_path / "assigned.csv"
    assert run_cli("assign", saved_run, new, "--out", out) == 0
    placed = pd.read_csv(out).set_index("file")
    saved = pd.read_csv(saved_run / "labels.csv")
    for name in COLOURS:
        own = saved[saved["file"].str.contains(name)]["cluster"].unique()
        assert len(own) == 1 and placed.loc[f"new_{name}.png", "cluster"] == own[0]
    assert not placed["clustered"].any()
    assert bool(placed.loc[far.name, "unsure"])
    assert placed[["x", "y"]].notna().all().all()


def test_bad_run_folders_are_one_line_and_exit_3(saved_run, image_folder, tmp_path, capsys):
    assert run_cli("assign", tmp_path / "missing", image_folder, "--out", tmp_path / "a.csv") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "saved run not found" in err
    assert run_cli("assign", image_folder, image_folder, "--out", tmp_path / "a.csv") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a saved run: it has no model.npz" in err
    (saved_run / MODEL_FILE).write_bytes(b"PK\x03\x04 not an npz")
    assert run_cli("assign", saved_run, image_folder, "--out", tmp_path / "a.csv") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a saved model written by ClusterLens" in err
    assert not (tmp_path / "a.csv").exists()


def test_a_damaged_model_is_refused(saved_run):
    model = SavedModel.load(saved_run)
    model.centroids = model.centroids[:, :2]
    with pytest.raises(NotASavedRun, match="damaged"):
        SavedModel.from_bytes(model.to_bytes())


def test_a_run_from_other_weights_is_refused(saved_run, image_folder, tmp_path, capsys):
    model = SavedModel.load(saved_run)
    model.extractor["cache_key"] = "handcrafted-v0-something-else"
    model.save(saved_run / MODEL_FILE)
    assert run_cli("assign", saved_run, image_folder, "--out", tmp_path / "a.csv") == 5
    assert "features here would differ" in capsys.readouterr().err
    assert discover(image_folder).images  # the input itself was fine


def test_on_a_tsne_map_new_images_land_among_their_own_kind(image_folder, tmp_path):
    # t-SNE has no projection for new points: they are placed among their nearest
    # clustered images, in the map's own coordinates (not on PCA axes).
    result = run_pipeline(image_folder, Settings(model="handcrafted", k=3, map="tsne",
                                                 cache_dir=str(tmp_path / "cache")))
    assert result.map.method == "tsne"
    model = SavedModel.from_bytes(SavedModel.from_result(result).to_bytes())
    new = tmp_path / "new"
    for name, colour in COLOURS.items():
        save_image(new / f"new_{name}.png", colour, seed=700)
    from clustering.features import extract_features, make_extractor

    features = extract_features(discover(new).images, make_extractor("handcrafted"))
    placed = model.assign(features).set_index("file")
    names, coords = result.features.names, result.coords
    for name in COLOURS:
        own = np.array([name in n for n in names])
        spot = placed.loc[f"new_{name}.png", ["x", "y"]].to_numpy(float)
        nearest_own = np.linalg.norm(coords[own] - spot, axis=1).min()
        nearest_other = np.linalg.norm(coords[~own] - spot, axis=1).min()
        assert nearest_own < nearest_other
