"""Compute a small vector per image in a thread pool, cached by file content.

Used by the duplicate finder (perceptual hashes) and the quality scorer (image
statistics): each reads every file once, hashes its bytes, and decodes it only
when the cache does not already hold the answer for that content. A file that
cannot be read or decoded becomes a :class:`~clustering.discover.Skipped` row; it
never stops the run.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from clustering.cache import FeatureCache, content_hash
from clustering.discover import ImageRef, Skipped
from clustering.features import Progress, ProgressCallback
from clustering.loading import ImageLoadError, read_image_file

STORE_EVERY = 1024  # cache newly computed vectors in chunks of this many
CHUNK = 256  # images handed to the pool at once (bounds the work left after Ctrl+C)

Compute = Callable[[bytes], np.ndarray]


@dataclass
class PerImage:
    """The vectors of the readable images, in input order, and the files skipped."""

    names: list[str]
    hashes: list[str]
    file_sizes: np.ndarray
    values: np.ndarray  # (n, d) float32
    skipped: list[Skipped] = field(default_factory=list)
    computed: int = 0
    cached: int = 0


@dataclass
class _Result:
    hash: str | None = None
    size: int = 0
    value: np.ndarray | None = None
    cached: bool = False
    reason: str | None = None


def map_images(images: Sequence[ImageRef], compute: Compute, dim: int,
               cache: FeatureCache | None = None, cache_key: str | None = None,
               workers: int = 2, progress: ProgressCallback | None = None) -> PerImage:
    """``compute(file bytes)`` for every image: a float32 vector of ``dim`` values.

    ``compute`` raises :class:`~clustering.loading.ImageLoadError` for a bad image.
    With a ``cache`` (and its ``cache_key``, which must change whenever ``compute``
    would give other values) known contents are not decoded again.
    """
    start = time.perf_counter()
    use_cache = cache is not None and bool(cache_key)
    known = cache.lookup(cache_key) if use_cache else {}
    found = _Found(dim)

    def work(ref: ImageRef) -> _Result:
        return _one(ref, compute, known)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for begin in range(0, len(images), CHUNK):
            chunk = images[begin:begin + CHUNK]
            for ref, result in zip(chunk, pool.map(work, chunk)):
                found.add(ref, result)
                if progress is not None:
                    progress(found.progress(len(images), start))
            if use_cache and len(found.fresh) >= STORE_EVERY:
                found.store(cache, cache_key)
    if use_cache:
        found.store(cache, cache_key)
    return found.result()


class _Found:
    """Accumulates worker results in input order."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.names: list[str] = []
        self.hashes: list[str] = []
        self.sizes: list[int] = []
        self.rows: list[np.ndarray] = []
        self.skipped: list[Skipped] = []
        self.fresh: list[tuple[str, np.ndarray]] = []  # computed, not yet cached
        self.computed = 0
        self.cached = 0

    def add(self, ref: ImageRef, result: _Result) -> None:
        if result.reason is not None:
            self.skipped.append(Skipped(ref.name, result.reason))
            return
        self.names.append(ref.name)
        self.hashes.append(result.hash)
        self.sizes.append(result.size)
        self.rows.append(result.value)
        if result.cached:
            self.cached += 1
        else:
            self.computed += 1
            self.fresh.append((result.hash, result.value))

    def store(self, cache: FeatureCache, key: str) -> None:
        if self.fresh:
            cache.store(key, [h for h, _ in self.fresh], np.stack([v for _, v in self.fresh]))
            self.fresh.clear()

    def progress(self, total: int, start: float) -> Progress:
        done = len(self.names) + len(self.skipped)
        elapsed = time.perf_counter() - start
        rate = done / elapsed if elapsed > 0 else 0.0
        return Progress(done=done, total=total, computed=self.computed, cached=self.cached,
                        skipped=len(self.skipped), elapsed_s=elapsed,
                        images_per_s=self.computed / elapsed if elapsed > 0 else 0.0,
                        eta_s=(total - done) / rate if rate > 0 else None)

    def result(self) -> PerImage:
        values = (np.stack(self.rows).astype(np.float32) if self.rows
                  else np.zeros((0, self.dim), np.float32))
        return PerImage(names=self.names, hashes=self.hashes,
                        file_sizes=np.asarray(self.sizes, dtype=np.int64), values=values,
                        skipped=self.skipped, computed=self.computed, cached=self.cached)


def full_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an image file as stored, read from its header only.

    Call it after :func:`~clustering.loading.open_image` accepted ``data``.
    """
    with Image.open(io.BytesIO(data)) as header:
        return header.size


def _one(ref: ImageRef, compute: Compute, known: dict[str, np.ndarray]) -> _Result:
    """Read, hash and (unless cached) compute one image; never raises for bad files."""
    try:
        data = read_image_file(ref)
        digest = content_hash(data)
        if digest in known:
            return _Result(hash=digest, size=len(data), value=known[digest], cached=True)
        value = np.asarray(compute(data), dtype=np.float32)
    except ImageLoadError as exc:
        return _Result(reason=str(exc))
    return _Result(hash=digest, size=len(data), value=value)
