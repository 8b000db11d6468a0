"""Geometric check of candidate duplicate pairs, and groups that never chain.

Hashes and features say two images *look alike*; different shots of one scene (a
burst, a pan) look alike too. A true copy is the same picture: one image is the
other, resized, re-encoded, brightened, mirrored, or cropped by a few percent. So a
candidate pair is confirmed only when one image, cropped to a box that keeps at
least :data:`MIN_SIDE` of each side (possibly mirrored), matches the other pixel for
pixel at thumbnail size.

The box is found cheaply and separably: a crop moves an image's column-mean profile
along x and its row-mean profile along y, so the best box side and offset are
searched on those 1-D profiles (one matrix product per pair chunk), then checked in
2-D by resampling the bigger image's 32x32 thumbnail into the box and correlating
it with the other's. Each image stores :data:`GEOMETRY_DIM` numbers. Fine textures
alias at that size, so the correlation needed falls with the pair's smoothness
(:data:`TEXTURE_KNOTS`).

In a group every member is a confirmed duplicate of its keeper and no two members
clearly failed the check against each other, so A~B~C with A and C not duplicates
never forms one group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from PIL import Image

THUMB = 32  # side of the grey thumbnail used for the 2-D check
PROFILE = 48  # length of the row and column profiles used to find the box
GEOMETRY_DIM = THUMB * THUMB + 2 * PROFILE
# A copy keeps at least this fraction of each side of its original: the benchmark's
# crops cut 3-10 %; different shots of one scene that overlap this much are, in
# practice, the same picture.
MIN_SIDE = 0.86
SIDE_STEP = 0.02  # box sides searched: MIN_SIDE, MIN_SIDE + step, ..., 1
OFFSET_STEP = 0.01  # box offsets searched, as a fraction of the side
# What a confirmed copy reaches, tuned on bench/duplicate_shots.py (seed 0): with
# both, 1,002 of 1,019 true links pass and 3 of 1,286 links between different shots
# of one scene. Thumbnail correlation: copies median 0.998, different shots 0.61.
MIN_CORRELATION = 0.92
# Fine textures (gravel, grass, brick, a star field) alias at 32 x 32: a 5-10 % crop
# of one correlates only 0.65-0.85 with its original, while a different shot of a
# texture decorrelates as fast (0.40 at most for noise-like ones). So the correlation
# needed falls with the pair's smoothness (how much a thumbnail correlates with itself
# moved one pixel): (smoothness, correlation needed) knots, interpolated, MIN_CORRELATION
# from the last knot on. Tuned on bench/duplicates.py and bench/duplicate_shots.py
# (seeds 0 and 1): copies of textures missed 48 -> 2 and 15 -> 5, different shots
# passed unchanged (0, 7, 11).
TEXTURE_KNOTS = ((0.10, 0.62), (0.35, 0.70), (0.70, MIN_CORRELATION))
# Area of the bigger image the crop keeps: copies keep >= 0.85 (crops of <= 7-10 %
# a side); different shots that align at the smallest box searched keep 0.74.
MIN_KEPT_AREA = 0.80
# A failed pair keeps its two images out of one group only when it failed clearly:
# two edits of one photo (brightened and cropped, resized and cropped) match each
# other a little less well than each matches the original, and may miss the needed
# correlation, or the kept area (its boxes are searched in steps), by this much.
NEAR_MISS = 0.02
FLAT = 2.0  # a thumbnail with less grey-level spread than this is flat (no geometry)
PAIR_CHUNK = 2048  # pairs checked at once (bounds memory: ~PAIR_CHUNK x 3,100 floats)


def geometry_signature(image: Image.Image) -> np.ndarray:
    """Grey 32x32 thumbnail, then column- and row-mean profiles (``GEOMETRY_DIM`` values)."""
    grey = image.convert("L")
    thumb = np.asarray(grey.resize((THUMB, THUMB), Image.Resampling.BOX), np.float32)
    fine = np.asarray(grey.resize((PROFILE, PROFILE), Image.Resampling.BOX), np.float32)
    return np.concatenate([thumb.ravel(), fine.mean(axis=0), fine.mean(axis=1)])


def _boxes() -> np.ndarray:
    """(b, 2) candidate boxes along one axis: (offset, side) as fractions."""
    boxes = []
    for side in np.arange(1.0, MIN_SIDE - 1e-9, -SIDE_STEP):
        offsets = np.arange(0.0, 1.0 - side + 1e-9, OFFSET_STEP)
        boxes += [(offset, side) for offset in offsets]
    return np.array(boxes)


def _resampler(offset: np.ndarray, side: np.ndarray, size: int) -> np.ndarray:
    """(m, size, size) linear-interpolation matrices: row k samples the source at the
    centre of target cell k of the box ``(offset, side)``."""
    centre = (offset[:, None] + side[:, None] * (np.arange(size) + 0.5) / size) * size - 0.5
    centre = np.clip(centre, 0, size - 1)
    low = np.floor(centre).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    frac = (centre - low).astype(np.float32)
    out = np.zeros((len(offset), size, size), np.float32)
    m, k = np.indices(low.shape)
    out[m, k, low] = 1 - frac  # each (m, k) once per statement: no np.add.at needed
    out[m, k, high] += frac
    return out


BOXES = _boxes()
_PROFILE_MAP = _resampler(BOXES[:, 0], BOXES[:, 1], PROFILE)  # (b, P, P)
# Every candidate box's resampled profile in one product: (P, b * P).
_PROFILE_MATRIX = np.ascontiguousarray(
    _PROFILE_MAP.transpose(2, 0, 1).reshape(PROFILE, -1))


def _standardise(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.mean(axis=axis, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), 1e-6)


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each pair of images ``a[i]``, ``b[i]`` (any shape past
    the first axis)."""
    m = len(a)
    return np.einsum("mp,mp->m", _standardise(a.reshape(m, -1)), _standardise(b.reshape(m, -1)))


