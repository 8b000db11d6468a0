"""The dashboard and the command line extract the same way and share cache entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clustering.settings as settings_module
from clustering.cli import main
from tests.app.app_helpers import (coloured_uploads, extract, upload)
from tests.app.app_helpers import new_app


@pytest.mark.slow
@pytest.mark.parametrize("native_bf16", [True, False])
def test_a_dashboard_run_then_the_cli_on_the_same_images_computes_nothing(
        with_keras_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        native_bf16: bool) -> None:
    # The dashboard used to extract in float32 where the command line used bfloat16
    # (on CPUs with native bfloat16), so the command line recomputed every image.
    monkeypatch.setattr(settings_module, "native_bfloat16", lambda: native_bf16)
    files = coloured_uploads(2)
    at = extract(upload(new_app(), files), model="vgg16")
    dashboard = at.session_state["run"].features
    assert dashboard.computed == len(files)
    precision = "bfloat16" if native_bf16 else "float32"
    assert dashboard.extractor["precision"] == precision

    folder = tmp_path / "same-images"
    folder.mkdir()
    for name, data, _ in files:
        (folder / name).write_bytes(data)
    assert main(["cluster", str(folder), "--model", "vgg16", "--k", "2",
                 "--out", str(tmp_path / "out")]) == 0
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["counts"]["features_computed"] == 0
    assert record["counts"]["features_from_cache"] == len(files)
    assert record["settings"]["precision"] == record["extractor"]["precision"] == precision
