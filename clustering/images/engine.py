"""The one engine for per-image work: read → hash → cache → decode → compute, in order.

Feature extraction (a network over batches of pixels), perceptual hashes and quality
scores (a small vector straight from each file) all run through :class:`ImageMapper`.
Worker threads read, hash and prepare images ahead of the batch step, at most a few
batches ahead, so memory is bounded by the batch size and never by the number of
images. Contents already in the cache are not decoded again; with a stat index, files
unchanged since they were last hashed are not even read. A file that cannot be read
or decoded becomes a :class:`~clustering.files.discover.Skipped` row; it never stops
the run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from clustering.cache import FeatureCache, JointCache, StatIndex, content_hash
from clustering.errors import ImageLoadError
from clustering.files.discover import ImageRef, Skipped
from clustering.images.loading import read_image_file

# Worker threads run this much "nicer" than the batch step's threads (Linux only):
# when a network already fills every core, a decoder then runs while the network's
# threads wait at their synchronisation points instead of preempting one of them
# mid-layer, which stalls its partner (~7 % faster end to end on two cores;
# bench/extraction.py).
DECODE_NICENESS = 10
STORE_EVERY = 256  # per-image vectors are cached in chunks of this many


@dataclass
class Progress:
    """A progress report: images handled so far and the rate of new work."""

    done: int
    total: int
    computed: int
    cached: int
    skipped: int
    elapsed_s: float
    images_per_s: float  # of newly computed images
    eta_s: float | None


ProgressCallback = Callable[[Progress], None]
Prepare = Callable[[bytes], np.ndarray]
BatchStep = Callable[[np.ndarray], np.ndarray]


@dataclass
class Mapped:
    """The vectors of the readable images, in input order, and the files skipped."""

    names: list[str]
    hashes: list[str]
    file_sizes: np.ndarray  # bytes per image (int64)
    values: np.ndarray  # (n, dim) float32
    skipped: list[Skipped] = field(default_factory=list)
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0


@dataclass
class _Read:
    """What a worker returns for one image."""

    hash: str | None = None
    size: int = 0
    prepared: np.ndarray | None = None  # None when the result is cached
    reason: str | None = None  # set when the image is skipped


def _lower_thread_priority(step: int = DECODE_NICENESS) -> None:
    """Make the calling thread nicer by ``step`` (a no-op where not supported)."""
    if not sys.platform.startswith("linux") or step <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:
        pass


class ImageMapper:
    """Maps every image to a float32 vector of ``dim`` values, with a cache.

    ``prepare(file bytes)`` runs in ``workers`` threads and raises
    :class:`~clustering.errors.ImageLoadError` for a bad image; ``batch`` (when
    given) turns a stack of ``batch_size`` prepared arrays into vectors on the calling
    thread (a network); without it the prepared array is the vector. ``cache_key``
    must change whenever the vectors would.
    """

    def __init__(self, prepare: Prepare, dim: int, cache_key: str | None = None,
                 cache: FeatureCache | JointCache | None = None, batch: BatchStep | None = None,
                 batch_size: int = 16, workers: int = 2,
                 progress: ProgressCallback | None = None) -> None:
        self.prepare = prepare
        self.dim = dim
        self.cache_key = cache_key
        self.cache = cache if cache_key else None
        self.batch = batch
        self.batch_size = batch_size
        self.workers = workers
        self.progress = progress

    def run(self, images: Sequence[ImageRef]) -> Mapped:
        """Vectors for ``images`` (cached ones are not recomputed)."""
        start = time.perf_counter()
        known = self.cache.lookup(self.cache_key) if self.cache is not None else {}
        index = self.cache.stat_index() if self.cache is not None else None
        out = np.empty((len(images), self.dim), dtype=np.float32)
        names: list[str] = []
        hashes: list[str] = []
        sizes: list[int] = []
        skipped: list[Skipped] = []
        pending: list[tuple[int, str, np.ndarray]] = []  # (row, hash, prepared)
        counts = {"computed": 0, "cached": 0}

        def flush() -> None:
            stacked = np.stack([prepared for _, _, prepared in pending])
            vectors = np.asarray(self.batch(stacked) if self.batch is not None else stacked,
                                 dtype=np.float32)
            out[[row for row, _, _ in pending]] = vectors
            if self.cache is not None:
                self.cache.store(self.cache_key, [h for _, h, _ in pending], vectors)
            counts["computed"] += len(pending)
            pending.clear()

        def read(ref: ImageRef) -> _Read:
            return _read_one(ref, self.prepare, known, index)

        with ThreadPoolExecutor(max_workers=self.workers,
                                initializer=_lower_thread_priority) as pool:
            window = self.batch_size * 2 + self.workers
            queue: deque[tuple[ImageRef, Future[_Read]]] = deque()
            items = iter(images)
            for ref in items:
                queue.append((ref, pool.submit(read, ref)))
                if len(queue) >= window:
                    break
            handled = 0
            try:
                while queue:
                    ref, future = queue.popleft()
                    nxt = next(items, None)
                    if nxt is not None:
                        queue.append((nxt, pool.submit(read, nxt)))
                    result = future.result()
                    handled += 1
                    if result.reason is not None:
                        skipped.append(Skipped(ref.name, result.reason))
                    else:
                        row = len(names)
                        names.append(ref.name)
                        hashes.append(result.hash)
                        sizes.append(result.size)
                        if result.prepared is None:
                            out[row] = known[result.hash]
                            counts["cached"] += 1
                        else:
                            pending.append((row, result.hash, result.prepared))
                            if len(pending) >= self.batch_size:
                                flush()
                    self._report(handled, len(images), counts, len(skipped), start)
                if pending:
                    flush()
                    self._report(handled, len(images), counts, len(skipped), start)
            except BaseException:
                for _, future in queue:
                    future.cancel()
                raise
            finally:
                if index is not None:
                    index.save()
        return Mapped(names=names, hashes=hashes, file_sizes=np.asarray(sizes, dtype=np.int64),
                      values=out[: len(names)], skipped=skipped, computed=counts["computed"],
                      cached=counts["cached"], seconds=time.perf_counter() - start)

    def _report(self, done: int, total: int, counts: dict[str, int], skipped: int,
                start: float) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - start
        rate = counts["computed"] / elapsed if elapsed > 0 else 0.0
        overall = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / overall if overall > 0 else None
        self.progress(Progress(done=done, total=total, computed=counts["computed"],
                               cached=counts["cached"], skipped=skipped, elapsed_s=elapsed,
                               images_per_s=rate, eta_s=eta))


def _read_one(ref: ImageRef, prepare: Prepare, known: Mapping[str, np.ndarray],
              index: StatIndex | None) -> _Read:
    """Read, hash and (unless cached) prepare one image; never raises for bad files.

    A file whose hash ``index`` knows and whose result is cached is not read.
    """
    signature = None
    if index is not None and ref.member is None:
        signature = index.signature(ref.path)
        digest = index.lookup(ref.path, signature)
        if digest is not None and digest in known:
            return _Read(hash=digest, size=signature[0])
    try:
        started = time.time_ns()
        data = read_image_file(ref)
        digest = content_hash(data)
        if index is not None:
            index.remember(ref.path, signature, digest, started)
        if digest in known:
            return _Read(hash=digest, size=len(data))
        return _Read(hash=digest, size=len(data), prepared=np.asarray(prepare(data)))
    except ImageLoadError as exc:
        return _Read(reason=str(exc))


def map_images(images: Sequence[ImageRef], compute: Prepare, dim: int,
               cache: FeatureCache | JointCache | None = None, cache_key: str | None = None,
               workers: int = 2, progress: ProgressCallback | None = None) -> Mapped:
    """``compute(file bytes)`` for every image: a float32 vector of ``dim`` values.

    For work done per image with no batch step (hashes, quality scores); results are
    cached in chunks of :data:`STORE_EVERY` images.
    """
    return ImageMapper(compute, dim, cache_key=cache_key, cache=cache, batch_size=STORE_EVERY,
                       workers=workers, progress=progress).run(images)
