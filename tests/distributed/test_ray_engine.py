"""The Ray engine on a two-node cluster on this host (head + one worker, one CPU each).

Slow (each cluster takes ~10 s to start); every Ray process is stopped at the end.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import COLOURS, MeanColourExtractor, SlowExtractor, save_image

pytestmark = [pytest.mark.slow, pytest.mark.ray]


def make_images(root: Path, count: int) -> Path:
    for i in range(count):
        name, colour = list(COLOURS.items())[i % 3]
        save_image(root / f"{name}_{i:03d}.png", colour, seed=i)
    (root / "broken.jpg").write_bytes(b"not an image")
    return root


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("ray-images"), 45)


def test_distributed_labels_equal_local_and_both_nodes_extract(ray_cluster, images: Path,
                                                               tmp_path: Path) -> None:
    from clustering.cli import main

    common = ["--model", "handcrafted", "--k", "3", "--pca", "10"]
    assert main(["cluster", str(images), "--out", str(tmp_path / "local"), *common]) == 0
    assert main(["cluster", str(images), "--out", str(tmp_path / "ray"), *common,
                 "--engine", "ray", "--ray-address", ray_cluster.address,
                 "--shard-size", "5"]) == 0
    local = pd.read_csv(tmp_path / "local" / "labels.csv")
    remote = pd.read_csv(tmp_path / "ray" / "labels.csv")
    assert remote["file"].tolist() == local["file"].tolist()
    assert remote["cluster"].tolist() == local["cluster"].tolist()
    for column in ("distance_to_centroid", "x", "y"):
        np.testing.assert_allclose(remote[column], local[column], atol=1e-4)
    assert (pd.read_csv(tmp_path / "ray" / "skipped.csv")["file"].tolist()
            == pd.read_csv(tmp_path / "local" / "skipped.csv")["file"].tolist() == ["broken.jpg"])
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert run["engine"]["name"] == "ray" and len(run["engine"]["nodes"]) == 2
    per_node = run["engine"]["images_per_node"]
    assert len(per_node) == 2 and all(count > 0 for count in per_node.values())
    assert sum(per_node.values()) == 45
    assert json.loads((tmp_path / "local" / "run.json").read_text())["engine"] == {"name": "local"}
    assert len(list((tmp_path / "ray" / "features").glob("shard-*.parquet"))) == 10  # 46 files


def test_resume_skips_finished_shards(ray_cluster, images: Path, tmp_path: Path) -> None:
    from clustering.files.discover import discover
    from clustering.distributed.extract import DistributedExtraction
    from clustering.distributed.layout import DatasetLayout

    job = DistributedExtraction(MeanColourExtractor, tmp_path / "ds", shard_size=10)
    first = job.run(discover(images))
    assert (first.shards, first.shards_run, first.extracted) == (5, 5, 45)  # 46 files
    layout = DatasetLayout(tmp_path / "ds")
    kept = {s: layout.shard_file("features", s).stat().st_mtime_ns for s in (0, 1, 4)}
    for shard in (2, 3):  # as if the run had crashed before these finished
        layout.shard_file("done", shard, ".json").unlink()
    again = job.run(discover(images))
    assert (again.shards_run, again.shards_resumed, again.extracted) == (2, 3, 45)
    assert {s: layout.shard_file("features", s).stat().st_mtime_ns for s in kept} == kept


def test_a_removed_worker_does_not_lose_images(ray_cluster, images: Path,
                                               tmp_path: Path) -> None:
    from clustering.files.discover import discover
    from clustering.distributed.extract import DistributedExtraction
    from clustering.distributed.layout import DatasetLayout

    layout = DatasetLayout(tmp_path / "ds")
    job = DistributedExtraction(SlowExtractor, layout.folder, shard_size=3, batch_size=3)
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(report=job.run(discover(images))))
    thread.start()
    deadline = time.monotonic() + 60  # until both nodes have finished a shard
    while len(layout.images_per_node()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    done_before = len(layout.done_shards())
    ray_cluster.remove_node(ray_cluster.test_worker)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert done_before < 16  # the worker left with shards still to do
    report = outcome["report"]
    assert report.extracted == 45 and len(layout.done_shards()) == 16  # 46 files
    assert len(report.images_per_node) == 2  # both worked before the removal
