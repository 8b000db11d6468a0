"""The operator's settings for a server: ``.streamlit/clusterlens.toml`` and the environment.

One reader for the file, shared by everything configured there::

    roots = ["/srv/photos", "shared"]   # folders users may type (dashboard/roots.py)
    ray_address = "10.0.0.5:6379"       # run feature extraction on this Ray cluster

An environment variable, when set, wins over the file (``CLUSTERLENS_RAY_ADDRESS``)
or adds to it (``CLUSTERLENS_ROOTS``). A missing file is an empty configuration; a file
that cannot be read or holds a value of the wrong type raises :class:`ConfigError`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from clustering.errors import ConfigError, first_line

CONFIG_NAME = Path(".streamlit") / "clusterlens.toml"
APP_DIR = Path(__file__).resolve().parent.parent  # the folder of app.py
RAY_ADDRESS_ENV = "CLUSTERLENS_RAY_ADDRESS"


def read_config(app_dir: str | os.PathLike = APP_DIR) -> dict[str, Any]:
    """The config file next to the app, as a dict (empty when there is no file)."""
    path = Path(app_dir) / CONFIG_NAME
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {first_line(exc)}") from None


def config_value(name: str, valid: Callable[[Any], bool], what: str,
                 app_dir: str | os.PathLike = APP_DIR) -> Any:
    """``name`` from the config file (None when absent); a value that is not ``valid``
    is a ConfigError saying it must be ``what``."""
    value = read_config(app_dir).get(name)
    if value is not None and not valid(value):
        raise ConfigError(f"{Path(app_dir) / CONFIG_NAME}: '{name}' must be {what}")
    return value


def configured_ray_address(app_dir: str | os.PathLike = APP_DIR,
                           environ: Mapping[str, str] | None = None) -> str | None:
    """The Ray cluster to run extraction on: ``$CLUSTERLENS_RAY_ADDRESS``, else the file's
    ``ray_address``; None (no Ray at all) when neither is set or both are blank."""
    environ = os.environ if environ is None else environ
    address = environ.get(RAY_ADDRESS_ENV, "").strip()
    if address:
        return address
    address = config_value("ray_address", lambda v: isinstance(v, str), 'a "HOST:PORT" string',
                           app_dir)
    return (address or "").strip() or None
