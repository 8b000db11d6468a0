"""Safe decoding: every format, every mode, and every hostile input."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from clustering.images import loading
from clustering.images.loading import ImageLoadError, load_for_model, open_image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def half_and_half(mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: orientation and colour are easy to check."""
    pixels = np.zeros((40, 60, 3), dtype=np.uint8)
    pixels[:, :30] = (220, 20, 20)
    pixels[:, 30:] = (20, 20, 220)
    return Image.fromarray(pixels).convert(mode)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF"])
def test_common_formats_decode_to_rgb(fmt: str) -> None:
    image = open_image(encode(half_and_half(), fmt))
    assert image.mode == "RGB" and image.size == (60, 40)
    left, right = np.asarray(image)[20, 5], np.asarray(image)[20, 55]
    assert left[0] > 150 and right[2] > 150


def test_heic_decodes() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    data = io.BytesIO()
    pillow_heif.from_pillow(half_and_half()).save(data, format="HEIF", quality=90)
    image = open_image(data.getvalue())
    assert image.size == (60, 40) and np.asarray(image)[20, 5, 0] > 150


def test_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (20, 20), c) for c in ((250, 0, 0), (0, 250, 0))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    assert np.asarray(open_image(out.getvalue()))[5, 5, 0] > 200


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    image = open_image(encode(half_and_half(), "JPEG", exif=exif.tobytes()))
    assert image.size == (40, 60)  # width and height swapped
    top, bottom = np.asarray(image)[5, 20], np.asarray(image)[55, 20]
    assert top[0] > 150 and bottom[2] > 150  # red (was left) now on top


def test_16_bit_grayscale_keeps_its_contrast() -> None:
    ramp = np.tile(np.linspace(1000, 3000, 64, dtype=np.uint16), (16, 1))
    image = open_image(encode(Image.fromarray(ramp), "PNG"))
    gray = np.asarray(image)[:, :, 0]
    assert gray.min() < 10 and gray.max() > 245  # not all white, not flat


def test_cmyk_converts_correctly() -> None:
    image = open_image(encode(half_and_half("CMYK"), "JPEG"))
    assert np.asarray(image)[20, 5, 0] > 150 and np.asarray(image)[20, 55, 2] > 150


def test_palette_and_transparency_composite_on_white() -> None:
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))  # fully transparent red
    assert tuple(np.asarray(open_image(encode(rgba, "PNG")))[5, 5]) == (255, 255, 255)
    la = Image.new("LA", (10, 10), (0, 0))  # transparent black
    assert tuple(np.asarray(open_image(encode(la, "PNG")))[5, 5]) == (255, 255, 255)
    palette = half_and_half().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    assert np.asarray(open_image(encode(palette, "PNG")))[20, 5, 0] > 150
    palette.info["transparency"] = palette.getpixel((5, 5))
    assert tuple(np.asarray(open_image(encode(palette, "PNG")))[20, 5]) == (255, 255, 255)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but holds almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_without_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load(self):  # decoding would allocate the huge buffer: it must not happen
        raise AssertionError("load() was called on a bomb")
    monkeypatch.setattr(Image.Image, "load", no_load)
    with pytest.raises(ImageLoadError, match="too large"):
        open_image(png_header_only(30_000, 30_000))


def test_zero_byte_file_is_refused() -> None:
    with pytest.raises(ImageLoadError, match="empty"):
        open_image(b"")


def test_truncated_file_is_refused() -> None:
    data = encode(half_and_half().resize((400, 300)), "JPEG")
    with pytest.raises(ImageLoadError, match="truncated|cannot decode"):
        open_image(data[: len(data) // 2])


def test_corrupt_and_mislabelled_files_are_refused() -> None:
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        open_image(b"<html>this is a web page saved as photo.jpg</html>")
    data = bytearray(encode(half_and_half(), "PNG"))
    data[40:80] = b"\xff" * 40  # damage the compressed data
    with pytest.raises(ImageLoadError):
        open_image(bytes(data))


def test_big_jpeg_is_decoded_through_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(Image.new("RGB", (3000, 2000), (10, 200, 10)), "JPEG")
    requested = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        requested.append(size)
        return original(self, mode, size)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    pixels = load_for_model(data, 224)
    assert pixels.shape == (224, 224, 3) and pixels.dtype == np.uint8
    assert requested and min(requested[0]) >= 224


def test_thumbnail_is_small_jpeg() -> None:
    thumb = loading.make_thumbnail(encode(Image.new("RGB", (2000, 1000), (1, 2, 3)), "PNG"), 128)
    image = Image.open(io.BytesIO(thumb))
    assert image.format == "JPEG" and max(image.size) == 128
