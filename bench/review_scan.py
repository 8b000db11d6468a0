"""Hashes and quality scores: one pass over the images, or two?

The Duplicates & quality page needs each image's duplicate signature and its quality
scores. :func:`clustering.review.scan.scan_images` reads, hashes and decodes each
file once for both; computing them one after the other
(:func:`~clustering.review.duplicates.compute_signatures`, then
:func:`~clustering.review.quality.score_images`) reads and decodes every file twice.
Both ways give identical values (checked here). Measured on generated 800x600 photos
(the dashboard benchmark's) and 3000x2000 ones (the extraction benchmark's), no
cache, two worker threads, the two ways alternating, median of ``--runs``.

    PYTHONPATH=. .venv/bin/python -m bench.review_scan
"""

from __future__ import annotations

import argparse
import time

from bench._common import load_average, median, photo_folder, table, write_results
from clustering.files.discover import ImageRef
from clustering.review.duplicates import compute_signatures
from clustering.review.quality import score_images
from clustering.review.scan import scan_images

SETS = {"800x600": ("dashboard_photos", (800, 600)), "3000x2000": ("photos", (3000, 2000))}


def _refs(folder: str, size: tuple[int, int], count: int) -> list[ImageRef]:
    return [ImageRef(name=p.name, path=p) for p in photo_folder(folder, count, size=size)]


def _two_passes(images: list[ImageRef]) -> tuple:
    return compute_signatures(images), score_images(images)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="800x600 photos")
    parser.add_argument("--big-images", type=int, default=100, help="3000x2000 photos")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    results, rows = {}, []
    for label, count in (("800x600", args.images), ("3000x2000", args.big_images)):
        images = _refs(*SETS[label], count)
        times: dict[str, list[float]] = {"two passes": [], "one pass (scan)": []}
        for _ in range(args.runs):
            for way, run in (("two passes", _two_passes), ("one pass (scan)", scan_images)):
                start = time.perf_counter()
                run(images)
                times[way].append(time.perf_counter() - start)
        two, one = _two_passes(images[:50]), scan_images(images[:50])
        assert (two[0].phash == one[0].phash).all() and two[1].equals(one[1])
        ms = {way: median(t) / count * 1000 for way, t in times.items()}
        ratio = ms["two passes"] / ms["one pass (scan)"]
        results[label] = {"images": count, "seconds": times, "ms_per_image": ms,
                          "one_pass_speedup": ratio}
        rows.append([label, count, f"{ms['two passes']:.2f}", f"{ms['one pass (scan)']:.2f}",
                     f"{ratio:.2f}x"])
    print(table(["photos", "images", "two passes ms/img", "one pass ms/img", "speed-up"], rows))
    print(f"load average: {load_average()}")
    write_results("review_scan", {"results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
