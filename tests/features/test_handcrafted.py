"""The offline (handcrafted) feature extractor."""

from __future__ import annotations

import re

import numpy as np
import pytest
from skimage import data

from clustering.features import make_extractor
from clustering.features.handcrafted import VERSION, HandcraftedExtractor

SIZE = HandcraftedExtractor.input_size


@pytest.fixture(scope="module")
def extractor() -> HandcraftedExtractor:
    return HandcraftedExtractor()


def flat(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (SIZE, SIZE, 3)).copy()


def stripes(period: int, phase: int = 0, vertical: bool = False) -> np.ndarray:
    """Red / blue stripes ``period`` pixels wide."""
    index = (np.arange(SIZE) + phase) // period % 2
    line = np.where(index[:, None] == 0, [200, 30, 30], [30, 30, 200]).astype(np.uint8)
    image = np.broadcast_to(line[:, None, :], (SIZE, SIZE, 3))
    return np.ascontiguousarray(image.transpose(1, 0, 2) if vertical else image)


def noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)


def texture_crop(image: np.ndarray, row: int, col: int) -> np.ndarray:
    """A SIZE x SIZE crop of a grey skimage texture, as RGB."""
    crop = image[row:row + SIZE, col:col + SIZE]
    return np.repeat(crop[..., None], 3, axis=2)


def features(extractor: HandcraftedExtractor, *images: np.ndarray) -> np.ndarray:
    return extractor.extract(np.stack(images))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def test_output_shape_dtype_and_finite(extractor):
    batch = np.stack([noise(0), flat((0, 0, 0)), flat((255, 255, 255)), stripes(8)])
    out = extractor.extract(batch)
    assert out.shape == (4, extractor.dim)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()


def test_empty_batch(extractor):
    out = extractor.extract(np.zeros((0, SIZE, SIZE, 3), dtype=np.uint8))
    assert out.shape == (0, extractor.dim)
    assert out.dtype == np.float32


def test_dim_matches_output_and_blocks(extractor):
    out = extractor.extract(noise(1)[None])
    assert out.shape[1] == extractor.dim == sum(extractor.block_dims.values())


def test_deterministic_and_independent_of_the_batch(extractor):
    batch = np.stack([noise(2), stripes(6), flat((10, 200, 40))])
    first = extractor.extract(batch)
    np.testing.assert_array_equal(first, extractor.extract(batch))
    np.testing.assert_allclose(first[1:2], extractor.extract(batch[1:2]), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(first, HandcraftedExtractor().extract(batch))


def test_no_block_dominates(extractor):
    out = extractor.extract(np.stack([noise(3), stripes(10), texture_crop(data.brick(), 0, 0)]))
    bounds = np.cumsum([0, *extractor.block_dims.values()])
    for row in out:
        norms = [np.linalg.norm(row[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        np.testing.assert_allclose(norms, norms[0], rtol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(row), 1.0, rtol=1e-4)


def test_same_colour_closer_than_different_colour(extractor):
    red, dark_red, blue = features(extractor, flat((200, 20, 20)), flat((180, 25, 15)),
                                   flat((20, 40, 200)))
    assert distance(red, dark_red) < distance(red, blue)


def test_same_pattern_closer_than_different_pattern(extractor):
    striped, shifted, vertical, noisy = features(
        extractor, stripes(8), stripes(8, phase=3), stripes(8, vertical=True), noise(4))
    assert distance(striped, shifted) < distance(striped, vertical)
    assert distance(striped, shifted) < distance(striped, noisy)


def test_same_texture_closer_than_different_texture(extractor):
    bricks = [texture_crop(data.brick(), r, c) for r, c in ((0, 0), (280, 280))]
    grass = [texture_crop(data.grass(), r, c) for r, c in ((0, 0), (280, 280))]
    brick_a, brick_b, grass_a, grass_b = features(extractor, *bricks, *grass)
    assert distance(brick_a, brick_b) < min(distance(brick_a, grass_a), distance(brick_a, grass_b))
    assert distance(grass_a, grass_b) < min(distance(grass_a, brick_a), distance(grass_a, brick_b))


def test_label_says_offline(extractor):
    assert "offline" in extractor.label.lower()
    assert "no neural network" in extractor.label.lower()


def test_cache_key_stable_versioned_and_file_name_safe(extractor):
    key = extractor.cache_key
    assert key == HandcraftedExtractor().cache_key
    assert key.startswith(f"handcrafted-v{VERSION}-")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", key)
    assert HandcraftedExtractor(hue_bins=8).cache_key != key


def test_describe_records_the_parameters(extractor):
    described = extractor.describe()
    assert described["label"] == extractor.label
    assert described["cache_key"] == extractor.cache_key
    assert described["dim"] == extractor.dim
    assert described["version"] == VERSION
    assert described["blocks"] == extractor.block_dims


def test_make_extractor_builds_it():
    built = make_extractor("handcrafted")
    assert isinstance(built, HandcraftedExtractor)
    assert built.cache_key == HandcraftedExtractor().cache_key
