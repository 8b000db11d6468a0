"""Small JPEGs of images and grids of them.

Two caches: thumbnails on disk by content hash (:mod:`dashboard.thumb_store`, shared by
every session and kept across restarts) and the latest few thousand in memory by file
identity (path, size, time), so a revisit reads no file at all. A page whose
thumbnails must be made shows a progress bar while its images are decoded in threads.
"""

from __future__ import annotations

import base64
import functools
import time
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import streamlit as st

from clustering.cache import content_hash, default_cache_dir
from clustering.errors import ImageLoadError
from clustering.files.discover import ImageRef
from clustering.images.engine import Progress
from clustering.images.loading import make_thumbnail
from dashboard.fingerprint import file_stamps
from dashboard.markdown import escape, escape_lines
from dashboard.progress import PROGRESS_EVERY_S, ProgressBar
from dashboard.thumb_store import ThumbnailStore

THUMB_PX = 192
MEMORY_ENTRIES = 5_000  # about 10 KB each
WORKERS = 2  # decoding threads (Pillow releases the GIL while decoding)

Thumbnail = tuple[bytes | None, str]  # the JPEG, or None and the reason


@functools.lru_cache(maxsize=4)
def _store(cache_dir: str) -> ThumbnailStore:
    return ThumbnailStore(cache_dir)


@functools.lru_cache(maxsize=MEMORY_ENTRIES)
def _thumbnail(path: str, member: str, size: int, mtime: int, px: int,
               cache_dir: str) -> Thumbnail:
    """``size`` and ``mtime`` only key the memory cache, so a changed file gets a new
    thumbnail; the disk cache is keyed by the content itself."""
    ref = ImageRef(name=path, path=Path(path), member=member or None)
    try:
        data = ref.read_bytes()
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return None, f"cannot read file: {exc}"
    digest, store = content_hash(data), _store(cache_dir)
    thumb = store.get(digest, px)
    if thumb is None:
        try:
            thumb = make_thumbnail(data, px)
        except ImageLoadError as exc:
            return None, str(exc)
        store.put(digest, px, thumb)
    return thumb, ""


def thumbnails(refs: Sequence[ImageRef], px: int = THUMB_PX) -> list[Thumbnail]:
    """Thumbnails of ``refs`` in order, made in threads; a progress bar appears when
    making them takes longer than a moment (never on a warm page)."""
    cache_dir = str(default_cache_dir())
    stamps = file_stamps(refs)
    start = time.perf_counter()
    found: list[Thumbnail] = []
    with ProgressBar("Making thumbnails") as bar, ThreadPoolExecutor(WORKERS) as pool:
        jobs = pool.map(lambda s: _thumbnail(s[1], s[2], s[3], s[4], px, cache_dir), stamps)
        for done, result in enumerate(jobs, start=1):
            found.append(result)
            elapsed = time.perf_counter() - start
            if elapsed > PROGRESS_EVERY_S:
                rate = done / elapsed
                bar(Progress(done=done, total=len(refs), computed=done, cached=0, skipped=0,
                             elapsed_s=elapsed, images_per_s=rate,
                             eta_s=(len(refs) - done) / rate))
    return found


def thumbnail(ref: ImageRef, px: int = THUMB_PX) -> Thumbnail:
    """One image's thumbnail (cached in memory and on disk), or None and the reason."""
    _, path, member, size, mtime = file_stamps([ref])[0]
    return _thumbnail(path, member, size, mtime, px, str(default_cache_dir()))


def data_uri(jpeg: bytes) -> str:
    """A JPEG as a data URI (for the map, where a picture travels inside the figure)."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def data_uris(refs: Mapping[int, ImageRef], px: int) -> dict[int, str]:
    """``{index: data-URI JPEG}`` of the thumbnails that can be made; unreadable images
    are left out."""
    indices = list(refs)
    return {index: data_uri(data)
            for index, (data, _) in zip(indices, thumbnails([refs[i] for i in indices], px))
            if data is not None}


def show_thumbnails(refs: Sequence[ImageRef], captions: Sequence[str] | None = None,
                    columns: int = 6) -> None:
    """A grid of thumbnails with captions (file names without folders unless given).

    Captions are plain text (lines kept): names come from users' files, so they are
    escaped here, never rendered as Markdown (an image caption is Markdown).
    """
    captions = [escape_lines(c) for c in (captions if captions is not None
                                          else [PurePosixPath(ref.name).name for ref in refs])]
    made = thumbnails(refs)
    for start in range(0, len(refs), columns):
        row = st.columns(columns)
        for col, ref, caption, (data, reason) in zip(row, refs[start:start + columns],
                                                     captions[start:start + columns],
                                                     made[start:start + columns]):
            with col:
                if data is None:
                    st.warning(f"{escape(ref.name)}: {escape(reason)}",
                               icon=":material/broken_image:")
                else:
                    st.image(data, caption=caption, width="stretch")
