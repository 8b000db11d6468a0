"""Extract features for many images: cache first, decoding overlapped with inference.

Worker threads read, hash and decode images ahead of the network, at most a few
batches ahead, so memory for pixels is bounded by the batch size and never by the
number of images. Unreadable files become :class:`~clustering.discover.Skipped` rows.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clustering.cache import FeatureCache, StatIndex, content_hash
from clustering.discover import ImageRef, Skipped
from clustering.extractor import FeatureExtractor
from clustering.loading import ImageLoadError, load_for_model, read_image_file


@dataclass
class Progress:
    """A progress report: images handled so far and the rate of new extraction."""

    done: int
    total: int
    computed: int
    cached: int
    skipped: int
    elapsed_s: float
    images_per_s: float  # of newly computed images
    eta_s: float | None


@dataclass
class FeatureSet:
    """Features of the loadable images, in input order, and the files skipped."""

    names: list[str]
    hashes: list[str]
    features: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)
    extractor: dict[str, Any] = field(default_factory=dict)
    computed: int = 0
    cached: int = 0
    seconds: float = 0.0


@dataclass
class _Decoded:
    """What a worker returns for one image."""

    hash: str | None = None
    pixels: np.ndarray | None = None  # None when the features were cached
    reason: str | None = None  # set when the image is skipped


ProgressCallback = Callable[[Progress], None]

# Decoding threads run this much "nicer" than the network's threads (Linux only):
# when the network already fills every core, a decoder then runs while the
# network's threads wait at their synchronisation points instead of preempting one
# of them mid-layer, which stalls its partner (~7 % faster end to end on two
# cores; bench/extraction.py).
DECODE_NICENESS = 10


def _lower_thread_priority(step: int = DECODE_NICENESS) -> None:
    """Make the calling thread nicer by ``step`` (a no-op where not supported)."""
    if not sys.platform.startswith("linux") or step <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:
        pass


class FeatureExtraction:
    """Runs an extractor over images with a cache (scikit-learn style: settings here).

    ``batch_size`` images go through the network at once; ``workers`` threads decode.
    """

    def __init__(self, extractor: FeatureExtractor, cache: FeatureCache | None = None,
                 batch_size: int = 16, workers: int = 2,
                 progress: ProgressCallback | None = None) -> None:
        self.extractor = extractor
        self.cache = cache
        self.batch_size = batch_size
        self.workers = workers
        self.progress = progress

    def run(self, images: Sequence[ImageRef]) -> FeatureSet:
        """Features for ``images`` (cached ones are not recomputed)."""
        start = time.perf_counter()
        key = self.extractor.cache_key
        known = self.cache.lookup(key) if self.cache is not None else {}
        index = self.cache.stat_index() if self.cache is not None else None
        size = self.extractor.input_size
        out = np.empty((len(images), self.extractor.dim), dtype=np.float32)
        names: list[str] = []
        hashes: list[str] = []
        skipped: list[Skipped] = []
        pending: list[tuple[int, str, np.ndarray]] = []  # (row, hash, pixels)
        counts = {"computed": 0, "cached": 0}

        def flush() -> None:
            batch = np.stack([pixels for _, _, pixels in pending])
            feats = self.extractor.extract(batch)
            rows = [row for row, _, _ in pending]
            out[rows] = feats
            if self.cache is not None:
                self.cache.store(key, [h for _, h, _ in pending], feats)
            counts["computed"] += len(pending)
            pending.clear()

        def decode(ref: ImageRef) -> _Decoded:
            return _decode(ref, known, size, index)

        with ThreadPoolExecutor(max_workers=self.workers,
                                initializer=_lower_thread_priority) as pool:
            window = self.batch_size * 2 + self.workers
            queue: deque[tuple[ImageRef, Future[_Decoded]]] = deque()
            items = iter(images)
            for ref in items:
                queue.append((ref, pool.submit(decode, ref)))
                if len(queue) >= window:
                    break
            handled = 0
            try:
                while queue:
                    ref, future = queue.popleft()
                    nxt = next(items, None)
                    if nxt is not None:
                        queue.append((nxt, pool.submit(decode, nxt)))
                    result = future.result()
                    handled += 1
                    if result.reason is not None:
                        skipped.append(Skipped(ref.name, result.reason))
                    else:
                        row = len(names)
                        names.append(ref.name)
                        hashes.append(result.hash)
                        if result.pixels is None:
                            out[row] = known[result.hash]
                            counts["cached"] += 1
                        else:
                            pending.append((row, result.hash, result.pixels))
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
        return FeatureSet(names=names, hashes=hashes, features=out[: len(names)],
                          skipped=skipped, extractor=self.extractor.describe(),
                          computed=counts["computed"], cached=counts["cached"],
                          seconds=time.perf_counter() - start)

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


def _decode(ref: ImageRef, known: dict[str, np.ndarray], size: int,
            index: StatIndex | None = None) -> _Decoded:
    """Read, hash and (unless cached) decode one image; never raises for bad files.

    A file whose hash ``index`` knows and whose features are cached is not read.
    """
    signature = None
    if index is not None and ref.member is None:
        signature = index.signature(ref.path)
        digest = index.lookup(ref.path, signature)
        if digest is not None and digest in known:
            return _Decoded(hash=digest)
    try:
        started = time.time_ns()
        data = read_image_file(ref)
        digest = content_hash(data)
        if index is not None:
            index.remember(ref.path, signature, digest, started)
        if digest in known:
            return _Decoded(hash=digest)
        return _Decoded(hash=digest, pixels=load_for_model(data, size))
    except ImageLoadError as exc:
        return _Decoded(reason=str(exc))


def extract_features(images: Sequence[ImageRef], extractor: FeatureExtractor,
                     cache: FeatureCache | None = None, batch_size: int = 16,
                     progress: ProgressCallback | None = None) -> FeatureSet:
    """Convenience wrapper: ``FeatureExtraction(...).run(images)``."""
    return FeatureExtraction(extractor, cache, batch_size=batch_size,
                             progress=progress).run(images)
