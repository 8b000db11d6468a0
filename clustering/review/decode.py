"""One decode per image for everything the review stage measures.

Duplicate signatures (:mod:`clustering.review.duplicates`) and quality scores
(:mod:`clustering.review.quality`) are both computed from one :class:`ReviewImage`:
the file decoded once, its long side at least :data:`SIDE` (big JPEGs are decoded
at 1/2, 1/4 or 1/8 scale, in the DCT domain), and a box-reduced copy for hashes,
geometry and colour. So one pass (:func:`clustering.review.scan.scan_images`) can
compute both from one read and one decode of each file, and each computed alone
gets exactly the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from clustering.images.loading import full_size, open_image

SIDE = 384  # quality scores are measured with the long side scaled to this
SMALL = 64  # the reduced copy keeps at least this many pixels on its short side


@dataclass
class ReviewImage:
    """One image file, decoded for review."""

    image: Image.Image  # RGB, long side >= SIDE where the file has that many pixels
    small: Image.Image  # ``image`` box-reduced to a short side of SMALL..2*SMALL
    width: int  # as stored in the file (before any draft)
    height: int


def review_image(data: bytes) -> ReviewImage:
    """Decode ``data`` once for duplicate signatures and quality scores.

    Raises :class:`~clustering.errors.ImageLoadError` for an unreadable image.
    """
    image = open_image(data, draft_long_side=SIDE)
    factor = max(1, min(image.size) // SMALL)
    small = image.reduce(factor) if factor > 1 else image
    return ReviewImage(image, small, *full_size(data))
