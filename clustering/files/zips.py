"""Read zip members counting the bytes actually inflated, never the headers' claims.

A zip's local header and central directory state each member's size, but nothing
forces them to be true: a member can declare 1,000 bytes and inflate to 1 GiB.
Every read here streams the member in blocks, counts what really came out and stops
with :class:`ZipTooLarge` (naming the member) as soon as a limit is passed, so memory
stays bounded by the limit, never by the archive's contents.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from clustering.errors import InputError
from clustering.files.limits import human_size

# Largest single image member read from a zip (a 24-bit 89-Mpixel TIFF is ~270 MB:
# anything bigger would be refused by the decoder's pixel limit anyway).
MAX_MEMBER_BYTES = 300 * 1024 * 1024
BLOCK = 1 << 20  # bytes inflated per step: the most held in memory beyond the output


class LyingMember(zipfile.BadZipFile):
    """A member whose inflated content does not match its header (size or CRC)."""


class ZipTooLarge(InputError):
    """A zip member (or the whole archive) inflates beyond its limit.

    The dashboard's upload code (``dashboard/uploads.py``) re-raises it as its own
    ``UploadTooLarge``.
    """


def _copy_counted(source, write: Callable[[bytes], object], member: str, limit: int,
                  used: int, total_limit: int) -> int:
    """Copy ``source`` to ``write`` block by block; raise once a limit is passed.

    Returns the member's real inflated size. ``used`` bytes of ``total_limit`` are
    already taken by earlier members. Reading in blocks is what bounds memory:
    ``ZipFile.read`` inflates a whole member in one call before comparing it with the
    declared size. Python's reader stops at the declared size and then fails the
    CRC check, so a member whose header understates its size is a
    :class:`LyingMember`.
    """
    size = 0
    try:
        while block := source.read(BLOCK):
            size += len(block)
            if size > limit:
                raise ZipTooLarge(f"{member} inflates to more than {human_size(limit)}; "
                                  f"refused as a possible zip bomb")
            if used + size > total_limit:
                raise ZipTooLarge(f"the zip unpacks to more than {human_size(total_limit)} "
                                  f"(reached while inflating {member}); refused as a possible "
                                  f"zip bomb or simply too large")
            write(block)
    except zipfile.BadZipFile as exc:
        raise LyingMember(f"{member}: its content does not match the zip's header "
                          f"(declared size or checksum: {exc}); refused as a possible zip "
                          f"bomb or a corrupt file") from None
    return size


def read_member(archive: str | os.PathLike | zipfile.ZipFile, member: str,
                limit: int = MAX_MEMBER_BYTES) -> bytes:
    """The bytes of one member, refusing it once more than ``limit`` bytes inflate."""
    if not isinstance(archive, zipfile.ZipFile):
        with zipfile.ZipFile(archive) as opened:
            return read_member(opened, member, limit)
    chunks: list[bytes] = []
    with archive.open(member) as source:
        _copy_counted(source, chunks.append, member, limit, 0, limit)
    return b"".join(chunks)


def extract_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: Path,
                    target_names: list[str], total_limit: int,
                    member_limit: int = MAX_MEMBER_BYTES) -> tuple[list[Path], dict[str, str]]:
    """Inflate each of ``members`` once into ``folder/<target name>``, counting real bytes.

    ``target_names`` are already-safe relative paths. Returns the files written and
    ``{member: reason}`` for members refused alone (content not matching the header).
    On :class:`ZipTooLarge` (or any other failure) every file written by this call
    is removed and the error propagates.
    """
    written: list[Path] = []
    refused: dict[str, str] = {}
    used = 0
    for info, name in zip(members, target_names, strict=True):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(info) as source, open(target, "xb") as out:
                used += _copy_counted(source, out.write, info.filename, member_limit, used,
                                      total_limit)
        except LyingMember as exc:
            target.unlink(missing_ok=True)
            refused[info.filename] = str(exc)
            continue
        except BaseException:
            for path in (*written, target):
                path.unlink(missing_ok=True)
            raise
        written.append(target)
    return written, refused
