"""``assign``: place new images in a saved clustering (cluster, distance, map, unsure)."""

from __future__ import annotations

import argparse

from clustering.cli.common import (EXIT_INPUT, CommandError, add_reading_options, find_images,
                                   progress_bar)
from clustering.export.tables import write_csv
from clustering.assign import place_images
from clustering.export.saved_model import MODEL_FILE, UNSURE_QUANTILE, SavedModel


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assign", help="give new images a cluster of a saved run",
        description=f"Place the images of INPUT in the clustering saved in RUN_DIR (by "
                    f"'cluster --out RUN_DIR', which writes {MODEL_FILE}). The extractor "
                    f"and its settings come from the saved run. Each image gets the nearest "
                    f"centroid, its distance, x and y on the saved map, and 'unsure' when "
                    f"it lies farther from its centroid than {UNSURE_QUANTILE:.0%} of the "
                    f"images clustered there. Images of the saved run (same content) get "
                    f"exactly their saved cluster back ('clustered' column).")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'cluster --out'")
    parser.add_argument("input", metavar="INPUT",
                        help="a folder of images, a .zip of images, or one image")
    parser.add_argument("--out", required=True, metavar="FILE.csv", help="where to write them")
    parser.add_argument("--weights", metavar="FILE",
                        help="where the run's VGG weights file is, if not where it was "
                             "(its content must be the same)")
    add_reading_options(parser)
    parser.set_defaults(func=assign)


def assign(args: argparse.Namespace) -> int:
    model = SavedModel.load(args.run_dir)
    found = find_images(args)
    with progress_bar(len(found.images), "features") as update:
        table, features = place_images(model, found.images, cache_dir=args.cache_dir,
                                       weights=args.weights, batch_size=args.batch_size,
                                       progress=update)
    if table.empty:
        first = features.skipped[0]
        raise CommandError(f"none of the {len(found.images)} image(s) could be loaded "
                           f"(first: {first.name}: {first.reason})", EXIT_INPUT)
    write_csv(table, args.out)
    print(f"placed {len(table)} image(s): {int(table['clustered'].sum())} of the saved run, "
          f"{int(table['unsure'].sum())} unsure; {len(found.skipped) + len(features.skipped)} "
          f"skipped; wrote {args.out}")
    return 0
