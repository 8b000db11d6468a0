"""How well are edited copies of real photographs found, and distinct photos kept apart?

Builds a test set from real photographs (the demo set when it exists, photos that
ship with scikit-image and scikit-learn, and the photographic wallpapers of the
Debian packages installed here). Every photo becomes an *original*; each gets
edited copies (exact copy, re-compressed JPEG q30-60, resized to 50%, cropped by
5-10%, brightened and darkened by 30%, mirrored left-right, converted to PNG and
WebP). Hard negatives are built in: big photos are cut into two halves that do not
overlap (same colours and texture, different picture), and photos of one theme
(leaves, grass, sunsets, the demo groups) sit side by side.

The script runs :class:`clustering.review.duplicates.DuplicateFinder` twice (hashes plus
the offline extractor's features; hashes only) and a plain baseline (64-bit pHash
of each file, Hamming distance <= 8, no mirror), and prints pairwise precision and
recall overall and per edit type for each (pairs of two edited copies of one photo
are "edit vs edit"), and **photos lost**: originals none of whose files remains once
every file but the first of each group (the remove list) is deleted. Results go to ``bench/results/duplicates.json``.

    PYTHONPATH=. .venv/bin/python bench/duplicates.py
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import shutil
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from clustering.files.discover import ImageRef, discover
from clustering.review.duplicates import DuplicateFinder, compute_signatures, link_groups
from clustering.features import make_extractor
from clustering.features.extract import extract_features
from clustering.images.loading import open_image

RESULTS = Path(__file__).resolve().parent / "results" / "duplicates.json"
DATA = Path(__file__).resolve().parent / "data" / "duplicates"
LONG_SIDE = 800  # originals are stored at this size (long side), JPEG quality 92
BASELINE_THRESHOLD = 8  # the usual pHash cut-off (64-bit hash)

BACKGROUNDS = Path("/usr/share/backgrounds")
WALLPAPERS = Path("/usr/share/wallpapers")
# Photographs (not drawings or renders) among the installed wallpapers, by theme.
PHOTOS = {
    "backgrounds": ["Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly",
                    "Picture_0B_by_freespace", "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede",
                    "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi",
                    "greentock_by_Peter_Nerlich"],
    "mountains": ["aitzgorri_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
                  "life_by_Aitzol_Berasategi", "sunset_by_Aitzol_Berasategi",
                  "seeding_by_Clements_Engelhardt"],
    "nature": ["mate/nature/Aqua", "mate/nature/Blinds", "mate/nature/Dune",
               "mate/nature/FreshFlower", "mate/nature/Garden", "mate/nature/GreenMeadow",
               "mate/nature/LadyBird", "mate/nature/RainDrops", "mate/nature/Storm",
               "mate/nature/TwoWings", "mate/nature/Wood", "mate/nature/YellowFlower"],
}
# Big photographic wallpapers: each is cut into a left and a right half that do not overlap.
# (ColdRipple and DarkestHour are left whole: they are mirror-symmetric, so their
# halves would be mirrored copies of each other.)
HALVED = ["BytheWater", "ColorfulCups", "EveningGlow", "FallenLeaf", "Grey", "Kite",
          "OneStandsOut", "Path", "summer_1am"]
WHOLE = ["ColdRipple", "DarkestHour"]
SKIMAGE = ["astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon",
           "hubble_deep_field", "immunohistochemistry", "grass", "gravel", "brick"]


@dataclass
class Photo:
    """An original photo: its name, its theme (family) and its pixels."""

    name: str
    family: str
    image: Image.Image


def _shrink(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    return image


def _open(path: Path) -> Image.Image:
    return open_image(path.read_bytes(), draft_size=LONG_SIDE)


def demo_sources(demo: Path) -> set[str]:
    """The original paths of the demo photos (from its SOURCES.csv), to avoid using them twice."""
    sources = demo.parent / "SOURCES.csv"
    if not sources.exists():
        return set()
    with sources.open(newline="", encoding="utf-8") as handle:
        return {row["original_path"] for row in csv.DictReader(handle)}


def _taken(path: Path, used: set[str]) -> bool:
    """True when the demo set already holds a photo from ``path`` (a file or a folder)."""
    text = str(path)
    return any(u == text or text.endswith("/" + u) or u.startswith(text + "/") for u in used)


def load_photos(demo: Path | None) -> list[Photo]:
    """Every photo available on this machine, each once (missing sources are left out)."""
    import skimage.data
    import sklearn
    from sklearn.datasets import load_sample_images

    photos: list[Photo] = []
    used: set[str] = set()
    if demo is not None and demo.is_dir():
        used = demo_sources(demo)
        for ref in discover(demo).images:
            family = "demo-" + ref.name.split("/")[0]
            photos.append(Photo("demo-" + Path(ref.name).stem, family,
                                _shrink(open_image(ref.read_bytes()))))
    for family, names in PHOTOS.items():
        for name in names:
            path = BACKGROUNDS / f"{name}.jpg"
            if path.exists() and not _taken(path, used):
                photos.append(Photo(Path(name).name, family, _shrink(_open(path))))
    for name in WHOLE + HALVED:
        folder = WALLPAPERS / name
        images = sorted((folder / "contents" / "images").glob("*.jpg"),
                        key=lambda p: p.stat().st_size)
        if not images or _taken(folder, used):
            continue
        full = _open(images[-1])
        if name in WHOLE:
            photos.append(Photo(name, "wallpapers", _shrink(full)))
            continue
        width, height = full.size
        left = full.crop((0, 0, int(width * 0.45), height))
        right = full.crop((int(width * 0.55), 0, width, height))
        photos += [Photo(f"{name}-left", f"halves-{name}", _shrink(left)),
                   Photo(f"{name}-right", f"halves-{name}", _shrink(right))]
    for name in SKIMAGE:
        pixels = getattr(skimage.data, name)()
        photos.append(Photo(name, "skimage", _shrink(Image.fromarray(pixels))))
    sample_folder = Path(sklearn.__file__).parent / "datasets" / "images"
    for name, pixels in zip(("china", "flower"), load_sample_images().images):
        if not _taken(sample_folder / f"{name}.jpg", used):
            photos.append(Photo(name, "sklearn", _shrink(Image.fromarray(pixels))))
    return photos


# ---- edits ---------------------------------------------------------------------------

Edit = Callable[[Image.Image, np.random.Generator], tuple[bytes, str]]


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _jpeg(image: Image.Image, quality: int = 92) -> tuple[bytes, str]:
    return _encode(image, "JPEG", quality=quality), ".jpg"


def _crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Cut 5-10% off the width and the height, split at random between the sides."""
    width, height = image.size
    cut_w, cut_h = (int(size * rng.uniform(0.05, 0.10)) for size in (width, height))
    left, top = int(rng.integers(0, cut_w + 1)), int(rng.integers(0, cut_h + 1))
    return image.crop((left, top, left + width - cut_w, top + height - cut_h))


