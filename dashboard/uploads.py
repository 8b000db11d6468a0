"""Save uploaded files (images and .zip archives) into a folder, safely.

Upload names come from the browser and are not trusted: each is reduced to a safe
relative path inside the target folder. The total size is checked before anything
is written, and so is the unpacked size every zip declares; zips are then inflated
once, to plain files, counting the bytes that really come out, because headers can
lie (zip bombs). Files that are
plainly not images are refused with the reason, before any decoding.
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from clustering.errors import InputError
from clustering.files.discover import Discovery, Skipped, discover, is_image_name
from clustering.files.limits import human_size, too_many_pixels
from clustering.files.zips import ZipTooLarge, extract_members
from clustering.images.loading import MAX_PIXELS  # importing it registers the HEIC/HEIF opener

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


def env_number(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """The operator's setting ``$name`` as a number; ``default`` when unset or not a number."""
    environ = os.environ if environ is None else environ
    try:
        return float(environ.get(name) or default)
    except ValueError:
        return default


def max_total_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The limit on one upload's total size: ``$CLUSTERLENS_MAX_UPLOAD_MB`` or 1 GB."""
    return int(env_number(MAX_TOTAL_ENV, DEFAULT_MAX_TOTAL_MB, environ) * 1024 * 1024)


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
    archives: list[tuple[str, bytes]] = []
    for name, upload in named:
        if name is None:
            refused.append(Skipped(upload.name, "hidden file or unusable file name"))
        elif name in zip_problems:
            if zip_problems[name]:
                refused.append(Skipped(name, zip_problems[name]))
            else:
                archives.append((name, upload.data))
        elif not is_image_name(name):
            refused.append(Skipped(name, "not an image or a .zip file"))
        elif (reason := _image_problem(upload.data)) is not None:
            refused.append(Skipped(name, reason))
        else:
            _write(folder, name, upload.data)
    plain_bytes = sum(len(u.data) for name, u in named
                      if name is not None and name not in zip_problems)
    refused += _unpack_archives(archives, folder, limit - plain_bytes)
    found = discover(folder)
    found.skipped = refused + found.skipped
    return found


def _unpack_archives(archives: Sequence[tuple[str, bytes]], folder: Path,
                     limit: int) -> list[Skipped]:
    """Inflate each zip's usable image members once, as plain files under ``folder/<zip>/``.

    Later stages (thumbnails, fingerprints, features) then read plain files and never
    inflate a member again. Bytes really inflated are counted against ``limit``
    (headers can lie); past it everything unpacked here is removed and
    :class:`UploadTooLarge` names the member. Returns the members refused.
    """
    refused: list[Skipped] = []
    made: list[Path] = []
    try:
        for name, data in archives:
            staging = _write(folder / ARCHIVES, name, data)  # discovery reads a path
            inner = discover(staging)
            refused += [Skipped(f"{name}/{s.name}", s.reason) for s in inner.skipped]
            keep = []
            for ref in inner.images:
                target = safe_relative_name(f"{name}/{ref.name}")
                if target is None or (folder / target).exists():
                    refused.append(Skipped(f"{name}/{ref.name}", "unusable member name, or "
                                           "the same name as another file once made safe"))
                else:
                    keep.append((ref, target))
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = [archive.getinfo(ref.member) for ref, _ in keep]
                written, lying = extract_members(
                    archive, infos, folder, [t for _, t in keep],
                    total_limit=limit - sum(p.stat().st_size for p in made))
            made += written
            refused += [Skipped(f"{name}/{member}", reason) for member, reason in lying.items()]
    except ZipTooLarge as exc:
        for path in made:
            path.unlink(missing_ok=True)
        raise UploadTooLarge(str(exc)) from None
    return refused


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size  # reading the header is the check
    except Image.DecompressionBombError as exc:
        return _bomb_reason(str(exc))
    except Exception:  # Pillow raises many types for bad headers
        return "not a recognised image (corrupt or mislabelled file)"
    if width * height > MAX_PIXELS:
        return too_many_pixels(width * height, MAX_PIXELS, (width, height))
    return None


def _bomb_reason(pillow_message: str) -> str:
    """The plain reason for Pillow's DecompressionBombError (its message holds the count)."""
    found = re.search(r"\((\d+) pixels\)", pillow_message)
    return too_many_pixels(int(found.group(1)) if found else MAX_PIXELS + 1, MAX_PIXELS)


def _zip_problem(data: bytes, name: str, limit: int) -> str | None:
    """Why a zip upload is unusable, or None; raises when it unpacks beyond ``limit``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "not a readable zip file (corrupt or not a zip)"
    check_total_size(unpacked, limit, what=f"{name} unpacked")
    return None
