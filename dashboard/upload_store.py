"""Per-session upload folders under one server folder, with cleanup and a quota.

A shared server must not keep users' private images after they leave, must not be
filled by "open a tab, upload 1 GB, close it", and must survive its own crash. So:
each session gets its own folder (named by a random id that is checked, never a
path); the dashboard calls :meth:`UploadStore.end_session` from its session-end hook;
:meth:`UploadStore.remove_stale` at server start deletes folders untouched for longer
than ``max_age_s`` (what a crash left); and :meth:`UploadStore.check_room` refuses an
upload that would take the whole store past the operator's quota.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from clustering.files.limits import human_size
from dashboard.uploads import UploadTooLarge, env_number

QUOTA_ENV = "CLUSTERLENS_UPLOAD_QUOTA_MB"
DEFAULT_QUOTA_MB = 10 * 1024.0  # all sessions' uploads together
DEFAULT_MAX_AGE_S = 24 * 3600.0  # a folder untouched this long belongs to no live session
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
TOKEN_LONGEST = 64


class UploadStoreFull(UploadTooLarge):
    """The server's upload folder would exceed its quota."""


class InvalidSessionId(ValueError):
    """A session id that is not a plain token (it would name a path)."""


def check_token(value: object, shortest: int = 8) -> str:
    """``value`` when it is a plain token of ``shortest`` to :data:`TOKEN_LONGEST` URL-safe
    characters (it names a folder); :class:`InvalidSessionId` otherwise."""
    if (not isinstance(value, str) or not shortest <= len(value) <= TOKEN_LONGEST
            or not _TOKEN.fullmatch(value)):
        raise InvalidSessionId(f"a session id is {shortest} to {TOKEN_LONGEST} letters, "
                               f"digits, '-' or '_'")
    return value


def remove_stale_folders(root: Path, cutoff: float,
                         wanted: Callable[[str], bool] = lambda name: True) -> list[str]:
    """Delete the folders directly in ``root`` (``wanted`` names, never symlinks) last
    touched before ``cutoff``; return their names, sorted."""
    if not root.is_dir():
        return []
    removed = []
    for entry in root.iterdir():
        if (wanted(entry.name) and entry.is_dir() and not entry.is_symlink()
                and entry.stat().st_mtime < cutoff):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return sorted(removed)


def quota_bytes(environ: Mapping[str, str] | None = None) -> int:
    """``$CLUSTERLENS_UPLOAD_QUOTA_MB`` (or :data:`DEFAULT_QUOTA_MB`) in bytes."""
    return int(env_number(QUOTA_ENV, DEFAULT_QUOTA_MB, environ) * 1024 * 1024)


def folder_size(folder: Path) -> int:
    """Bytes in the regular files under ``folder`` (symlinks not followed)."""
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            try:
                stat = os.lstat(os.path.join(dirpath, name))
            except OSError:  # removed while we walked
                continue
            total += stat.st_size
    return total


class UploadStore:
    """Upload folders for sessions: ``root/<session id>/``.

    ``quota`` is the most bytes all sessions may hold together (default from
    :func:`quota_bytes`); ``clock`` returns the time in seconds (a test passes a fake).
    """

    def __init__(self, root: str | os.PathLike, quota: int | None = None,
                 max_age_s: float = DEFAULT_MAX_AGE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.quota = quota_bytes() if quota is None else quota
        self.max_age_s = max_age_s
        self.clock = clock

    def folder(self, session_id: str) -> Path:
        """The session's folder, created (and its age reset) now."""
        path = self._path(session_id)
        path.mkdir(parents=True, exist_ok=True)
        self.touch(session_id)
        return path

    def touch(self, session_id: str) -> None:
        """Mark the session as alive now (the age :meth:`remove_stale` reads)."""
        path = self._path(session_id)
        if path.is_dir():
            now = self.clock()
            os.utime(path, (now, now))

    def end_session(self, session_id: str) -> bool:
        """Delete the session's files; False when it had none."""
        path = self._path(session_id)
        if not path.exists():
            return False
        shutil.rmtree(path, ignore_errors=True)
        return True

    def remove_stale(self) -> list[str]:
        """Delete session folders not touched for ``max_age_s``; return their ids.

        Call at server start: a crashed server never ran its session-end hooks.
        """
        return remove_stale_folders(self.root, self.clock() - self.max_age_s)

    def usage(self) -> int:
        """Bytes held by all sessions now."""
        return folder_size(self.root) if self.root.is_dir() else 0

    def room(self) -> int:
        """Bytes still free under the quota: pass it (or less) as ``save_uploads(limit=)``
        so that what zips really unpack to is counted against the quota too."""
        return max(0, self.quota - self.usage())

    def check_room(self, n_bytes: int) -> None:
        """Raise :class:`UploadStoreFull` unless ``n_bytes`` more fit under the quota."""
        used = self.usage()
        if used + n_bytes > self.quota:
            raise UploadStoreFull(
                f"the server's upload space is full: {human_size(used)} of "
                f"{human_size(self.quota)} is in use by open sessions and this upload needs "
                f"{human_size(n_bytes)}. Try again later, upload fewer images, or ask the "
                f"operator to raise {QUOTA_ENV}.")

    def _path(self, session_id: str) -> Path:
        return self.root / check_token(session_id)
