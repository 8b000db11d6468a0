"""Two images of a duplicate pair (or of a similar-shots pair) made comparable: aligned on
the box the geometric check found (:func:`clustering.review.geometry.align_pair`), a
difference image that highlights where they differ, and the reason in words ("crop of
the keeper, 6 % off the right", "re-encoded at lower quality", "each shows something the
other lacks"). Plain numpy and Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from clustering.review.geometry import Alignment, align_pair, geometry_signature

SIZE = 480  # longer side of the aligned images, in pixels
CROPPED = 0.015  # a side cut by at least this share counts as cropped
SMALLER = 0.9  # a copy with fewer than this share of the pixels per side counts as resized
BRIGHTER = 6.0  # mean grey levels (0-255) apart that count as brighter or darker
LESS_DETAIL = 0.75  # fine detail (high-frequency energy) ratio that counts as lower quality
DIFFERENT = 0.90  # below this correlation the two are different pictures
CHANGED = 28.0  # grey levels apart (after smoothing) that mark a pixel as different
HIGHLIGHT = (230, 20, 60)


@dataclass
class PairView:
    """The pair aligned (same size, same framing), their difference and the reason."""

    first: Image.Image
    second: Image.Image
    difference: Image.Image  # the first image greyed, where they differ in colour
    reason: str
    changed: float  # share of the pixels marked as different
    alignment: Alignment


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L").filter(ImageFilter.GaussianBlur(1.5)), np.float32)


def _detail(image: Image.Image) -> float:
    """High-frequency energy: what JPEG at low quality (or a blur) removes first."""
    grey = np.asarray(image.convert("L"), np.float32)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def _aligned(big: Image.Image, small: Image.Image, alignment: Alignment
             ) -> tuple[Image.Image, Image.Image]:
    """``big`` cut to the box and ``small`` (mirrored back if it was), at one size."""
    ox, sx, oy, sy = alignment.box
    w, h = big.size
    crop = big.crop((round(ox * w), round(oy * h), round((ox + sx) * w), round((oy + sy) * h)))
    if alignment.mirrored:
        small = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    scale = SIZE / max(crop.size)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    return (crop.resize(size, Image.Resampling.LANCZOS),
            small.resize(size, Image.Resampling.LANCZOS))


def _cropped_words(alignment: Alignment) -> str:
    ox, sx, oy, sy = alignment.box
    cuts = {"left": ox, "right": 1 - ox - sx, "top": oy, "bottom": 1 - oy - sy}
    shown = [f"{cut:.0%} off the {side}".replace("%", " %") for side, cut in cuts.items()
             if cut >= CROPPED]
    return " and ".join(shown)


def describe(first: Image.Image, second: Image.Image, names: tuple[str, str],
             alignment: Alignment, aligned: tuple[Image.Image, Image.Image]) -> str:
    """The difference in words; ``names`` name the two images ("the keeper", "this copy")."""
    if alignment.correlation < DIFFERENT:
        return "different pictures: each shows something the other lacks"
    small, big = (second, first) if alignment.small == 1 else (first, second)
    small_name, big_name = (names[1], names[0]) if alignment.small == 1 else names
    parts = []
    cut = _cropped_words(alignment)
    if cut:
        parts.append(f"{small_name} is a crop of {big_name}, {cut}")
    if alignment.mirrored:
        parts.append(f"{small_name} is mirrored")
    ox, sx, oy, sy = alignment.box
    if small.width < SMALLER * sx * big.width and small.height < SMALLER * sy * big.height:
        parts.append(f"{small_name} is smaller ({small.width}×{small.height} px against "
                     f"{big.width}×{big.height})")
    grey = [float(np.asarray(i.convert("L"), np.float32).mean()) for i in aligned]
    if abs(grey[1] - grey[0]) >= BRIGHTER:
        lighter = names[1] if grey[1] > grey[0] else names[0]
        parts.append(f"{lighter} is brighter")
    detail = [_detail(i) for i in aligned]
    if min(detail) < LESS_DETAIL * max(detail):
        poorer = names[1] if detail[1] < detail[0] else names[0]
        parts.append(f"{poorer} is re-encoded at lower quality (less fine detail)")
    if not parts:
        return "the same picture: no visible difference"
    return "; ".join(parts)


def pair_view(first: Image.Image, second: Image.Image,
              names: tuple[str, str] = ("the keeper", "this copy")) -> PairView:
    """Align ``second`` on ``first`` (or the reverse, whichever is the crop), mark where
    they differ, and say how."""
    first, second = first.convert("RGB"), second.convert("RGB")
    alignment = align_pair(geometry_signature(first), geometry_signature(second))
    if alignment.small == 1:
        one, two = _aligned(first, second, alignment)
    else:
        two, one = _aligned(second, first, alignment)
    a, b = _grey(one), _grey(two)
    # a brightness change is said in words; the highlight shows what else differs
    changed = np.abs((a - a.mean()) - (b - b.mean())) >= CHANGED
    base = np.asarray(one.convert("L").convert("RGB"), np.float32) * 0.55 + 100
    base[changed] = HIGHLIGHT
    difference = Image.fromarray(base.clip(0, 255).astype(np.uint8))
    reason = describe(first, second, names, alignment, (one, two))
    return PairView(one, two, difference, reason, float(changed.mean()), alignment)
