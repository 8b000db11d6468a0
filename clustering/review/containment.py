"""Is one image's whole picture inside another's? The check behind the remove list.

A file may be removed only when the image kept in its group *contains* it: after
undoing a mirror, the member's whole picture lies inside the keeper's (a crop, a
resize, a re-encode, a brightness or format change). Two shots that overlap but are
shifted, or a burst frame where something moved, each show something the other
lacks: they are similar shots, never removed.

The 32x32 thumbnail check of :mod:`clustering.review.geometry` cannot see a strip of
a few percent, so candidate pairs are checked again at :data:`FINE` pixels a side
(each image decoded once more, only when it is in a candidate pair). The box of the
keeper that the member fills is searched on row and column profiles (as is or
mirrored, whichever matches better), then refined in 2-D; boxes may reach a little
past the keeper's edges, and a member whose best box does (by more than
:data:`MAX_OVERHANG`) holds a strip the keeper lacks: a shifted shot. Then the
keeper's box is cut from a view of twice the size, halved like the member's, and
compared with it in every small window (blocks, and thin strips along the edges),
each after a local linear fit (brightness): what the fit leaves, per unit of the
member's contrast there, must stay under :data:`MAX_MISMATCH` everywhere, so a burst
frame where something moved fails. Slight blurring makes the check indifferent to
re-encoding and resampling, and a noise floor to the grain of low-contrast images.
A member with more pixels than the box it fills (by more than :data:`MAX_ENLARGED`)
is not a copy of that keeper either: crops and resizes only lose pixels.

That fit lets each window find its own brightness, so it cannot see a patch of a
plain background that got lighter or darker (a burst frame where a shadow moved).
A second test fits one brightness to the whole picture and asks every block's mean
to follow it: a block may move by at most :data:`MAX_SHIFT` times ``SHIFT_NOISE``
grey levels plus half its own spread (re-encoding and resampling move a block of
detail more than a plain one). Pixels near black or white in either image's grey,
or near white in any of its colour channels, are left out of it: brightening clips
highlights, which no single fit follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, maximum_filter

from clustering.errors import ImageLoadError
from clustering.review.decode import review_image

FINE = 128  # side of the grey thumbnail of the fine check
MIN_SIDE = 0.80  # boxes searched keep at least this much of each side of the keeper
COARSE = (0.02, 0.01)  # box side and offset steps of the first search
REFINE = 0.0025  # step of the second search, around the best coarse box
BLUR = 1.5  # pixels of Gaussian blur before comparing
WINDOWS = ((12, 12), (3, 24), (24, 3))  # blocks, and strips along the edges
MAX_MISMATCH = 0.40  # most a window's squared difference may be, per unit of contrast
CONTRAST_FLOOR = 0.05  # of the whole image's variance: flat windows are not held to 0
NOISE = 3.0  # grey levels of noise (re-encoding) a window's contrast is never below
NUDGE_STEPS = 2  # the 2-D refinement moves a box by up to this many REFINE steps
# The brightness test: a block's mean may leave the whole picture's brightness fit by
# MAX_SHIFT * (SHIFT_NOISE + SHIFT_SPREAD * its spread) grey levels. Pixels at or past
# CLIPPED (or 255 - CLIPPED) in either image are left out; so are blocks left with
# less than half their pixels. On bench/duplicate_shots.py (three seeds, 4,410 true
# copies) no copy's block passed 1.03; a burst patch that is visibly lighter or
# darker reached 1.5 to 3.2.
SHIFT_BLOCK = (12, 12)
SHIFT_NOISE = 3.0
SHIFT_SPREAD = 0.5
MAX_SHIFT = 1.3
CLIPPED = 240.0
CHANNEL_CLIPPED = 250  # a colour channel at or past this is clipped (brightening)

# A member with more pixels than the box of the keeper it fills (by more than this,
# either way) holds detail the keeper lacks: the same picture, but not a copy of this
# keeper (crops and resizes only lose pixels). In a near-white picture a shot moved
# by a few percent can match a box squeezed by as much as well as its true place.
MAX_ENLARGED = 1.03

# Boxes are searched up to this far past the keeper's edges (its edge pixels repeated):
# a shifted shot matches best there, a crop inside. A member whose box reaches past
# the edges by more than MAX_OVERHANG (a pixel at FINE) shows what the keeper lacks.
OVERHANG_SEARCHED = 0.06
MAX_OVERHANG = 0.006

REASONS = ("exact copy", "mirror", "crop", "resize", "brightness", "format change",
           "re-encode")
NOT_CONTAINED = "each shows something the other lacks"


@dataclass(frozen=True)
class Fit:
    """How a member's picture lies inside a keeper's."""

    mismatch: float  # the worst window's mismatch (0: identical)
    shift: float  # the worst block's move away from the picture's brightness (0: none)
    enlarged: float  # the member's pixels per pixel of the keeper's box (the larger of
    # width and height; above 1: the member has more)
    mirrored: bool
    box: tuple[float, float, float, float]  # x offset, x side, y offset, y side
    gain: float  # member ~ gain * keeper + offset (grey levels)
    offset: float

    @property
    def contained(self) -> bool:
        """The member's whole picture matches a box inside the keeper."""
        outside = overhang(self.box[:2]) + overhang(self.box[2:])
        return (self.mismatch <= MAX_MISMATCH and self.shift <= MAX_SHIFT
                and self.enlarged <= MAX_ENLARGED and outside <= MAX_OVERHANG)


