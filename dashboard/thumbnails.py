"""Small JPEGs of images (cached by file identity) and grids of them."""

from __future__ import annotations

import base64
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

import streamlit as st

from clustering.errors import ImageLoadError
from clustering.files.discover import ImageRef
from clustering.images.loading import make_thumbnail
from dashboard.fingerprint import file_stamps
from dashboard.markdown import escape, escape_lines

THUMB_PX = 192


@st.cache_data(show_spinner=False, max_entries=5_000)
def _thumbnail(path: str, member: str, size: int, mtime: int, px: int) -> tuple[bytes | None, str]:
    """``size`` and ``mtime`` only key the cache, so a changed file gets a new thumbnail."""
    ref = ImageRef(name=path, path=Path(path), member=member or None)
    try:
        return make_thumbnail(ref.read_bytes(), px), ""
    except ImageLoadError as exc:
        return None, str(exc)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return None, f"cannot read file: {exc}"


def thumbnail(ref: ImageRef, px: int = THUMB_PX) -> tuple[bytes | None, str]:
    """A small JPEG of ``ref`` (cached by file identity), or None and the reason."""
    _, path, member, size, mtime = file_stamps([ref])[0]
    return _thumbnail(path, member, size, mtime, px)


def data_uris(refs: Mapping[int, ImageRef], px: int) -> dict[int, str]:
    """``{index: data-URI JPEG}`` of the thumbnails that can be made (for the map, where
    a picture must travel inside the figure); unreadable images are left out."""
    uris = {}
    for index, ref in refs.items():
        data, _ = thumbnail(ref, px)
        if data is not None:
            uris[index] = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return uris


def show_thumbnails(refs: Sequence[ImageRef], captions: Sequence[str] | None = None,
                    columns: int = 6) -> None:
    """A grid of thumbnails with captions (file names without folders unless given).

    Captions are plain text (lines kept): names come from users' files, so they are
    escaped here, never rendered as Markdown (an image caption is Markdown).
    """
    captions = [escape_lines(c) for c in (captions if captions is not None
                                          else [PurePosixPath(ref.name).name for ref in refs])]
    for start in range(0, len(refs), columns):
        row = st.columns(columns)
        for col, ref, caption in zip(row, refs[start:start + columns],
                                     captions[start:start + columns]):
            data, reason = thumbnail(ref)
            with col:
                if data is None:
                    st.warning(f"{escape(ref.name)}: {escape(reason)}",
                               icon=":material/broken_image:")
                else:
                    st.image(data, caption=caption, width="stretch")
