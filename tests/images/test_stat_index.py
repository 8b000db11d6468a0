"""The stat index: warm runs skip reading unchanged files, and never trust changed ones."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

import clustering.images.engine as engine
from clustering.cache import FeatureCache, StatIndex
from clustering.files.discover import discover
from clustering.features.extract import extract_features
from tests.helpers import MeanColourExtractor, save_image

HOUR_NS = 3600 * 10**9


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files made by the test count as old enough to be indexed."""
    monkeypatch.setattr(StatIndex, "RACY_SECONDS", -3600.0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the image files actually read, run after run."""
    seen: list[str] = []
    real = engine.read_image_file

    def spy(ref):
        seen.append(ref.name)
        return real(ref)

    monkeypatch.setattr(engine, "read_image_file", spy)
    return seen


def run(folder: Path, cache: Path):
    return extract_features(discover(folder).images, MeanColourExtractor(), FeatureCache(cache))


def test_warm_run_reads_no_unchanged_file(image_folder: Path, tmp_path: Path, settled,
                                          reads: list[str]) -> None:
    first = run(image_folder, tmp_path / "c")
    assert len(reads) == 12 and (tmp_path / "c" / StatIndex.FILENAME).exists()
    reads.clear()
    second = run(image_folder, tmp_path / "c")
    assert reads == [] and second.cached == 12 and second.computed == 0
    assert second.names == first.names and second.hashes == first.hashes
    np.testing.assert_array_equal(second.features, first.features)


def test_a_changed_file_is_read_again_even_with_its_old_size_and_mtime(
        tmp_path: Path, settled, reads: list[str]) -> None:
    folder = tmp_path / "imgs"
    for i in range(3):
        save_image(folder / f"{i}.bmp", (200, 40, 40), seed=i)  # BMP: size fixed by shape
    first = run(folder, tmp_path / "c")
    target = folder / "1.bmp"
    before = os.stat(target)
    save_image(target, (10, 200, 10), seed=5)  # new content, same size ...
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # ... and mtime put back
    after = os.stat(target)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    reads.clear()
    second = run(folder, tmp_path / "c")
    assert reads == ["1.bmp"]  # its change time gave it away
    assert second.computed == 1 and second.hashes[1] != first.hashes[1]
    assert not np.allclose(second.features[1], first.features[1])


def test_files_changed_just_before_the_run_are_not_indexed(image_folder: Path,
                                                           tmp_path: Path,
                                                           reads: list[str]) -> None:
    run(image_folder, tmp_path / "c")  # the images were written moments ago
    assert not (tmp_path / "c" / StatIndex.FILENAME).exists()
    reads.clear()
    run(image_folder, tmp_path / "c")
    assert len(reads) == 12


def test_racy_rule() -> None:
    index = StatIndex("/nonexistent")
    now = time.time_ns()
    old = (10, now - HOUR_NS, now - HOUR_NS, 1, 1)
    index.remember("/a.jpg", old, "a" * 32, now)
    index.remember("/b.jpg", (10, now - 10**9, now - HOUR_NS, 2, 1), "b" * 32, now)
    index.remember("/c.jpg", (10, now - HOUR_NS, now - 10**9, 3, 1), "c" * 32, now)
    assert list(index._new) == [os.path.abspath("/a.jpg")]


def test_index_survives_a_new_process_and_ignores_garbage(tmp_path: Path) -> None:
    now = time.time_ns()
    sig = (10, now - HOUR_NS, now - HOUR_NS, 7, 3)
    index = StatIndex(tmp_path)
    index.remember(tmp_path / "é x.jpg", sig, "f" * 32, now)
    index.save()
    assert [p.name for p in tmp_path.iterdir()] == [StatIndex.FILENAME]  # no temporary left
    again = StatIndex(tmp_path)
    assert again.lookup(tmp_path / "é x.jpg", sig) == "f" * 32
    assert again.lookup(tmp_path / "é x.jpg", (11, *sig[1:])) is None
    assert again.lookup(tmp_path / "other.jpg", sig) is None
    (tmp_path / StatIndex.FILENAME).write_bytes(b"not an npz")
    assert StatIndex(tmp_path).lookup(tmp_path / "é x.jpg", sig) is None


def test_index_keeps_the_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StatIndex, "MAX_ENTRIES", 3)
    now = time.time_ns()
    for batch in (range(0, 3), range(3, 5)):
        index = StatIndex(tmp_path)
        for i in batch:
            index.remember(f"/img{i}.jpg", (i, now - HOUR_NS, now - HOUR_NS, i, 1),
                           f"{i:032x}", now)
        index.save()
    kept = StatIndex(tmp_path)._load()
    assert len(kept) == 3  # the latest run's entries first, then older ones up to the cap
    assert {os.path.abspath(f"/img{i}.jpg") for i in (3, 4)} <= set(kept)


def test_zip_members_are_read_as_before(tmp_path: Path, settled, reads: list[str]) -> None:
    import zipfile

    folder = tmp_path / "imgs"
    for i in range(3):
        save_image(folder / f"{i}.png", (200, 40, 40), seed=i)
    archive = tmp_path / "imgs.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in folder.iterdir():
            handle.write(path, path.name)
    for _ in range(2):
        extract_features(discover(archive).images, MeanColourExtractor(),
                         FeatureCache(tmp_path / "c"))
    assert len(reads) == 6  # members are always read (the index covers plain files)
