"""Plain-words reasons for inputs refused by a limit (path length, pixels, bytes).

The operating system and Pillow report these as "File name too long" or "not a
recognised image"; users then look for a missing or corrupt file. These messages
name the limit that was hit and the value that hit it.
"""

from __future__ import annotations

import errno
import os

# Fallbacks where os.pathconf cannot tell (Linux's usual values).
DEFAULT_PATH_MAX = 4096
DEFAULT_NAME_MAX = 255


def _pathconf(name: str, fallback: int) -> int:
    try:
        return int(os.pathconf("/", name))
    except (OSError, ValueError, AttributeError):
        return fallback


def path_too_long(path: str | os.PathLike) -> str:
    """Why ``path`` cannot be opened when the system said ENAMETOOLONG."""
    text = os.fspath(path)
    longest = max((len(part.encode()) for part in text.split(os.sep)), default=0)
    path_max = _pathconf("PC_PATH_MAX", DEFAULT_PATH_MAX)
    name_max = _pathconf("PC_NAME_MAX", DEFAULT_NAME_MAX)
    return (f"path too long: {len(text.encode()):,} bytes with a longest part of {longest} "
            f"(this system allows at most {path_max:,} per path and {name_max} per file or "
            f"folder name); use a shorter folder or file name")


def is_name_too_long(exc: BaseException) -> bool:
    """Whether ``exc`` is the system's "File name too long" error."""
    return isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG


def too_many_pixels(pixels: int, limit: int, size: tuple[int, int] | None = None) -> str:
    """Why an image of ``pixels`` pixels (``size`` = width, height when known) is refused."""
    shape = f"{size[0]:,}x{size[1]:,} = " if size else ""
    gigabytes = pixels * 3 / 1024**3
    return (f"image too large: {shape}{pixels:,} pixels, above the limit of {limit:,} pixels "
            f"(decoding it would take about {gigabytes:.1f} GB of memory; the limit guards "
            f"against decompression bombs)")


def human_size(n_bytes: float) -> str:
    """``1536`` -> ``"1.5 KB"``."""
    size, unit = float(n_bytes), "bytes"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{size:.0f} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