EDITS: dict[str, Edit] = {
    "jpeg": lambda im, rng: _jpeg(im, int(rng.integers(30, 61))),
    "resize": lambda im, rng: _jpeg(im.resize((im.width // 2, im.height // 2),
                                              Image.Resampling.LANCZOS)),
    "crop": lambda im, rng: _jpeg(_crop(im, rng)),
    "brighten": lambda im, rng: _jpeg(ImageEnhance.Brightness(im).enhance(1.3)),
    "darken": lambda im, rng: _jpeg(ImageEnhance.Brightness(im).enhance(0.7)),
    "mirror": lambda im, rng: _jpeg(ImageOps.mirror(im)),
    "png": lambda im, rng: (_encode(im, "PNG", compress_level=1), ".png"),
    "webp": lambda im, rng: (_encode(im, "WEBP", quality=80), ".webp"),
}


def build_set(photos: list[Photo], folder: Path, seed: int) -> dict[str, dict[str, str]]:
    """Write each original and its edited copies into ``folder``.

    Returns ``{file name: {"original", "edit", "family"}}`` (``edit`` is "original"
    for the original itself and "exact" for a byte-identical copy).
    """
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    truth: dict[str, dict[str, str]] = {}
    for photo in photos:
        data, ext = _jpeg(photo.image)
        copies = {"original": (data, ext), "exact": (data, ext)}
        copies.update({edit: make(photo.image, rng) for edit, make in EDITS.items()})
        for edit, (data, ext) in copies.items():
            name = f"{photo.name}__{edit}{ext}"
            (folder / name).write_bytes(data)
            truth[name] = {"original": photo.name, "edit": edit, "family": photo.family}
    (folder / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


# ---- scoring -------------------------------------------------------------------------

def group_pairs(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    """Every unordered pair of files that share a group."""
    return {frozenset(pair) for group in groups for pair in itertools.combinations(group, 2)}


def pair_edit(pair: frozenset[str], truth: dict[str, dict[str, str]]) -> str:
    """The edit a pair is about: that of its non-original member (or of both, if equal)."""
    edits = sorted(truth[name]["edit"] for name in pair)
    edits = [edit for edit in edits if edit != "original"] or edits
    return edits[0] if len(set(edits)) == 1 else "edit vs edit"


def scores(predicted: set[frozenset[str]], truth: dict[str, dict[str, str]]) -> dict:
    """Pairwise precision and recall overall and per edit type, and hard-negative errors."""
    by_original: dict[str, list[str]] = defaultdict(list)
    for name, row in truth.items():
        by_original[row["original"]].append(name)
    actual = group_pairs(by_original.values())
    hits = predicted & actual
    result = {"overall": _pr(len(hits), len(predicted), len(actual))}
    for edit in ["exact", *EDITS, "edit vs edit"]:
        mine = {p for p in actual if pair_edit(p, truth) == edit}
        flagged = {p for p in predicted if pair_edit(p, truth) == edit}
        result[edit] = _pr(len(mine & hits), len(flagged), len(mine))
    false = predicted - actual
    same_family = [p for p in false if len({truth[n]["family"] for n in p}) == 1]
    result["false_pairs"] = len(false)
    result["false_pairs_same_theme"] = len(same_family)
    result["false_examples"] = sorted(" ~ ".join(sorted(p)) for p in false)[:10]
    return result


def photos_lost(removed: Iterable[str], truth: dict[str, dict], key: str) -> int:
    """Distinct photos (``truth[file][key]``) none of whose files remains once the
    ``removed`` files are deleted."""
    left = Counter(row[key] for row in truth.values())
    for name in set(removed):
        left[truth[name][key]] -= 1
    return sum(count == 0 for count in left.values())


def _pr(hits: int, predicted: int, actual: int) -> dict:
    return {"precision": hits / predicted if predicted else float("nan"),
            "recall": hits / actual if actual else float("nan"),
            "pairs": actual, "predicted": predicted}


def baseline_groups(images: list[ImageRef], threshold: int = BASELINE_THRESHOLD) -> list[list[str]]:
    """Plain pHash of each file: link two images whose hashes differ in <= threshold bits."""
    import faiss
    import imagehash

    codes = np.stack([np.packbits(imagehash.phash(Image.open(ref.path)).hash.ravel())
                      for ref in images])
    index = faiss.IndexBinaryFlat(64)
    index.add(codes)
    limits, _, found = index.range_search(codes, threshold + 1)  # distance < radius
    rows = np.repeat(np.arange(len(images)), np.diff(limits).astype(np.int64))
    groups = link_groups(len(images), np.stack([rows, found], axis=1))
    return [[images[i].name for i in group] for group in groups]


def print_table(results: dict[str, dict]) -> None:
    """Precision / recall per edit type (rows) for each method (columns)."""
    header = "".join(f"{name:>23}" for name in results)
    print(f"\n{'':14}{header}{'pairs':>7}")
    print(f"{'':14}" + f"{'P      R':>23}" * len(results))
    for key in ["overall", "exact", *EDITS, "edit vs edit"]:
        cells = "".join(f"{r[key]['precision']:>16.3f}{r[key]['recall']:7.3f}"
                        for r in results.values())
        print(f"{key:14}{cells}{next(iter(results.values()))[key]['pairs']:7d}")
    for name, result in results.items():
        print(f"{name}: {result['false_pairs']} false pair(s), "
              f"{result['false_pairs_same_theme']} of them between photos of one theme; "
              f"{result.get('photos_lost', '-')} photo(s) lost")
        for example in result["false_examples"][:3]:
            print(f"    e.g. {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, default=Path("demo/images"),
                        help="demo photo folder, used when present (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=DATA,
                        help="where the test set is written (default: %(default)s)")
    parser.add_argument("--sensitivity", type=float, default=0.5)
    parser.add_argument("--no-features", action="store_true",
                        help="skip the offline extractor (only hash-based methods)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random edits")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    photos = load_photos(args.demo)
    truth = build_set(photos, args.data, args.seed)
    images = discover(args.data).images
    seconds["build set"] = time.perf_counter() - start
    print(f"{len(photos)} photos, {len(images)} images written to {args.data}")

    start = time.perf_counter()
    signatures = compute_signatures(images)
    seconds["hashes"] = time.perf_counter() - start
    groups = {}
    if not args.no_features:
        start = time.perf_counter()
        with warnings.catch_warnings():  # skimage's LBP warns about float input
            warnings.simplefilter("ignore", UserWarning)
            features = extract_features(images, make_extractor("handcrafted"))
        seconds["features"] = time.perf_counter() - start
        start = time.perf_counter()
        finder = DuplicateFinder(sensitivity=args.sensitivity).fit(signatures, features)
        groups["ours: hash + features"] = finder.groups_
        seconds["grouping"] = time.perf_counter() - start
    groups["ours: hash only"] = DuplicateFinder(args.sensitivity).fit(signatures).groups_
    start = time.perf_counter()
    groups[f"baseline pHash<={BASELINE_THRESHOLD}"] = baseline_groups(images)
    seconds["baseline"] = time.perf_counter() - start

    results = {name: scores(group_pairs(found), truth) for name, found in groups.items()}
    for name, found in groups.items():  # the first file of each group is kept
        results[name]["photos_lost"] = photos_lost(
            [file for group in found for file in group[1:]], truth, "original")
    print_table(results)
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    record = {"photos": len(photos), "images": len(images), "seed": args.seed,
              "sensitivity": args.sensitivity,
              "baseline": f"pHash 64-bit of each file, Hamming <= {BASELINE_THRESHOLD}, "
                          f"no mirror", "seconds": seconds, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
