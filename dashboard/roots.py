"""Confine server-side folder paths to root folders the operator allows.

A dashboard user may type a folder path on the server. Only folders inside the
configured roots are accepted:

* ``$CLUSTERLENS_ROOTS``: folders separated by ``os.pathsep`` (``:`` on Linux);
* ``roots = ["/srv/photos", "shared"]`` in ``.streamlit/clusterlens.toml`` next to
  the app (relative entries are relative to the app folder);
* the bundled demo folder, always.

Paths with ``..``, paths that resolve (symlinks included) outside every root,
and paths that do not exist are refused with a :class:`PathRefused` whose message
says what to do. Symlinks *inside* an accepted folder that lead out of it are
refused later, file by file, by :mod:`clustering.files.discover`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath

from clustering.config import CONFIG_NAME, config_value
from clustering.errors import InputError

ROOTS_ENV = "CLUSTERLENS_ROOTS"


class PathRefused(InputError):
    """A typed server path is not allowed or not usable; the message says why."""


def configured_roots(app_dir: str | os.PathLike, demo_dir: str | os.PathLike,
                     environ: Mapping[str, str] | None = None) -> list[Path]:
    """The allowed roots: demo folder, ``$CLUSTERLENS_ROOTS``, then the config file's.

    Each root is resolved (symlinks followed); duplicates and roots that do not
    exist are dropped. Raises :class:`~clustering.errors.ConfigError` for an unreadable config.
    """
    environ = os.environ if environ is None else environ
    app_dir = Path(app_dir)
    candidates = [Path(demo_dir)]
    candidates += [Path(p) for p in environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()]
    candidates += [app_dir / p for p in _config_roots(app_dir)]
    roots: list[Path] = []
    for candidate in candidates:
        root = candidate.expanduser().resolve()
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def _config_roots(app_dir: Path) -> list[str]:
    """``roots`` from the config file (none when the file is absent)."""
    return config_value("roots", _is_list_of_text, "a list of folder paths (strings)",
                        app_dir) or []


def _is_list_of_text(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def resolve_inside(text: str, roots: Sequence[Path]) -> Path:
    """The real path of the folder or ``.zip`` named by ``text``, if inside a root.

    Relative paths are looked up under each root in turn. Raises
    :class:`PathRefused` otherwise.
    """
    text = text.strip()
    if not text:
        raise PathRefused("Type the path of a folder (or a .zip file) on the server.")
    if "\x00" in text:
        raise PathRefused("The path contains a NUL character; type a plain folder path.")
    if not roots:
        raise PathRefused("This server allows no folders. Ask the operator to set "
                          f"{ROOTS_ENV} or add roots to {CONFIG_NAME.as_posix()}.")
    typed = PurePath(text)
    if ".." in typed.parts:
        raise PathRefused(f"'..' is not allowed in a folder path ({text}). Type the full path "
                          f"of a folder inside {_listing(roots)}.")
    candidates = [Path(typed)] if typed.is_absolute() else [root / typed for root in roots]
    outside = False
    for candidate in candidates:
        real = candidate.resolve()
        if not any(real.is_relative_to(root) for root in roots):
            outside = True
            continue
        if real.is_dir() or (real.is_file() and real.suffix.lower() == ".zip"):
            return real
        if real.exists():
            raise PathRefused(f"{text} is not a folder or a .zip file. Type a folder path.")
    if outside:
        raise PathRefused(f"{text} is outside the folders this server allows "
                          f"({_listing(roots)}). Pick a folder inside one of them, or ask the "
                          f"operator to add it to {ROOTS_ENV} or {CONFIG_NAME.as_posix()}.")
    raise PathRefused(f"No folder {text} was found inside {_listing(roots)}. "
                      "Check the spelling, or upload the images instead.")


def _listing(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots)
