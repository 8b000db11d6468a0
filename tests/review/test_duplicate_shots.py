"""Duplicate groups never chain similar shots; crops and mirrors are still grouped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from clustering.files.discover import discover
from clustering.review.geometry import (MIN_CORRELATION, MIN_KEPT_AREA, geometry_signature,
                                     star_groups, verify_pairs)
from clustering.review.duplicates import DuplicateFinder, compute_signatures
from clustering.images.engine import Progress
from tests.helpers import offline_features

SCENE = Path(__file__).resolve().parents[2] / "demo" / "images" / "buildings" / "buildings_01.jpg"
# Three shots panning across one scene: A~B and B~C overlap a lot, A and C little.
SHOTS = {"a": (0.0, 0.1, 0.7, 0.9), "b": (0.15, 0.1, 0.85, 0.9), "c": (0.3, 0.1, 1.0, 0.9)}


def _scene() -> Image.Image:
    image = Image.open(SCENE).convert("RGB")
    image.thumbnail((800, 800))
    return image


def _shot(scene: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = scene.size
    return scene.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))


def _cut(image: Image.Image, fraction: float) -> Image.Image:
    w, h = image.size
    dx, dy = int(w * fraction), int(h * fraction)
    return image.crop((dx, dy // 2, w - dx // 2, h - dy))


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shots a, b, c of one scene; b has true copies (crop, mirror, resize, brighter)."""
    folder = tmp_path_factory.mktemp("shots")
    scene = _scene()
    for name, box in SHOTS.items():
        _shot(scene, box).save(folder / f"{name}.jpg", quality=92)
    b = _shot(scene, SHOTS["b"])
    _cut(b, 0.05).save(folder / "b_crop.jpg", quality=90)
    ImageOps.mirror(b).save(folder / "b_mirror.jpg", quality=90)
    b.resize((b.width * 6 // 10, b.height * 6 // 10)).save(folder / "b_small.jpg", quality=90)
    ImageEnhance.Brightness(b).enhance(1.08).save(folder / "b_bright.png")
    return folder


@pytest.fixture(scope="module")
def finder(shots: Path) -> DuplicateFinder:
    images = discover(shots).images
    return DuplicateFinder().fit(compute_signatures(images), offline_features(images))


def test_copies_of_one_shot_form_one_group(finder: DuplicateFinder) -> None:
    shot_b = {"b.jpg", "b_crop.jpg", "b_mirror.jpg", "b_small.jpg", "b_bright.png"}
    assert [set(group) for group in finder.groups_] == [shot_b]
    frame = finder.to_frame()
    keeper = finder.groups_[0][0]
    assert keeper in {"b.jpg", "b_bright.png"}  # full size (the PNG is the bigger file)
    assert set(frame.loc[~frame["keep"], "file"]) == shot_b - {keeper}


def test_different_shots_never_share_a_group_or_the_remove_list(
        finder: DuplicateFinder) -> None:
    for group in finder.groups_:
        assert len({name[0] for name in group} & set(SHOTS)) == 1, group
    removed = set(finder.to_frame().query("~keep")["file"])
    assert not removed & {"a.jpg", "c.jpg"}


def test_similar_shots_are_offered_apart(finder: DuplicateFinder) -> None:
    similar = {frozenset(p) for p in zip(finder.similar_["file_a"], finder.similar_["file_b"])}
    confirmed = {frozenset(p) for p in zip(finder.pairs_["file_a"], finder.pairs_["file_b"])}
    assert frozenset({"b.jpg", "c.jpg"}) in similar
    assert not similar & confirmed
    for pair in similar:  # every similar pair joins two different shots
        assert len({name[0] for name in pair}) == 2, pair


def test_star_groups_never_chain() -> None:
    # 0~1 and 1~2 are links, 0 and 2 failed the check: whoever keeps, 0 and 2 stay apart.
    pairs = np.array([[0, 1], [1, 2], [3, 4], [3, 5], [4, 5]])
    rejected = np.array([[0, 2]])
    for priority in ([0, 1, 2, 3, 4, 5], [1, 0, 2, 4, 3, 5], [2, 1, 0, 5, 4, 3]):
        groups = [g.tolist() for g in star_groups(np.array(priority), pairs, rejected)]
        assert not any({0, 2} <= set(g) for g in groups)
        assert [sorted(g) for g in groups if 3 in g] == [[3, 4, 5]]
        links = {frozenset(p) for p in pairs.tolist()}
        for group in groups:  # every member is linked to its keeper
            assert all(frozenset((group[0], m)) in links for m in group[1:])


def test_geometry_confirms_a_crop_and_rejects_a_pan() -> None:
    scene = _scene()
    b = _shot(scene, SHOTS["b"])
    images = [b, _cut(b, 0.06), ImageOps.mirror(_cut(b, 0.04)), _shot(scene, SHOTS["a"])]
    geometry = np.stack([geometry_signature(im) for im in images])
    checks = verify_pairs(geometry, np.array([[0, 1], [0, 2], [0, 3]]))
    corr, kept = checks.correlation, checks.kept_area
    assert (corr[:2] >= MIN_CORRELATION).all() and (kept[:2] >= MIN_KEPT_AREA).all()
    assert not (corr[2] >= MIN_CORRELATION and kept[2] >= MIN_KEPT_AREA)


def test_search_reports_progress(shots: Path) -> None:
    reports: list[Progress] = []
    DuplicateFinder().fit(discover(shots).images, progress=reports.append)
    assert reports and reports[-1].done == reports[-1].total
    assert all(r.done <= r.total for r in reports)
