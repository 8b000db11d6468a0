"""``search``: the images of a saved CLIP/SigLIP run best described by a text."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from clustering.cli.common import positive_int
from clustering.errors import InputError
from clustering.assign import place_images
from clustering.export.saved_model import SavedModel
from clustering.export.tables import write_csv
from clustering.files.discover import discover
from clustering.review.search import TEXT_MODELS_HINT, rank_by_text, text_preset


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


def search_run(run_dir: str | os.PathLike, text: str, top: int | None = None,
               cache_dir: str | os.PathLike | None = None,
               batch_size: int = 16) -> pd.DataFrame:
    """:func:`rank_by_text` over the images of a run saved by ``cluster --out``.

    The image embeddings come from the feature cache (or are computed again from the
    run's input, with the run's extractor, when the cache no longer has them).
    """
    model = SavedModel.load(run_dir)
    text_preset(model.extractor)  # refuse before reading any image
    try:
        source = json.loads((Path(run_dir) / "run.json").read_text())["input"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{run_dir} has no readable run.json naming the run's images") from None
    found = discover(source, recursive=bool(model.settings.get("recursive", True)))
    table, features = place_images(model, found.images, cache_dir=cache_dir,
                                   batch_size=batch_size)
    clustered = table["clustered"].to_numpy(dtype=bool)
    return rank_by_text(text, features.features[clustered], table["file"][clustered].tolist(),
                        table["cluster"][clustered].tolist(), model.extractor, top)
