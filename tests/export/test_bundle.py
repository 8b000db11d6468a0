"""Session bundles: a round trip, and hostile bundles refused with plain messages."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from clustering.export.tables import result_record, run_labels
from clustering.pipeline import run_pipeline
from clustering.settings import Settings
from clustering.export.saved_model import SavedModel
from clustering.export.bundle import Bundle, BundleError, read_bundle, write_bundle
from tests.files.test_zips_and_limits import lying_zip


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    from tests.conftest import COLOURS, save_image

    root = tmp_path_factory.mktemp("bundle_images")
    for g, colour in enumerate(COLOURS.values()):
        for i in range(3):
            save_image(root / f"g{g}_{i}.png", colour, seed=10 * g + i)
    save_image(root / "=cmd.png", (0, 0, 0), seed=1)
    result = run_pipeline(root, Settings(model="handcrafted", k=3, pca=4,
                                         cache_dir=str(root / ".cache")))
    names = {0: "reds", 1: "=2+2", 2: "blues"}
    truth = pd.Series({"=cmd.png": "black", "g0_0.png": "red"}, name="label")
    return Bundle(run=result_record(result), labels=run_labels(result, names), cluster_names=names,
                  review={"g0_0.png": "keep", "=cmd.png": "remove"}, truth=truth,
                  model=SavedModel.from_result(result))


def test_a_bundle_round_trips(bundle):
    data = write_bundle(bundle)
    assert len(data) < 100_000
    back = read_bundle(data)
    assert back.run["k"] == bundle.run["k"]
    assert back.cluster_names == bundle.cluster_names
    assert back.review == bundle.review
    assert back.truth.to_dict() == bundle.truth.to_dict()
    assert back.labels["file"].tolist() == bundle.labels["file"].tolist()  # "=cmd.png" restored
    assert back.labels["cluster"].tolist() == bundle.labels["cluster"].tolist()
    np.testing.assert_array_equal(back.model.centroids, bundle.model.centroids)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the CSVs stay spreadsheet-safe
        assert "'=cmd.png" in archive.read("labels.csv").decode()


def rebuilt(data: bytes, drop: str | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """``data`` with one member dropped and others added or replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != drop and info.filename not in (add or {}):
                target.writestr(info.filename, source.read(info))
        for name, member in (add or {}).items():
            target.writestr(name, member)
    return out.getvalue()


@pytest.mark.parametrize(("change", "message"), [
    (dict(add={"../../etc/passwd": b"x"}), "unexpected file in the bundle: '../../etc/passwd'"),
    (dict(add={"images/a.png": b"x"}), "unexpected file in the bundle"),
    (dict(drop="labels.csv"), "the bundle lacks labels.csv"),
    (dict(add={"manifest.json": b'{"format": "other"}'}), "not a ClusterLens bundle"),
    (dict(add={"run.json": b"[1, 2"}), "run.json in the bundle is not valid JSON"),
    (dict(add={"labels.csv": b"name,group\na,1\n"}), "labels.csv in the bundle needs columns"),
    (dict(add={"labels.csv": b"file,cluster\na,one\n"}), "'cluster' must be whole numbers"),
    (dict(add={"labels.csv": b"file,cluster\na,99\n"}), "clusters that the bundle's model lacks"),
    (dict(add={"review.csv": b"file,choice\na,delete-all\n"}), "choice must be keep or remove"),
    (dict(add={"cluster_names.json": b'{"../x": 3}'}), "must map cluster numbers to names"),
    (dict(add={"model.npz": b"not an npz"}), "not a saved model written by ClusterLens"),
])
def test_hostile_or_broken_bundles_are_refused_in_words(bundle, change, message):
    with pytest.raises(BundleError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_bundle(rebuilt(write_bundle(bundle), **change))


def test_size_limits_hold_against_lying_headers(bundle):
    with pytest.raises(BundleError, match="at most 1,000 are accepted"):
        read_bundle(write_bundle(bundle), max_bytes=1000)
    bomb = lying_zip(64 * 1024 * 1024, name="run.json",
                     extra={"manifest.json": b"{}", "labels.csv": b"file,cluster\n"})
    with pytest.raises(BundleError, match="run.json: its content does not match"):
        read_bundle(bomb)
    with pytest.raises(BundleError, match="not a readable zip"):
        read_bundle(b"PK\x03\x04 nonsense")


def test_a_model_whose_arrays_claim_too_much_is_refused(bundle):
    """An array header declaring 80 GB over 32 bytes of data is refused before loading."""
    array = io.BytesIO()
    np.lib.format.write_array_header_1_0(array, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (10**10,)})
    array.write(b"\0" * 32)
    model = io.BytesIO()
    with zipfile.ZipFile(model, "w") as npz:
        npz.writestr("meta.npy", array.getvalue())
    with pytest.raises(BundleError, match="meta.npy declares 80,000,000,000 bytes"):
        read_bundle(rebuilt(write_bundle(bundle), add={"model.npz": model.getvalue()}))
