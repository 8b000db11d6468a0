"""Feature extraction on a Ray cluster: one actor per worker slot, one shard at a time.

Ray Data runs a dataset of pending shard numbers through an actor pool
(``map_batches`` with ``ActorPoolStrategy``). Each actor builds the extractor once,
reads its shard's manifest (the image list; never ``read_images`` over millions of
paths, slow to plan: ray issue #40686), decodes and extracts with the single-machine
:class:`~clustering.features.FeatureExtraction` (decoder threads ahead of the network)
and writes the shard's Parquet files itself. Only a few counts travel back through
the object store, so memory stays one shard per actor, whatever the collection size.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clustering.errors import ClusterLensError, first_line
from clustering.files.discover import Discovery, ImageRef
from clustering.distributed.layout import (SHARD_SIZE, DatasetError, DatasetInfo, DatasetLayout,
                                           listing_sha1, write_atomic, write_table)
from clustering.features import FeatureExtractor, make_extractor
from clustering.features.extract import FeatureExtraction

DECODE_THREADS = 2  # decoder threads per actor, as the single-machine default
MAX_ATTEMPTS = 3  # Ray Data runs over the shards still missing (lost nodes, crashed actors)

ExtractorFactory = Callable[[], FeatureExtractor]
ShardCallback = Callable[[dict[str, Any]], None]


@dataclass
class ExtractionReport:
    """What a distributed extraction did (this run) and what the dataset now holds."""

    shards: int
    shards_run: int
    shards_resumed: int
    images: int
    extracted: int
    skipped: int
    images_per_node: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def extractor_factory(model: str = "vgg16", layer: str = "pooled", weights: str | None = None,
                      precision: str = "float32") -> ExtractorFactory:
    """A picklable recipe that builds the extractor on a worker (never the model itself).

    A preset folder is passed by its absolute path (workers may start elsewhere).
    """
    if Path(model).is_dir():
        model = str(Path(model).resolve())
    return functools.partial(make_extractor, model, layer, weights, precision, False)


def limit_threads(cpus: float) -> None:
    """Size TensorFlow's and OpenMP's thread pools to the actor's CPUs.

    Ray does not set TensorFlow's pools; left alone, every actor on a node would
    start one thread per core of the node. Environment variables are used (read when
    TensorFlow starts) so that an actor that never builds a network never imports it.
    """
    threads = str(max(1, int(cpus)))
    os.environ.update(OMP_NUM_THREADS=threads, TF_NUM_INTRAOP_THREADS=threads,
                      TF_NUM_INTEROP_THREADS="1")


class ShardExtractor:
    """A Ray Data actor: builds the extractor once, then extracts whole shards."""

    def __init__(self, factory: ExtractorFactory, dataset: str, batch_size: int,
                 cpus: float) -> None:
        import ray

        limit_threads(cpus)
        self.extractor = factory()
        self.layout = DatasetLayout(dataset)
        self.batch_size = batch_size
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        reports = [self.extract_shard(int(shard)) for shard in batch["shard"]]
        return {key: np.asarray([r[key] for r in reports]) for key in reports[0]}

    def extract_shard(self, shard: int) -> dict[str, Any]:
        """Extract one shard and write its features, skipped files and marker; a shard
        already marked done (a task Ray retries after its node left, though the shard
        was finished) is not extracted again: its marker is the report."""
        if self.layout.shard_file("done", shard, ".json").exists():
            return self.layout.marker(shard)
        start = time.perf_counter()
        manifest = pq.read_table(self.layout.shard_file("manifest", shard)).to_pylist()
        refs = [ImageRef(row["file"], Path(row["path"]), row["member"]) for row in manifest]
        found = FeatureExtraction(self.extractor, None, batch_size=self.batch_size,
                                  workers=DECODE_THREADS).run(refs)
        dim = self.extractor.dim
        features = pa.FixedSizeListArray.from_arrays(
            pa.array(found.features.reshape(-1), type=pa.float32()), dim)
        write_table(pa.table({"file": found.names, "hash": found.hashes, "feature": features}),
                    self.layout.shard_file("features", shard))
        write_table(pa.table({"file": [s.name for s in found.skipped],
                              "reason": [s.reason for s in found.skipped]},
                             schema=pa.schema([("file", pa.string()), ("reason", pa.string())])),
                    self.layout.shard_file("skipped", shard))
        report = {"shard": shard, "node": self.node, "extracted": len(found.names),
                  "skipped": len(found.skipped), "seconds": time.perf_counter() - start}
        write_atomic(self.layout.shard_file("done", shard, ".json"), json.dumps(report).encode())
        return report


class DistributedExtraction:
    """Features of a whole listing, written as Parquet shards into a dataset folder.

    ``actors`` defaults to one per ``cpus_per_actor`` CPUs of the cluster; with
    ``gpus_per_actor`` each actor holds that share of a GPU. A folder that already
    holds some shards of the same listing and extractor resumes: finished shards are
    not run again.
    """

    def __init__(self, factory: ExtractorFactory, dataset: str | os.PathLike,
                 shard_size: int = SHARD_SIZE, batch_size: int = 16, actors: int | None = None,
                 cpus_per_actor: float = 1.0, gpus_per_actor: float = 0.0) -> None:
        self.factory = factory
        self.layout = DatasetLayout(dataset)
        self.shard_size = shard_size
        self.batch_size = batch_size
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.gpus_per_actor = gpus_per_actor

    def prepare(self, discovery: Discovery) -> DatasetInfo:
        """Write (or check, when resuming) the manifest shards of ``discovery``."""
        rows = [(ref.name, str(ref.path), ref.member) for ref in discovery.images]
        extractor = self.factory().describe()
        info = DatasetInfo(input_root=discovery.root, extractor=extractor,
                           shard_size=self.shard_size,
                           shards=-(-len(rows) // self.shard_size), images=len(rows),
                           listing_sha1=listing_sha1(rows))
        old = self.layout.read_info()
        if old is not None:
            if old.extractor.get("cache_key") != extractor["cache_key"]:
                raise DatasetError(f"{self.layout.folder} holds features of another extractor "
                                   f"({old.extractor.get('cache_key')}); choose another --out")
            if (old.listing_sha1, old.shard_size) != (info.listing_sha1, info.shard_size):
                raise DatasetError(f"{self.layout.folder} holds features of another listing "
                                   f"of images (files added, removed or moved since); "
                                   f"choose another --out")
            return old
        for shard in range(info.shards):
            chunk = rows[shard * self.shard_size:(shard + 1) * self.shard_size]
            write_table(pa.table({"file": [r[0] for r in chunk], "path": [r[1] for r in chunk],
                                  "member": pa.array([r[2] for r in chunk], pa.string())}),
                        self.layout.shard_file("manifest", shard))
        write_table(pa.table({"file": [s.name for s in discovery.skipped],
                              "reason": [s.reason for s in discovery.skipped]},
                             schema=pa.schema([("file", pa.string()), ("reason", pa.string())])),
                    self.layout.listing_skipped_file)
        self.layout.write_info(info)
        return info

    def run(self, discovery: Discovery, on_shard: ShardCallback | None = None) -> ExtractionReport:
        """Extract every shard not finished yet; needs a connected Ray session.

        ``on_shard(marker)`` is called on the driver as each shard finishes, with the
        shard's ``done`` marker (shard, node, counts); it may raise (e.g.
        :class:`~clustering.errors.Cancelled`) to stop the run between shards: the
        actors are stopped and the finished shards kept for a later resume.
        """
        start = time.perf_counter()
        info = self.prepare(discovery)
        resumed = self.layout.done_shards()
        error = ""
        for _ in range(MAX_ATTEMPTS):
            pending = sorted(set(range(info.shards)) - self.layout.done_shards())
            if not pending:
                break
            try:
                self._run_shards(pending, on_shard)
            except ClusterLensError:  # a stop asked by the caller: not a lost node
                raise
            except Exception as exc:  # a lost node fails the whole Ray Data run: run the rest
                error = f" (last error: {type(exc).__name__}: {first_line(exc)})"
        missing = sorted(set(range(info.shards)) - self.layout.done_shards())
        if missing:
            raise DatasetError(f"{len(missing)} shard(s) still unfinished after {MAX_ATTEMPTS} "
                               f"attempts{error}; run the command again to resume")
        markers = list(self.layout.markers())
        return ExtractionReport(shards=info.shards, shards_run=info.shards - len(resumed),
                                shards_resumed=len(resumed), images=info.images,
                                extracted=sum(m["extracted"] for m in markers),
                                skipped=sum(m["skipped"] for m in markers),
                                images_per_node=self.layout.images_per_node(),
                                seconds=time.perf_counter() - start)

    def _run_shards(self, shards: list[int], on_shard: ShardCallback | None) -> None:
        import ray
        import ray.data

        size = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)
                                         // max(self.cpus_per_actor, 1e-9)))
        size = min(size, len(shards))
        items = ray.data.from_items([{"shard": s} for s in shards],
                                    override_num_blocks=len(shards))
        results = items.map_batches(
            ShardExtractor, batch_size=1, compute=ray.data.ActorPoolStrategy(size=size),
            fn_constructor_kwargs={"factory": self.factory, "dataset": str(self.layout.folder),
                                   "batch_size": self.batch_size, "cpus": self.cpus_per_actor},
            num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor or None)
        # Streamed, not materialised: each shard's report reaches the driver as it is done,
        # and closing the stream early (a stop) shuts the actors down.
        rows = iter(results.iter_rows())
        try:
            for row in rows:
                if on_shard is not None:
                    on_shard(self.layout.marker(int(row["shard"])))
        finally:
            getattr(rows, "close", lambda: None)()

