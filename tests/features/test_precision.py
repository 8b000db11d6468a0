"""bfloat16 features: close to float32's, the default only where the CPU has bfloat16."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import clustering.features.vgg as vgg
import clustering.settings as settings_module
from clustering.cli import main
from clustering.settings import Settings


def _centred(x: np.ndarray) -> np.ndarray:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x - x.mean(0)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["vgg16", "vgg19"])
def test_bfloat16_features_are_close_to_float32(with_keras_home, model: str) -> None:
    rng = np.random.default_rng(0)
    # Smooth random "images" (noise alone gives every image the same features).
    small = rng.integers(0, 256, (2, 8, 7, 7, 3)).astype(np.float32)
    batches = [np.kron(b, np.ones((1, 32, 32, 1))).astype(np.uint8) for b in small]
    feats = {}
    for precision in ("float32", "bfloat16"):
        extractor = vgg.VGGExtractor(model, "pooled", precision=precision, allow_download=False)
        feats[precision] = np.concatenate([extractor.extract(b) for b in batches])
    assert feats["bfloat16"].shape == feats["float32"].shape == (16, 512)
    assert feats["bfloat16"].dtype == np.float32
    assert not np.array_equal(feats["bfloat16"], feats["float32"])  # really ran in bf16
    raw = _cosines(feats["float32"], feats["bfloat16"])
    centred = _cosines(_centred(feats["float32"]), _centred(feats["bfloat16"]))
    assert raw.min() > 0.999
    assert centred.mean() > 0.99 and centred.min() > 0.95


def test_default_precision_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "native_bfloat16", lambda: True)
    assert settings_module.default_precision() == "bfloat16" and Settings().precision == "bfloat16"
    monkeypatch.setattr(settings_module, "native_bfloat16", lambda: False)
    assert settings_module.default_precision() == "float32" and Settings().precision == "float32"
    assert Settings(precision="float32").precision == "float32"


@pytest.mark.parametrize("flags, expected", [("fpu avx2 avx512f avx512_bf16 sha_ni", True),
                                             ("fpu avx2 amx_bf16 amx_tile", True),
                                             ("fpu avx2 avx512f avx512bw", False)])
def test_native_bfloat16_reads_the_cpu_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             flags: str, expected: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n")
    monkeypatch.setattr(settings_module, "CPUINFO", str(cpuinfo))
    settings_module.native_bfloat16.cache_clear()
    try:
        assert settings_module.native_bfloat16() is expected
    finally:
        settings_module.native_bfloat16.cache_clear()


def test_no_cpuinfo_means_float32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "CPUINFO", str(tmp_path / "missing"))
    settings_module.native_bfloat16.cache_clear()
    try:
        assert settings_module.default_precision() == "float32"
    finally:
        settings_module.native_bfloat16.cache_clear()


@pytest.mark.slow
def test_cli_precision_can_be_turned_off(with_keras_home, image_folder: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["cluster", str(image_folder), "--out", str(out), "--k", "3",
                 "--precision", "float32"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["precision"] == "float32"
    assert run["extractor"]["precision"] == "float32"
    assert run["extractor"]["cache_key"].endswith("-float32")
