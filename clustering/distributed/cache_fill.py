"""Feature extraction on a Ray cluster whose result lands in this machine's feature cache.

The dashboard's pages and ``python -m clustering`` read features from the
content-keyed cache (:mod:`clustering.cache`). :func:`extract_on_cluster` runs the
images that cache lacks through the distributed engine
(:class:`~clustering.distributed.extract.DistributedExtraction`: Ray Data actors,
one Parquet shard per manifest shard) and stores each finished shard's features
under the same keys a local extraction uses (extractor cache key, content hash).
The usual local extraction then finds every image cached, so the result opens in
every page as if it had been extracted here, and a rerun computes nothing.

A shard is the unit of resume: its features reach the cache as soon as it is done,
so a stopped or failed call keeps them and the next call sends only what is still
missing. The shards live in ``<cache>/ray-datasets/<request>/<run>/``, which every
node must see at the same path (a shared file system, like the images); a run's
folder is removed once its shards are in the cache.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from clustering.cache import FeatureCache, StatIndex
from clustering.distributed.extract import (DistributedExtraction, ExtractorFactory,
                                            extractor_factory)
from clustering.distributed.layout import SHARD_SIZE, DatasetLayout, listing_sha1
from clustering.distributed.scale import read_features
from clustering.distributed.session import RayUnavailable, cluster_nodes, ray_session
from clustering.errors import Cancelled, ImageLoadError
from clustering.features.extract import FeatureExtraction, FeatureSet
from clustering.files.discover import Discovery, ImageRef, discover
from clustering.images.engine import ImageMapper
from clustering.settings import Settings

DATASETS = "ray-datasets"  # inside the feature cache folder

ProgressCallback = Callable[[int, int], None]  # (images done, images in all)
StopCheck = Callable[[], bool]


@dataclass
class ClusterEngine:
    """Where the features were computed (for the page and ``run.json``)."""

    address: str
    name: str = "ray"
    images_per_node: dict[str, int] = field(default_factory=dict)  # node id -> images
    nodes: dict[str, str] = field(default_factory=dict)  # node id -> node address
    extracted: int = 0  # images extracted on the cluster by this call


@dataclass
class ClusterFeatureSet(FeatureSet):
    """A :class:`FeatureSet` read from the local cache, with the cluster's work in ``engine``."""

    engine: ClusterEngine | None = None


def extract_on_cluster(paths: Discovery | str | os.PathLike | Sequence[str | os.PathLike],
                       settings: Settings, address: str,
                       on_progress: ProgressCallback | None = None,
                       should_stop: StopCheck | None = None, *, shard_size: int = SHARD_SIZE,
                       factory: ExtractorFactory | None = None) -> ClusterFeatureSet:
    """Features of every image in ``paths``, the uncached ones extracted on the Ray
    cluster at ``address`` and stored in the local cache.

    ``paths`` is what :func:`~clustering.files.discover.discover` takes, or its result.
    ``on_progress(done, total)`` is called (in images) as shards finish;
    ``should_stop()`` is asked after each shard, and True stops the run with
    :class:`~clustering.errors.Cancelled` (finished shards stay cached). ``factory``
    replaces the settings' extractor (tests). Raises
    :class:`~clustering.distributed.session.RayUnavailable` when the cluster cannot be
    reached. Two calls for the same images and extractor must not run at once (a job
    system runs one job for both): each starts by taking over what the other left.
    """
    start = time.perf_counter()
    found = paths if isinstance(paths, Discovery) else discover(paths, settings.recursive)
    factory = factory or extractor_factory(settings.model, settings.layer, settings.weights,
                                           settings.precision)
    extractor = factory()
    cache = FeatureCache(settings.cache_dir)
    request = cache.directory / DATASETS / _request_id(found, extractor.cache_key)
    _collect_finished(request, cache, extractor.cache_key)  # from an interrupted call
    missing = uncached(found.images, cache, extractor.cache_key, settings.workers)
    engine = ClusterEngine(address=address)
    if missing:
        run = _ClusterRun(cache, extractor.cache_key, len(found.images), len(missing),
                          on_progress, should_stop)
        engine = run.extract(Discovery(found.root, missing), factory, request, address,
                             shard_size, settings.batch_size)
    result = FeatureExtraction(extractor, cache, batch_size=settings.batch_size,
                               workers=settings.workers).run(found.images)
    values = {name: getattr(result, name) for name in FeatureSet.__dataclass_fields__}
    values.update(computed=result.computed + engine.extracted,
                  cached=result.cached - engine.extracted, seconds=time.perf_counter() - start)
    return ClusterFeatureSet(**values, engine=engine)


def uncached(images: Sequence[ImageRef], cache: FeatureCache, key: str,
             workers: int = Settings.workers) -> list[ImageRef]:
    """The readable images whose content has no features under ``key`` in ``cache``.

    Reads and hashes each file once (none for files the stat index knows); decodes
    nothing. Files that cannot be read or are no image at all are left out (never sent
    to the cluster, again and again): the local pass reports them as skipped.
    """
    mapped = ImageMapper(_recognised, 0, cache_key=key, cache=_LookupOnly(cache),
                         workers=workers).run(images)
    known = cache.lookup(key)
    wanted = {name for name, digest in zip(mapped.names, mapped.hashes) if digest not in known}
    return [ref for ref in images if ref.name in wanted]


