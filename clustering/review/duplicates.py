"""Exact and near-duplicate images, grouped, with a suggested file to keep in each group.

Two images are *linked* when

* their files are byte-identical (same content hash), or
* their 64-bit perceptual hashes (pHash) differ in at most ``hash_bits`` bits, one
  image taken as it is and also mirrored left-right, so mirrored copies match too
  (this catches re-compressed, resized, brightened/darkened, mirrored and
  re-encoded copies), or
* features exist for both (VGG or the offline extractor), their cosine similarity is
  at least ``min_cosine`` *and* their pHashes differ in at most ``gate_bits`` bits:
  cropping moves a pHash a lot but features little, while the looser hash gate
  keeps distinct photos of one subject apart.

Every candidate link except identical files must then pass a geometric check
(:mod:`clustering.review.geometry`): one image, cropped by a few percent of each side
and possibly mirrored, must match the other at thumbnail size (fine textures need
less correlation than smooth pictures). Candidates that look alike but fail it are
*similar shots* (``similar_``), never duplicates. Groups are stars around their
keeper, never chains; an image linked only to a copy (not to the keeper) is checked
against the keeper itself before it joins. Candidates come from k-nearest-neighbour
searches with faiss (a binary index for the hashes, an inner-product index for the
features), so memory grows with the number of images, never with its square. One
``sensitivity`` between 0 (strict) and 1 (loose) sets the hash and feature
thresholds and shifts the correlation the geometric check needs; 0.5 is the
default, tuned on ``bench/duplicates.py`` and ``bench/duplicate_shots.py``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from PIL import Image, ImageOps
from sklearn.base import BaseEstimator

from clustering.cache import FeatureCache
from clustering.features.extract import FeatureSet
from clustering.files.discover import ImageRef, Skipped
from clustering.images.engine import Mapped, Progress, ProgressCallback, map_images
from clustering.review.containment import FineViews, Fit, Removal, describe, fit
from clustering.review.decode import ReviewImage, review_image
from clustering.review.geometry import (GEOMETRY_DIM, MIN_KEPT_AREA, NEAR_MISS, PairChecks,
                                        geometry_signature, group_labels, orphan_links,
                                        star_groups, verify_pairs)
from clustering.settings import Settings

# 2: with the geometry of clustering.review.geometry; 3: from clustering.review.decode
SIGNATURE_VERSION = 3
SIGNATURE_KEY = f"signature-v{SIGNATURE_VERSION}"
SIGNATURE_DIM = 2 + 16 + GEOMETRY_DIM
NEIGHBOURS = 16  # candidates per image and per search
QUERY_CHUNK = 4096  # images searched at once (bounds the memory of each search)
EXACT_UP_TO = 20_000  # exact feature search up to this many images, approximate beyond
# Approximate feature search beyond EXACT_UP_TO: an HNSW graph. At 100k x 512 it took
# 24 s where IVF (sqrt(n) lists, 16 probes) took 45 s (bench/duplicates_scale.py).
HNSW_LINKS, HNSW_BUILD, HNSW_SEARCH = 16, 40, 32
SENSITIVITY_WORDS = {"strict": 0.2, "normal": 0.5, "loose": 0.8}

# (at sensitivity 0, at sensitivity 1), interpolated linearly in between.
HASH_BITS = (4, 16)
GATE_BITS = (16, 32)
# Cosine similarity a crop keeps with its original, per extractor family. The offline
# extractor's values are tuned on the benchmark; VGG's are not (no ImageNet weights
# here) and follow the usual range for copies under pooled VGG features.
MIN_COSINE = {"handcrafted": (0.98, 0.92), "vgg": (0.95, 0.85)}
# Added to the thumbnail correlation the geometric check needs (tuned at 0.5, where
# it is 0): a strict search asks more of a copy, a loose one accepts harder crops.
CORRELATION_OFFSET = (0.04, -0.04)
# Candidates up to this far below the thumbnail correlation a copy needs still get the
# fine containment check (noise-like and small images correlate poorly at 32 x 32).
FINE_MARGIN = 0.15


@dataclass(frozen=True)
class Thresholds:
    """The thresholds one sensitivity stands for."""

    hash_bits: int
    gate_bits: int
    min_cosine: float
    correlation_offset: float


def thresholds(sensitivity: float, extractor: str | None = None) -> Thresholds:
    """Thresholds for ``sensitivity`` in [0, 1] and an extractor's ``cache_key``."""
    if not 0.0 <= sensitivity <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity}")
    family = "vgg" if (extractor or "").startswith("vgg") else "handcrafted"

    def lerp(ends: tuple[float, float]) -> float:
        return ends[0] + (ends[1] - ends[0]) * sensitivity

    return Thresholds(hash_bits=round(lerp(HASH_BITS)), gate_bits=round(lerp(GATE_BITS)),
                      min_cosine=round(lerp(MIN_COSINE[family]), 4),
                      correlation_offset=round(lerp(CORRELATION_OFFSET), 4))


