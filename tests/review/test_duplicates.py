"""Duplicate groups on real photos (scikit-image's) and their edited copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from bench.duplicates import EDITS, build_set, Photo
from clustering.cache import FeatureCache
from clustering.files.discover import discover
from clustering.review.duplicates import (DuplicateFinder, Signatures, compute_signatures,
                                   find_duplicates, hash_distance, hash_pairs,
                                   parse_sensitivity, thresholds)
from tests.helpers import fit_duplicates, group_of

PHOTOS = ("coffee", "chelsea", "rocket")


def _photo(name: str, pixels: np.ndarray) -> Photo:
    image = Image.fromarray(pixels).convert("RGB")
    image.thumbnail((320, 320))
    return Photo(name, name, image)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three photos with every edited copy, plus the two halves of a fourth photo."""
    astronaut = skimage.data.astronaut()
    width = astronaut.shape[1]
    photos = [_photo(name, getattr(skimage.data, name)()) for name in PHOTOS]
    folder = tmp_path_factory.mktemp("edited")
    build_set(photos, folder, seed=0)
    for name, half in (("left", astronaut[:, : int(width * 0.45)]),
                       ("right", astronaut[:, int(width * 0.55):])):
        _photo(name, half).image.save(folder / f"astronaut_{name}.jpg", quality=90)
    return folder


@pytest.fixture(scope="module")
def finder(edited: Path) -> DuplicateFinder:
    return fit_duplicates(edited)


@pytest.mark.parametrize("edit", ["exact", *EDITS])
def test_each_edit_type_is_grouped_with_its_original(finder: DuplicateFinder, edit: str):
    for photo in PHOTOS:
        group = group_of(finder, f"{photo}__original.jpg")
        assert any(name.startswith(f"{photo}__{edit}.") for name in group), (edit, group)


def test_distinct_photos_and_halves_of_one_photo_stay_apart(finder: DuplicateFinder):
    assert len(finder.groups_) == len(PHOTOS)
    for group in finder.groups_:
        assert len({name.split("__")[0] for name in group}) == 1, group
    assert all("astronaut" not in name for group in finder.groups_ for name in group)


def test_mirrored_copy_is_linked_by_the_mirrored_hash(finder: DuplicateFinder):
    sig = finder.signatures_
    row = {name: i for i, name in enumerate(sig.names)}
    i, j = row["coffee__original.jpg"], row["coffee__mirror.jpg"]
    plain = int(np.bitwise_count(sig.phash[i] ^ sig.phash[j]))
    assert hash_distance(sig, np.array([i]), np.array([j]))[0] <= 4 < plain


def test_crops_are_found_through_features(edited: Path, finder: DuplicateFinder):
    hash_only = DuplicateFinder().fit(finder.signatures_)
    crop_links = finder.pairs_[finder.pairs_["file_b"].str.contains("crop")
                               | finder.pairs_["file_a"].str.contains("crop")]
    assert "features + hash" in set(crop_links["reason"])
    assert hash_only.thresholds_.hash_bits < finder.thresholds_.gate_bits


def _signatures(rows: list[tuple[str, int, int, int]]) -> Signatures:
    """Signatures of identical-looking images: (name, width, height, file size)."""
    n = len(rows)
    return Signatures(names=[r[0] for r in rows], hashes=[f"h{i}" for i in range(n)],
                      width=np.array([r[1] for r in rows]), height=np.array([r[2] for r in rows]),
                      file_size=np.array([r[3] for r in rows]),
                      phash=np.full(n, 0x0F0F_3C3C_5A5A_A5A5, np.uint64),
                      phash_mirror=np.full(n, 0xF0F0_C3C3_A5A5_5A5A, np.uint64))


def test_keeper_is_highest_resolution_then_largest_file_then_name():
    by_resolution = _signatures([("a.jpg", 100, 100, 9000), ("b.jpg", 200, 100, 10),
                                 ("c.jpg", 150, 100, 50_000)])
    assert DuplicateFinder().fit(by_resolution).groups_ == [["b.jpg", "c.jpg", "a.jpg"]]
    by_size = _signatures([("a.jpg", 100, 100, 10), ("b.jpg", 100, 100, 30),
                           ("c.jpg", 100, 100, 20)])
    assert DuplicateFinder().fit(by_size).groups_ == [["b.jpg", "c.jpg", "a.jpg"]]
    by_name = _signatures([("z.jpg", 100, 100, 10), ("m.jpg", 100, 100, 10)])
    assert DuplicateFinder().fit(by_name).groups_ == [["m.jpg", "z.jpg"]]


