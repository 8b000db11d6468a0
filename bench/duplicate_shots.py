"""Duplicates in a library of many similar shots: are copies found without chaining shots?

Every real photo of bench/duplicates.py (demo set, Debian wallpapers, scikit-image,
scikit-learn) is a *scene*. Each scene is shot many times: a box of 45-90 % of each
side at a random place (bursts and pans); two shots of one scene overlap at most
``--max-iou`` (intersection over union of their boxes), so two different shots are
never the same picture. Some shots get true copies: re-encoded JPEG (q30-60),
resized to 50-80 %, mirrored, cropped by 3-7 %, brightness +-10 %, PNG.

Truth: the files of one shot (the shot and its copies) are duplicates; any two
files of different shots are not. Reported for :class:`DuplicateFinder` at the
given sensitivity with the offline extractor (and with hashes only), and for the
connected components of the same candidate links without the geometric check
(the grouping before issue 9): pair precision and recall, largest group, groups
mixing scenes or shots, and the remove list against the true number of copies.

    PYTHONPATH=. .venv/bin/python -m bench.duplicate_shots
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from bench.duplicates import _encode, _jpeg, group_pairs, load_photos
from clustering.files.discover import discover
from clustering.review.duplicates import DuplicateFinder, compute_signatures, link_groups
from clustering.features import make_extractor
from clustering.features import extract_features

RESULTS = Path(__file__).resolve().parent / "results" / "duplicate_shots.json"
DATA = Path(__file__).resolve().parent / "data" / "duplicate_shots"
SIDE = (0.45, 0.90)  # a shot keeps this fraction of each side of its scene
TARGETS = {"precision": 0.98, "recall": 0.95, "mixed_scene_groups": 0, "remove_within": 0.02}


def _box(rng: np.random.Generator) -> np.ndarray:
    """(left, top, right, bottom) as fractions of the scene."""
    w, h = rng.uniform(*SIDE, size=2)
    left, top = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
    return np.array([left, top, left + w, top + h])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def shot_boxes(count: int, max_iou: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Up to ``count`` boxes, each overlapping every other by at most ``max_iou``."""
    boxes: list[np.ndarray] = []
    for _ in range(count * 50):
        box = _box(rng)
        if all(iou(box, other) <= max_iou for other in boxes):
            boxes.append(box)
            if len(boxes) == count:
                break
    return boxes


