"""Identify a set of input files by content, for cache keys."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Sequence

from clustering.cache import content_hash
from clustering.files.discover import ImageRef


def file_stamps(images: Sequence[ImageRef]) -> tuple[tuple[str, str, str, int, int], ...]:
    """Cheap identity of each file: (name, path, member, size, mtime_ns) from ``stat``."""
    stamps = []
    for ref in images:
        try:
            stat = os.stat(ref.path)
            size, mtime = stat.st_size, stat.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        stamps.append((ref.name, str(ref.path), ref.member or "", size, mtime))
    return tuple(stamps)


def content_fingerprint(images: Sequence[ImageRef]) -> str:
    """A digest of every file's name and content hash (unreadable files count by name)."""
    digest = hashlib.blake2b(digest_size=16)
    for ref in images:
        try:
            file_hash = content_hash(ref.read_bytes())
        except (OSError, KeyError, zipfile.BadZipFile):
            file_hash = "unreadable"
        digest.update(f"{ref.name}\0{file_hash}\n".encode())
    return digest.hexdigest()


def combine(*parts: object) -> str:
    """A short digest of ``parts`` (their ``repr``), for cache keys built from settings."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
