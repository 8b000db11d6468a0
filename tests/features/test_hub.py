"""keras-hub presets as extractors: shapes, determinism, lookup, refusals (tiny random presets)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from clustering.errors import WeightsUnavailable
from clustering.features import make_extractor
from clustering.features.hub import HubExtractor


@pytest.mark.parametrize("kind", ["clip", "siglip", "dinov2"])
def test_embeddings_have_the_shape_and_are_repeatable(hub_preset, kind):
    extractor = make_extractor(str(hub_preset(kind)), precision="float32")
    assert isinstance(extractor, HubExtractor) and extractor.preset.kind == kind
    size = extractor.input_size
    batch = np.random.default_rng(0).integers(0, 256, (3, size, size, 3), dtype=np.uint8)
    first, again = extractor.extract(batch), extractor.extract(batch)
    assert first.shape == (3, extractor.dim) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(first, again)
    described = extractor.describe()
    assert described["kind"] == kind and described["licence"] and described["source"] == "folder"


def test_bfloat16_runs_every_encoder_layer_in_bfloat16_and_stays_close(hub_preset):
    from clustering.features.hub import _network

    fast = make_extractor(str(hub_preset("clip")), precision="bfloat16")
    exact = make_extractor(str(hub_preset("clip")), precision="float32")
    encoder = _network(fast.preset, "bfloat16").backbone.vision_encoder
    assert encoder.dtype_policy.name == "mixed_bfloat16"  # not only the outer model
    batch = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    assert (fast.extract(batch) * exact.extract(batch)).sum(axis=1).min() > 0.99
    assert fast.cache_key != exact.cache_key


def test_a_preset_name_is_found_in_the_models_folder(hub_preset, tmp_path, monkeypatch):
    models = tmp_path / "operator-models"
    shutil.copytree(hub_preset("dinov2"), models / "dinov2_small")
    monkeypatch.setenv("CLUSTERLENS_MODELS", str(models))
    extractor = make_extractor("dinov2_small", precision="float32")
    assert extractor.preset.source == "models folder"
    assert extractor.cache_key == make_extractor(str(hub_preset("dinov2")),
                                                 precision="float32").cache_key


def test_an_unknown_preset_offline_gets_plain_advice():
    with pytest.raises(WeightsUnavailable, match="CLUSTERLENS|models.*--model handcrafted"):
        make_extractor("clip_vit_base_patch32")


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_preset_without_usable_weights_is_refused(hub_preset, tmp_path, damage):
    folder = tmp_path / "clip_copy"
    shutil.copytree(hub_preset("clip"), folder)
    weights = folder / "model.weights.h5"
    if damage == "missing":
        weights.unlink()
    else:
        weights.write_bytes(b"not hdf5 at all")
    with pytest.raises(WeightsUnavailable) as error:
        make_extractor(str(folder))
    message = str(error.value)
    assert ("is missing" if damage == "missing" else "is damaged") in message
    assert "--model handcrafted" in message and "\n" not in message


def test_the_ray_engine_builds_a_preset_from_its_absolute_folder(hub_preset, monkeypatch):
    from clustering.distributed.extract import extractor_factory

    monkeypatch.chdir(hub_preset("dinov2").parent)
    factory = extractor_factory("dinov2", precision="float32")  # relative: workers start elsewhere
    assert factory.args[0] == str(hub_preset("dinov2").resolve())
    assert isinstance(factory(), HubExtractor)
