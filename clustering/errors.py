"""Every error ClusterLens expects, under one base class.

Each message is one plain sentence for the user (no traceback). The command line
maps these classes to exit codes in one place (``clustering/cli/common.py``) and the
dashboard maps them to advice in one place (``dashboard/errors.py``). Anything that
is not a :class:`ClusterLensError` is unexpected.
"""

from __future__ import annotations


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of ``exc``'s message (its type's name when the message is empty)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]


class ClusterLensError(Exception):
    """An expected failure; ``str(error)`` is what to tell the user."""


class InputError(ClusterLensError, ValueError):
    """The input itself is unusable (missing, not a folder/zip/image list)."""


class ImageLoadError(ClusterLensError):
    """An image could not be used; ``str(error)`` is the reason to show the user."""


class WeightsUnavailable(ClusterLensError, RuntimeError):
    """No usable weights file; the message says which file, where, and from where."""


class TooFewImages(ClusterLensError, ValueError):
    """Fewer than 3 images: nothing to cluster."""


class InvalidK(ClusterLensError, ValueError):
    """k is not between 2 and the number of images - 1."""


class EvaluationInputError(ClusterLensError, ValueError):
    """A labels or truth table that cannot be used; the message says why."""


class TruthFileError(EvaluationInputError):
    """The truth CSV is unreadable, empty, lacks ``file``/``label`` or matches no file."""


class LabelsFileError(EvaluationInputError):
    """The labels CSV is unreadable, empty or lacks ``file``/``cluster``."""


class ConfigError(ClusterLensError):
    """The operator's configuration (``.streamlit/clusterlens.toml``) cannot be used."""


class Cancelled(ClusterLensError):
    """Work stopped on request; what was finished before the stop is kept."""


class NoTextEncoder(ClusterLensError, ValueError):
    """A text search (or names from words) asked of features whose model reads no text."""
