"""``search``: the images of a saved CLIP/SigLIP run best described by a text."""

from __future__ import annotations

import argparse

from clustering.cli.common import positive_int
from clustering.export.tables import write_csv
from clustering.review.search import TEXT_MODELS_HINT, search_run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search", help="find a run's images by text (CLIP and SigLIP runs)",
        description=f"Rank the images of the run saved in RUN_DIR (by 'cluster --out') by "
                    f"how well TEXT describes them: the cosine of the text's and each "
                    f"image's embedding. Prints or writes file,score,cluster, best first. "
                    f"Only {TEXT_MODELS_HINT}.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'cluster --out'")
    parser.add_argument("text", metavar="TEXT", help="what to look for, e.g. 'a dog on a beach'")
    parser.add_argument("--top", type=positive_int, metavar="N",
                        help="only the N best images (default: all)")
    parser.add_argument("--out", metavar="FILE.csv", help="write the table here instead of "
                                                         "printing it")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where the run's features are cached (default: the user's cache "
                             "folder, or $CLUSTERLENS_CACHE)")
    parser.set_defaults(func=search)


def search(args: argparse.Namespace) -> int:
    table = search_run(args.run_dir, args.text, top=args.top, cache_dir=args.cache_dir)
    if args.out:
        write_csv(table, args.out)
        print(f"wrote {len(table)} image(s), best first, to {args.out}")
    else:
        print(table.to_csv(index=False), end="")
    return 0
