"""A .zip with one folder per cluster holding that cluster's images."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import BinaryIO

import numpy as np

from clustering.clusters.members import name_of
from clustering.files.discover import ImageRef

# Formats that are compressed already: stored as they are (deflating them wastes time).
_STORED = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".heic", ".heif"})
_UNSAFE = re.compile(r"[^\w .,()+&'-]+")


def folder_name(name: str, cluster: int) -> str:
    """A safe, non-empty folder name for a cluster called ``name``."""
    cleaned = _UNSAFE.sub("_", name).strip(" ._")[:80]
    return cleaned or f"cluster_{cluster}"


def folder_names(clusters: Sequence[int], cluster_names: Mapping[int, str] | None = None
                 ) -> dict[int, str]:
    """Distinct safe folder names per cluster (a repeated name gets ``_<cluster>``)."""
    names = cluster_names or {}
    out: dict[int, str] = {}
    taken: set[str] = set()
    for cluster in sorted(set(int(c) for c in clusters)):
        folder = folder_name(name_of(cluster, names), cluster)
        if folder.lower() in taken:
            folder = f"{folder}_{cluster}"
        taken.add(folder.lower())
        out[cluster] = folder
    return out


def write_clusters_zip(target: BinaryIO, images: Sequence[ImageRef], labels: np.ndarray,
                       cluster_names: Mapping[int, str] | None = None,
                       extra_files: Mapping[str, bytes] | None = None) -> list[str]:
    """Write ``<cluster folder>/<file name>`` for every image into ``target``.

    ``images[i]`` belongs to cluster ``labels[i]``; ``extra_files`` (e.g. labels.csv)
    go at the top level. Images that cannot be read are left out and listed in
    ``not_included.txt``; their names are returned.
    """
    folders = folder_names(labels, cluster_names)
    used: set[str] = set()
    unreadable: list[str] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (extra_files or {}).items():
            archive.writestr(name, data)
        for ref, label in zip(images, labels):
            try:
                data = ref.read_bytes()
            except (OSError, zipfile.BadZipFile, KeyError):
                unreadable.append(ref.name)
                continue
            arcname = _unique(f"{folders[int(label)]}/{PurePosixPath(ref.name).name}", used)
            stored = PurePosixPath(arcname).suffix.lower() in _STORED
            archive.writestr(arcname, data,
                             compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        if unreadable:
            archive.writestr("not_included.txt", "\n".join(["Images that could not be read:",
                                                            *unreadable, ""]))
    return unreadable


def clusters_zip(images: Sequence[ImageRef], labels: np.ndarray,
                 cluster_names: Mapping[int, str] | None = None,
                 extra_files: Mapping[str, bytes] | None = None) -> bytes:
    """:func:`write_clusters_zip` into memory, for a download button."""
    buffer = io.BytesIO()
    write_clusters_zip(buffer, images, labels, cluster_names, extra_files)
    return buffer.getvalue()


def _unique(arcname: str, used: set[str]) -> str:
    """``arcname``, or ``stem (2).ext``... when a file of that name is already in the folder."""
    path = PurePosixPath(arcname)
    candidate, copy = arcname, 2
    while candidate.lower() in used:
        candidate = str(path.with_name(f"{path.stem} ({copy}){path.suffix}"))
        copy += 1
    used.add(candidate.lower())
    return candidate
