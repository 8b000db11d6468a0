"""On-disk feature cache keyed by file content hash and extractor.

Layout: ``<directory>/<extractor cache_key>/chunk-*.npz``, each chunk holding the
``hashes`` and ``features`` of one batch. A chunk is written to a temporary name and
renamed into place, so a run killed at any moment leaves only whole chunks (and
perhaps a stray temporary file, which is ignored). Because the key is the content
hash, renaming or moving a file costs nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from pathlib import Path

import numpy as np

COMPACT_ABOVE = 32  # merge a key's chunks into one when it has more than this many


def content_hash(data: bytes) -> str:
    """A 128-bit BLAKE2 digest of the file's bytes, as hex."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def default_cache_dir() -> Path:
    """The user's cache folder for ClusterLens (``$CLUSTERLENS_CACHE`` overrides)."""
    override = os.environ.get("CLUSTERLENS_CACHE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("clusterlens")) / "features"


class FeatureCache:
    """Feature vectors remembered across runs, per extractor ``key``."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self._loaded: dict[str, dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()

    def lookup(self, key: str) -> dict[str, np.ndarray]:
        """All cached features for ``key`` as ``{content hash: vector}`` (read once)."""
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._read(key)
            return self._loaded[key]

    def store(self, key: str, hashes: list[str], features: np.ndarray) -> None:
        """Add one batch; written atomically as its own chunk."""
        if not hashes:
            return
        features = np.asarray(features, dtype=np.float32)
        folder = self.directory / key
        folder.mkdir(parents=True, exist_ok=True)
        self._write_chunk(folder, np.asarray(hashes), features)
        with self._lock:
            known = self._loaded.get(key)
            if known is not None:
                known.update(zip(hashes, features))

    @staticmethod
    def _write_chunk(folder: Path, hashes: np.ndarray, features: np.ndarray) -> Path:
        name = f"chunk-{time.time_ns()}-{uuid.uuid4().hex[:8]}.npz"
        tmp = folder / f".tmp-{name}"
        with open(tmp, "wb") as handle:
            np.savez(handle, hashes=hashes, features=features)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / name)
        return folder / name

    def _read(self, key: str) -> dict[str, np.ndarray]:
        folder = self.directory / key
        chunks = sorted(folder.glob("chunk-*.npz")) if folder.is_dir() else []
        found: dict[str, np.ndarray] = {}
        for chunk in chunks:
            try:
                with np.load(chunk, allow_pickle=False) as data:
                    found.update(zip(data["hashes"].tolist(), data["features"]))
            except (OSError, ValueError, KeyError, EOFError):
                chunk.unlink(missing_ok=True)  # unreadable: drop it, it will be recomputed
        if len(chunks) > COMPACT_ABOVE and found:
            self._compact(folder, chunks, found)
        return found

    def _compact(self, folder: Path, chunks: list[Path], found: dict[str, np.ndarray]) -> None:
        """Merge many small chunks into one (the new chunk lands before old ones go)."""
        hashes = np.asarray(list(found))
        self._write_chunk(folder, hashes, np.stack(list(found.values())))
        for chunk in chunks:
            chunk.unlink(missing_ok=True)
