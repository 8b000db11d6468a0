"""Zips whose headers lie, huge images, over-long paths, copies of one image (issue 10)."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from clustering.files.discover import ImageRef, InputError, discover
from clustering.clusters.kmeans import ImageClusterer, InvalidK, KSweep, TooFewImages
from clustering.images.loading import ImageLoadError, read_image_file
from dashboard.uploads import Upload, UploadTooLarge, save_uploads
from clustering.files.zips import ZipTooLarge, extract_members, read_member
from tests.app.app_helpers import png


def lying_zip(real: int, claim: int = 1000, name: str = "bomb.png",
              extra: dict[str, bytes] | None = None) -> bytes:
    """A zip whose member ``name`` inflates to ``real`` bytes but declares ``claim``.

    The sizes are rewritten by hand in the local header and the central directory.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"\0" * real)
        for member, data in (extra or {}).items():
            archive.writestr(member, data)
    data = bytearray(out.getvalue())
    assert data[:4] == b"PK\x03\x04"
    struct.pack_into("<I", data, 22, claim)  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, claim)  # central directory: the same
    return bytes(data)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """256 MiB of zeros declared as 1,000 bytes, plus one honest image."""
    return lying_zip(256 * 1024 * 1024, extra={"ok.png": png((0, 200, 0), 3)})


def test_the_bomb_really_is_one(bomb):
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("bomb.png")
    assert len(bomb) < 400_000 and info.file_size == 1000
    inflater, rest, real = zlib.decompressobj(-15), bomb[30 + len("bomb.png"):], 0
    while rest and not inflater.eof:  # raw deflate, inflated in bounded steps
        real += len(inflater.decompress(rest, 1 << 20))
        rest = inflater.unconsumed_tail
    assert real == 256 * 1024 * 1024


def test_a_lying_zip_upload_is_refused_quickly_with_bounded_memory(tmp_path, bomb):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        found = save_uploads([Upload("set.zip", bomb)], tmp_path / "up", limit=10 * 1024**2)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 5 and peak < 20 * 1024**2
    assert [ref.name for ref in found.images] == ["set.zip/ok.png"]
    (skipped,) = found.skipped
    assert skipped.name == "set.zip/bomb.png"
    assert "does not match the zip's header" in skipped.reason
    assert "zip bomb" in skipped.reason
    assert not (tmp_path / "up" / "set.zip" / "bomb.png").exists()


def test_zip_members_are_inflated_once_to_plain_files(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("in/c.png", png((200, 0, 0), 0))
    found = save_uploads([Upload("set.zip", out.getvalue())], tmp_path / "up", limit=10**6)
    (ref,) = found.images
    assert ref.member is None and ref.path.is_file()  # later stages read a plain file
    assert ref.path == tmp_path / "up" / "set.zip" / "in" / "c.png"


def test_real_bytes_count_against_the_total_and_nothing_stays(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"{i}.png", b"\0" * 4000)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        infos = archive.infolist()
        with pytest.raises(ZipTooLarge, match=r"reached while inflating 2\.png"):
            extract_members(archive, infos, tmp_path, [i.filename for i in infos],
                            total_limit=10_000)
        with pytest.raises(ZipTooLarge, match=r"0\.png inflates to more than"):
            extract_members(archive, infos, tmp_path, [i.filename for i in infos],
                            total_limit=10**6, member_limit=1000)
    assert list(tmp_path.iterdir()) == []


def test_cli_zip_input_reads_members_with_a_bound(tmp_path, bomb):
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb)
    found = discover(path)
    refs = {ref.name: ref for ref in found.images}
    assert read_member(path, "ok.png") == png((0, 200, 0), 3)
    with pytest.raises(ImageLoadError, match="does not match the zip's header"):
        read_image_file(refs["bomb.png"])
    honest = tmp_path / "honest.zip"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.png", b"\0" * 5000)
    with pytest.raises(ZipTooLarge, match="big.png inflates to more than"):
        read_member(honest, "big.png", limit=1000)


def big_png(width: int, height: int) -> bytes:
    """A PNG header claiming ``width`` x ``height`` (no pixel data worth the name)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("size", "shown"), [((50_000, 50_000), "2,500,000,000 pixels"),
                                             ((10_000, 10_000), "10,000x10,000")])
def test_a_huge_image_upload_is_called_too_large(tmp_path, size, shown):
    found = save_uploads([Upload("huge.png", big_png(*size))], tmp_path, limit=10**6)
    (skipped,) = found.skipped
    assert skipped.reason.startswith("image too large: ")
    assert shown in skipped.reason and "89,478,485" in skipped.reason
    assert "decompression bomb" in skipped.reason


def test_a_too_long_path_is_named_as_such(tmp_path):
    with pytest.raises(InputError, match=r"^path too long: .*per path"):
        discover(tmp_path / ("deep/" * 1000))
    with pytest.raises(ImageLoadError, match=r"^path too long: .*longest part of 300"):
        read_image_file(ImageRef("x", tmp_path / ("a" * 296 + ".png")))


def test_copies_of_one_image_say_how_many_distinct_images_there_are():
    copies = np.ones((5, 8), dtype=np.float32)
    with pytest.raises(TooFewImages, match=r"only 1 distinct image\(s\) among 5"):
        KSweep(2, 4).fit(copies)
    with pytest.raises(TooFewImages, match="only 1 distinct"):
        ImageClusterer(2).fit(copies)
    two = np.r_[np.ones((3, 8)), np.zeros((3, 8))].astype(np.float32)
    assert KSweep(2, 5).fit(two).ks_.tolist() == [2]  # the sweep stops at 2 distinct
    with pytest.raises(InvalidK, match="k=3 is more than the 2 distinct images among 6"):
        ImageClusterer(3).fit(two)


def test_upload_too_large_is_still_raised_for_honest_headers(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.png", b"\0" * 50_000)
    with pytest.raises(UploadTooLarge, match="unpacked is 48.8 KB"):
        save_uploads([Upload("b.zip", out.getvalue())], tmp_path / "up", limit=8192)
    assert not Path(tmp_path / "up").exists()
