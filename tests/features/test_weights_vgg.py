"""Where VGG weights come from, and the real Keras loading path on random-weight files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from clustering.features import weights
from clustering.features import make_extractor
from clustering.features.keras_import import import_keras
from clustering.features.weights import SPECS, WeightsUnavailable, resolve_weights


def test_cache_file_is_found_by_its_standard_name(with_keras_home: Path) -> None:
    found = resolve_weights("vgg16", include_top=False)
    assert found.source == "cache"
    assert found.path == with_keras_home / "models" / SPECS[("vgg16", False)].filename
    assert not found.imagenet  # random weights: md5 differs from the published file


def test_explicit_file_wins_over_the_cache(with_keras_home: Path, tmp_path: Path) -> None:
    own = tmp_path / "my_finetuned.h5"
    shutil.copy(with_keras_home / "models" / SPECS[("vgg16", False)].filename, own)
    found = resolve_weights("vgg16", include_top=False, explicit=own)
    assert (found.source, found.path) == ("file", own)
    with pytest.raises(WeightsUnavailable, match="not found"):
        resolve_weights("vgg16", include_top=False, explicit=tmp_path / "missing.h5")


def test_published_md5_is_recognised(with_keras_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = with_keras_home / "models" / SPECS[("vgg19", False)].filename
    spec = SPECS[("vgg19", False)]
    monkeypatch.setitem(SPECS, ("vgg19", False),
                        weights.WeightsSpec(spec.model, False, spec.filename, weights.file_md5(path)))
    assert resolve_weights("vgg19", include_top=False).imagenet


def test_missing_weights_message_names_file_folder_and_url(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailable) as info:
        resolve_weights("vgg19", include_top=True)
    message = str(info.value)
    spec = SPECS[("vgg19", True)]
    assert spec.filename in message and spec.url in message
    assert str(tmp_path / "models") in message and "handcrafted" in message


def test_download_is_keras_get_file_and_failures_are_explained(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("CLUSTERLENS_OFFLINE")
    keras = import_keras()
    calls = []

    def fake_get_file(fname, origin, cache_subdir, file_hash, cache_dir):
        calls.append((fname, origin, cache_subdir, file_hash, cache_dir))
        target = Path(cache_dir) / cache_subdir / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"pretend weights")
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    found = resolve_weights("vgg16", include_top=False)
    spec = SPECS[("vgg16", False)]
    assert found.source == "download"
    assert calls == [(spec.filename, spec.url, "models", spec.md5, str(tmp_path))]

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(WeightsUnavailable, match="download failed.*Name or service"):
        resolve_weights("vgg19", include_top=False)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["vgg16", "vgg19"])
def test_pooled_features_load_through_keras(with_keras_home: Path, model: str) -> None:
    extractor = make_extractor(model, "pooled")
    batch = np.random.default_rng(0).integers(0, 255, (3, 224, 224, 3), dtype=np.uint8)
    features = extractor.extract(batch)
    assert features.shape == (3, 512) and features.dtype == np.float32
    assert np.isfinite(features).all() and features.std() > 0
    assert "custom weights" in extractor.label and "ImageNet weights" not in extractor.label
    assert extractor.describe()["weights"]["source"] == "cache"
    # Same network object is reused: the second build is the cached function.
    from clustering.features import vgg
    assert vgg._build(model, "pooled", extractor.weights.path, "float32") is \
        vgg._build(model, "pooled", extractor.weights.path, "float32")


@pytest.mark.slow
def test_fc_layer_loads_full_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clustering.testing import write_random_weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_random_weights("vgg16", include_top=True, models_folder=tmp_path / "models")
    extractor = make_extractor("vgg16", "fc2")
    features = extractor.extract(np.zeros((1, 224, 224, 3), dtype=np.uint8))
    assert features.shape == (1, 4096) and extractor.dim == 4096


@pytest.mark.slow
def test_wrong_file_gives_a_clear_error(with_keras_home: Path, tmp_path: Path) -> None:
    notop = with_keras_home / "models" / SPECS[("vgg16", False)].filename
    with pytest.raises(WeightsUnavailable, match="could not load .* into VGG16"):
        make_extractor("vgg16", "fc1", weights=notop).extract(
            np.zeros((1, 224, 224, 3), dtype=np.uint8))