def parse_sensitivity(text: str) -> float:
    """``strict``, ``normal``, ``loose`` or a number between 0 and 1."""
    value = SENSITIVITY_WORDS.get(text.strip().lower())
    if value is None:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected strict, normal, loose or a number between 0 and 1, "
                             f"got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {text}")
    return value


# ---- signatures ----------------------------------------------------------------------

@dataclass
class Signatures:
    """What duplicate search needs of each readable image, in input order."""

    names: list[str]
    hashes: list[str]  # content hashes
    width: np.ndarray
    height: np.ndarray
    file_size: np.ndarray
    phash: np.ndarray  # uint64
    phash_mirror: np.ndarray  # uint64: pHash of the image mirrored left-right
    skipped: list[Skipped] = field(default_factory=list)
    computed: int = 0
    cached: int = 0
    geometry: np.ndarray | None = None  # (n, GEOMETRY_DIM) uint8 grey levels; None: no check
    refs: list[ImageRef] | None = None  # the files, for the fine check; None: no fine check

    def __len__(self) -> int:
        return len(self.names)


def perceptual_hashes(image: Image.Image) -> np.ndarray:
    """(2, 8) bytes: the 64-bit pHash of ``image`` and that of its left-right mirror."""
    import imagehash

    grey = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    return np.stack([np.packbits(imagehash.phash(img).hash.ravel())
                     for img in (grey, ImageOps.mirror(grey))])


def signature_of(view: ReviewImage) -> np.ndarray:
    """``[width, height, pHash bytes (8), mirrored pHash bytes (8), geometry]`` of an image."""
    return np.concatenate([(view.width, view.height), perceptual_hashes(view.small).ravel(),
                           geometry_signature(view.small)]).astype(np.float32)


def image_signature(data: bytes) -> np.ndarray:
    """:func:`signature_of` a file's bytes."""
    return signature_of(review_image(data))


def compute_signatures(images: Sequence[ImageRef], cache: FeatureCache | None = None,
                       workers: int = 2, progress: ProgressCallback | None = None) -> Signatures:
    """Signatures of ``images``; unreadable files become ``skipped`` rows."""
    return signatures_from(map_images(images, image_signature, dim=SIGNATURE_DIM, cache=cache,
                                      cache_key=SIGNATURE_KEY, workers=workers,
                                      progress=progress), images)


def signatures_from(found: Mapped, images: Sequence[ImageRef] | None = None) -> Signatures:
    """:class:`Signatures` from the engine's rows of :func:`signature_of` vectors (with
    ``images``, the files they came from, for the fine check of candidate pairs)."""
    codes = found.values[:, 2:18].astype(np.uint8)
    by_name = {ref.name: ref for ref in images} if images is not None else None
    return Signatures(names=found.names, hashes=found.hashes,
                      width=found.values[:, 0].astype(np.int64),
                      height=found.values[:, 1].astype(np.int64), file_size=found.file_sizes,
                      phash=_to_uint64(codes[:, :8]), phash_mirror=_to_uint64(codes[:, 8:]),
                      skipped=found.skipped, computed=found.computed, cached=found.cached,
                      geometry=np.round(found.values[:, 18:]).astype(np.uint8),
                      refs=None if by_name is None else [by_name[n] for n in found.names])


