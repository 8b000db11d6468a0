#!/usr/bin/env python3
"""Rebuild the ClusterLens demo image set (``demo/images``) from installed packages.

The demo set is made only of real photographs that ship, under licences that
allow redistribution, inside Debian packages.  This script
copies the chosen photographs out of those packages, resizes them and writes
``images/<group>/<group>_NN.jpg``, ``labels.csv`` and ``SOURCES.csv``.

Build-time requirements (nothing here is needed at runtime):

* Debian packages (Debian 12 "bookworm" versions were used)::

      apt-get install --no-install-recommends \\
          mate-backgrounds plasma-workspace-wallpapers lxqt-themes \\
          palapeli-data gcompris-qt-data

* Python packages: ``pillow`` (reading/writing images, including WebP).
  Items of kind ``"pypi"`` (none at present) would read a file out of an
  installed Python distribution.

Usage::

    python demo/build_demo.py            # rebuild demo/ next to this script
    python demo/build_demo.py --out /tmp/demo --max-side 512

GCompris keeps its pictures inside Qt resource bundles (``*.rcc``); a small
reader for that format is included below.  The author, licence and original
URL of each GCompris picture are read from the ``README`` that GCompris ships
next to the pictures inside the same bundle; for the wallpaper packages they
are copied by hand from each package's ``/usr/share/doc/<pkg>/copyright`` (and,
for Plasma, from each wallpaper's ``metadata.json``).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

GCOMPRIS_RCC_DIR = Path("/usr/share/gcompris-qt/rcc")
PLASMA_DIR = "/usr/share/wallpapers"
MATE_DIR = "/usr/share/backgrounds/mate/nature"
LXQT_DIR = "/usr/share/lxqt/wallpapers"
PALAPELI_DIR = "/usr/share/palapeli/collection"

# GCompris resource folders used below (inside the .rcc bundles).
GC_ERASE = "erase.rcc:/gcompris/src/activities/erase/resource"
GC_MONUMENTS = "explore_monuments.rcc:/gcompris/src/activities/explore_monuments/resource"
GC_WORLD_ANIMALS = (
    "explore_world_animals.rcc:/gcompris/src/activities/explore_world_animals/resource/animals"
)
GC_DETAILS = "details.rcc:/gcompris/src/activities/details/resource/image"
GC_CATEGORIZATION = "categorization.rcc:/gcompris/src/activities/categorization/resource/images"
GC_FISHES = f"{GC_CATEGORIZATION}/fishes"
GC_MONUMENTS_CAT = f"{GC_CATEGORIZATION}/monuments"
GC_TOOLS = f"{GC_CATEGORIZATION}/tools"
GC_OTHERS = f"{GC_CATEGORIZATION}/others"


Box = tuple[int, int, int, int]  # (left, upper, right, lower) in pixels


@dataclass(frozen=True)
class Item:
    """One photograph of the demo set and where it comes from.

    Attributes:
        group: true label, also the output sub-folder.
        kind: ``"deb"`` (a file installed by a Debian package), ``"gcompris"``
            (a picture inside a GCompris ``.rcc`` bundle) or ``"pypi"`` (a file
            inside an installed Python distribution).
        package: Debian package name, or PyPI distribution name.
        path: absolute path (deb), ``"<bundle>.rcc:<inner path>"`` (gcompris)
            or path relative to the top-level module directory (pypi).
        author: author / copyright holder (read from the README for gcompris).
        licence: licence of the picture (read from the README for gcompris).
        notes: free text (upstream URL, remarks).
        crop: optional ``(left, upper, right, lower)`` box in original pixels,
            applied before resizing.
        readme_name: gcompris only: the file name as spelled in the README,
            when it differs from the real one (upstream typo).
    """

    group: str
    kind: str
    package: str
    path: str
    author: str = ""
    licence: str = ""
    notes: str = ""
    crop: Box | None = None
    readme_name: str | None = None


# Helpers that fill in the package, path and licence of each source.  Authors
# and licences of the wallpapers come from /usr/share/doc/<pkg>/copyright.


def _deb(
    group: str,
    package: str,
    path: str,
    author: str,
    licence: str,
    notes: str = "",
    crop: Box | None = None,
) -> Item:
    """A file installed by a Debian package."""
    return Item(group, "deb", package, path, author, licence, notes, crop)


def _mate(group: str, name: str, author: str, notes: str = "", crop: Box | None = None) -> Item:
    return _deb(group, "mate-backgrounds", f"{MATE_DIR}/{name}", author, "GPL-2+", notes, crop)


def _plasma(group: str, name: str, author: str) -> Item:
    return _deb(
        group,
        "plasma-workspace-wallpapers",
        f"{PLASMA_DIR}/{name}/contents/images/2560x1600.jpg",
        author,
        "LGPL-3.0",
        f"licence and author from {PLASMA_DIR}/{name}/metadata.json "
        "(the package's Debian copyright file gives GPL-2+ for all wallpapers)",
    )


def _lxqt(group: str, name: str, crop: Box | None = None) -> Item:
    return _deb(
        group,
        "lxqt-themes",
        f"{LXQT_DIR}/{name}",
        "stefonarch (standreas@riseup.net)",
        "CC-BY-SA-3.0",
        "licence and credits from /usr/share/lxqt/wallpapers/License",
        crop,
    )


def _honey_bee(extra_note: str = "", crop: Box | None = None) -> Item:
    notes = (
        "https://commons.wikimedia.org/wiki/File:European_honey_bee_extracts_nectar.jpg"
        " ; credits in european-honey-bee.desktop"
    )
    return _deb(
        "flowers",
        "palapeli-data",
        f"{PALAPELI_DIR}/european-honey-bee.jpg",
        "John Severns",
        "public-domain",
        f"{notes} ; {extra_note}" if extra_note else notes,
        crop,
    )


def _gc(
    group: str, folder: str, name: str, author: str = "", readme_name: str | None = None
) -> Item:
    """A GCompris picture; its author and licence are read from its README."""
    path = f"{folder}/{name}"
    return Item(group, "gcompris", "gcompris-qt-data", path, author, readme_name=readme_name)


# The demo set, in output order.  Groups were chosen to differ in colour,
# texture and layout, not only in meaning, so that even the offline
# colour + texture extractor separates them; images whose colours looked like
# another group's (sandy monuments, flowers on blue or purple, dark fish
# photos on a black background) were left out.
ITEMS: list[Item] = [
    # --- buildings: stone architecture, many straight edges, blue sky ---------
    *(
        _gc("buildings", GC_MONUMENTS, name)
        for name in (
            "france/arlesAmphitheater.webp",
            "france/chateaudeChambord.webp",
            "france/eiffelTower.webp",
            "france/palaisdesPapes.webp",
            "germany/berlinCathedral.webp",
            "germany/schwerinPalace.webp",
            "germany/trierImperialBaths.webp",
            "india/mysorePalace.webp",
        )
    ),
    _gc("buildings", GC_MONUMENTS_CAT, "cathedral.webp"),
    _gc("buildings", GC_MONUMENTS_CAT, "monument1.webp"),
    _gc(
        "buildings",
        GC_DETAILS,
        "Neuschwanstein_background.webp",
        author="Softeis (photo); Bruno Coudoin and others (GCompris edit)",
    ),
    _gc(
        "buildings",
        GC_DETAILS,
        "TajMahal_background.webp",
        author="Dhirad (photo); Bruno Coudoin and others (GCompris edit)",
    ),
    # --- flowers: saturated orange and yellow blossoms in close-up ------------
    _mate("flowers", "FreshFlower.jpg", "Jens Ansorg"),
    _mate("flowers", "Garden.jpg", "Charles Barbin"),
    _mate("flowers", "YellowFlower.jpg", "Charles Barbin"),
    # Second crop of YellowFlower.jpg: the flower's centre, at a larger scale.
    _mate(
        "flowers",
        "YellowFlower.jpg",
        "Charles Barbin",
        notes="second crop of this photograph (flower centre)",
        crop=(1600, 600, 2560, 1600),
    ),
    _mate("flowers", "TwoWings.jpg", "Charles Barbin; Hylke Bons"),
    _honey_bee(),
    _gc("flowers", GC_ERASE, "bee.webp"),
    # --- foliage: green leaves, grass and forest, animals among leaves --------
    _plasma("foliage", "Path", "Risto Saukonpää"),
    _plasma("foliage", "OneStandsOut", "Risto Saukonpää"),
    _mate("foliage", "Blinds.jpg", "Lennart Poettering; Andrea Cimitan"),
    _mate("foliage", "RainDrops.jpg", '"blackcombwhistler07"'),
    _mate("foliage", "GreenMeadow.jpg", "Timothy Schellhase; Lapo Calamandrei"),
    _lxqt("foliage", "drop.png"),
    _gc("foliage", GC_WORLD_ANIMALS, "chameleon.webp"),
    _gc("foliage", GC_WORLD_ANIMALS, "hedgehog.webp"),
    *(
        _gc("foliage", GC_ERASE, name)
        for name in ("chamaeleon.webp", "caterpillar.webp", "gibbon.webp", "toucan.webp")
    ),
    # --- objects: tools and tableware photographed on plain light backgrounds -
    *(
        _gc("objects", GC_TOOLS, name)
        for name in (
            "cuttingTool.webp",
            "hammer2.webp",
            "hammer5.webp",
            "hammer8.webp",
            "hammer9.webp",
            "measuringTape4.webp",
            "plier4.webp",
            "scissors1.webp",
            "scissors4.webp",
            "wrench.webp",
        )
    ),
    _gc("objects", GC_OTHERS, "buffetset.webp"),
    _gc("objects", GC_OTHERS, "weighingMachine.webp"),
    # --- underwater: reef fish among coral, weed and sand ---------------------
    *(
        _gc("underwater", GC_FISHES, f"fish{n}.webp")
        for n in (2, 3, 5, 12, 13, 14, 16, 19, 21, 23, 24, 26)
    ),
]


# --------------------------------------------------------------------------
# Qt resource bundles (GCompris)
# --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def read_rcc(path: Path) -> dict[str, bytes]:
    """Return ``{"/inner/path": bytes}`` for every file in a Qt ``.rcc`` bundle.

    Supports format versions 1-3 with uncompressed or zlib-compressed entries
    (GCompris does not use zstd).
    """
    buf = path.read_bytes()
    if buf[:4] != b"qres":
        raise ValueError(f"{path} is not a Qt resource bundle")
    version, tree, data, names = struct.unpack(">IIII", buf[4:20])
    node_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        pos = names + offset
        (length,) = struct.unpack(">H", buf[pos : pos + 2])
        return buf[pos + 6 : pos + 6 + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        pos = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", buf[pos : pos + 6])
        name = name_at(name_offset) if index else ""
        if flags & 0x2:  # directory
            count, first = struct.unpack(">II", buf[pos + 6 : pos + 14])
            for child in range(first, first + count):
                walk(child, f"{prefix}{name}/" if index else "/")
            return
        (data_offset,) = struct.unpack(">I", buf[pos + 10 : pos + 14])
        start = data + data_offset
        (size,) = struct.unpack(">I", buf[start : start + 4])
        blob = buf[start + 4 : start + 4 + size]
        if flags & 0x1:  # zlib, prefixed by the 4-byte uncompressed size
            blob = zlib.decompress(blob[4:])
        elif flags & 0x4:
            raise ValueError(f"{path}: zstd-compressed entry {prefix}{name} unsupported")
        files[prefix + name] = blob

    walk(0, "")
    return files


README_KEYS = ("Copyright", "License", "Source", "Comment", "Comments", "Files")


def parse_gcompris_readme(text: str) -> dict[str, dict[str, str]]:
    """Parse a GCompris resource ``README`` into ``{relative file: fields}``.

    The READMEs are blank-line separated blocks of ``Key: value`` lines; file
    names follow ``Files:`` on the same line or on the next lines.
    """
    result: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        files: list[str] = []
        for line in block.splitlines():
            line = line.strip()
            if not line:
                continue
            key, sep, value = line.partition(":")
            if sep and key in README_KEYS:
                if key == "Files":
                    files += value.split()
                else:
                    fields[key.rstrip("s")] = value.strip()
            elif re.fullmatch(r"[\w./-]+\.\w+", line):
                files.append(line)
        for name in files:
            result[name] = fields
    return result


def gcompris_metadata(
    bundle: dict[str, bytes], inner: str, readme_name: str | None = None
) -> dict[str, str]:
    """Find the README entry describing ``inner`` (searching parent folders).

    ``readme_name`` replaces the file's path (relative to its activity's
    ``resource`` folder tree) when the README misspells it.
    """
    if readme_name is not None:
        inner = posixpath.join(posixpath.dirname(inner), posixpath.basename(readme_name))
    folder = posixpath.dirname(inner)
    while folder not in ("", "/"):
        readme = bundle.get(f"{folder}/README")
        if readme is not None:
            entries = parse_gcompris_readme(readme.decode("utf-8"))
            rel = posixpath.relpath(inner, folder)
            if rel in entries:
                return entries[rel]
        folder = posixpath.dirname(folder)
    raise KeyError(f"no README entry for {inner}")


def normalise_licence(text: str) -> str:
    """Spell licences SPDX-like: ``CC-BY-SA 4.0`` -> ``CC-BY-SA-4.0``."""
    text = text.strip()
    if text.lower().replace(" ", "-") == "public-domain":
        return "public-domain"
    return re.sub(r"^(CC[\w-]*?)[ -](\d\.\d)$", r"\1-\2", text)


# --------------------------------------------------------------------------
# Loading one item
# --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def deb_version(package: str) -> str:
    """Installed version of a Debian package (via dpkg-query)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def load(item: Item) -> tuple[Image.Image, dict[str, str]]:
    """Open an item's image and return it with its SOURCES.csv fields."""
    author, licence, notes = item.author, item.licence, item.notes
    if item.kind == "deb":
        raw = Path(item.path).read_bytes()
        source = f"Debian package {item.package} {deb_version(item.package)}"
        original = item.path
    elif item.kind == "gcompris":
        rcc_name, inner = item.path.split(":", 1)
        rcc_path = GCOMPRIS_RCC_DIR / rcc_name
        bundle = read_rcc(rcc_path)
        raw = bundle[inner]
        meta = gcompris_metadata(bundle, inner, item.readme_name)
        author = author or meta.get("Copyright", "")
        licence = licence or normalise_licence(meta.get("License", ""))
        upstream = meta.get("Source", "")
        extra = meta.get("Comment", "")
        notes = " ; ".join(
            part
            for part in (upstream, f"GCompris note: {extra}" if extra else "", notes)
            if part
        )
        source = f"Debian package {item.package} {deb_version(item.package)}"
        original = f"{rcc_path}:{inner}"
    elif item.kind == "pypi":
        top = item.path.split("/", 1)[0]
        spec = importlib.util.find_spec(top)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(top)
        file = Path(list(spec.submodule_search_locations)[0]).parent / item.path
        raw = file.read_bytes()
        version = importlib.metadata.version(item.package)
        source = f"PyPI package {item.package} {version}"
        original = item.path
    else:
        raise ValueError(f"unknown kind {item.kind!r}")
    if not author or not licence:
        raise ValueError(f"missing author/licence for {item.path}")
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(raw)))
    fields = {
        "source": source,
        "original_path": original,
        "author": author,
        "licence": licence,
        "notes": notes,
    }
    return image.convert("RGB"), fields


