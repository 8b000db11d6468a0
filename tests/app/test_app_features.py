"""Features page: extraction with VGG16 (random weights) and the offline extractor,
caching, missing weights (explained, uploadable, or bypassed), undecodable images."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import h5py
import numpy as np
import pytest

import clustering.features.extract
from clustering.features.weights import SPECS, models_dir
from tests.app.app_helpers import (button, coloured_uploads, extract, messages, new_app,
                                   no_traceback, png, upload)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_asks_for_images_first():
    at = new_app()
    at.switch_page("pages/features.py").run()
    no_traceback(at)
    assert "Choose some images on the Data page first." in messages(at, "info")


def test_offline_extractor_full_run():
    at = extract(upload(new_app(), coloured_uploads(3)), "handcrafted")
    no_traceback(at)
    assert metrics(at)["Images"] == "9"
    assert at.status[0].proto.label.startswith("Done: 9 images, suggested k =")
    assert "Offline extractor" in at.caption[-1].value or any(
        "Offline extractor" in c.value for c in at.caption)
    assert at.session_state["run"].features.extractor["label"].startswith("Offline extractor")


@pytest.mark.slow
def test_vgg16_with_custom_weights_is_labelled_as_such(with_keras_home):
    at = extract(upload(new_app(), coloured_uploads(2)), "vgg16")
    no_traceback(at)
    assert metrics(at)["Images"] == "6"
    assert metrics(at)["Features each"] == "512"
    [warning] = messages(at, "warning")
    assert "custom weights" in warning and "not the published ImageNet weights" in warning
    assert "ImageNet weights" not in at.session_state["run"].features.extractor["label"].replace(
        "not the published ImageNet file", "")


def test_rerunning_and_revisiting_cost_nothing():
    at = extract(upload(new_app(), coloured_uploads(2)), "handcrafted")
    first = at.session_state["run"].features
    with mock.patch.object(clustering.features.extract.FeatureExtraction, "run") as run:
        button(at, "Run").click().run()  # same files, same extractor: st.cache_data hit
        at.switch_page("pages/data.py").run()
        at.switch_page("pages/features.py").run()
    no_traceback(at)
    run.assert_not_called()
    assert at.session_state["run"].features.hashes == first.hashes


def test_missing_weights_are_explained_and_the_offline_extractor_is_one_click(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    at = extract(upload(new_app(), coloured_uploads(2)), "vgg16")
    no_traceback(at)
    [error] = messages(at, "error")
    spec = SPECS[("vgg16", False)]
    assert "ImageNet weights are not available" in error
    assert spec.filename in error and spec.url in error and str(models_dir()) in error
    button(at, "Use the offline extractor instead").click().run()
    no_traceback(at)
    assert at.session_state["model"] == "handcrafted"
    assert at.session_state["run"].features.extractor["label"].startswith("Offline extractor")
    assert not messages(at, "error")


def junk_h5(path: Path) -> bytes:
    """A real HDF5 file holding one dataset named ``junk``: the signature is right, the
    content fits no network."""
    with h5py.File(path, "w") as handle:
        handle.create_dataset("junk", data=np.arange(10))
    return path.read_bytes()


@pytest.mark.slow
def test_uploaded_weights_are_checked_and_belong_to_their_session(tmp_path, monkeypatch,
                                                                  keras_home):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # the operator put none there
    monkeypatch.setenv("CLUSTERLENS_UPLOAD_DIR", str(tmp_path / "uploads"))
    shared = tmp_path / "keras" / "models"
    spec = SPECS[("vgg16", False)]
    key = "weights_vgg16_False"
    mine = extract(upload(new_app(), coloured_uploads(2)), "vgg16")
    other = extract(upload(new_app(), coloured_uploads(2)), "vgg16")

    mine.file_uploader(key=key).set_value(
        [(spec.filename, junk_h5(tmp_path / "junk.h5"), "application/octet-stream")]).run()
    no_traceback(mine)
    assert any("This weights file was refused" in e and "does not load into that network" in e
               for e in messages(mine, "error")), messages(mine, "error")
    assert not shared.exists() and "session_weights" not in mine.session_state

    weights = (keras_home / "models" / spec.filename).read_bytes()
    mine.file_uploader(key=key).set_value(
        [(spec.filename, weights, "application/octet-stream")]).run()
    no_traceback(mine)
    assert any("custom weights" in s and "your session only" in s
               for s in messages(mine, "success")), messages(mine, "success")
    assert not shared.exists()  # never written where other users' networks are loaded from
    kept = Path(mine.session_state["session_weights"]["vgg16/notop"])
    assert kept.is_relative_to(tmp_path / "uploads") and kept.read_bytes() == weights
    button(mine, "Run").click().run()
    no_traceback(mine)
    assert metrics(mine)["Features each"] == "512"
    assert "custom weights" in mine.session_state["run"].features.extractor["label"]

    button(other, "Run").click().run()  # the other session still gets the operator's (none)
    no_traceback(other)
    assert any("ImageNet weights are not available" in e for e in messages(other, "error"))
    assert "run" not in other.session_state and "session_weights" not in other.session_state


def test_when_no_image_decodes_the_page_says_what_to_do():
    truncated = png((10, 20, 30), 0)[:60]  # passes the upload's header check, cannot decode
    at = extract(upload(new_app(), [("cut.png", truncated, "image/png")]), "handcrafted")
    no_traceback(at)
    assert any("None of the 1 images could be decoded" in e for e in messages(at, "error"))
    at.switch_page("pages/choose_k.py").run()
    no_traceback(at)
    assert any("at least 3 are needed" in e for e in messages(at, "error"))


def test_settings_survive_a_trip_to_another_page():
    at = upload(new_app(), coloured_uploads(1))
    at.switch_page("pages/features.py").run()
    at.radio(key="_w_pca_mode").set_value("components").run()
    at.number_input(key="_w_pca_components").set_value(7).run()
    at.checkbox(key="_w_whiten").check().run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/features.py").run()
    assert at.radio(key="_w_pca_mode").value == "components"
    assert at.number_input(key="_w_pca_components").value == 7
    assert at.checkbox(key="_w_whiten").value is True