def _cut(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Cut 3-7 % off the width and the height, split at random between the sides."""
    width, height = image.size
    cut_w, cut_h = (int(size * rng.uniform(0.03, 0.07)) for size in (width, height))
    left, top = int(rng.integers(0, cut_w + 1)), int(rng.integers(0, cut_h + 1))
    return image.crop((left, top, left + width - cut_w, top + height - cut_h))


def _resize(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    f = rng.uniform(0.5, 0.8)
    return image.resize((round(image.width * f), round(image.height * f)),
                        Image.Resampling.LANCZOS)


COPIES = {
    "jpeg": lambda im, rng: _jpeg(im, int(rng.integers(30, 61))),
    "resize": lambda im, rng: _jpeg(_resize(im, rng)),
    "mirror": lambda im, rng: _jpeg(ImageOps.mirror(im)),
    "crop": lambda im, rng: _jpeg(_cut(im, rng)),
    "brightness": lambda im, rng: _jpeg(ImageEnhance.Brightness(im).enhance(
        1 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.10))),
    "png": lambda im, rng: (_encode(im, "PNG", compress_level=1), ".png"),
}


def build_set(folder: Path, shots: int, max_iou: float, copied: float,
              seed: int) -> dict[str, dict]:
    """Write shots and copies into ``folder``; ``{file: {scene, shot, edit}}``."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    truth: dict[str, dict] = {}
    for photo in load_photos(Path("demo/images")):
        w, h = photo.image.size
        for number, box in enumerate(shot_boxes(shots, max_iou, rng)):
            shot = photo.image.crop(tuple(int(v) for v in box * [w, h, w, h]))
            shot_id = f"{photo.name}-{number:02d}"
            files = {"shot": _jpeg(shot)}
            if rng.random() < copied:
                for edit in rng.choice(list(COPIES), size=1 + int(rng.random() < 0.25),
                                       replace=False):
                    files[edit] = COPIES[edit](shot, rng)
            for edit, (data, ext) in files.items():
                name = f"{shot_id}__{edit}{ext}"
                (folder / name).write_bytes(data)
                truth[name] = {"scene": photo.name, "shot": shot_id, "edit": edit}
    (folder / "truth.json").write_text(json.dumps(truth))
    return truth


def score(groups: list[list[str]], truth: dict[str, dict]) -> dict:
    """Pair precision/recall, group sizes and mixing, remove list vs true copies."""
    by_shot: dict[str, list[str]] = {}
    for name, row in truth.items():
        by_shot.setdefault(row["shot"], []).append(name)
    actual = group_pairs(by_shot.values())
    predicted = group_pairs(groups)
    hits = len(predicted & actual)
    copies = sum(len(files) - 1 for files in by_shot.values())
    removed = sum(len(group) - 1 for group in groups)
    return {"precision": hits / len(predicted) if predicted else float("nan"),
            "recall": hits / len(actual), "true_pairs": len(actual),
            "predicted_pairs": len(predicted), "groups": len(groups),
            "largest_group": max(map(len, groups), default=0),
            "mixed_scene_groups": sum(len({truth[n]["scene"] for n in g}) > 1 for g in groups),
            "mixed_shot_groups": sum(len({truth[n]["shot"] for n in g}) > 1 for g in groups),
            "remove_list": removed, "true_copies": copies,
            "remove_vs_copies": removed / copies - 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--shots", type=int, default=20, help="shots per scene")
    parser.add_argument("--max-iou", type=float, default=0.6,
                        help="most two shots of one scene overlap (box IoU)")
    parser.add_argument("--copied", type=float, default=0.5,
                        help="fraction of shots with copies (a quarter of those get two)")
    parser.add_argument("--sensitivity", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    truth = build_set(args.data, args.shots, args.max_iou, args.copied, args.seed)
    images = discover(args.data).images
    seconds["build set"] = time.perf_counter() - start
    counts = Counter(row["edit"] for row in truth.values())
    print(f"{len({r['scene'] for r in truth.values()})} scenes, {counts['shot']} shots, "
          f"{len(images)} images ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")

    start = time.perf_counter()
    signatures = compute_signatures(images)
    seconds["signatures"] = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():  # skimage's LBP warns about float input
        warnings.simplefilter("ignore", UserWarning)
        features = extract_features(images, make_extractor("handcrafted"))
    seconds["features"] = time.perf_counter() - start

    results = {}
    for name, feats in (("hash + features", features), ("hash only", None)):
        start = time.perf_counter()
        finder = DuplicateFinder(args.sensitivity).fit(signatures, feats)
        seconds[f"fit, {name}"] = time.perf_counter() - start
        results[name] = score(finder.groups_, truth)
        similar = finder.similar_
        results[name]["similar_pairs"] = len(similar)
        results[name]["similar_pairs_same_scene"] = int(sum(
            truth[a]["scene"] == truth[b]["scene"]
            for a, b in zip(similar["file_a"], similar["file_b"])))
        if feats is not None:  # the same candidates, grouped as before issue 9
            row_of = {n: i for i, n in enumerate(signatures.names)}
            links = candidate_links(finder, row_of)
            before = [[signatures.names[i] for i in g]
                      for g in link_groups(len(signatures), links)]
            results["unchecked components (before)"] = score(before, truth)

    keys = ["precision", "recall", "largest_group", "mixed_scene_groups", "mixed_shot_groups",
            "groups", "remove_list", "true_copies", "remove_vs_copies", "similar_pairs"]
    print(f"\n{'':32}" + "".join(f"{k:>20}" for k in keys))
    for name, r in results.items():
        print(f"{name:32}" + "".join(
            f"{r.get(k, float('nan')):>20.3f}" if isinstance(r.get(k), float)
            else f"{r.get(k, '-'):>20}" for k in keys))
    main_result = results["hash + features"]
    checks = [["pair precision", main_result["precision"], f">= {TARGETS['precision']}",
               main_result["precision"] >= TARGETS["precision"]],
              ["pair recall", main_result["recall"], f">= {TARGETS['recall']}",
               main_result["recall"] >= TARGETS["recall"]],
              ["groups mixing scenes", main_result["mixed_scene_groups"], "0",
               main_result["mixed_scene_groups"] == 0],
              ["remove list vs true copies", main_result["remove_vs_copies"], "within 2 %",
               abs(main_result["remove_vs_copies"]) <= TARGETS["remove_within"]]]
    for what, value, goal, ok in checks:
        print(f"  {what:28} {value:8.3f}  {goal:12} {'met' if ok else 'MISSED'}")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    record = {"images": len(images), "counts": dict(counts), "args": {
        k: str(v) for k, v in vars(args).items()}, "seconds": seconds, "results": results,
        "checks": [[w, v, g, "met" if ok else "MISSED"] for w, v, g, ok in checks]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, default=float))
    print(f"wrote {args.out}")
    return 0


def candidate_links(finder: DuplicateFinder, row_of: dict[str, int]) -> np.ndarray:
    """Every candidate link of ``finder`` (confirmed or not) as index pairs (m, 2)."""
    both = [finder.pairs_, finder.similar_]
    return np.array([(row_of[a], row_of[b]) for frame in both
                     for a, b in zip(frame["file_a"], frame["file_b"])],
                    dtype=np.int64).reshape(-1, 2)


if __name__ == "__main__":
    raise SystemExit(main())