class _Presence(Mapping):
    """The keys of ``found``, each mapped to an empty vector."""

    def __init__(self, found: Mapping[str, np.ndarray]) -> None:
        self.found = found

    def __contains__(self, key: object) -> bool:
        return key in self.found

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.found:
            raise KeyError(key)
        return np.empty(0, np.float32)

    def __iter__(self) -> Iterator[str]:
        return iter(self.found)

    def __len__(self) -> int:
        return len(self.found)


def _recognised(data: bytes) -> np.ndarray:
    """An empty vector once PIL recognises ``data`` as an image (its header only)."""
    try:
        Image.open(io.BytesIO(data)).close()
    except Exception:  # PIL raises many kinds of error for a file that is no image
        raise ImageLoadError("not a recognised image") from None
    return np.empty(0, np.float32)


class _LookupOnly:
    """A cache view for :func:`uncached`: which contents are cached (each as an empty
    vector: no features are copied), the stat index, and no storing."""

    def __init__(self, cache: FeatureCache) -> None:
        self.cache = cache

    def lookup(self, key: str) -> Mapping[str, np.ndarray]:
        return _Presence(self.cache.lookup(key))

    def stat_index(self) -> StatIndex:
        return self.cache.stat_index()

    def store(self, key: str, hashes: list[str], features: np.ndarray) -> None:
        """Nothing: :func:`uncached` computes no features."""


class _ClusterRun:
    """One call's work on the cluster: fills the cache and reports as shards finish."""

    def __init__(self, cache: FeatureCache, key: str, total: int, missing: int,
                 on_progress: ProgressCallback | None, should_stop: StopCheck | None) -> None:
        self.cache = cache
        self.key = key
        self.total = total
        self.done = total - missing
        self.on_progress = on_progress or (lambda done, total: None)
        self.should_stop = should_stop or (lambda: False)
        self.layout: DatasetLayout | None = None

    def extract(self, missing: Discovery, factory: ExtractorFactory, request: Path,
                address: str, shard_size: int, batch_size: int) -> ClusterEngine:
        """Extract ``missing`` on the cluster into a fresh run folder under ``request``."""
        self.on_progress(self.done, self.total)
        if self.should_stop():
            raise Cancelled("stopped before any image was sent to the cluster")
        folder = request / uuid.uuid4().hex[:12]
        self.layout = DatasetLayout(folder)
        job = DistributedExtraction(factory, folder, shard_size=shard_size,
                                    batch_size=batch_size)
        try:
            with ray_session(address):
                report = job.run(missing, on_shard=self.shard_done)
                nodes = {node["id"]: node["address"] for node in cluster_nodes()}
        except RayUnavailable as exc:
            raise RayUnavailable(f"{exc}; check that the Ray cluster is running and that the "
                                 f"configured Ray address is right") from None
        shutil.rmtree(folder, ignore_errors=True)  # every shard is in the cache now
        return ClusterEngine(address=address, images_per_node=report.images_per_node,
                             nodes=nodes, extracted=report.extracted)

    def shard_done(self, marker: dict[str, Any]) -> None:
        """Store a finished shard's features, report progress, stop if asked."""
        assert self.layout is not None
        _store_shard(self.layout, marker["shard"], self.cache, self.key)
        self.done += marker["extracted"] + marker["skipped"]
        self.on_progress(self.done, self.total)
        if self.should_stop():
            raise Cancelled(f"stopped after {self.done:,} of {self.total:,} images; those "
                            f"are kept and will not be computed again")


def _request_id(found: Discovery, key: str) -> str:
    """A folder name for this listing and extractor (a rerun finds an interrupted run)."""
    rows = [(ref.name, str(ref.path), ref.member) for ref in found.images]
    return hashlib.sha1(f"{key}\0{listing_sha1(rows)}".encode()).hexdigest()[:16]


def _store_shard(layout: DatasetLayout, shard: int, cache: FeatureCache, key: str) -> None:
    """Put a finished shard's features into ``cache`` (those it lacks) under ``key``."""
    hashes = pq.read_table(layout.shard_file("features", shard),
                           columns=["hash"]).column("hash").to_pylist()
    known = cache.lookup(key)
    new = [i for i, digest in enumerate(hashes) if digest not in known]
    if new:
        features = read_features(layout, shard)[1]
        cache.store(key, [hashes[i] for i in new], features[new])


def _collect_finished(request: Path, cache: FeatureCache, key: str) -> None:
    """Cache the finished shards an interrupted call left under ``request``, then drop them."""
    if not request.is_dir():
        return
    for folder in sorted(p for p in request.iterdir() if p.is_dir()):
        layout = DatasetLayout(folder)
        for shard in sorted(layout.done_shards()):
            _store_shard(layout, shard, cache, key)
        shutil.rmtree(folder, ignore_errors=True)
