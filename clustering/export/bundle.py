"""A session's work as a small zip bundle (no images), and reading one back safely.

A bundle holds ``run.json``, ``labels.csv``, the cluster names, the keep/remove
choices made on duplicates, the truth labels and ``model.npz`` (the fitted reduction
and centroids, see :mod:`clustering.export.saved_model`). Reading one treats it as hostile:
its size, the names and number of its members, the bytes each really inflates to,
and every table's columns and types are checked, each failure with a plain message
(:class:`BundleError`). Nothing in a bundle is ever written to disk by name.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clustering.errors import InputError
from clustering.export.tables import _FORMULA_STARTS, csv_bytes, json_bytes
from clustering.export.saved_model import MODEL_FILE, NotASavedRun, SavedModel
from clustering.files.zips import ZipTooLarge, read_member

BUNDLE_FORMAT = "clusterlens-bundle"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # the zip as uploaded
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # what any one member may inflate to
MAX_NAME_CHARS = 200  # a cluster name
MEMBERS = ("manifest.json", "run.json", "labels.csv", "cluster_names.json", "review.csv",
           "truth.csv", MODEL_FILE)
REQUIRED = ("manifest.json", "run.json", "labels.csv")
REVIEW_CHOICES = ("keep", "remove")


class BundleError(InputError):
    """A bundle that cannot be used; the message says why in one line."""


@dataclass
class Bundle:
    """One session's saved work.

    ``labels``: the labels table (``file``, ``cluster``, ...). ``review``: file ->
    ``"keep"`` or ``"remove"`` (the user's overrides of the duplicate suggestions).
    ``truth``: file -> label, or None.
    """

    run: dict[str, Any]
    labels: pd.DataFrame
    cluster_names: dict[int, str] = field(default_factory=dict)
    review: dict[str, str] = field(default_factory=dict)
    truth: pd.Series | None = None
    model: SavedModel | None = None


def write_bundle(bundle: Bundle) -> bytes:
    """The bundle as zip bytes (for a download button or a file)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json_bytes({"format": BUNDLE_FORMAT,
                                                      "version": BUNDLE_VERSION}))
        archive.writestr("run.json", json_bytes(bundle.run))
        archive.writestr("labels.csv", csv_bytes(bundle.labels))
        archive.writestr("cluster_names.json", json_bytes(
            {str(int(k)): str(v) for k, v in bundle.cluster_names.items()}))
        archive.writestr("review.csv", csv_bytes(pd.DataFrame(
            {"file": list(bundle.review), "choice": list(bundle.review.values())},
            columns=["file", "choice"])))
        if bundle.truth is not None:
            archive.writestr("truth.csv", csv_bytes(pd.DataFrame(
                {"file": bundle.truth.index.astype(str), "label": bundle.truth.astype(str)})))
        if bundle.model is not None:
            archive.writestr(MODEL_FILE, bundle.model.to_bytes())
    return out.getvalue()


