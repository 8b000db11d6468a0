"""Reading a finished distributed result (pyarrow only: a page can call it without Ray)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as pads

from clustering.distributed.layout import DatasetError, DatasetLayout
from clustering.export.tables import safe_frame

MAP_POINTS = 50_000  # points drawn on the map at most
CSV_CHUNK_ROWS = 100_000  # rows per chunk of the streamed labels CSV


class DistributedResult:
    """A dataset folder after ``cluster --engine ray``: run.json and ``clusters/`` shards."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.layout = DatasetLayout(folder)
        run = self.layout.folder / "run.json"
        clusters = self.layout.folder / "clusters"
        if not run.exists() or not clusters.is_dir():
            raise DatasetError(f"{folder} holds no distributed result (run.json, clusters/)")
        self.record = json.loads(run.read_text())
        self.dataset = pads.dataset(str(clusters), format="parquet")

    def sample_map(self, max_points: int = MAP_POINTS, seed: int = 0) -> pd.DataFrame:
        """At most ``max_points`` rows, every cluster represented (at least one row each)."""
        clusters = self.dataset.to_table(columns=["cluster"]).column("cluster").to_numpy()
        if len(clusters) <= max_points:
            return self.dataset.to_table().to_pandas()
        rng = np.random.default_rng(seed)
        ids, sizes = np.unique(clusters, return_counts=True)
        quota = np.maximum(1, np.floor(sizes * max_points / len(clusters))).astype(int)
        chosen = [rng.choice(np.flatnonzero(clusters == c), q, replace=False)
                  for c, q in zip(ids, np.minimum(quota, sizes))]
        return self.dataset.take(np.sort(np.concatenate(chosen))).to_pandas()

    def cluster_rows(self, cluster: int) -> pd.DataFrame:
        """Every row of one cluster (only that cluster is materialised)."""
        return self.dataset.to_table(filter=pc.field("cluster") == cluster).to_pandas()

    def iter_labels_csv(self, chunk_rows: int = CSV_CHUNK_ROWS) -> Iterator[bytes]:
        """labels.csv as UTF-8 chunks (header first), for a streamed download."""
        first = True
        for batch in self.dataset.to_batches(batch_size=chunk_rows):
            frame = batch.to_pandas()
            for column in ("distance_to_centroid", "x", "y"):
                frame[column] = frame[column].round(6)
            yield safe_frame(frame).to_csv(index=False, header=first).encode("utf-8")
            first = False
