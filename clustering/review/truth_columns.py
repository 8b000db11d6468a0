"""Which columns of a truth CSV hold the file names and the labels.

Truth files come from many tools: ``filename,label``, ``image,class``,
``path,category``… Common names are recognised; the user can name the two columns
instead. An ambiguous file (two candidate columns for one role, or none) raises
:class:`~clustering.review.evaluate.TruthFileError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Sequence

# Recognised names (compared lower-case, trimmed), in no particular order: a file
# with two of one list is ambiguous and must name its column.
FILE_COLUMNS = ("file", "filename", "file_name", "image", "image_name", "img", "path",
                "filepath", "file_path", "name")
LABEL_COLUMNS = ("label", "class", "category", "truth", "target", "y", "class_name",
                 "ground_truth")


def _pick(columns: Sequence[str], given: str | None, known: Sequence[str], role: str,
          option: str) -> str:
    if given is not None:
        wanted = given.strip().lower()
        if wanted not in columns:
            raise ValueError(f"has no column {given!r} for the {role}s; it has "
                             f"{', '.join(map(repr, columns)) or 'none'}")
        return wanted
    found = [c for c in columns if c in known]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"has no {role} column (looked for {', '.join(known)}); it has "
                         f"{', '.join(map(repr, columns)) or 'none'}: name it with {option}")
    raise ValueError(f"has several possible {role} columns ({', '.join(map(repr, found))}): "
                     f"name one with {option}")


def truth_columns(columns: Sequence[str], file_column: str | None = None,
                  label_column: str | None = None) -> dict[str, str]:
    """``{column: "file", column: "label"}`` for lower-cased ``columns``.

    Raises ``ValueError`` (a message to prefix with the file's name) when ambiguous.
    """
    file = _pick(columns, file_column, FILE_COLUMNS, "file name", "--file-column")
    label = _pick([c for c in columns if c != file], label_column, LABEL_COLUMNS, "label",
                  "--label-column")
    return {file: "file", label: "label"}