def read_bundle(data: bytes, max_bytes: int = MAX_BUNDLE_BYTES) -> Bundle:
    """A :class:`Bundle` from zip bytes written by :func:`write_bundle`, checked throughout."""
    if len(data) > max_bytes:
        raise BundleError(f"the bundle is {len(data):,} bytes; at most {max_bytes:,} are "
                          f"accepted (a bundle holds no images and is usually small)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleError("not a bundle: the file is not a readable zip") from None
    with archive:
        members = _members(archive)
        manifest = _json(members, "manifest.json")
        if (not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT
                or manifest.get("version") != BUNDLE_VERSION):
            raise BundleError(f"not a ClusterLens bundle of version {BUNDLE_VERSION} "
                              f"(manifest.json says {str(manifest)[:80]})")
        run, labels = _run_and_labels(members, "in the bundle")
        bundle = Bundle(run=run, labels=labels, cluster_names=_names(members),
                        review=_review(members), truth=_truth(members))
        if MODEL_FILE in members:
            bundle.model = _model(members[MODEL_FILE], f"the bundle's {MODEL_FILE}", labels,
                                  "the bundle's model")
    return bundle


def _run_and_labels(members: Mapping[str, bytes], where: str) -> tuple[dict, pd.DataFrame]:
    """run.json (an object) and labels.csv (``file``, whole-number ``cluster``) of
    ``members``; ``where`` says whose they are in messages ("in the bundle")."""
    run = _json(members, "run.json")
    if not isinstance(run, dict):
        raise BundleError(f"run.json {where} is not a JSON object")
    labels = _table(members, "labels.csv", ("file", "cluster"))
    try:
        labels["cluster"] = labels["cluster"].astype(int)
    except ValueError:
        raise BundleError(f"labels.csv {where}: 'cluster' must be whole numbers") from None
    return run, labels


def _model(data: bytes, source: str, labels: pd.DataFrame, owner: str) -> SavedModel:
    """The saved model in ``data`` (named ``source`` in messages), checked to know every
    cluster of ``labels`` (``owner`` names the model in that message)."""
    try:
        model = SavedModel.from_bytes(data, source)
    except NotASavedRun as exc:
        raise BundleError(str(exc)) from None
    if len(labels) and labels["cluster"].max() >= len(model.centroids):
        raise BundleError(f"labels.csv names clusters that {owner} lacks")
    return model


def _members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """Every member's bytes, after checking the names (a fixed list, each at most once)."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    unknown = [n for n in names if n not in MEMBERS]
    if unknown:
        raise BundleError(f"unexpected file in the bundle: {unknown[0][:100]!r} (a bundle "
                          f"holds only {', '.join(MEMBERS)})")
    if len(set(names)) != len(names):
        raise BundleError("the bundle lists a file twice")
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise BundleError(f"the bundle lacks {', '.join(missing)}")
    try:
        return {n: read_member(archive, n, MAX_MEMBER_BYTES) for n in names}
    except (ZipTooLarge, zipfile.BadZipFile, RuntimeError, NotImplementedError,
            OSError) as exc:  # RuntimeError: encrypted; NotImplementedError: odd method
        raise BundleError(f"the bundle cannot be read: {exc}") from None


def _json(members: Mapping[str, bytes], name: str) -> Any:
    try:
        return json.loads(members[name])
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{name} in the bundle is not valid JSON") from None


def _table(members: Mapping[str, bytes], name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A CSV member as text columns, its neutralised cells restored, ``columns`` checked."""
    try:
        frame = pd.read_csv(io.BytesIO(members[name]), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        raise BundleError(f"{name} in the bundle is not a readable CSV") from None
    if any(c not in frame.columns for c in columns):
        raise BundleError(f"{name} in the bundle needs columns {', '.join(columns)}; it has "
                          f"{', '.join(map(str, frame.columns))[:120] or 'none'}")
    for column in frame.columns:
        frame[column] = frame[column].map(_restore)
    return frame


def _restore(cell: str) -> str:
    """Undo :func:`clustering.export.neutralise` (a quote added before a formula start)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS else cell


def _names(members: Mapping[str, bytes]) -> dict[int, str]:
    if "cluster_names.json" not in members:
        return {}
    raw = _json(members, "cluster_names.json")
    if not isinstance(raw, dict) or not all(
            isinstance(k, str) and k.isdigit() and isinstance(v, str) for k, v in raw.items()):
        raise BundleError("cluster_names.json in the bundle must map cluster numbers to names")
    return {int(k): v[:MAX_NAME_CHARS] for k, v in raw.items()}


def _review(members: Mapping[str, bytes]) -> dict[str, str]:
    if "review.csv" not in members:
        return {}
    frame = _table(members, "review.csv", ("file", "choice"))
    odd = frame[~frame["choice"].isin(REVIEW_CHOICES)]
    if len(odd):
        raise BundleError(f"review.csv in the bundle: choice must be keep or remove, not "
                          f"{odd['choice'].iloc[0][:40]!r}")
    return dict(zip(frame["file"], frame["choice"]))


def _truth(members: Mapping[str, bytes]) -> pd.Series | None:
    if "truth.csv" not in members:
        return None
    frame = _table(members, "truth.csv", ("file", "label"))
    return frame.set_index("file")["label"]


def read_run_folder(folder: str | os.PathLike) -> Bundle:
    """A :class:`Bundle` from a folder written by ``cluster --out`` (run.json, labels.csv,
    model.npz), checked like an uploaded bundle; cluster names come from labels.csv's
    ``cluster_name`` column when it has one."""
    path = Path(folder)
    if not path.is_dir():
        raise BundleError(f"saved run not found: {path} is not a folder")
    members = {}
    for name in ("run.json", "labels.csv", MODEL_FILE):
        member = path / name
        if not member.is_file() or member.is_symlink():
            raise BundleError(f"{path} is not a saved run: it has no {name} (write one with "
                              f"'python -m clustering cluster INPUT --out {path}')")
        if member.stat().st_size > MAX_MEMBER_BYTES:
            raise BundleError(f"{name} in {path} is larger than {MAX_MEMBER_BYTES:,} bytes")
        members[name] = member.read_bytes()
    run, labels = _run_and_labels(members, "of the saved run")
    names: dict[int, str] = {}
    if "cluster_name" in labels.columns:
        names = {int(c): str(n)[:MAX_NAME_CHARS]
                 for c, n in zip(labels["cluster"], labels["cluster_name"])}
    model = _model(members[MODEL_FILE], str(path / MODEL_FILE), labels, "the saved model")
    return Bundle(run=run, labels=labels, cluster_names=names, model=model)