def resize(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink so that the longer side is at most ``max_side`` pixels."""
    image = image.copy()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def missing_debian_packages() -> list[str]:
    """Debian packages used by ``ITEMS`` that are not installed."""
    missing = []
    for package in sorted({item.package for item in ITEMS if item.kind != "pypi"}):
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def build(out_dir: Path, max_side: int = 640, quality: int = 85) -> list[dict[str, str]]:
    """Write ``images/``, ``labels.csv`` and ``SOURCES.csv`` into ``out_dir``."""
    images_dir = out_dir / "images"
    if images_dir.exists():
        shutil.rmtree(images_dir)
    counters: dict[str, int] = {}
    rows: list[dict[str, str]] = []
    for item in ITEMS:
        image, fields = load(item)
        size_note = f"original {image.width}x{image.height}"
        if item.crop is not None:
            image = image.crop(item.crop)
            size_note += f", cropped to box {item.crop} (left, upper, right, lower)"
        image = resize(image, max_side)
        size_note += f", resized to {image.width}x{image.height}"
        counters[item.group] = counters.get(item.group, 0) + 1
        rel = f"{item.group}/{item.group}_{counters[item.group]:02d}.jpg"
        target = images_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, "JPEG", quality=quality, optimize=True)
        notes = " ; ".join(p for p in (fields.pop("notes"), size_note) if p)
        rows.append({"file": rel, **fields, "notes": notes, "label": item.group})

    with open(out_dir / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["file", "label"])
        writer.writerows([row["file"], row["label"]] for row in rows)
    columns = ["file", "source", "original_path", "author", "licence", "notes"]
    with open(out_dir / "SOURCES.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output folder (default: the folder of this script)",
    )
    parser.add_argument("--max-side", type=int, default=640, help="longest side in px")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality")
    args = parser.parse_args(argv)
    missing = missing_debian_packages()
    if missing:
        print("missing Debian packages; install them with:", file=sys.stderr)
        print(f"  apt-get install --no-install-recommends {' '.join(missing)}", file=sys.stderr)
        return 1
    rows = build(args.out, args.max_side, args.quality)
    groups: dict[str, int] = {}
    for row in rows:
        groups[row["label"]] = groups.get(row["label"], 0) + 1
    for group, count in sorted(groups.items()):
        print(f"{group:12s} {count:3d}")
    print(f"{'total':12s} {len(rows):3d} images in {args.out / 'images'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
