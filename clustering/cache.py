"""On-disk feature cache keyed by file content hash and extractor.

Layout: ``<directory>/<extractor cache_key>/chunk-*.npz``, each chunk holding the
``hashes`` and ``features`` of one batch. A chunk is written to a temporary name and
renamed into place, so a run killed at any moment leaves only whole chunks (and
perhaps a stray temporary file, which is ignored). Because the key is the content
hash, renaming or moving a file costs nothing.

A warm run would still read and hash every file (about 2 ms per 12-MP JPEG, the
larger part of a rerun on a big folder), so ``<directory>/stat-index-v1.npz``
remembers each file's content hash under its path and ``stat`` signature (size,
modification and change times in ns, inode, device): an unchanged file is not read
again. See :class:`StatIndex`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
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
        self._stat_index: StatIndex | None = None

    def stat_index(self) -> "StatIndex":
        """The path -> content hash index kept beside the features (one per cache)."""
        with self._lock:
            if self._stat_index is None:
                self._stat_index = StatIndex(self.directory)
            return self._stat_index

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


class JointCache:
    """Several products computed in one pass over the images, each cached under its own
    key: a vector is their concatenation, ``parts`` gives each key and its length.

    Presents the :class:`FeatureCache` methods the image engine uses, so one pass
    (one read and one decode per image) fills the same entries that computing each
    product alone would, and a product computed alone before is found here.
    """

    def __init__(self, cache: FeatureCache, parts: Sequence[tuple[str, int]]) -> None:
        self.cache = cache
        self.parts = list(parts)
        self.key = "+".join(key for key, _ in self.parts)

    def stat_index(self) -> "StatIndex":
        return self.cache.stat_index()

    def lookup(self, key: str) -> Mapping[str, np.ndarray]:
        """Content hashes cached under every part (vectors joined when read)."""
        return _Joined([self.cache.lookup(part) for part, _ in self.parts])

    def store(self, key: str, hashes: list[str], features: np.ndarray) -> None:
        """Store each part's slice of ``features`` under its own key."""
        start = 0
        for part, dim in self.parts:
            self.cache.store(part, hashes, np.asarray(features)[:, start:start + dim])
            start += dim


class _Joined(Mapping):
    """A read-only view: hash -> the concatenation of its vectors in every mapping."""

    def __init__(self, maps: list[dict[str, np.ndarray]]) -> None:
        self.maps = maps

    def __contains__(self, key: object) -> bool:
        return all(key in found for found in self.maps)

    def __getitem__(self, key: str) -> np.ndarray:
        return np.concatenate([found[key] for found in self.maps])

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.maps[0] if key in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


Signature = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


class StatIndex:
    """Content hashes of files met before, valid while their ``stat`` is unchanged.

    An entry is trusted only when the file's size, modification time, change time
    (which no user tool can set back), inode and device are all as recorded. Files
    changed less than :attr:`RACY_SECONDS` before they were read are not recorded
    (a change within the same timestamp tick could otherwise go unseen); neither are
    files whose times read as 0. The index is one file, rewritten atomically
    (temporary name, then rename) only when a run learnt something new; an
    unreadable index is ignored. It keeps the :attr:`MAX_ENTRIES` most recently
    recorded entries.
    """

    FILENAME = "stat-index-v1.npz"
    RACY_SECONDS = 3.0
    MAX_ENTRIES = 250_000

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / self.FILENAME
        self._entries: dict[str, tuple[Signature, str]] | None = None
        self._new: dict[str, tuple[Signature, str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def signature(path: str | os.PathLike) -> Signature | None:
        """The ``stat`` signature of a regular file, or None when it cannot be used."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or not st.st_mtime_ns or not st.st_ctime_ns:
            return None
        mask = 0xFFFF_FFFF_FFFF_FFFF  # stored as uint64 (a time before 1970 reads as racy)
        return tuple(v & mask for v in (st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                         st.st_ino, st.st_dev))

    def lookup(self, path: str | os.PathLike, signature: Signature | None) -> str | None:
        """The content hash recorded for ``path`` if its signature still matches."""
        if signature is None:
            return None
        entry = self._load().get(os.path.abspath(path))
        if entry is None or entry[0] != signature:
            return None
        return entry[1]

    def remember(self, path: str | os.PathLike, signature: Signature | None, digest: str,
                 read_started_ns: int) -> None:
        """Record ``digest`` for ``path`` as read from ``read_started_ns`` on (unless racy)."""
        if signature is None:
            return
        settled = read_started_ns - int(self.RACY_SECONDS * 1e9)
        if signature[1] > settled or signature[2] > settled:
            return
        key = os.path.abspath(path)
        entry = (signature, digest)
        if self._load().get(key) != entry:
            with self._lock:
                self._new[key] = entry

    def save(self) -> None:
        """Write the index if this run recorded anything new (atomically)."""
        with self._lock:
            if not self._new:
                return
            new, self._new = self._new, {}
        merged = dict(new)
        for key, entry in self._load().items():
            if len(merged) >= self.MAX_ENTRIES:
                break
            merged.setdefault(key, entry)
        keys = list(merged)[: self.MAX_ENTRIES]
        signatures = np.array([merged[k][0] for k in keys], dtype=np.uint64).reshape(-1, 5)
        blob = b"\0".join(os.fsencode(k) for k in keys)
        tmp = self.path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{self.FILENAME}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                np.savez(handle, paths=np.frombuffer(blob, dtype=np.uint8),
                         signatures=signatures,
                         hashes=np.array([merged[k][1] for k in keys], dtype="S32"))
            os.replace(tmp, self.path)
        except OSError:  # e.g. a read-only cache folder: the index is an optimisation only
            tmp.unlink(missing_ok=True)
            return
        with self._lock:
            self._entries = {k: merged[k] for k in keys}

    def _load(self) -> dict[str, tuple[Signature, str]]:
        if self._entries is None:
            entries: dict[str, tuple[Signature, str]] = {}
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    paths = data["paths"].tobytes().split(b"\0") if data["paths"].size else []
                    signatures = data["signatures"].tolist()
                    hashes = [h.decode("ascii") for h in data["hashes"].tolist()]
                if len(paths) == len(signatures) == len(hashes):
                    entries = {os.fsdecode(p): (tuple(sig), h)
                               for p, sig, h in zip(paths, signatures, hashes)}
            except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError):
                entries = {}  # missing or unreadable: start afresh
            with self._lock:
                if self._entries is None:
                    self._entries = entries
        return self._entries