def test_frame_lists_every_grouped_file_with_one_keeper_per_group(finder: DuplicateFinder):
    frame = finder.to_frame()
    assert list(frame.columns) == ["file", "group", "keep", "reason"]
    assert len(frame) == sum(len(group) for group in finder.groups_)
    assert sorted(frame["group"].unique()) == list(range(1, len(finder.groups_) + 1))
    assert (frame.groupby("group")["keep"].sum() == 1).all()
    keepers = frame.loc[frame["keep"], "file"].tolist()
    assert keepers == [group[0] for group in finder.groups_]
    details = finder.to_frame(details=True)
    assert {"width", "height", "file_size"} <= set(details.columns)


def test_bad_files_are_skipped_and_the_rest_still_grouped(tmp_path: Path):
    image = Image.fromarray(skimage.data.coffee())
    image.save(tmp_path / "a.jpg", quality=90)
    image.save(tmp_path / "b.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "empty.png").write_bytes(b"")
    frame = find_duplicates(discover(tmp_path).images)
    assert sorted(frame["file"]) == ["a.jpg", "b.png"]
    finder = DuplicateFinder().fit(discover(tmp_path).images)
    assert sorted(s.name for s in finder.skipped_) == ["broken.jpg", "empty.png"]


def test_signatures_are_cached_by_content(edited: Path, tmp_path: Path):
    images = discover(edited).images[:6]
    cache = FeatureCache(tmp_path / "cache")
    first = compute_signatures(images, cache=cache)
    again = compute_signatures(images, cache=FeatureCache(tmp_path / "cache"))
    assert (first.computed, again.computed, again.cached) == (6, 0, 6)
    assert np.array_equal(first.phash, again.phash)
    assert np.array_equal(first.width, again.width)


def _pair_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(sorted(p)) for p in pairs.tolist()}


def test_hash_pairs_equal_brute_force_search():
    rng = np.random.default_rng(0)
    n = 300
    phash = rng.integers(0, 2**63, n, dtype=np.uint64)
    mirror = rng.integers(0, 2**63, n, dtype=np.uint64)
    for copy in range(0, 60, 2):  # near copies: a few bits flipped, some of them mirrored
        flips = np.uint64(sum(1 << int(b) for b in rng.choice(64, copy % 7, replace=False)))
        phash[copy + 1] = (mirror[copy] if copy % 4 == 0 else phash[copy]) ^ flips
    sig = Signatures(names=[str(i) for i in range(n)], hashes=[str(i) for i in range(n)],
                     width=np.ones(n), height=np.ones(n), file_size=np.ones(n),
                     phash=phash, phash_mirror=mirror)
    found = _pair_set(hash_pairs(sig, 4))
    i, j = np.triu_indices(n, 1)
    close = hash_distance(sig, i, j) <= 4
    assert found == set(zip(i[close].tolist(), j[close].tolist()))
    assert len(found) >= 20


def test_one_sensitivity_sets_all_thresholds():
    strict, normal, loose = (thresholds(s, "handcrafted-v1") for s in (0.0, 0.5, 1.0))
    assert strict.hash_bits < normal.hash_bits < loose.hash_bits
    assert strict.gate_bits < normal.gate_bits < loose.gate_bits
    assert strict.min_cosine > normal.min_cosine > loose.min_cosine
    assert parse_sensitivity("strict") < parse_sensitivity("normal") < parse_sensitivity("loose")
    assert parse_sensitivity("0.3") == 0.3
    for bad in ("1.5", "-0.1", "medium"):
        with pytest.raises(ValueError):
            parse_sensitivity(bad)
    with pytest.raises(ValueError, match="between 0 and 1"):
        DuplicateFinder(sensitivity=2.0).fit(_signatures([("a.jpg", 1, 1, 1)]))


def test_feature_pairs_approximate_search_still_finds_near_copies(monkeypatch):
    import clustering.review.duplicates as duplicates

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(1200, 32)).astype(np.float32)
    vectors[1::40] = vectors[::40] + rng.normal(0, 0.01, (30, 32))  # 30 near copies
    exact, _ = duplicates.feature_pairs(vectors, 0.95)
    monkeypatch.setattr(duplicates, "EXACT_UP_TO", 100)
    approximate, cosines = duplicates.feature_pairs(vectors, 0.95, chunk=500)
    planted = {(i, i + 1) for i in range(0, 1200, 40)}
    assert _pair_set(exact) == _pair_set(approximate) == planted
    assert (cosines >= 0.95).all()
