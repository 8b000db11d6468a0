"""One pass for duplicate signatures and quality scores: the same values as each
computed alone, one decode per image, and each product's cache filled."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageFilter

from clustering.cache import FeatureCache, JointCache
from clustering.files.discover import discover
from clustering.images.loading import open_image
from clustering.review import decode
from clustering.review.duplicates import compute_signatures
from clustering.review.quality import QualityScorer, score_images
from clustering.review.scan import scan_images


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scan")
    photo = Image.fromarray(skimage.data.coffee())  # 600 x 400
    photo.resize((1600, 1067)).save(folder / "big.jpg", quality=90)
    photo.save(folder / "photo.jpg", quality=90)
    photo.filter(ImageFilter.GaussianBlur(5)).save(folder / "blurred.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    return folder


def test_scan_gives_what_each_computed_alone_gives(folder: Path, tmp_path: Path) -> None:
    images = discover(folder).images
    signatures, scores = scan_images(images, cache=FeatureCache(tmp_path / "a"))
    alone = compute_signatures(images, cache=FeatureCache(tmp_path / "b"))
    alone_scores, skipped = score_images(images, cache=FeatureCache(tmp_path / "c"))
    assert signatures.names == alone.names == list(alone_scores["file"])
    assert (signatures.phash == alone.phash).all() and (signatures.geometry == alone.geometry).all()
    assert scores.equals(alone_scores)
    assert [s.name for s in signatures.skipped] == [s.name for s in skipped] == ["broken.jpg"]


def test_scan_decodes_each_image_once_and_fills_both_caches(folder: Path, tmp_path: Path) -> None:
    images = [ref for ref in discover(folder).images if ref.name != "broken.jpg"]
    with patch("clustering.review.decode.open_image", wraps=open_image) as opened:
        scan_images(images, cache=FeatureCache(tmp_path))
    assert opened.call_count == len(images)
    with patch("clustering.review.decode.open_image", side_effect=AssertionError("decoded")):
        signatures = compute_signatures(images, cache=FeatureCache(tmp_path))
        scores, _ = score_images(images, cache=FeatureCache(tmp_path))
    assert signatures.cached == 3 and len(scores) == 3


def test_big_jpegs_are_decoded_at_a_draft_that_keeps_the_long_side(folder: Path) -> None:
    view = decode.review_image((folder / "big.jpg").read_bytes())
    assert (view.width, view.height) == (1600, 1067)  # as stored
    assert view.image.size == (400, 267)  # 1/4 scale: the smallest keeping a long side >= 384
    assert decode.SMALL <= min(view.small.size) < 2 * decode.SMALL


def test_blur_is_flagged_after_the_scan(folder: Path) -> None:
    _, scores = scan_images(discover(folder).images)
    report = QualityScorer().flag(scores).set_index("file")
    assert report.loc["blurred.png", "blurry"] and not report.loc["photo.jpg", "blurry"]
    assert not report.loc["big.jpg", "blurry"]


def test_joint_cache_reads_only_hashes_every_part_has(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    cache.store("a", ["h1", "h2"], np.array([[1.0, 2.0], [3.0, 4.0]]))
    cache.store("b", ["h2"], np.array([[5.0]]))
    joint = JointCache(cache, [("a", 2), ("b", 1)])
    found = joint.lookup(joint.key)
    assert "h2" in found and "h1" not in found and list(found) == ["h2"] and len(found) == 1
    assert found["h2"].tolist() == [3.0, 4.0, 5.0]
    joint.store(joint.key, ["h3"], np.array([[6.0, 7.0, 8.0]]))
    fresh = FeatureCache(tmp_path)
    assert fresh.lookup("a")["h3"].tolist() == [6.0, 7.0] and fresh.lookup("b")["h3"].tolist() == [8.0]
