"""A file is removed only when the image kept in its group contains it (real photos
from the demo set): copies are grouped with their original kept, shifted shots never."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps
from scipy.ndimage import uniform_filter

from clustering.review.containment import (MAX_ENLARGED, MAX_MISMATCH, MAX_SHIFT, REASONS,
                                           fine_view, fit)
from clustering.review.duplicates import DuplicateFinder
from tests.helpers import fit_duplicates, group_of

DEMO = Path(__file__).resolve().parents[2] / "demo" / "images"
PHOTO = DEMO / "buildings" / "buildings_01.jpg"
SCENE = DEMO / "flowers" / "flowers_01.jpg"
# Two shots of SCENE, each overlapping 90 % of each side of the other, moved both ways.
SHIFTED = {"shift_a": (0.0, 0.0, 0.9, 0.9), "shift_b": (0.09, 0.09, 0.99, 0.99),
           "shift_c": (0.09, 0.0, 0.99, 0.9), "shift_d": (0.0, 0.09, 0.9, 0.99)}


def _open(path: Path) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.thumbnail((640, 640))
    return image


def _cut(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = image.size
    return image.crop((round(box[0] * w), round(box[1] * h), round(box[2] * w),
                       round(box[3] * h)))


def _texture(seed: int = 0) -> Image.Image:
    """A noise-like texture (grain of about 4 pixels, like gravel or canvas)."""
    grain = np.random.default_rng(seed).integers(70, 190, (112, 150), dtype=np.uint8)
    return Image.fromarray(grain).resize((600, 450), Image.Resampling.BICUBIC).convert("RGB")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("containment")
    photo = _open(PHOTO)
    photo.save(out / "photo.jpg", quality=92)
    _cut(photo, (0.03, 0.02, 0.98, 0.97)).save(out / "photo_crop.jpg", quality=92)
    photo.resize((photo.width // 2, photo.height // 2), Image.Resampling.LANCZOS).save(
        out / "photo_half.jpg", quality=92)
    ImageOps.mirror(photo).save(out / "photo_mirror.jpg", quality=90)  # smaller file
    photo.save(out / "photo_q35.jpg", quality=35)
    scene = _open(SCENE)
    for name, box in SHIFTED.items():
        _cut(scene, box).save(out / f"{name}.jpg", quality=92)
    texture = _texture()
    texture.save(out / "texture.jpg", quality=92)
    _cut(texture, (0.04, 0.03, 0.97, 0.96)).save(out / "texture_crop.jpg", quality=92)
    return out


def _burst(image: Image.Image, lighter: float = 10.0) -> Image.Image:
    """``image`` with its plainest patch (a sixth of each side, mid-grey, away from the
    edges) made ``lighter``: a burst frame where a shadow moved off a wall."""
    grey = np.asarray(image.convert("L"), np.float32)
    h, w = grey.shape[0] // 6, grey.shape[1] // 6
    mean = uniform_filter(grey, (h, w))
    spread = uniform_filter(grey * grey, (h, w)) - mean * mean
    spread[(mean < 40) | (mean > 210)] = np.inf
    spread[:h, :], spread[-h:, :], spread[:, :w], spread[:, -w:] = (np.inf,) * 4
    y, x = np.unravel_index(np.argmin(spread), spread.shape)
    pixels = np.asarray(image, np.float32).copy()
    pixels[y - h // 2:y + h // 2, x - w // 2:x + w // 2] += lighter
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def finder(folder: Path) -> DuplicateFinder:
    return fit_duplicates(folder)


def test_copies_are_grouped_with_the_original_kept(finder: DuplicateFinder) -> None:
    group = group_of(finder, "photo.jpg")
    assert group[0] == "photo.jpg"
    assert set(group) == {"photo.jpg", "photo_crop.jpg", "photo_half.jpg", "photo_mirror.jpg",
                          "photo_q35.jpg"}
    why = {r.file: r.reason for r in finder.removals_}
    assert why["photo_crop.jpg"] == "crop" and why["photo_mirror.jpg"] == "mirror"
    assert why["photo_half.jpg"] == "resize" and why["photo_q35.jpg"] == "re-encode"


def test_shifted_shots_are_similar_never_removed(finder: DuplicateFinder) -> None:
    removed = {r.file for r in finder.removals_}
    assert not removed & {f"{name}.jpg" for name in SHIFTED}
    similar = {frozenset(p) for p in zip(finder.similar_["file_a"], finder.similar_["file_b"])}
    assert frozenset({"shift_a.jpg", "shift_b.jpg"}) in similar


def test_a_crop_of_a_noise_like_texture_is_found(finder: DuplicateFinder) -> None:
    assert group_of(finder, "texture.jpg") == ["texture.jpg", "texture_crop.jpg"]


def test_every_removed_file_is_contained_in_its_keeper(finder: DuplicateFinder,
                                                         folder: Path) -> None:
    assert finder.removals_
    for removal in finder.removals_:
        assert removal.reason in REASONS
        assert fit(fine_view((folder / removal.keep).read_bytes()),
                   fine_view((folder / removal.file).read_bytes())).contained, removal


@pytest.fixture(scope="module")
def burst_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("burst")
    photo = _open(PHOTO)
    photo.save(out / "photo.jpg", quality=92)
    _burst(photo).save(out / "photo_burst.jpg", quality=92)
    ImageEnhance.Brightness(photo).enhance(1.08).save(out / "photo_bright.jpg", quality=88)
    return out


def test_a_plain_patch_made_lighter_is_a_similar_shot(burst_folder: Path) -> None:
    """Each window alone fits the lighter patch (it has its own brightness), so only
    the brightness test over the whole picture tells the burst frame apart; a copy
    brightened as a whole still goes."""
    found = fit_duplicates(burst_folder)
    assert [(r.file, r.keep, r.reason) for r in found.removals_] == [
        ("photo_bright.jpg", "photo.jpg", "brightness")]
    similar = {frozenset(p) for p in zip(found.similar_["file_a"], found.similar_["file_b"])}
    assert frozenset({"photo.jpg", "photo_burst.jpg"}) in similar
    view = fine_view((burst_folder / "photo.jpg").read_bytes())
    moved = fit(view, fine_view((burst_folder / "photo_burst.jpg").read_bytes()))
    assert moved.mismatch <= MAX_MISMATCH and moved.shift > MAX_SHIFT


def test_a_member_with_more_pixels_than_its_box_is_not_a_copy(folder: Path,
                                                              tmp_path: Path) -> None:
    """A crop enlarged back to the full size holds more pixels than the part of the
    keeper it shows, so the keeper does not contain it; the plain crop it was made
    from is contained."""
    photo = Image.open(folder / "photo.jpg")
    crop = Image.open(folder / "photo_crop.jpg")
    crop.resize(photo.size, Image.Resampling.LANCZOS).save(tmp_path / "big.jpg", quality=92)
    view = fine_view((folder / "photo.jpg").read_bytes())
    plain = fit(view, fine_view((folder / "photo_crop.jpg").read_bytes()))
    enlarged = fit(view, fine_view((tmp_path / "big.jpg").read_bytes()))
    assert plain.contained and plain.enlarged <= MAX_ENLARGED
    assert enlarged.mismatch <= MAX_MISMATCH and enlarged.enlarged > MAX_ENLARGED
    assert not enlarged.contained
