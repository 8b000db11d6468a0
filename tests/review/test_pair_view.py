"""A pair side by side: aligned on the geometric check's box, the difference, the reason."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench._common import make_photo
from clustering.review.pair_view import SIZE, pair_view


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return make_photo(3, (600, 400))


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_a_crop_is_aligned_on_its_box_and_said_in_words(photo):
    crop = photo.crop((0, 0, 564, 400))  # 6 % off the right
    view = pair_view(photo, crop)
    assert view.alignment.small == 1 and not view.alignment.mirrored
    assert view.reason.startswith("this copy is a crop of the keeper, 6 % off the right")
    assert view.first.size == view.second.size == view.difference.size
    assert max(view.first.size) == SIZE
    # aligned: the two look alike pixel for pixel, so little is marked as different
    grey = [np.asarray(i.convert("L"), np.float32) for i in (view.first, view.second)]
    assert np.abs(grey[0] - grey[1]).mean() < 8 and view.changed < 0.05


def test_the_crop_may_be_either_image_and_mirrored(photo):
    crop = photo.crop((0, 30, 600, 400)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    view = pair_view(crop, photo, names=("a.jpg", "b.jpg"))
    assert view.alignment.small == 0 and view.alignment.mirrored
    assert "a.jpg is a crop of b.jpg, 8 % off the top" in view.reason
    assert "a.jpg is mirrored" in view.reason


def test_a_lower_quality_copy(photo):
    view = pair_view(photo, jpeg(photo.resize((300, 200)), 8))
    assert "this copy is smaller (300×200 px against 600×400)" in view.reason
    assert "this copy is re-encoded at lower quality" in view.reason


def test_different_shots_and_a_local_change_are_highlighted(photo):
    other = pair_view(photo, make_photo(4, (600, 400)))
    assert other.reason == "different pictures: each shows something the other lacks"
    edited = photo.copy()
    edited.paste((255, 255, 255), (100, 100, 160, 160))  # a white square added
    view = pair_view(photo, edited)
    assert view.reason == other.reason
    red = np.all(np.asarray(view.difference) == (230, 20, 60), axis=2)
    ys, xs = np.nonzero(red)
    scale = SIZE / 600
    near = (abs(xs / scale - 130) < 50) & (abs(ys / scale - 130) < 50)
    assert 0.01 < view.changed < 0.06 and near.mean() > 0.5  # mostly where the square is


def test_the_same_picture():
    image = make_photo(5, (300, 200))
    assert pair_view(image, image.copy()).reason == "the same picture: no visible difference"
