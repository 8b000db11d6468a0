"""Size of the HTML report (``cluster --report``) at ``--images`` generated photos.

    PYTHONPATH=. .venv/bin/python -m bench.report_size --images 1000

Offline extractor, k chosen automatically (sweep 2..20), PCA map. Prints the
report's size, how much of it is embedded thumbnails, and the time to build it.
"""

from __future__ import annotations

import argparse
import re

from bench._common import Timer, photo_folder, table, write_results
from clustering.export.report import build_report
from clustering.pipeline import run_pipeline
from clustering.review.names import names_for_run
from clustering.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    folder = photo_folder(f"report-{args.images}", args.images, size=(1024, 768))
    result = run_pipeline(folder, Settings(model="handcrafted"))
    names = names_for_run(result).names
    with Timer() as t:
        page = build_report(result, names)
    images = re.findall(rb"data:image/jpeg;base64,[A-Za-z0-9+/=]+", page)
    embedded = sum(len(i) for i in images)
    rows = [[args.images, result.clustering.k, len(images), f"{len(page) / 1e6:.2f}",
             f"{embedded / len(page):.0%}", f"{t.seconds:.2f}"]]
    print(table(["images", "k", "embedded thumbnails", "report MB", "share thumbnails",
                 "build s"], rows))
    write_results("report_size", {"images": args.images, "k": result.clustering.k,
                                  "bytes": len(page), "thumbnails": len(images),
                                  "thumbnail_bytes": embedded, "build_seconds": t.seconds})


if __name__ == "__main__":
    main()
