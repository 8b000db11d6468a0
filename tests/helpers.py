"""Test helpers: generated images and a cheap feature extractor."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from clustering.features.base import FeatureExtractor

COLOURS = {"red": (200, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 200)}


def save_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48),
               seed: int = 0, fmt: str | None = None) -> Path:
    """A noisy image of one dominant colour (so groups are easy to tell apart)."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 18, (size[1], size[0], 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path, format=fmt)
    return path


class MeanColourExtractor(FeatureExtractor):
    """A cheap test extractor: mean and std of each channel (6 features)."""

    input_size = 32

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.batches: list[int] = []

    @property
    def cache_key(self) -> str:
        return f"meancolour-v{self.version}"

    @property
    def label(self) -> str:
        return "mean colour (test)"

    @property
    def dim(self) -> int:
        return 6

    def extract(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        flat = batch.reshape(len(batch), -1, 3).astype(np.float32)
        return np.concatenate([flat.mean(1), flat.std(1)], axis=1)


class SlowExtractor(MeanColourExtractor):
    """The cheap test extractor, slowed down so a Ray node can be removed mid-run.

    Lives here, not in a test module, because Ray workers import it by module name.
    """

    def extract(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(0.05 * len(batch))
        return super().extract(batch)


def write_distributed_result(folder: Path, images: Path, per_cluster: int = 4,
                             clusters: int = 3) -> Path:
    """A small result folder as ``cluster --engine ray`` writes it (no Ray needed).

    ``images`` gets one PNG per row (so galleries have thumbnails); two shards.
    """
    import json

    import pyarrow as pa

    from clustering.distributed.layout import DatasetLayout, write_table

    layout = DatasetLayout(folder)
    rows = [(f"c{c}_{i}.png", c) for c in range(clusters) for i in range(per_cluster)]
    colours = list(COLOURS.values())
    for n, (name, cluster) in enumerate(rows):
        save_image(images / name, colours[cluster % len(colours)], seed=n)
    half = len(rows) // 2
    for shard, part in enumerate((rows[:half], rows[half:])):
        write_table(pa.table({
            "file": [r[0] for r in part], "cluster": pa.array([r[1] for r in part], pa.int32()),
            "distance_to_centroid": [0.1 * (i % per_cluster) for i in range(len(part))],
            "x": [float(r[1]) + 0.01 * i for i, r in enumerate(part)],
            "y": [float(-r[1]) for r in part]}), layout.shard_file("clusters", shard))
    record = {"input": str(images), "engine": {"name": "ray", "nodes": [{"id": "a" * 56},
                                                                         {"id": "b" * 56}],
                                               "images_per_node": {"a" * 56: half,
                                                                   "b" * 56: len(rows) - half}},
              "counts": {"found": len(rows), "clustered": len(rows), "skipped": 0,
                         "cluster_sizes": [per_cluster] * clusters}}
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def count_calls(monkeypatch, owner: object, name: str) -> list[int]:
    """Replace ``owner.name`` by a spy that calls it through; returns the list of calls."""
    calls: list[int] = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


def offline_features(images):
    """Features of ``images`` from the offline extractor (scikit-image's HOG warnings on
    tiny images silenced)."""
    import warnings

    from clustering.features.extract import extract_features
    from clustering.features.handcrafted import HandcraftedExtractor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return extract_features(images, HandcraftedExtractor())


def fit_duplicates(folder: Path):
    """A DuplicateFinder fitted on ``folder`` with the offline extractor's features."""
    from clustering.files.discover import discover
    from clustering.review.duplicates import DuplicateFinder

    images = discover(folder).images
    return DuplicateFinder().fit(images, offline_features(images))


def group_of(finder, name: str) -> list[str]:
    """The duplicate group holding ``name`` (keeper first), or just ``[name]``."""
    return next((group for group in finder.groups_ if name in group), [name])
