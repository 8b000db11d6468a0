"""Shared fixtures: generated images, a cheap extractor, random-weight VGG files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import COLOURS, MeanColourExtractor, save_image


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """12 images in 3 colour groups, half of them in a sub-folder."""
    root = tmp_path / "images"
    for g, (name, colour) in enumerate(COLOURS.items()):
        for i in range(4):
            sub = "nested/" if i % 2 else ""
            save_image(root / f"{sub}{name}_{i}.png", colour, seed=10 * g + i)
    return root


@pytest.fixture
def mean_extractor() -> MeanColourExtractor:
    return MeanColourExtractor()


@pytest.fixture(scope="session")
def keras_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KERAS_HOME whose models/ holds random-weight VGG16/VGG19 no-top files."""
    from clustering.testing import write_random_weights

    home = tmp_path_factory.mktemp("keras_home")
    for model in ("vgg16", "vgg19"):
        write_random_weights(model, include_top=False, models_folder=home / "models")
    return home


@pytest.fixture
def with_keras_home(keras_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return keras_home


@pytest.fixture(scope="session")
def hub_preset(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``hub_preset("clip" | "siglip" | "dinov2")``: a tiny random keras-hub preset
    folder, written once per session (see ``clustering.testing.write_random_preset``)."""
    from clustering.testing import write_random_preset

    made: dict[str, Path] = {}

    def folder(kind: str) -> Path:
        if kind not in made:
            made[kind] = write_random_preset(kind, tmp_path_factory.mktemp("presets") / kind)
        return made[kind]

    return folder


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real feature cache or Keras folder from tests."""
    monkeypatch.setenv("CLUSTERLENS_CACHE", str(tmp_path / "feature-cache"))
    monkeypatch.setenv("CLUSTERLENS_OFFLINE", "1")
    monkeypatch.setenv("CLUSTERLENS_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
