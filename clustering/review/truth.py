"""Read a truth CSV fast, with a row cap relative to the images, parsed once per content.

A 29 MB truth file (1,000,020 rows) took 61 s and ~290 MB on the Evaluate page, on
every visit: the whole file was parsed with every column, and each evaluation then
compared the clustered images with a million names. Here only the two needed
columns are read by pandas' C parser as text, reading stops once the file has more
rows than a clustering of ``n_images`` images can need (:func:`row_cap`), and
:func:`truth_from_bytes` remembers the result per content hash, so a page that runs
again does not parse again.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from typing import IO

import pandas as pd

from clustering.errors import TruthFileError
from clustering.review.truth_columns import truth_columns

ROWS_PER_IMAGE = 10  # a truth file may list this many times more files than are clustered
MIN_ROW_CAP = 100_000  # ... and never fewer than this many rows
CACHED_TRUTH_FILES = 4  # parsed truth tables remembered by content hash
FILE_COLUMN, LABEL_COLUMN = "file", "label"


def row_cap(n_images: int | None) -> int | None:
    """The most truth rows read for ``n_images`` clustered images (None: no cap).

    Labels for files that are not clustered are never used, so a file much longer
    than the collection is a mistake (another collection's labels) or an attack;
    ten times the images leaves room for labels of a larger set that includes them.
    """
    return None if n_images is None else max(MIN_ROW_CAP, ROWS_PER_IMAGE * n_images)


def read_truth_capped(source: str | os.PathLike | IO, n_images: int | None = None,
                      what: str = "truth CSV", file_column: str | None = None,
                      label_column: str | None = None) -> pd.Series:
    """``file -> label`` from a truth CSV, read fast (the CLI's ``read_truth`` is this, uncapped).

    The two columns are found by their common names, or named by ``file_column`` and
    ``label_column`` (as :func:`~clustering.review.truth_columns.truth_columns` does).
    Raises :class:`~clustering.review.evaluate.TruthFileError` with a plain message, also
    when the file has more rows than :func:`row_cap` allows (saying why).
    """
    cap = row_cap(n_images)
    columns = _columns(source, what, file_column, label_column)
    try:
        frame = pd.read_csv(source, usecols=list(columns.values()), dtype=str,
                            keep_default_na=False, engine="c",
                            nrows=None if cap is None else cap + 1, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise TruthFileError(f"cannot read {what}: {getattr(exc, 'strerror', None) or exc}"
                             ) from None
    if cap is not None and len(frame) > cap:
        raise TruthFileError(
            f"{what} has more than {cap:,} rows but only {n_images:,} images are clustered: "
            f"at most {ROWS_PER_IMAGE} rows per image (and at least {MIN_ROW_CAP:,}) are "
            f"read so that one huge file cannot stall the server; keep only the rows of "
            f"these images")
    frame.columns = sorted(columns, key=columns.get)  # usecols keeps the file's order
    if frame.empty:
        raise TruthFileError(f"{what} has a header but no rows")
    files, labels = frame[FILE_COLUMN].str.strip(), frame[LABEL_COLUMN].str.strip()
    del frame  # the untrimmed text is half the memory on a million rows
    return _checked(files, labels, what)


def truth_header(source: str | os.PathLike | IO, what: str = "truth CSV") -> list[str]:
    """The header's column names, trimmed and lower-cased (what the user picks from)."""
    try:
        header = pd.read_csv(source, nrows=0, dtype=str, engine="c")
    except pd.errors.EmptyDataError:
        raise TruthFileError(f"{what} is empty") from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise TruthFileError(f"cannot read {what}: {getattr(exc, 'strerror', None) or exc}"
                             ) from None
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    return [str(c).strip().lower() for c in header.columns]


def _columns(source: str | os.PathLike | IO, what: str, file_column: str | None,
             label_column: str | None) -> dict[str, int]:
    """``{"file": <column number>, "label": <column number>}`` read from the header line.

    Positions, not names: a header name with spaces around it would need the same
    trimming in both reads.
    """
    names = truth_header(source, what)
    try:
        roles = truth_columns(names, file_column, label_column)
    except ValueError as exc:
        raise TruthFileError(f"{what} {exc}") from None
    return {role: names.index(name) for name, role in roles.items()}


def _checked(files: pd.Series, labels: pd.Series, what: str) -> pd.Series:
    """``./``-free names; blank cells and conflicting labels refused (vectorised)."""
    blank = (files == "") | (labels == "")
    if blank.any():
        raise TruthFileError(f"{what}: {int(blank.sum())} row(s) without a file name or label "
                             f"(the first is data row {int(blank.to_numpy().argmax()) + 1})")
    dotted = files.str.startswith("./")
    if dotted.any():  # the regex only where needed: it is the slow part on 1M rows
        files[dotted] = files[dotted].str.replace(r"^(?:\./)+", "", regex=True)
    repeated = files.duplicated(keep=False)  # one hash pass; pairs checked only where found
    if repeated.any():
        pairs = pd.DataFrame({FILE_COLUMN: files[repeated], LABEL_COLUMN: labels[repeated]})
        conflicts = pairs.drop_duplicates()[FILE_COLUMN]
        twice = conflicts[conflicts.duplicated()]
        if len(twice):
            raise TruthFileError(f"{what}: {twice.iloc[0]!r} is listed with two different "
                                 f"labels")
        first = ~files.duplicated()
        files, labels = files[first], labels[first]
    return pd.Series(labels.to_numpy(), index=pd.Index(files.to_numpy(), name=FILE_COLUMN),
                     name=LABEL_COLUMN)


_CACHE: OrderedDict[tuple[str, int | None, str | None, str | None],
                    pd.Series | TruthFileError] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def truth_from_bytes(data: bytes, n_images: int | None = None, file_column: str | None = None,
                     label_column: str | None = None) -> pd.Series:
    """:func:`read_truth_capped` of uploaded bytes, parsed once per content, cap and columns.

    The last :data:`CACHED_TRUTH_FILES` results are kept, keyed by the content's
    SHA-256, so a page that reruns (every click) costs a hash, not a parse; a refusal
    is remembered too (a huge file is refused once, not on every click). The result is
    shared: callers must not modify it.
    """
    key = (hashlib.sha256(data).hexdigest(), row_cap(n_images), file_column, label_column)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
    if found is None:
        try:
            found = read_truth_capped(io.BytesIO(data), n_images, file_column=file_column,
                                      label_column=label_column)
        except TruthFileError as exc:
            found = exc
        with _CACHE_LOCK:
            _CACHE[key] = found
            while len(_CACHE) > CACHED_TRUTH_FILES:
                _CACHE.popitem(last=False)
    if isinstance(found, TruthFileError):
        raise TruthFileError(str(found)) from None  # a new one: a kept one would grow its traceback
    return found