@dataclass(frozen=True)
class FineView:
    """An image file's whole picture for the fine check."""

    grey: np.ndarray  # (2 FINE, 2 FINE) uint8: boxes are cut from it at twice the size
    # compared, then halved like the other image
    clipped: np.ndarray  # (FINE, FINE) bool: some colour channel near white
    size: tuple[int, int]  # the picture's width and height in pixels (full size)


def fine_view(data: bytes) -> FineView:
    """The :class:`FineView` of an image file's bytes."""
    decoded = review_image(data)
    image = decoded.image
    grey = np.asarray(image.convert("L").resize((2 * FINE, 2 * FINE), Image.Resampling.BOX),
                      np.uint8)
    clipped = np.asarray(image).max(axis=2) >= CHANNEL_CLIPPED  # review images are RGB
    mask = Image.fromarray(clipped.astype(np.uint8) * 255).resize((FINE, FINE),
                                                                   Image.Resampling.BOX)
    size = (decoded.width, decoded.height)  # as stored: turned like the picture
    if (image.width > image.height) != (size[0] > size[1]):  # by its EXIF orientation
        size = size[::-1]
    return FineView(grey, np.asarray(mask) > 0, size)


def _standard(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


def _box_grid(sides: np.ndarray, starts: Callable[[float], np.ndarray]) -> np.ndarray:
    """(b, 2) boxes (offset, side) that reach at most OVERHANG_SEARCHED past [0, 1]."""
    boxes = [(o, s) for s in sides for o in starts(s)
             if -OVERHANG_SEARCHED - 1e-9 <= o <= 1 - s + OVERHANG_SEARCHED + 1e-9]
    return np.array(boxes, np.float64)


def overhang(box: tuple[float, float]) -> float:
    """How far a box (offset, side) reaches past the keeper's edges (0: inside)."""
    return max(0.0, -box[0]) + max(0.0, box[0] + box[1] - 1.0)


def _taps(boxes: np.ndarray, size: int = FINE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear interpolation taps (low, high, weight of high), each (b, size): target
    cell k of box (offset, side) samples the source between ``low`` and ``high``."""
    centre = (boxes[:, :1] + boxes[:, 1:] * (np.arange(size) + 0.5) / size) * size - 0.5
    centre = np.clip(centre, 0, size - 1)
    low = np.floor(centre).astype(np.int64)
    return low, np.minimum(low + 1, size - 1), (centre - low).astype(np.float32)


def _sample(profile: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(b, FINE): 1-D ``profile`` resampled into each box."""
    low, high, weight = _taps(boxes)
    return profile[low] * (1 - weight) + profile[high] * weight


_COARSE_BOXES = _box_grid(np.arange(1.0, MIN_SIDE - 1e-9, -COARSE[0]),
                          lambda s: np.arange(-OVERHANG_SEARCHED, 1 - s + OVERHANG_SEARCHED
                                              + 1e-9, COARSE[1]))
_NEAR = np.arange(-4, 5) * REFINE
_NUDGE = np.arange(-NUDGE_STEPS, NUDGE_STEPS + 1) * REFINE


def _best_box(keeper: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, float]:
    """(offset, side) of the box of 1-D profile ``keeper`` that best matches ``member``
    (a coarse search, then a fine one around its best box), and that correlation."""
    target = _standard(member)
    coarse = _standard(_sample(keeper, _COARSE_BOXES)) @ target
    offset, side = _COARSE_BOXES[int(np.argmax(coarse))]
    boxes = _box_grid(np.clip(side + _NEAR, MIN_SIDE, 1.0), lambda s: offset + _NEAR)
    score = _standard(_sample(keeper, boxes)) @ target
    return boxes[int(np.argmax(score))], float(score.max())


def _crop(image: np.ndarray, box_x: np.ndarray, box_y: np.ndarray) -> np.ndarray:
    """``image``'s box resampled to (FINE, FINE), bilinear."""
    return _columns(_rows(image, box_y), box_x[None])[:, 0]


def _rows(image: np.ndarray, box_y: np.ndarray) -> np.ndarray:
    low, high, weight = (t[0] for t in _taps(box_y[None], len(image)))
    return image[low] * (1 - weight[:, None]) + image[high] * weight[:, None]


def _columns(rows: np.ndarray, boxes_x: np.ndarray) -> np.ndarray:
    """(size, b, size): ``rows`` resampled along x into each box."""
    low, high, weight = _taps(boxes_x, rows.shape[1])
    return rows[:, low] * (1 - weight) + rows[:, high] * weight


def _nudged(box: np.ndarray) -> np.ndarray:
    """Boxes up to NUDGE_STEPS steps of REFINE from ``box`` (offset and side)."""
    return _box_grid(np.clip(box[1] + _NUDGE, MIN_SIDE, 1.0), lambda s: box[0] + _NUDGE)


def _refine(keeper: np.ndarray, member: np.ndarray, box_x: np.ndarray, box_y: np.ndarray,
            candidates: Callable[[np.ndarray], np.ndarray], rounds: int = 2
            ) -> tuple[np.ndarray, np.ndarray]:
    """The boxes, one axis at a time, replaced by the ``candidates`` of each where the
    2-D correlation of the keeper's box with ``member`` is best (profiles alone confuse
    a shift with a change of scale in smooth pictures)."""
    target = _standard(member.ravel())
    for _ in range(rounds):
        boxes = candidates(box_x)
        crops = _columns(_rows(keeper, box_y), boxes).transpose(1, 0, 2)
        box_x = boxes[int(np.argmax(_standard(crops.reshape(len(boxes), -1)) @ target))]
        boxes = candidates(box_y)
        crops = _columns(_rows(keeper.T, box_x), boxes).transpose(1, 2, 0)
        box_y = boxes[int(np.argmax(_standard(crops.reshape(len(boxes), -1)) @ target))]
    return box_x, box_y


def _half(image: np.ndarray, times: int = 2) -> np.ndarray:
    """``image`` halved ``times`` times (2 x 2 means)."""
    for _ in range(times):
        image = image.reshape(len(image) // 2, 2, -1, 2).mean(axis=(1, 3))
    return image


def fit(keeper_view: FineView, member_view: FineView) -> Fit:
    """How well ``member``'s whole picture (maybe mirrored) fits inside ``keeper``'s
    (both :func:`fine_view` thumbnails)."""
    sharp = keeper_view.grey.astype(np.float32)
    keeper = _half(sharp, 1)
    member = _half(member_view.grey.astype(np.float32), 1)
    soft_keeper = gaussian_filter(keeper, BLUR)
    box_y, _ = _best_box(keeper.mean(axis=1), member.mean(axis=1))
    # As is or mirrored: whichever column profile matches better.
    (box_x, score), (mirror_x, mirror_score) = (
        _best_box(keeper.mean(axis=0), cols) for cols in (member.mean(axis=0),
                                                          member.mean(axis=0)[::-1]))
    mirrored = mirror_score > score
    flip = (lambda x: x[:, ::-1]) if mirrored else (lambda x: x)
    m = gaussian_filter(flip(member), BLUR)
    box_x, box_y = _refine(_half(soft_keeper), _half(m), mirror_x if mirrored else box_x,
                           box_y, lambda box: _COARSE_BOXES)
    box_x, box_y = _refine(soft_keeper, m, box_x, box_y, _nudged)
    # Clipped pixels, spread as far as the blur carries them.
    clipped = (_crop(keeper_view.clipped.astype(np.float32), box_x, box_y) > 0) | flip(
        member_view.clipped)
    clipped = maximum_filter(clipped, size=2 * round(2 * BLUR) + 1)
    enlarged = max(member_view.size[0] / (box_x[1] * keeper_view.size[0]),
                   member_view.size[1] / (box_y[1] * keeper_view.size[1]))
    return _compare(gaussian_filter(_half(_crop(sharp, box_x, box_y), 1), BLUR), m, clipped,
                    mirrored, (*map(float, box_x), *map(float, box_y)), float(enlarged))


def _compare(a: np.ndarray, b: np.ndarray, clipped: np.ndarray, mirrored: bool,
             where: tuple[float, float, float, float], enlarged: float) -> Fit:
    """The worst window's mismatch between member ``b`` and the keeper's box ``a``
    (both blurred; ``clipped``: pixels clipped in a colour channel of either)."""
    gain, offset = _linear_fit(a, b)
    floor_a = CONTRAST_FLOOR * float(a.var()) + NOISE ** 2
    floor_b = CONTRAST_FLOOR * float(b.var()) + NOISE ** 2
    sums = [_integral(x) for x in (a, b, a * a, b * b, a * b)]
    worst = 0.0
    for size in WINDOWS:
        area = size[0] * size[1]
        sa, sb, saa, sbb, sab = (_window_sums(t, size) / area for t in sums)
        var_a = np.maximum(saa - sa * sa, 0)
        var_b = np.maximum(sbb - sb * sb, 0)
        cov2 = (sab - sa * sb) ** 2
        # What a local linear fit of one leaves of the other, per unit of its local
        # contrast (1 - r^2 where both have detail), both ways: a flat patch in one
        # where the other has detail differs as much as the reverse.
        left_b = np.maximum(var_b - cov2 / np.maximum(var_a, 1e-3), 0) / (var_b + floor_b)
        left_a = np.maximum(var_a - cov2 / np.maximum(var_b, 1e-3), 0) / (var_a + floor_a)
        worst = max(worst, float(np.maximum(left_a, left_b).max()))
    return Fit(worst, brightness_shift(a, b, clipped), enlarged, mirrored, where, gain,
               offset)


def brightness_shift(a: np.ndarray, b: np.ndarray, clipped: np.ndarray) -> float:
    """How far the worst block of ``b`` moves from one brightness fit of ``b`` to
    ``a`` over the whole picture, per unit of the noise allowed there (see
    :data:`MAX_SHIFT`); pixels near black or white in either image's grey, and the
    ``clipped`` ones, are left out."""
    kept = (np.minimum(a, b) > 255 - CLIPPED) & (np.maximum(a, b) < CLIPPED) & ~clipped
    if kept.sum() < SHIFT_BLOCK[0] * SHIFT_BLOCK[1]:
        return 0.0  # hardly anything unclipped: the window check stands alone
    gain, offset = _linear_fit(a[kept], b[kept])
    weight = kept.astype(np.float64)
    left = b - gain * a - offset
    count, sum_a, sum_aa, sum_left = (
        _window_sums(_integral(x), SHIFT_BLOCK)
        for x in (weight, weight * a, weight * a * a, weight * left))
    enough = count >= 0.5 * SHIFT_BLOCK[0] * SHIFT_BLOCK[1]
    count = np.maximum(count, 1)
    spread = np.sqrt(np.maximum(sum_aa / count - (sum_a / count) ** 2, 0))
    moved = np.abs(sum_left / count) / (SHIFT_NOISE + SHIFT_SPREAD * spread)
    return float(np.where(enough, moved, 0).max())


def _linear_fit(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(gain, offset) with ``b ~ gain * a + offset`` (least squares; the gain kept
    between 0.5 and 2)."""
    mean_a, mean_b = float(a.mean()), float(b.mean())
    gain = float(np.clip(((a - mean_a) * (b - mean_b)).mean() / max(float(a.var()), 1e-6),
                         0.5, 2.0))
    return gain, mean_b - gain * mean_a


def _integral(x: np.ndarray) -> np.ndarray:
    """Summed-area table of ``x`` with a leading row and column of zeros."""
    out = np.zeros((x.shape[0] + 1, x.shape[1] + 1), np.float64)
    out[1:, 1:] = x.cumsum(axis=0).cumsum(axis=1)
    return out


def _window_sums(table: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sum of every (h, w) window, from a :func:`_integral` table."""
    h, w = size
    return table[h:, w:] - table[:-h, w:] - table[h:, :-w] + table[:-h, :-w]


def describe(keeper: dict, member: dict, found: Fit | None) -> str:
    """The reason a contained ``member`` may go: one of :data:`REASONS`.

    ``keeper`` and ``member`` hold ``hash``, ``width``, ``height`` and ``name``;
    ``found`` is the fine check (None: not made, e.g. identical files).
    """
    if keeper["hash"] == member["hash"]:
        return "exact copy"
    if found is not None and found.mirrored:
        return "mirror"
    if found is not None and min(found.box[1], found.box[3]) < 0.985:
        return "crop"
    if member["width"] * member["height"] < 0.9 * keeper["width"] * keeper["height"]:
        return "resize"
    if found is not None and abs(found.offset + (found.gain - 1) * 128) > 6:
        return "brightness"
    if _suffix(keeper["name"]) != _suffix(member["name"]):
        return "format change"
    return "re-encode"


def why_not() -> str:
    """Why a pair that looks alike is not a duplicate."""
    return NOT_CONTAINED


def _suffix(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"jpeg": "jpg"}.get(ext, ext)


@dataclass(frozen=True)
class Removal:
    """A file on the remove list: its group, the file kept there, and why it may go."""

    file: str
    group: int
    keep: str
    reason: str


class FineViews:
    """Fine thumbnails of images decoded on demand, each at most once."""

    def __init__(self, read: Callable[[int], bytes | None]) -> None:
        self.read = read
        self.views: dict[int, FineView | None] = {}

    def __call__(self, i: int) -> FineView | None:
        if i not in self.views:
            try:
                data = self.read(i)
                self.views[i] = None if data is None else fine_view(data)
            except (OSError, ImageLoadError):  # gone or unreadable now: the thumbnail
                self.views[i] = None  # check stands
        return self.views[i]
