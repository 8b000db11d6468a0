"""Features page: keras-hub presets from the models folder or a typed folder; the
feature cache shared with the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clustering.cli import main
from tests.app.app_helpers import (button, coloured_uploads, extract, messages, new_app,
                                   no_traceback, upload)


@pytest.fixture
def models_folder(hub_preset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$CLUSTERLENS_MODELS with the tiny CLIP preset under the name ``clip_tiny``."""
    folder = tmp_path / "models"
    shutil.copytree(hub_preset("clip"), folder / "clip_tiny")
    monkeypatch.setenv("CLUSTERLENS_MODELS", str(folder))
    return folder


def test_a_preset_of_the_models_folder_extracts_from_the_cache_the_cli_filled(models_folder,
                                                                               tmp_path):
    files = coloured_uploads(2)
    images = tmp_path / "same-images"
    images.mkdir()
    for name, data, _ in files:
        (images / name).write_bytes(data)
    assert main(["cluster", str(images), "--model", "clip_tiny", "--out", str(tmp_path / "run"),
                 "--k", "3"]) == 0
    at = extract(upload(new_app(), files), "clip_tiny")
    no_traceback(at)
    assert "clip_tiny (CLIP, keras-hub preset)" in at.selectbox(key="_w_model").options
    assert at.selectbox(key="_w_layer").disabled
    features = at.session_state["run"].features
    assert features.extractor["kind"] == "clip" and features.extractor["source"] == "models folder"
    assert (features.computed, features.cached) == (0, 6)  # every feature from the CLI's run


def test_a_typed_preset_folder_must_be_allowed_and_usable(models_folder, tmp_path):
    at = upload(new_app(), coloured_uploads(1))
    at.switch_page("pages/features.py").run()
    at.selectbox(key="_w_model").set_value("preset folder").run()
    assert button(at, "Run").disabled
    outside = tmp_path / "elsewhere"
    shutil.copytree(models_folder / "clip_tiny", outside)
    at.text_input(key="preset_folder_text").set_value(str(outside)).run()
    no_traceback(at)
    assert "outside the folders this server allows" in messages(at, "error")[0]
    (models_folder / "broken").mkdir()
    (models_folder / "broken" / "config.json").write_text('{"class_name": "CLIPBackbone"}')
    at.text_input(key="preset_folder_text").set_value(str(models_folder / "broken")).run()
    assert "model.weights.h5 is missing" in messages(at, "error")[0]
    at.text_input(key="preset_folder_text").set_value(str(models_folder / "clip_tiny")).run()
    no_traceback(at)
    assert not messages(at, "error") and not button(at, "Run").disabled
    assert at.session_state["model"] == str((models_folder / "clip_tiny").resolve())
