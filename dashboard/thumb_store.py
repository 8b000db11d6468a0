"""Thumbnails on disk, keyed by the image file's content hash (no Streamlit inside).

A thumbnail is a few KB of JPEG that costs a full decode to make; kept in the cache
folder, a revisit (or a restarted server, or another session with the same photos)
decodes nothing. Files are written atomically (a temporary name, then rename), so a
reader never sees half a file; reads refresh the file's time, and when the folder
grows past its budget the least recently used thumbnails go first.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path

from clustering.settings import THUMBNAIL_CACHE_MB

FOLDER = "thumbnails-v1"  # bump when make_thumbnail's output changes
PRUNE_EVERY = 256  # writes between two checks of the folder's size
PRUNE_TO = 0.8  # a prune goes down to this share of the budget (so it runs rarely)


class ThumbnailStore:
    """``get``/``put`` of thumbnail bytes by (content hash, size in pixels)."""

    def __init__(self, cache_dir: str | os.PathLike,
                 max_bytes: int = THUMBNAIL_CACHE_MB * 1024 * 1024) -> None:
        self.root = Path(cache_dir) / FOLDER
        self.max_bytes = max_bytes
        self._writes = 0
        self._lock = threading.Lock()

    def path(self, digest: str, px: int) -> Path:
        return self.root / str(px) / digest[:2] / f"{digest}.jpg"

    def get(self, digest: str, px: int) -> bytes | None:
        """The stored thumbnail, or None (missing, or removed by a prune meanwhile)."""
        path = self.path(digest, px)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: pruned last
        except OSError:
            return None
        return data or None

    def put(self, digest: str, px: int, data: bytes) -> None:
        """Store ``data`` atomically; a cache folder that cannot be written is skipped."""
        path = self.path(digest, px)
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:  # the thumbnail is still returned, just not kept
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        with self._lock:
            self._writes += 1
            due = self._writes % PRUNE_EVERY == 0
        if due:
            self.prune()

    def size(self) -> int:
        """Bytes held now."""
        return sum(size for _, _, size in self._files())

    def prune(self) -> None:
        """Remove least recently used thumbnails until under the budget's PRUNE_TO share."""
        files = self._files()
        total = sum(size for _, _, size in files)
        if total <= self.max_bytes:
            return
        for _, path, size in sorted(files):
            if total <= self.max_bytes * PRUNE_TO:
                break
            try:
                path.unlink()
                total -= size
            except OSError:  # another session removed it first
                continue

    def _files(self) -> list[tuple[int, Path, int]]:
        """(time used, path, bytes) of every stored thumbnail."""
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = Path(folder) / name
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if not name.startswith(".tmp-"):
                    found.append((stat.st_mtime_ns, path, stat.st_size))
        return found
