"""Find image files in a folder, a list of files, or a .zip archive.

Discovery only looks at names and paths: it never decodes an image. Files whose
extension is an image type become :class:`ImageRef` objects; image-like files that
are refused (a symlink leading out of the folder, an unsafe zip member) become
:class:`Skipped` rows with the reason. Hidden files and folders and files that are
not images are ignored silently.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from clustering.errors import InputError
from clustering.files.limits import is_name_too_long, path_too_long
from clustering.files.zips import read_member

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff",
     ".webp", ".heic", ".heif"}
)


@dataclass(frozen=True)
class ImageRef:
    """One image to load: a file on disk, or a member of a zip archive.

    ``name`` is the path relative to the input root (POSIX separators); it is what
    every export calls the image.
    """

    name: str
    path: Path
    member: str | None = None

    def read_bytes(self) -> bytes:
        """Return the raw bytes of the file (or zip member)."""
        if self.member is None:
            return self.path.read_bytes()
        return read_member(self.path, self.member)  # counts real bytes: headers can lie


@dataclass(frozen=True)
class Skipped:
    """An image-like file that was refused, with the reason in plain words."""

    name: str
    reason: str


@dataclass
class Discovery:
    """What :func:`discover` found: images to load and files it refused."""

    root: str
    images: list[ImageRef] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def is_image_name(name: str) -> bool:
    """True when the file name has an image extension (case-insensitive)."""
    return PurePosixPath(name).suffix.lower() in IMAGE_EXTENSIONS


def _is_hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") for part in parts)


def discover(source: str | os.PathLike | Sequence[str | os.PathLike],
             recursive: bool = True) -> Discovery:
    """Find the images in ``source``: a folder, a ``.zip`` file, or a list of files.

    Raises :class:`InputError` when the input does not exist or is of no usable kind.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        try:
            path.stat()
        except OSError as exc:
            if is_name_too_long(exc):
                raise InputError(path_too_long(path)) from None
        if not path.exists():
            raise InputError(f"input not found: {path}")
        if path.is_dir():
            return _discover_folder(path, recursive)
        if path.suffix.lower() == ".zip":
            return _discover_zip(path, recursive)
        if is_image_name(path.name):
            return _discover_files([path])
        raise InputError(f"input is not a folder, a .zip file or an image: {path}")
    return _discover_files([Path(p).expanduser() for p in source])


def _discover_folder(root: Path, recursive: bool) -> Discovery:
    found = Discovery(root=str(root))
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if not recursive:
            dirnames.clear()
        here = Path(dirpath)
        # Symlinked folders are not entered by os.walk; report the images they hold.
        for name in sorted(filenames) + [d for d in dirnames if (here / d).is_symlink()]:
            if name.startswith("."):
                continue
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    if is_image_name(name) or target.is_dir():
                        found.skipped.append(Skipped(rel, "symlink leads outside the input folder"))
                    continue
                if target.is_dir():
                    continue  # inside the root: its files are reached by their real path
            if not is_image_name(name):
                continue
            found.images.append(ImageRef(rel, path))
    found.images.sort(key=lambda ref: ref.name)
    return found


def _discover_zip(path: Path, recursive: bool) -> Discovery:
    found = Discovery(root=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip file: {path} ({exc})") from exc
    with archive:
        for info in archive.infolist():
            member = PurePosixPath(info.filename)
            if info.is_dir() or not is_image_name(member.name):
                continue
            if member.is_absolute() or ".." in member.parts:
                found.skipped.append(Skipped(info.filename, "unsafe path inside the zip"))
                continue
            if _is_hidden(member.parts) or member.parts[0] == "__MACOSX":
                continue
            if not recursive and len(member.parts) > 1:
                continue
            if info.flag_bits & 0x1:
                found.skipped.append(Skipped(info.filename, "encrypted zip member"))
                continue
            found.images.append(ImageRef(member.as_posix(), path, info.filename))
    found.images.sort(key=lambda ref: ref.name)
    return found


def _discover_files(paths: list[Path]) -> Discovery:
    found = Discovery(root=str(os.path.commonpath([p.parent for p in paths])) if paths else "")
    seen: set[str] = set()
    for path in paths:
        if _is_hidden([path.name]) or not is_image_name(path.name):
            continue
        name = path.name
        if name in seen:  # two files of the same name from different folders
            name = path.as_posix()
        seen.add(name)
        if not path.is_file():
            found.skipped.append(Skipped(name, "file not found"))
            continue
        found.images.append(ImageRef(name, path))
    return found
