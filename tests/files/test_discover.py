"""Finding images in folders, file lists and zip archives."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from clustering.files.discover import InputError, discover

from tests.helpers import save_image


def names(found) -> list[str]:
    return [ref.name for ref in found.images]


def test_folder_is_recursive_by_default_and_flat_on_request(image_folder: Path) -> None:
    assert len(discover(image_folder).images) == 12
    flat = discover(image_folder, recursive=False)
    assert len(flat.images) == 6
    assert all("/" not in name for name in names(flat))


def test_extensions_match_case_insensitively(tmp_path: Path) -> None:
    for name in ("a.JPG", "b.Png", "c.jpeg", "d.TIFF", "e.webp", "f.HEIC", "g.gif", "h.bmp"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(names(discover(tmp_path))) == ["a.JPG", "b.Png", "c.jpeg", "d.TIFF",
                                                 "e.webp", "f.HEIC", "g.gif", "h.bmp"]


def test_hidden_and_non_image_files_are_ignored(tmp_path: Path) -> None:
    save_image(tmp_path / "ok.png", (1, 2, 3))
    save_image(tmp_path / ".hidden.png", (1, 2, 3))
    save_image(tmp_path / ".git" / "inside.png", (1, 2, 3))
    (tmp_path / "notes.txt").write_text("hello")
    found = discover(tmp_path)
    assert names(found) == ["ok.png"]
    assert found.skipped == []


def test_symlink_leading_outside_is_refused_not_followed(tmp_path: Path) -> None:
    outside = save_image(tmp_path / "outside" / "secret.png", (9, 9, 9))
    root = tmp_path / "root"
    save_image(root / "inside.png", (1, 1, 1))
    os.symlink(outside, root / "link.png")
    os.symlink(outside.parent, root / "linkdir")
    found = discover(root)
    assert names(found) == ["inside.png"]
    refused = {s.name: s.reason for s in found.skipped}
    assert set(refused) == {"link.png", "linkdir"}
    assert all("outside" in reason for reason in refused.values())


def test_symlink_inside_the_folder_is_used(tmp_path: Path) -> None:
    target = save_image(tmp_path / "a.png", (1, 1, 1))
    os.symlink(target, tmp_path / "b.png")
    assert names(discover(tmp_path)) == ["a.png", "b.png"]


def test_zip_members_are_found_and_unsafe_paths_refused(tmp_path: Path) -> None:
    image = save_image(tmp_path / "src.png", (5, 5, 5)).read_bytes()
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.png", image)
        zf.writestr("sub/b.PNG", image)
        zf.writestr("../evil.png", image)
        zf.writestr("__MACOSX/._a.png", b"junk")
        zf.writestr("readme.txt", "text")
    found = discover(archive)
    assert names(found) == ["a.png", "sub/b.PNG"]
    assert [s.name for s in found.skipped] == ["../evil.png"]
    assert found.images[1].read_bytes() == image
    assert names(discover(archive, recursive=False)) == ["a.png"]


def test_list_of_files(tmp_path: Path) -> None:
    a = save_image(tmp_path / "x" / "a.png", (1, 1, 1))
    b = save_image(tmp_path / "y" / "a.png", (2, 2, 2))
    found = discover([a, b, tmp_path / "missing.png"])
    assert len(found.images) == 2 and len(set(names(found))) == 2
    assert [s.reason for s in found.skipped] == ["file not found"]


def test_missing_or_unusable_input_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        discover(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        discover(tmp_path / "notes.txt")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="zip"):
        discover(tmp_path / "bad.zip")