def _profile_scores(big: np.ndarray) -> np.ndarray:
    """(m, boxes, P) standardised profiles of ``big`` (m, P) resampled into every box."""
    return _standardise((big @ _PROFILE_MATRIX).reshape(len(big), len(BOXES), PROFILE))


def _best_box(sampled: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box (index into BOXES) whose resampled profile, among ``sampled`` (from
    :func:`_profile_scores`), best matches ``small`` (m, P), and that correlation."""
    score = np.einsum("mbp,mp->mb", sampled, _standardise(small))
    best = score.argmax(axis=1)
    return best, score[np.arange(len(best)), best]


def _check(big: np.ndarray, small: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Thumbnail correlation, profile correlation (the lower of x and y), kept area and
    the box (m, 5: x offset, x side, y offset, y side as fractions of ``big``, and 1 when
    ``small`` is mirrored) when ``small`` is a crop of ``big``, the better of as-is and
    mirrored.

    ``big`` and ``small`` are geometry rows (m, GEOMETRY_DIM) as float32.
    """
    t, m = THUMB * THUMB, len(big)
    iy, score_y = _best_box(_profile_scores(big[:, t + PROFILE:]), small[:, t + PROFILE:])
    by = BOXES[iy]
    rows = _resampler(by[:, 0], by[:, 1], THUMB) @ big[:, :t].reshape(m, THUMB, THUMB)
    sampled_x = _profile_scores(big[:, t:t + PROFILE])
    best = np.full(m, -np.inf, np.float32)
    profile, kept = np.zeros(m, np.float32), np.zeros(m, np.float32)
    box = np.zeros((m, 5), np.float32)
    for mirror in (False, True):
        cols, thumb = small[:, t:t + PROFILE], small[:, :t].reshape(m, THUMB, THUMB)
        if mirror:
            cols, thumb = cols[:, ::-1], thumb[:, :, ::-1]
        ix, score_x = _best_box(sampled_x, cols)
        bx = BOXES[ix]
        crop = rows @ _resampler(bx[:, 0], bx[:, 1], THUMB).transpose(0, 2, 1)
        corr = _correlation(crop, thumb)
        better = corr > best
        best[better] = corr[better]
        profile[better] = np.minimum(score_x, score_y)[better]
        kept[better] = (bx[:, 1] * by[:, 1])[better]
        box[better] = np.column_stack([bx, by, np.full(m, float(mirror))])[better]
    return best, profile, kept, box


@dataclass
class PairChecks:
    """The geometric check of candidate pairs, one value per pair (NaN: not checked)."""

    correlation: np.ndarray  # best 2-D thumbnail correlation over the boxes searched
    profile: np.ndarray  # the profiles' correlation at that box (the lower of x and y)
    kept_area: np.ndarray  # area fraction of the bigger image that box keeps
    smoothness: np.ndarray  # the lower :func:`thumbnail_smoothness` of the pair's two images

    @classmethod
    def empty(cls, n: int) -> "PairChecks":
        return cls(*(np.full(n, np.nan, np.float32) for _ in range(4)))

    @classmethod
    def concat(cls, parts: list["PairChecks"]) -> "PairChecks":
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def needed(self) -> np.ndarray:
        """The thumbnail correlation each pair needs (:data:`TEXTURE_KNOTS`)."""
        smooth, needed = zip(*TEXTURE_KNOTS)
        return np.interp(self.smoothness, smooth, needed).astype(np.float32)


def thumbnail_smoothness(thumbs: np.ndarray) -> np.ndarray:
    """Mean correlation of each (m, THUMB, THUMB) thumbnail with itself moved one pixel
    right and one pixel down: ~1 for smooth pictures, ~0 for noise-like textures."""
    return (_correlation(thumbs[:, :, :-1], thumbs[:, :, 1:])
            + _correlation(thumbs[:, :-1], thumbs[:, 1:])) / 2


def verify_pairs(geometry: np.ndarray, pairs: np.ndarray,
                 progress: Callable[[int], None] | None = None) -> PairChecks:
    """For each pair (m, 2): the best 2-D correlation over "j is a crop of i", "i is a
    crop of j", each as is and mirrored, the profiles' correlation there, the area
    fraction that crop keeps, and the lower smoothness of the two thumbnails.

    A pair where either thumbnail is flat gets NaN correlation (geometry cannot tell).
    ``progress(pairs done)`` is called after each chunk.
    """
    checks = PairChecks.empty(len(pairs))
    t = THUMB * THUMB
    for begin in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[begin:begin + PAIR_CHUNK]
        a = geometry[chunk[:, 0]].astype(np.float32)
        b = geometry[chunk[:, 1]].astype(np.float32)
        best = np.full(len(chunk), -np.inf, np.float32)
        area = np.zeros(len(chunk), np.float32)
        prof = np.zeros(len(chunk), np.float32)
        for big, small in ((a, b), (b, a)):
            c, p, k, _ = _check(big, small)
            better = c > best
            best[better], prof[better], area[better] = c[better], p[better], k[better]
        flat = (a[:, :t].std(axis=1) < FLAT) | (b[:, :t].std(axis=1) < FLAT)
        best[flat] = np.nan
        done = slice(begin, begin + len(chunk))
        checks.correlation[done], checks.profile[done], checks.kept_area[done] = best, prof, area
        checks.smoothness[done] = np.minimum(
            *(thumbnail_smoothness(x[:, :t].reshape(-1, THUMB, THUMB)) for x in (a, b)))
        if progress is not None:
            progress(begin + len(chunk))
    return checks


def star_groups(priority: np.ndarray, contains: np.ndarray,
                rejected: np.ndarray | None = None) -> list[np.ndarray]:
    """Groups (of two or more) in which the keeper (the first) contains every member
    and no two members are a ``rejected`` pair (candidates that look alike but failed
    the geometric check).

    ``contains``: pairs (m, 2) (i, j) where image i contains image j (both ways for
    two copies of one picture). Keepers are taken in ``priority`` order (best first),
    images that no other image strictly contains before the others, so the keeper is
    the image that contains the rest; each takes, best first, each image it contains
    that no member taken so far rejects. So A~B~C with A and C known to differ never
    forms one group, and a crop never keeps its original.
    """
    n = len(priority)
    if n == 0 or len(contains) == 0:
        return []
    rank = np.empty(n, np.int64)
    rank[priority] = np.arange(n)
    contains = contains[np.lexsort((rank[contains[:, 1]], rank[contains[:, 0]]))]
    cuts = np.flatnonzero(np.diff(contains[:, 0])) + 1
    linked = {int(run[0, 0]): run[:, 1] for run in np.split(contains, cuts)}
    both_ways = set(map(tuple, contains.tolist())) & set(map(tuple, contains[:, ::-1].tolist()))
    inside = np.zeros(n, bool)  # strictly contained in another image
    inside[[j for i, j in contains.tolist() if (i, j) not in both_ways]] = True
    apart: dict[int, set[int]] = {}
    for i, j in (np.zeros((0, 2), np.int64) if rejected is None else rejected).tolist():
        apart.setdefault(i, set()).add(j)
        apart.setdefault(j, set()).add(i)
    taken = np.zeros(n, bool)
    groups = []
    candidates = priority[np.isin(priority, contains[:, 0])]
    for keeper in np.concatenate([candidates[~inside[candidates]], candidates[inside[candidates]]]):
        if taken[keeper]:
            continue
        group = [int(keeper)]
        for j in linked[int(keeper)].tolist():
            if not taken[j] and not apart.get(j, set()).intersection(group):
                group.append(j)
        if len(group) > 1:
            taken[group] = True
            groups.append(np.array(group))
    return groups


def group_labels(groups: list[np.ndarray], n: int) -> np.ndarray:
    """(n,) the number of each of ``n`` images' group (its place in ``groups``); -1
    for an image in none."""
    group_of = np.full(n, -1)
    for number, group in enumerate(groups):
        group_of[group] = number
    return group_of


def orphan_links(groups: list[np.ndarray], linked: np.ndarray, n: int) -> np.ndarray:
    """(keeper, image) pairs (m, 2) worth checking for images left out of every group
    although ``linked`` (confirmed pairs) ties them to a member: a copy found only
    through another copy (a crop whose hash is too far from the original's but close
    to a resized copy's). Checking them against the keeper adds no chain."""
    group_of = group_labels(groups, n)
    keepers = np.array([group[0] for group in groups], np.int64)
    both = np.concatenate([linked, linked[:, ::-1]]).reshape(-1, 2)
    leftover = both[(group_of[both[:, 0]] < 0) & (group_of[both[:, 1]] >= 0)]
    pairs = np.stack([keepers[group_of[leftover[:, 1]]], leftover[:, 0]], axis=1)
    return np.unique(np.sort(pairs, axis=1), axis=0).reshape(-1, 2)


@dataclass(frozen=True)
class Alignment:
    """Where one image of a pair sits in the other: ``small`` (0 or 1, which of the two)
    matches the box ``(x offset, x side, y offset, y side)`` of the other, as fractions of
    its width and height, mirrored or not; ``correlation`` is the 2-D check's."""

    small: int
    box: tuple[float, float, float, float]
    mirrored: bool
    correlation: float


def align_pair(first: np.ndarray, second: np.ndarray) -> Alignment:
    """The geometric check of one pair of geometry rows (:func:`geometry_signature`),
    with the box it found: the better of "second is a crop of first" and the reverse."""
    a, b = (np.asarray(x, np.float32)[None] for x in (first, second))
    found = [(_check(big, small), small_index) for big, small, small_index in
             ((a, b, 1), (b, a, 0))]
    (corr, _, _, box), small = max(found, key=lambda f: float(f[0][0][0]))
    return Alignment(small, tuple(float(v) for v in box[0, :4]), bool(box[0, 4]),
                     float(corr[0]))