def _to_uint64(codes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(codes).view(">u8").ravel().astype(np.uint64)


def _to_codes(hashes: np.ndarray) -> np.ndarray:
    """uint64 hashes as faiss binary codes: (n, 8) uint8."""
    return np.ascontiguousarray(hashes.astype(">u8")).view(np.uint8).reshape(-1, 8)


def hash_distance(sig: Signatures, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Bits that differ between images ``i`` and ``j``, the best of as-is and mirrored."""
    plain = np.bitwise_count(sig.phash[i] ^ sig.phash[j])
    mirrored = np.minimum(np.bitwise_count(sig.phash_mirror[i] ^ sig.phash[j]),
                          np.bitwise_count(sig.phash[i] ^ sig.phash_mirror[j]))
    return np.minimum(plain, mirrored).astype(np.int64)


# ---- candidate pairs -----------------------------------------------------------------

def _nearest_pairs(rows: np.ndarray, cols: np.ndarray, distances: np.ndarray,
                   k: int) -> np.ndarray:
    """Pairs (m, 2) keeping each row's ``k`` nearest columns, self excluded."""
    keep = rows != cols
    rows, cols, distances = rows[keep], cols[keep], distances[keep]
    order = np.lexsort((distances, rows))
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, rows)  # first position of each row's run
    rank = np.arange(len(rows)) - starts
    return np.stack([rows[rank < k], cols[rank < k]], axis=1)


def hash_pairs(sig: Signatures, max_bits: int, k: int = NEIGHBOURS,
               chunk: int = QUERY_CHUNK) -> np.ndarray:
    """Pairs (m, 2) whose pHashes, one possibly mirrored, differ in <= ``max_bits`` bits.

    A Hamming range search (exhaustive but fast); each image keeps its ``k`` nearest.
    """
    import faiss

    index = faiss.IndexBinaryFlat(64)
    index.add(_to_codes(sig.phash))
    found = [np.zeros((0, 2), np.int64)]
    for hashes in (sig.phash, sig.phash_mirror):
        codes = _to_codes(hashes)
        for begin in range(0, len(codes), chunk):
            limits, distances, cols = index.range_search(codes[begin:begin + chunk],
                                                         max_bits + 1)  # distance < radius
            rows = begin + np.repeat(np.arange(len(limits) - 1),
                                     np.diff(limits).astype(np.int64))
            found.append(_nearest_pairs(rows, cols.astype(np.int64), distances, k))
    pairs = np.concatenate(found)
    return pairs[hash_distance(sig, pairs[:, 0], pairs[:, 1]) <= max_bits]


def _inner_product_index(x: np.ndarray):
    """Exact inner-product search up to EXACT_UP_TO rows, an HNSW graph beyond."""
    import faiss

    n, dim = x.shape
    if n <= EXACT_UP_TO:
        index = faiss.IndexFlatIP(dim)
    else:  # near-duplicates are so close that a graph search finds them
        index = faiss.IndexHNSWFlat(dim, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_BUILD
        index.hnsw.efSearch = HNSW_SEARCH
    index.add(x)
    return index


def feature_pairs(vectors: np.ndarray, min_cosine: float, k: int = NEIGHBOURS,
                  chunk: int = QUERY_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (m, 2) of rows among each row's ``k`` nearest with cosine >= ``min_cosine``,
    and their cosines."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    found = [(np.zeros((0, 2), np.int64), np.zeros(0, np.float32))]
    if len(x) >= 2:
        index = _inner_product_index(x)
        for begin in range(0, len(x), chunk):
            cosines, cols = index.search(x[begin:begin + chunk], min(k + 1, len(x)))
            rows = begin + np.repeat(np.arange(len(cols)), cols.shape[1])
            cols, cosines = cols.ravel(), cosines.ravel()
            keep = (cols >= 0) & (cols != rows) & (cosines >= min_cosine)
            found.append((np.stack([rows[keep], cols[keep]], axis=1), cosines[keep]))
    return (np.concatenate([p for p, _ in found]),
            np.concatenate([c for _, c in found]).astype(np.float32))


def exact_pairs(sig: Signatures) -> np.ndarray:
    """Pairs (m, 2) of byte-identical files (each linked to the first of its content)."""
    first: dict[str, int] = {}
    pairs = [(first.setdefault(h, i), i) for i, h in enumerate(sig.hashes)]
    return np.array([p for p in pairs if p[0] != p[1]], dtype=np.int64).reshape(-1, 2)


def link_groups(n: int, pairs: np.ndarray) -> list[np.ndarray]:
    """Connected components (of two or more) of the graph whose edges are ``pairs``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return []
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [group for group in np.split(order, cuts) if len(group) > 1]


Links = tuple[np.ndarray, str, "np.ndarray | None"]  # pairs (m, 2), reason, cosines


def _pair_keys(pairs: np.ndarray, n: int) -> np.ndarray:
    """One integer per pair (i, j) of ``n`` images."""
    return pairs[:, 0] * max(n, 1) + pairs[:, 1]


def _new_pairs(candidates: np.ndarray, known: np.ndarray, n: int) -> np.ndarray:
    """The ``candidates`` (i < j) that are not among the ``known`` pairs (i < j)."""
    return candidates[~np.isin(_pair_keys(candidates, n), _pair_keys(known, n))]


def _merge_links(found: list[Links], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique pairs (i < j), each with the first reason that found it and its cosine."""
    pairs = np.sort(np.concatenate([p for p, _, _ in found]).reshape(-1, 2), axis=1)
    reasons = np.concatenate([np.full(len(p), r, dtype=object) for p, r, _ in found])
    cosines = np.concatenate([np.full(len(p), np.nan) if c is None else c.astype(float)
                              for p, _, c in found])
    _, first = np.unique(_pair_keys(pairs, n), return_index=True)
    return pairs[first], reasons[first], cosines[first]


def _confirmed(reasons: np.ndarray, hash_agrees: np.ndarray, checks: PairChecks,
               needed: np.ndarray) -> np.ndarray:
    """Which candidate links are duplicates: identical files; pairs whose geometry
    matches (one is the other, cropped a little, at the ``needed`` correlation); and,
    where geometry cannot tell (flat images, no geometry), pairs whose hashes alone are
    close enough."""
    unknown = np.isnan(checks.correlation)
    with np.errstate(invalid="ignore"):
        matches = (checks.correlation >= needed) & (checks.kept_area >= MIN_KEPT_AREA)
    return (reasons == "identical files") | (~unknown & matches) | (unknown & hash_agrees)


@dataclass
class CheckedLinks:
    """Candidate links, one row each, with their geometric check and verdict."""

    pairs: np.ndarray  # (m, 2) image indices, i < j
    reasons: np.ndarray  # what found each link
    cosines: np.ndarray  # feature cosine (NaN: not found by features)
    distance: np.ndarray  # pHash distance (bits)
    checks: PairChecks
    needed: np.ndarray  # thumbnail correlation the link needed
    a_has_b: np.ndarray  # bool: image i contains image j (a copy of it may go)
    b_has_a: np.ndarray  # bool: image j contains image i
    mismatch: np.ndarray  # the fine check's mismatch, the better way round (NaN: not made)

    @property
    def confirmed(self) -> np.ndarray:
        """bool: a duplicate (one image contains the other)."""
        return self.a_has_b | self.b_has_a

    def extend(self, more: "CheckedLinks") -> "CheckedLinks":
        """These links followed by ``more``."""
        return CheckedLinks(*(PairChecks.concat([self.checks, more.checks]) if f.name == "checks"
                              else np.concatenate([getattr(self, f.name), getattr(more, f.name)])
                              for f in fields(self)))

    def frame(self, names: list[str]) -> pd.DataFrame:
        """One row per link: ``file_a``, ``file_b``, ``reason``, ``hash_distance``,
        ``cosine``, ``correlation``, ``needed_correlation``, ``profile_correlation``,
        ``kept_area``, ``mismatch``."""
        files = np.asarray(names, dtype=object)
        return pd.DataFrame({"file_a": files[self.pairs[:, 0]], "file_b": files[self.pairs[:, 1]],
                             "reason": self.reasons, "hash_distance": self.distance,
                             "cosine": np.round(self.cosines, 4),
                             "correlation": np.round(self.checks.correlation, 4),
                             "needed_correlation": np.round(self.needed, 4),
                             "profile_correlation": np.round(self.checks.profile, 4),
                             "kept_area": np.round(self.checks.kept_area, 3),
                             "mismatch": np.round(self.mismatch, 3)})


# ---- the estimator -------------------------------------------------------------------

class DuplicateFinder(BaseEstimator):
    """Groups exact and near-duplicate images and suggests which file of each to keep.

    ``sensitivity``: 0 (only near-identical copies) ... 1 (looser, more false
    matches); see :func:`thresholds`. ``neighbours``: candidates per image.

    After :meth:`fit`: ``groups_`` (lists of names, the suggested keeper first,
    biggest group first; every member is a confirmed duplicate of the keeper),
    ``pairs_`` (one row per confirmed link: ``file_a``, ``file_b``, ``reason``,
    ``hash_distance``, ``cosine``, ``correlation``, ``needed_correlation``,
    ``profile_correlation``, ``kept_area``, ``mismatch``), ``similar_``
    (the same columns for candidates that failed the check and are not in one group:
    similar shots, not duplicates), ``removals_`` (one
    :class:`~clustering.review.containment.Removal`
    per file the keeper of its group contains: file, group, keep, reason),
    ``thresholds_``, ``signatures_`` and ``skipped_``.
    """

    def __init__(self, sensitivity: float = Settings.duplicate_sensitivity,
                 neighbours: int = NEIGHBOURS,
                 workers: int = 2) -> None:
        self.sensitivity = sensitivity
        self.neighbours = neighbours
        self.workers = workers

    def fit(self, images: Signatures | Sequence[ImageRef], features: FeatureSet | None = None,
            cache: FeatureCache | None = None,
            progress: ProgressCallback | None = None) -> "DuplicateFinder":
        """Find the groups among ``images`` (refs, or signatures computed before).

        ``features`` are matched to images by name; images without features are
        compared by hash only. ``progress`` gets the signatures' progress (when
        computed here), then that of the search: images searched, then candidate
        pairs checked (``total`` changes between the two).
        """
        sig = images if isinstance(images, Signatures) else compute_signatures(
            images, cache=cache, workers=self.workers, progress=progress)
        key = features.extractor.get("cache_key") if features is not None else None
        self.thresholds_ = thresholds(self.sensitivity, key)
        self.signatures_ = sig
        self.skipped_ = list(sig.skipped)
        report = _Reporter(progress)
        self._views = FineViews(lambda i: None if sig.refs is None else sig.refs[i].read_bytes())
        self._fits: dict[tuple[int, int], Fit] = {}
        order = self._priority(sig)
        self._rank = np.argsort(order)
        found = [(exact_pairs(sig), "identical files", None),
                 (hash_pairs(sig, self.thresholds_.hash_bits, self.neighbours),
                  "perceptual hash", None)]
        report(len(sig) // 2, len(sig))
        if features is not None:
            found.append(self._feature_links(sig, features))
        report(len(sig), len(sig))
        links = self._checked(sig, _merge_links(found, len(sig)), report)
        groups = self._groups(order, links)
        extra = orphan_links(groups, links.pairs[links.confirmed], len(sig))
        extra = _new_pairs(extra, links.pairs, len(sig))
        if len(extra):  # copies found only through another copy: check them with the keeper
            found_later = (extra, np.full(len(extra), "through a copy", object),
                           np.full(len(extra), np.nan))
            links = links.extend(self._checked(sig, found_later, _Reporter(None)))
            groups = self._groups(order, links)
        frame = links.frame(sig.names)
        self.pairs_ = frame[links.confirmed].reset_index(drop=True)
        # Two copies of one photo (a crop and a resize, say) need not contain each other:
        # in one group they are duplicates of its keeper, not similar shots.
        group_of = group_labels(groups, len(sig))
        grouped = group_of[links.pairs[:, 0]]
        together = (grouped >= 0) & (grouped == group_of[links.pairs[:, 1]])
        self.similar_ = frame[~links.confirmed & ~together].reset_index(drop=True)
        groups.sort(key=lambda group: (-len(group), sig.names[group[0]]))
        self.groups_ = [[sig.names[i] for i in group] for group in groups]
        self.removals_ = [self._removal(sig, number, group[0], member)
                          for number, group in enumerate(groups, start=1)
                          for member in group[1:]]
        del self._views, self._fits, self._rank
        return self

    def _removal(self, sig: Signatures, group: int, keeper: int, member: int) -> Removal:
        """Why ``member`` may go: the edit that makes it a copy of ``keeper``."""
        def about(i: int) -> dict:
            return {"hash": sig.hashes[i], "width": int(sig.width[i]),
                    "height": int(sig.height[i]), "name": sig.names[i]}

        reason = describe(about(keeper), about(member), self._fits.get((keeper, member)))
        return Removal(sig.names[member], group, sig.names[keeper], reason)

    def _checked(self, sig: Signatures, found: tuple[np.ndarray, np.ndarray, np.ndarray],
                 report: "_Reporter") -> "CheckedLinks":
        """Candidate links (pairs, reasons, cosines) with their geometric check and
        verdict."""
        pairs, reasons, cosines = found
        distance = hash_distance(sig, pairs[:, 0], pairs[:, 1])
        checks = self._geometry(sig, pairs, reasons, report)
        hash_agrees = distance <= self.thresholds_.hash_bits
        needed = np.minimum(checks.needed() + self.thresholds_.correlation_offset, 0.99)
        coarse = _confirmed(reasons, hash_agrees, checks, needed)
        a_has_b, b_has_a, mismatch = coarse.copy(), coarse.copy(), np.full(len(pairs), np.nan)
        with np.errstate(invalid="ignore"):
            worth = ~(checks.correlation < needed - FINE_MARGIN) & (reasons != "identical files")
        for row in np.flatnonzero(worth):
            i, j = (int(x) for x in pairs[row])
            if self._views(i) is None or self._views(j) is None:
                continue  # no files to read: the thumbnail check stands
            # The better keeper first; the other way round only when it fails.
            outer, inner = (i, j) if self._rank[i] < self._rank[j] else (j, i)
            found = self._fits[outer, inner] = fit(self._views(outer), self._views(inner))
            if not found.contained:
                found = self._fits[inner, outer] = fit(self._views(inner), self._views(outer))
                outer, inner = inner, outer
            a_has_b[row] = found.contained and outer == i
            b_has_a[row] = found.contained and outer == j
            mismatch[row] = min(self._fits[i, j].mismatch if (i, j) in self._fits else np.inf,
                                self._fits[j, i].mismatch if (j, i) in self._fits else np.inf)
        return CheckedLinks(pairs, reasons, cosines, distance, checks, needed,
                            a_has_b, b_has_a, mismatch)

    @staticmethod
    def _groups(order: np.ndarray, links: "CheckedLinks") -> list[np.ndarray]:
        """Keeper-centred groups of the confirmed links; links that failed clearly (not
        by a near miss) keep their two images apart."""
        with np.errstate(invalid="ignore"):
            near_miss = ((links.checks.correlation >= links.needed - NEAR_MISS)
                         & (links.checks.kept_area >= MIN_KEPT_AREA - NEAR_MISS))
        contains = np.concatenate([links.pairs[links.a_has_b], links.pairs[links.b_has_a, ::-1]])
        return star_groups(order, contains, links.pairs[~links.confirmed & ~near_miss])

    @staticmethod
    def _geometry(sig: Signatures, pairs: np.ndarray, reasons: np.ndarray,
                  report: "_Reporter") -> PairChecks:
        """The geometric check of every pair but identical files (NaN where there is
        no geometry)."""
        checks = PairChecks.empty(len(pairs))
        check = np.flatnonzero(reasons != "identical files")
        if sig.geometry is None or not len(check):
            return checks
        found = verify_pairs(sig.geometry, pairs[check], lambda done: report(done, len(check)))
        for f in fields(PairChecks):
            getattr(checks, f.name)[check] = getattr(found, f.name)
        return checks

    def _feature_links(self, sig: Signatures, features: FeatureSet) -> Links:
        """Links from feature neighbours whose hashes pass the looser gate."""
        row_of = {name: row for row, name in enumerate(features.names)}
        have = np.array([i for i, name in enumerate(sig.names) if name in row_of], np.int64)
        rows = [row_of[sig.names[i]] for i in have]
        pairs, cosines = feature_pairs(features.features[rows], self.thresholds_.min_cosine,
                                       self.neighbours)
        pairs = have[pairs]
        gate = hash_distance(sig, pairs[:, 0], pairs[:, 1]) <= self.thresholds_.gate_bits
        return pairs[gate], "features + hash", cosines[gate]

    @staticmethod
    def _priority(sig: Signatures) -> np.ndarray:
        """Image indices, best keeper first: most pixels, then biggest file, then name."""
        name_rank = np.argsort(np.argsort(np.asarray(sig.names, dtype=object), kind="stable"))
        pixels = sig.width.astype(np.int64) * sig.height.astype(np.int64)
        return np.lexsort((name_rank, -sig.file_size.astype(np.int64), -pixels))

    def to_frame(self, details: bool = False) -> pd.DataFrame:
        """``file, group, keep, reason`` for every file in a group (group ids from 1);
        ``reason`` says why a file not kept may go (``crop``, ``mirror``, ...; empty for
        the keeper).

        With ``details``: also ``width``, ``height`` and ``file_size``.
        """
        why = {removal.file: removal.reason for removal in self.removals_}
        rows = [(name, number, position == 0, why.get(name, ""))
                for number, group in enumerate(self.groups_, start=1)
                for position, name in enumerate(group)]
        frame = pd.DataFrame(rows, columns=["file", "group", "keep", "reason"]).astype(
            {"file": object, "group": np.int64, "keep": bool, "reason": object})
        if details:
            sig = self.signatures_
            row_of = {name: i for i, name in enumerate(sig.names)}
            at = [row_of[name] for name in frame["file"]]
            frame["width"] = sig.width[at]
            frame["height"] = sig.height[at]
            frame["file_size"] = sig.file_size[at]
        return frame


class _Reporter:
    """Turns "done of total" steps of the search into :class:`Progress` reports."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        self.progress(Progress(done=done, total=total, computed=done, cached=0, skipped=0,
                               elapsed_s=elapsed, images_per_s=rate,
                               eta_s=(total - done) / rate if rate > 0 else None))


def find_duplicates(images: Signatures | Sequence[ImageRef], features: FeatureSet | None = None,
                    sensitivity: float = Settings.duplicate_sensitivity,
                    cache: FeatureCache | None = None) -> pd.DataFrame:
    """``file, group, keep, reason`` for every image in a duplicate group of two or more."""
    return DuplicateFinder(sensitivity).fit(images, features, cache=cache).to_frame()
