"""Reading a distributed result without Ray: stratified map sample, one cluster, CSV chunks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clustering.distributed.layout import DatasetError, DatasetLayout, write_table
from clustering.distributed.result import DistributedResult


@pytest.fixture
def result_folder(tmp_path: Path) -> Path:
    layout = DatasetLayout(tmp_path)
    rng = np.random.default_rng(0)
    for shard in range(3):
        n = 400
        clusters = np.where(np.arange(n) == 0, 2, rng.integers(0, 2, n)) if shard == 1 \
            else rng.integers(0, 2, n)
        write_table(pa.table({"file": [f"s{shard}_{i}.png" for i in range(n)],
                              "cluster": clusters.astype(np.int32),
                              "distance_to_centroid": rng.random(n), "x": rng.random(n),
                              "y": rng.random(n)}), layout.shard_file("clusters", shard))
    (tmp_path / "run.json").write_text(json.dumps({"engine": {"name": "ray"}}))
    return tmp_path


def test_map_sample_is_bounded_and_keeps_a_one_image_cluster(result_folder: Path) -> None:
    sample = DistributedResult(result_folder).sample_map(max_points=100)
    assert len(sample) <= 102 and set(sample["cluster"]) == {0, 1, 2}


def test_one_cluster_and_the_streamed_csv(result_folder: Path) -> None:
    result = DistributedResult(result_folder)
    assert result.cluster_rows(2)["file"].tolist() == ["s1_0.png"]
    chunks = list(result.iter_labels_csv(chunk_rows=500))
    assert len(chunks) > 1
    frame = pd.read_csv(io.BytesIO(b"".join(chunks)))
    assert len(frame) == 1200 and frame["file"].iloc[0] == "s0_0.png"


def test_a_folder_without_a_result_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no distributed result"):
        DistributedResult(tmp_path)
