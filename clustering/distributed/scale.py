"""Clustering at scale: fit on a sample on the driver, assign every image in parallel.

As NeMo Curator and SemDeDup do, PCA, the k sweep, k-means++ and the 2-D map are
fitted on at most ``fit_sample`` images read on the driver (time and memory flat in
the collection size); Ray Data actors then reduce, assign to the nearest centroid,
measure distances and project every shard. When the collection fits in the sample
the fit sees exactly the single-machine data, in the same order, so the labels are
those of the single-machine run (same features, same seed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clustering.files.discover import Skipped
from clustering.distributed.layout import DatasetError, DatasetLayout, write_table
from clustering.export.tables import (labels_frame, run_record, safe_frame, skipped_frame,
                                      write_csv, write_json)
from clustering.features.extract import FeatureSet
from clustering.clusters.kmeans import MINIBATCH_ABOVE, KSweep, check_k, nearest_centroids
from clustering.pipeline import choose_k, cluster_at, reduce_features
from clustering.reduce.pca import FeatureReducer, fit_plane, on_plane
from clustering.settings import Settings

FIT_SAMPLE = MINIBATCH_ABOVE  # images the driver fits on: exact k-means up to this size
PARTITION_ABOVE = 100_000  # results also written partitioned by cluster above this many


@dataclass
class ScaleModel:
    """Everything fitted on the sample: what every shard is pushed through."""

    reducer: FeatureReducer
    centers: np.ndarray
    plane: tuple[np.ndarray, np.ndarray]  # the 2-D map's mean and axes (fit_plane)

    def apply(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Cluster, distance to its centroid and map position of each row."""
        reduced = self.reducer.transform(features).astype(np.float64)
        labels, distances = nearest_centroids(reduced, self.centers)
        coords = on_plane(reduced, self.plane)
        return {"cluster": labels.astype(np.int32), "distance_to_centroid": distances,
                "x": coords[:, 0], "y": coords[:, 1]}


@dataclass
class ScaleFit:
    """The model, and how it was chosen (for run.json)."""

    model: ScaleModel
    k: int
    k_reason: str
    sweep: KSweep | None
    sample_size: int
    seconds: float


def read_features(layout: DatasetLayout, shard: int) -> tuple[list[str], np.ndarray]:
    """File names and the (n, dim) float32 features of one shard."""
    table = pq.read_table(layout.shard_file("features", shard), columns=["file", "feature"])
    column = table.column("feature").combine_chunks()
    dim = column.type.list_size
    return (table.column("file").to_pylist(),
            column.flatten().to_numpy().astype(np.float32).reshape(-1, dim))


def read_sample(layout: DatasetLayout, counts: list[int], size: int,
                seed: int) -> np.ndarray:
    """Features of at most ``size`` images drawn uniformly (all of them, in order, if fewer).

    Reads one shard at a time, so the driver holds the sample and one shard.
    """
    total = sum(counts)
    if total <= size:
        chosen = np.arange(total)
    else:
        chosen = np.sort(np.random.default_rng(seed).choice(total, size, replace=False))
    parts, offset = [], 0
    for shard, count in enumerate(counts):
        local = chosen[(chosen >= offset) & (chosen < offset + count)] - offset
        if len(local):
            parts.append(read_features(layout, shard)[1][local])
        offset += count
    return np.concatenate(parts)


def fit_sample(sample: np.ndarray, settings: Settings) -> ScaleFit:
    """PCA, k (given or from the sweep), k-means++ and the 2-D map fitted on ``sample``."""
    start = time.perf_counter()
    check_k(settings.k or 2, len(sample))
    reduction = reduce_features(sample, settings)
    k, reason, sweep = choose_k(reduction.reduced, settings)
    centers = cluster_at(reduction.reduced, k, settings).centers
    model = ScaleModel(reduction.reducer, np.asarray(centers, dtype=np.float64),
                       fit_plane(reduction.reduced, settings.seed))
    return ScaleFit(model, k, reason, sweep, len(sample), time.perf_counter() - start)


class ShardAssigner:
    """A Ray Data actor: pushes whole feature shards through the fitted model."""

    def __init__(self, model: ScaleModel, dataset: str) -> None:
        self.model = model
        self.layout = DatasetLayout(dataset)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        for shard in batch["shard"]:
            names, features = read_features(self.layout, int(shard))
            columns = self.model.apply(features) if len(names) else _empty_columns()
            write_table(pa.table({"file": names, **columns}),
                        self.layout.shard_file("clusters", int(shard)))
        return {"shard": batch["shard"]}


