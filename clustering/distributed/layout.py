"""The dataset folder of a distributed run: where every shard and marker lives.

::

    DATASET/
      dataset.json               input root, extractor (cache key), shard size, listing hash
      manifest/shard-00000.parquet   file, path, member: the images of each shard
      manifest_skipped.parquet   files refused while listing (file, reason)
      features/shard-00000.parquet   file, hash, feature (one row per loaded image)
      skipped/shard-00000.parquet    file, reason (files that could not be decoded)
      done/shard-00000.json      written last: node, counts, seconds (the resume marker)
      clusters/shard-00000.parquet   file, cluster, distance_to_centroid, x, y
      by_cluster/cluster=K/…     the same rows partitioned by cluster (large results)
      labels.csv, skipped.csv, run.json

A shard is the unit of work and of resume: its files are written to a temporary
name and renamed, and its ``done`` marker comes last, so a crash leaves either a
finished shard or none. Every path here must be visible to every node (a shared
file system), since workers read the images and write the shards themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clustering.errors import InputError

SHARD_SIZE = 1_000  # images per shard: the unit of work, of resume and of driver memory
FORMAT_VERSION = 1


class DatasetError(InputError):
    """A dataset folder that cannot be used (another input or extractor, unfinished)."""


@dataclass
class DatasetInfo:
    """``dataset.json``: what a dataset folder holds."""

    input_root: str
    extractor: dict[str, Any]
    shard_size: int
    shards: int
    images: int
    listing_sha1: str
    version: int = FORMAT_VERSION


class DatasetLayout:
    """Paths inside one dataset folder, and atomic writes of its files."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def shard_file(self, kind: str, shard: int, suffix: str = ".parquet") -> Path:
        return self.folder / kind / f"shard-{shard:05d}{suffix}"

    @property
    def info_file(self) -> Path:
        return self.folder / "dataset.json"

    @property
    def listing_skipped_file(self) -> Path:
        return self.folder / "manifest_skipped.parquet"

    def read_info(self) -> DatasetInfo | None:
        """``dataset.json`` or None when the folder holds no dataset yet."""
        if not self.info_file.exists():
            return None
        try:
            return DatasetInfo(**json.loads(self.info_file.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise DatasetError(f"unreadable {self.info_file}: {exc}") from None

    def write_info(self, info: DatasetInfo) -> None:
        write_atomic(self.info_file, json.dumps(asdict(info), indent=2).encode())

    def done_shards(self) -> set[int]:
        """Shards whose marker exists (their features and skipped files are complete)."""
        folder = self.folder / "done"
        if not folder.is_dir():
            return set()
        return {int(p.stem.split("-")[1]) for p in folder.glob("shard-*.json")}

    def marker(self, shard: int) -> dict[str, Any]:
        """The ``done`` marker of a finished shard: node, counts, seconds."""
        return json.loads(self.shard_file("done", shard, ".json").read_text())

    def markers(self) -> Iterator[dict[str, Any]]:
        """Every ``done`` marker, in shard order."""
        for shard in sorted(self.done_shards()):
            yield self.marker(shard)

    def images_per_node(self) -> dict[str, int]:
        """Images extracted by each Ray node (by node id), over every finished shard."""
        counts: dict[str, int] = {}
        for marker in self.markers():
            counts[marker["node"]] = counts.get(marker["node"], 0) + marker["extracted"]
        return counts


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file atomically (a crashed writer leaves only a ``.tmp-`` file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def listing_sha1(rows: list[tuple[str, str, str | None]]) -> str:
    """A fingerprint of the image listing: a changed input must not resume old shards."""
    digest = hashlib.sha1()
    for name, path, member in rows:
        digest.update(f"{name}\0{path}\0{member or ''}\n".encode())
    return digest.hexdigest()
