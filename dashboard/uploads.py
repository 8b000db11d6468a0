"""Save uploaded files (images and .zip archives) into a folder, safely.

Upload names come from the browser and are not trusted: each is reduced to a safe
relative path inside the target folder. The total size is checked before anything
is written, and so is the unpacked size of every zip (zip bombs). Files that are
plainly not images are refused with the reason, before any decoding.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

import clustering.images.loading  # noqa: F401  (registers the HEIC/HEIF opener with Pillow)
from clustering.errors import InputError
from clustering.files.discover import Discovery, ImageRef, Skipped, discover, is_image_name

MAX_TOTAL_ENV = "CLUSTERLENS_MAX_UPLOAD_MB"
DEFAULT_MAX_TOTAL_MB = 1024.0
ARCHIVES = ".archives"  # hidden sub-folder (ignored by discovery) for uploaded zips
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f<>:\"|?*\\]")


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser sent and its bytes."""

    name: str
    data: bytes


class UploadTooLarge(InputError):
    """The upload (or what a zip in it unpacks to) exceeds the size limit."""


def max_total_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The limit on one upload's total size: ``$CLUSTERLENS_MAX_UPLOAD_MB`` or 1 GB."""
    environ = os.environ if environ is None else environ
    try:
        megabytes = float(environ.get(MAX_TOTAL_ENV) or DEFAULT_MAX_TOTAL_MB)
    except ValueError:
        megabytes = DEFAULT_MAX_TOTAL_MB
    return int(megabytes * 1024 * 1024)


def human_size(n_bytes: float) -> str:
    """``1536`` -> ``"1.5 KB"``."""
    size, unit = float(n_bytes), "bytes"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{size:.0f} bytes" if unit == "bytes" else f"{size:.1f} {unit}"


def check_total_size(total: int, limit: int, what: str = "The upload") -> None:
    """Raise :class:`UploadTooLarge` with advice when ``total`` exceeds ``limit``."""
    if total > limit:
        raise UploadTooLarge(
            f"{what} is {human_size(total)}; this server accepts at most {human_size(limit)} "
            f"at once. Upload fewer images or a smaller zip, or ask the operator to put the "
            f"images in a server folder (or raise {MAX_TOTAL_ENV}).")


def safe_relative_name(name: str) -> str | None:
    """``name`` as a harmless relative POSIX path, or None when it names nothing usable.

    Backslashes count as separators; empty, ``.`` and ``..`` parts and drive letters
    are dropped, control and reserved characters replaced. A hidden file (``.DS_Store``)
    gives None; a hidden folder part loses its leading dot.
    """
    raw_parts = [p for p in re.split(r"[\\/]+", name) if p.strip() not in ("", ".", "..")]
    if raw_parts and re.fullmatch(r"[A-Za-z]:", raw_parts[0]):
        raw_parts = raw_parts[1:]  # a Windows drive letter
    if not raw_parts or raw_parts[-1].startswith("."):
        return None
    parts = [_UNSAFE_CHARS.sub("_", p).strip().lstrip(".")[:200] or "_" for p in raw_parts]
    return "/".join(parts)


def save_uploads(uploads: Sequence[Upload], folder: str | os.PathLike,
                 limit: int | None = None) -> Discovery:
    """Write ``uploads`` under ``folder`` and discover the images in them.

    Images keep their (sanitised) relative names; each zip's images are named
    ``<zip name>/<member>``. Refused files are in ``Discovery.skipped``. Raises
    :class:`UploadTooLarge` before writing anything when the total is too big.
    """
    limit = max_total_bytes() if limit is None else limit
    check_total_size(sum(len(u.data) for u in uploads), limit)
    named = [(safe_relative_name(u.name), u) for u in uploads]
    zip_problems = {name: _zip_problem(u.data, name, limit) for name, u in named
                    if name and name.lower().endswith(".zip")}  # may raise: nothing written yet
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    refused: list[Skipped] = []
    archives: list[Path] = []
    for name, upload in named:
        if name is None:
            refused.append(Skipped(upload.name, "hidden file or unusable file name"))
        elif name in zip_problems:
            if zip_problems[name]:
                refused.append(Skipped(name, zip_problems[name]))
            else:
                archives.append(_write(folder / ARCHIVES, name, upload.data))
        elif not is_image_name(name):
            refused.append(Skipped(name, "not an image or a .zip file"))
        elif (reason := _image_problem(upload.data)) is not None:
            refused.append(Skipped(name, reason))
        else:
            _write(folder, name, upload.data)
    found = discover(folder)
    for path in archives:
        name = path.relative_to(folder / ARCHIVES).as_posix()
        inner = discover(path)
        found.images += [ImageRef(f"{name}/{ref.name}", ref.path, ref.member)
                         for ref in inner.images]
        found.skipped += [Skipped(f"{name}/{s.name}", s.reason) for s in inner.skipped]
    found.images.sort(key=lambda ref: ref.name)
    found.skipped = refused + found.skipped
    return found


def _write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` at ``folder/name``, adding `` (2)``... when the name is taken."""
    target = folder / name
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    copy = 2
    while target.exists():
        target = target.with_name(f"{stem} ({copy}){suffix}")
        copy += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def _image_problem(data: bytes) -> str | None:
    """Why ``data`` is plainly not an image (header check only), or None."""
    if not data:
        return "empty file (0 bytes)"
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.size  # noqa: B018  (reading the header is the check)
    except Exception:  # Pillow raises many types for bad headers
        return "not a recognised image (corrupt or mislabelled file)"
    return None


def _zip_problem(data: bytes, name: str, limit: int) -> str | None:
    """Why a zip upload is unusable, or None; raises when it unpacks beyond ``limit``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "not a readable zip file (corrupt or not a zip)"
    check_total_size(unpacked, limit, what=f"{name} unpacked")
    return None