def _empty_columns() -> dict[str, np.ndarray]:
    return {"cluster": np.empty(0, np.int32), "distance_to_centroid": np.empty(0),
            "x": np.empty(0), "y": np.empty(0)}


def assign_shards(model: ScaleModel, layout: DatasetLayout, shards: int, actors: int) -> None:
    """Write ``clusters/`` for every shard with an actor pool; needs a Ray session."""
    import ray.data

    ray.data.from_items([{"shard": s} for s in range(shards)],
                        override_num_blocks=shards).map_batches(
        ShardAssigner, batch_size=1, compute=ray.data.ActorPoolStrategy(size=min(actors, shards)),
        fn_constructor_kwargs={"model": model, "dataset": str(layout.folder)},
        num_cpus=1).materialize()


def partition_by_cluster(layout: DatasetLayout) -> Path:
    """``by_cluster/cluster=K/``: the results again, one folder per cluster (Ray Data)."""
    import ray.data

    target = layout.folder / "by_cluster"
    ray.data.read_parquet(str(layout.folder / "clusters")).write_parquet(
        str(target), partition_cols=["cluster"])
    return target


def iter_label_frames(layout: DatasetLayout, shards: int) -> Iterator[Any]:
    """labels.csv's rows, one shard at a time, in listing order."""
    for shard in range(shards):
        table = pq.read_table(layout.shard_file("clusters", shard)).to_pandas()
        yield labels_frame(table["file"], table["cluster"], table["distance_to_centroid"],
                           table[["x", "y"]].to_numpy())


def write_labels_csv(layout: DatasetLayout, shards: int, path: Path) -> Path:
    """labels.csv written shard by shard (never the whole table in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for i, frame in enumerate(iter_label_frames(layout, shards)):
            safe_frame(frame).to_csv(handle, index=False, header=i == 0)
    return path


def all_skipped(layout: DatasetLayout, shards: int) -> list[Skipped]:
    """Files refused while listing, then those that failed to decode, in listing order."""
    tables = [pq.read_table(layout.listing_skipped_file)]
    tables += [pq.read_table(layout.shard_file("skipped", s)) for s in range(shards)]
    return [Skipped(row["file"], row["reason"]) for t in tables for row in t.to_pylist()]


def cluster_dataset(dataset: str | os.PathLike, settings: Settings, engine: dict[str, Any],
                    actors: int, fit_size: int = FIT_SAMPLE,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Cluster a finished dataset folder and write labels.csv, skipped.csv, run.json.

    ``engine`` goes into run.json as is. Returns the run record. Needs a Ray session.
    """
    layout = DatasetLayout(dataset)
    info = layout.read_info()
    if info is None:
        raise DatasetError(f"{layout.folder} is not a dataset folder (no dataset.json)")
    markers = list(layout.markers())
    if len(markers) != info.shards:
        raise DatasetError(f"{layout.folder}: only {len(markers)} of {info.shards} shards are "
                           f"extracted; run 'features --engine ray' again to finish")
    say = progress or (lambda _: None)
    counts = [m["extracted"] for m in markers]
    say(f"fitting on a sample of at most {fit_size:,} of {sum(counts):,} images")
    fit = fit_sample(read_sample(layout, counts, fit_size, settings.seed), settings)
    say(f"k={fit.k}; assigning {info.shards} shard(s)")
    assign_shards(fit.model, layout, info.shards, actors)
    if sum(counts) > PARTITION_ABOVE:
        partition_by_cluster(layout)
    skipped = all_skipped(layout, info.shards)
    write_labels_csv(layout, info.shards, layout.folder / "labels.csv")
    write_csv(skipped_frame(skipped), layout.folder / "skipped.csv")
    features = FeatureSet(names=[], hashes=[], features=np.empty((0, 0)),
                          extractor=info.extractor)
    record = run_record(settings, features, fit.model.reducer, fit.k, fit.k_reason, fit.sweep,
                        skipped=skipped, input_root=info.input_root)
    sizes = np.zeros(fit.k, dtype=np.int64)
    for shard in range(info.shards):
        column = pq.read_table(layout.shard_file("clusters", shard), columns=["cluster"])
        sizes += np.bincount(column.column("cluster").to_numpy(), minlength=fit.k)
    record["counts"] = {"found": sum(counts) + len(skipped), "clustered": sum(counts),
                        "skipped": len(skipped), "cluster_sizes": sizes.tolist()}
    record["fit"] = {"sample": fit.sample_size, "seconds": round(fit.seconds, 3)}
    record["engine"] = engine
    write_json(record, layout.folder / "run.json")
    return record
