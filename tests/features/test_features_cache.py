"""Feature extraction with the on-disk cache: hits, increments, renames, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from clustering.cache import FeatureCache
from clustering.files.discover import discover
from clustering.features.extract import FeatureExtraction, extract_features
from tests.helpers import MeanColourExtractor, save_image


def test_features_follow_input_order_and_skip_bad_files(image_folder: Path, mean_extractor) -> None:
    (image_folder / "broken.jpg").write_bytes(b"garbage")
    (image_folder / "empty.png").write_bytes(b"")
    found = discover(image_folder)
    result = extract_features(found.images, mean_extractor, batch_size=5)
    assert result.names == [r.name for r in found.images if r.name not in ("broken.jpg", "empty.png")]
    assert result.features.shape == (12, 6) and result.features.dtype == np.float32
    assert {s.name for s in result.skipped} == {"broken.jpg", "empty.png"}
    assert max(mean_extractor.batches) <= 5
    red = [i for i, n in enumerate(result.names) if "red" in n]
    assert np.all(result.features[red, 0] > result.features[red, 2])


def test_second_run_is_served_from_cache(image_folder: Path, tmp_path: Path) -> None:
    images = discover(image_folder).images
    first_extractor, second_extractor = MeanColourExtractor(), MeanColourExtractor()
    first = extract_features(images, first_extractor, FeatureCache(tmp_path / "c"))
    second = extract_features(images, second_extractor, FeatureCache(tmp_path / "c"))
    assert (first.computed, first.cached) == (12, 0)
    assert (second.computed, second.cached) == (0, 12)
    assert second_extractor.batches == []
    np.testing.assert_array_equal(first.features, second.features)


def test_adding_images_computes_only_the_new_ones(image_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    extract_features(discover(image_folder).images, MeanColourExtractor(), FeatureCache(cache))
    for i in range(3):
        save_image(image_folder / f"new_{i}.png", (120, 120, 0), seed=100 + i)
    extractor = MeanColourExtractor()
    result = extract_features(discover(image_folder).images, extractor, FeatureCache(cache))
    assert (result.computed, result.cached) == (3, 12)
    assert sum(extractor.batches) == 3


def test_renaming_or_moving_costs_nothing(image_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    extract_features(discover(image_folder).images, MeanColourExtractor(), FeatureCache(cache))
    (image_folder / "red_0.png").rename(image_folder / "nested" / "renamed.png")
    result = extract_features(discover(image_folder).images, MeanColourExtractor(), FeatureCache(cache))
    assert result.computed == 0 and "nested/renamed.png" in result.names


def test_changing_the_extractor_key_recomputes(image_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    images = discover(image_folder).images
    extract_features(images, MeanColourExtractor(version=1), FeatureCache(cache))
    assert extract_features(images, MeanColourExtractor(version=2), FeatureCache(cache)).computed == 12


def test_progress_reports_reach_the_total(image_folder: Path, mean_extractor) -> None:
    reports = []
    FeatureExtraction(mean_extractor, batch_size=4, progress=reports.append).run(
        discover(image_folder).images)
    assert reports[-1].done == reports[-1].total == 12
    assert reports[-1].computed == 12 and reports[-1].eta_s == 0
    assert [r.done for r in reports] == sorted(r.done for r in reports)


def test_many_chunks_are_compacted_without_loss(image_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    images = discover(image_folder).images
    first = extract_features(images, MeanColourExtractor(), FeatureCache(cache), batch_size=1)
    folder = cache / "meancolour-v1"
    assert len(list(folder.glob("chunk-*.npz"))) == 12
    from clustering import cache as cache_module
    original = cache_module.COMPACT_ABOVE
    cache_module.COMPACT_ABOVE = 4
    try:
        again = extract_features(images, MeanColourExtractor(), FeatureCache(cache))
    finally:
        cache_module.COMPACT_ABOVE = original
    assert again.computed == 0 and len(list(folder.glob("chunk-*.npz"))) == 1
    np.testing.assert_array_equal(first.features, again.features)


SLOW_RUN = """
import sys, time
sys.path.insert(0, {root!r})
from tests.helpers import MeanColourExtractor
from clustering.cache import FeatureCache
from clustering.files.discover import discover
from clustering.features.extract import extract_features

class Slow(MeanColourExtractor):
    def extract(self, batch):
        time.sleep(0.4)
        return super().extract(batch)

extract_features(discover({folder!r}).images, Slow(), FeatureCache({cache!r}), batch_size=2)
"""


def test_run_killed_half_way_keeps_finished_work(tmp_path: Path) -> None:
    folder, cache = tmp_path / "imgs", tmp_path / "c"
    for i in range(20):
        save_image(folder / f"img_{i:02d}.png", (i * 10, 50, 100), seed=i)
    script = SLOW_RUN.format(root=str(Path(__file__).parents[2]), folder=str(folder), cache=str(cache))
    proc = subprocess.Popen([sys.executable, "-c", script])
    chunks = cache / "meancolour-v1"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(chunks.glob("chunk-*.npz"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before_kill = len(list(chunks.glob("chunk-*.npz")))
    assert 2 <= done_before_kill < 10, "the run should have been killed half-way"

    resumed = extract_features(discover(folder).images, MeanColourExtractor(), FeatureCache(cache))
    fresh = extract_features(discover(folder).images, MeanColourExtractor())
    assert resumed.cached >= 2 * done_before_kill and resumed.computed == 20 - resumed.cached
    np.testing.assert_allclose(resumed.features, fresh.features)


def test_unreadable_zip_member_is_skipped_with_its_reason(tmp_path: Path, mean_extractor) -> None:
    import zipfile

    good = save_image(tmp_path / "a.png", (1, 2, 3)).read_bytes()
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("good.png", good)
        zf.writestr("bad.png", good)
    data = bytearray(archive.read_bytes())
    second = data.find(good, data.find(good) + 1)
    data[second + 100] ^= 0xFF  # flip a byte of the second member: its CRC no longer matches
    archive.write_bytes(bytes(data))
    result = extract_features(discover(archive).images, mean_extractor)
    assert result.names == ["good.png"]
    assert result.skipped[0].name == "bad.png"
    assert result.skipped[0].reason.startswith("cannot read file")
