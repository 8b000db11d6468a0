"""Saving uploads: safe names, size limits (also for what zips unpack to), refusals."""

from __future__ import annotations

import io
import zipfile

import pytest

from clustering.files.limits import human_size
from dashboard.uploads import (ARCHIVES, MAX_TOTAL_ENV, Upload, UploadTooLarge,
                                max_total_bytes, safe_relative_name, save_uploads)
from tests.app.app_helpers import png


@pytest.mark.parametrize(("sent", "kept"), [
    ("a.jpg", "a.jpg"),
    ("trip/day 2/a.jpg", "trip/day 2/a.jpg"),
    ("../../etc/a.jpg", "etc/a.jpg"),
    ("/abs/a.jpg", "abs/a.jpg"),
    ("C:\\photos\\a.jpg", "photos/a.jpg"),
    ("a/./b/../c.jpg", "a/b/c.jpg"),
    (".hidden/a.jpg", "hidden/a.jpg"),
    ("x/.DS_Store", None),
    ("..", None),
    ("   ", None),
    ("we<i>rd:na|me?.png", "we_i_rd_na_me_.png"),
])
def test_safe_relative_name(sent, kept):
    assert safe_relative_name(sent) == kept


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_images_and_zips_are_saved_inside_the_folder(tmp_path):
    image = png((200, 0, 0), 0)
    found = save_uploads([Upload("../a.png", image), Upload("sub/b.png", image),
                          Upload("sub/b.png", image),
                          Upload("set.zip", zip_bytes({"in/c.png": image, "../d.png": image}))],
                         tmp_path / "up", limit=10**6)
    assert [ref.name for ref in found.images] == ["a.png", "set.zip/in/c.png", "sub/b (2).png",
                                                  "sub/b.png"]
    assert all(ref.path.resolve().is_relative_to(tmp_path / "up") for ref in found.images)
    assert (tmp_path / "up" / ARCHIVES / "set.zip").is_file()
    assert [(s.name, s.reason) for s in found.skipped] == [
        ("set.zip/../d.png", "unsafe path inside the zip")]


def test_files_that_are_plainly_not_images_are_refused_before_decoding(tmp_path):
    found = save_uploads([Upload("x.jpg", b"not a jpeg"), Upload("e.png", b""),
                          Upload("bad.zip", b"PK but not really"), Upload("t.txt", b"hi"),
                          Upload(".DS_Store", b"x")], tmp_path, limit=10**6)
    assert not found.images
    assert dict((s.name, s.reason) for s in found.skipped) == {
        "x.jpg": "not a recognised image (corrupt or mislabelled file)",
        "e.png": "empty file (0 bytes)",
        "bad.zip": "not a readable zip file (corrupt or not a zip)",
        "t.txt": "not an image or a .zip file",
        ".DS_Store": "hidden file or unusable file name"}


def test_too_large_uploads_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(UploadTooLarge, match=r"The upload is 2\.0 KB; this server accepts at "
                                             r"most 1\.0 KB"):
        save_uploads([Upload("a.png", b"x" * 1024), Upload("b.png", b"x" * 1024)],
                     tmp_path / "up", limit=1024)
    bomb = zip_bytes({"big.png": b"\0" * 50_000})
    assert len(bomb) < 1024
    with pytest.raises(UploadTooLarge, match="bomb.zip unpacked is 48.8 KB"):
        save_uploads([Upload("ok.png", png((0, 0, 0), 1)), Upload("bomb.zip", bomb)],
                     tmp_path / "up2", limit=8192)
    assert not (tmp_path / "up").exists() and not (tmp_path / "up2").exists()


def test_the_limit_comes_from_the_environment():
    assert max_total_bytes({MAX_TOTAL_ENV: "2"}) == 2 * 1024 * 1024
    assert max_total_bytes({}) == 1024 ** 3
    assert max_total_bytes({MAX_TOTAL_ENV: "lots"}) == 1024 ** 3


@pytest.mark.parametrize(("size", "text"), [(0, "0 bytes"), (1023, "1023 bytes"),
                                             (1536, "1.5 KB"), (5 * 1024 ** 3, "5.0 GB")])
def test_human_size(size, text):
    assert human_size(size) == text
