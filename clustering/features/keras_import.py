"""Import Keras/TensorFlow without the C++ start-up chatter they print on stderr."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the block (TF's C++ logs ignore log levels)."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras() -> ModuleType:
    """``import keras`` (and TensorFlow under it) quietly; later imports are free."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_silenced():
        import keras
        import tensorflow  # noqa: F401  (its start-up is what prints)
    return keras
