"""Every failure becomes a message in words, never a traceback: the dashboard's one mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from clustering.distributed.layout import DatasetError
from clustering.distributed.session import RayUnavailable
from clustering.errors import (Cancelled, ClusterLensError, ConfigError, InputError, InvalidK,
                               TooFewImages, WeightsUnavailable)
from clustering.features.uploaded_weights import WeightsRejected
from clustering.files.limits import is_name_too_long, path_too_long
from dashboard.roots import PathRefused
from dashboard.uploads import UploadTooLarge

LOG = logging.getLogger("clusterlens")
T = TypeVar("T")

# What to add after an expected error's own message, most specific class first.
ADVICE: tuple[tuple[type[ClusterLensError], str], ...] = (
    (PathRefused, ""),
    (UploadTooLarge, ""),
    (WeightsRejected, "This weights file was refused: {}. Nothing was changed; upload the file "
                      "named above, or use the offline extractor."),
    (WeightsUnavailable, ""),
    (ConfigError, "The server's configuration is broken: {}. Ask the operator to fix it."),
    (Cancelled, ""),
    (RayUnavailable, ""),
    (DatasetError, "{}. Give the folder that 'cluster --engine ray' wrote (its --out)."),
    (InputError, "{}. Choose another folder or upload the images."),
    (TooFewImages, "{}. Add more images on the Data page."),
    (InvalidK, "{}. Choose a smaller k."),
    (ClusterLensError, "{}."),
)


def explain(exc: BaseException, action: str) -> str:
    """What happened and what to do, in words, for an exception raised while ``action``."""
    if isinstance(exc, ClusterLensError):
        advice = next(text for kind, text in ADVICE if isinstance(exc, kind))
        return advice.format(exc) if advice else str(exc)
    if is_name_too_long(exc):  # the system's words would be "File name too long"
        return f"This {path_too_long(getattr(exc, 'filename', None) or '')}."
    if isinstance(exc, MemoryError):
        return (f"The server ran out of memory while {action}. Use fewer images, the pooled "
                f"layer, or the offline extractor.")
    if isinstance(exc, OSError):
        return (f"A file could not be read or written while {action}: "
                f"{exc.strerror or exc}. Check that the files still exist and try again.")
    return (f"Something unexpected went wrong while {action} ({type(exc).__name__}: {exc}). "
            f"Try again; if it happens again, reload the page and start from the Data page. "
            f"The details are in the server log.")


def log_error(action: str, exc: BaseException) -> None:
    """Write ``exc`` to the server log: one line for an expected refusal (a
    :class:`ClusterLensError`, or a path too long for the system: the message says it all),
    the traceback for anything else."""
    if isinstance(exc, ClusterLensError) or is_name_too_long(exc):
        text = (explain(exc, action) if is_name_too_long(exc) else str(exc)).replace(
            "\r", "\\r").replace("\n", "\\n")  # a file name cannot add lines to the log
        LOG.warning("refused while %s: %s: %s", action, type(exc).__name__, text)
    else:
        LOG.error("error while %s", action, exc_info=exc)


def logged_explanation(action: str, exc: BaseException) -> str:
    """Log ``exc`` (server side) and return the plain explanation, to show later."""
    log_error(action, exc)
    return explain(exc, action)


def show_error(action: str, exc: BaseException) -> None:
    """Log ``exc`` (server side) and show the plain explanation."""
    st.error(logged_explanation(action, exc), icon=":material/error:")


def attempt(action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``fn(*args, **kwargs)``, or None after showing what went wrong."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # every failure becomes a message, never a traceback
        show_error(action, exc)
        return None
