"""Decode image bytes safely into RGB pixels.

Every failure becomes an :class:`ImageLoadError` whose message is a short reason
fit for a "skipped" list: callers never see Pillow's own exceptions.
"""

from __future__ import annotations

import io
import math
import warnings
import zipfile
import zlib
from typing import Protocol

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from clustering.errors import ImageLoadError
from clustering.files.limits import is_name_too_long, path_too_long
from clustering.files.zips import ZipTooLarge

try:  # HEIC/HEIF support is optional at import time but listed in requirements.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - exercised only without pillow-heif
    pillow_heif = None

# Pillow raises DecompressionBombError above 2x this many pixels and warns above it;
# we treat both as refusals so that no huge buffer is ever allocated.
MAX_PIXELS = 89_478_485
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


class _Readable(Protocol):
    def read_bytes(self) -> bytes: ...


def read_image_file(source: _Readable) -> bytes:
    """``source.read_bytes()``; a file that cannot be read raises :class:`ImageLoadError`."""
    try:
        return source.read_bytes()
    except ZipTooLarge as exc:
        raise ImageLoadError(str(exc)) from None
    except (OSError, zipfile.BadZipFile, zlib.error) as exc:
        if is_name_too_long(exc):
            raise ImageLoadError(path_too_long(getattr(source, "path", ""))) from None
        raise ImageLoadError(f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None


def open_image(data: bytes, draft_size: int | None = None,
               draft_long_side: int | None = None) -> Image.Image:
    """Decode ``data`` to an RGB :class:`PIL.Image.Image`, upright and opaque.

    ``draft_size`` lets JPEG decoding downscale in the DCT domain (by 2, 4 or 8) to no
    less than that many pixels on the short side (much faster for big photos);
    ``draft_long_side`` does the same keeping the long side at least that long.
    """
    if not data:
        raise ImageLoadError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise ImageLoadError(
                    f"image too large ({image.width}x{image.height} pixels; "
                    f"limit {MAX_PIXELS:,}): possible decompression bomb")
            if (draft_size or draft_long_side) and image.format == "JPEG":
                image.draft("RGB", _draft_target(image.size, draft_size, draft_long_side))
            image.seek(0)  # first frame of animated GIF/WebP/TIFF
            image.load()
            image = ImageOps.exif_transpose(image)
            return to_rgb(image)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"image too large: possible decompression bomb ({exc})") from exc
    except UnidentifiedImageError:
        raise ImageLoadError("not a recognised image (corrupt or mislabelled file)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason.lower():
            raise ImageLoadError("truncated image file") from None
        raise ImageLoadError(f"cannot decode image: {reason}") from None


def _draft_target(size: tuple[int, int], short_side: int | None,
                  long_side: int | None = None) -> tuple[int, int]:
    """The draft request that keeps the short side at least ``short_side`` (or the long
    side at least ``long_side``)."""
    width, height = size
    if short_side:
        scale = short_side / max(1, min(width, height))
        return (max(1, round(width * scale)), max(1, round(height * scale)))
    scale = (long_side or 0) / max(1, width, height)
    return (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB without losing contrast or going black.

    16/32-bit and float grayscale are rescaled from their real value range;
    transparency (RGBA, LA, palette with transparency) is composited on white.
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return Image.fromarray(_stretch_to_uint8(np.asarray(image))).convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _stretch_to_uint8(values: np.ndarray) -> np.ndarray:
    """Map a high-bit-depth array to 0..255 using its own dynamic range."""
    values = values.astype(np.float64)
    low, high = np.nanmin(values), np.nanmax(values)
    if not np.isfinite(low) or high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.clip((values - low) * (255.0 / (high - low)), 0, 255).round().astype(np.uint8)


def load_for_model(data: bytes, size: int = 224) -> np.ndarray:
    """Decode ``data`` and resize it to ``size`` x ``size``: a uint8 (H, W, 3) array."""
    image = open_image(data, draft_size=size)
    image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.uint8)


def make_thumbnail(data: bytes, size: int = 192) -> bytes:
    """A small JPEG of the image (long side ``size``) for galleries and previews."""
    image = open_image(data, draft_size=size)
    image.thumbnail((size, size), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def full_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an image file as stored, read from its header only.

    Call it after :func:`open_image` accepted ``data``.
    """
    with Image.open(io.BytesIO(data)) as header:
        return header.size
