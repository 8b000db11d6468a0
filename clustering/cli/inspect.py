"""``duplicates``, ``quality`` and ``evaluate``: look into a collection and its clusters."""

from __future__ import annotations

import argparse

import pandas as pd

from clustering.cache import FeatureCache
from clustering.cli.cluster import k_value
from clustering.cli.common import (EXIT_INPUT, EXIT_WEIGHTS, CommandError, add_input_options,
                                   arg_type, features_for, find_images, progress_bar,
                                   settings_from_args)
from clustering.clusters.kmeans import MIN_IMAGES_TO_CLUSTER, check_k
from clustering.export.tables import neutralise, write_csv
from clustering.features.weights import SPECS, models_dir
from clustering.files.discover import Discovery, Skipped
from clustering.export.tables import clusters_frame
from clustering.pipeline import analyse
from clustering.review.duplicates import DuplicateFinder, compute_signatures, parse_sensitivity
from clustering.review.evaluate import EvaluationInputError, evaluate, read_labels, read_truth
from clustering.review.quality import FLAGS, QualityScorer, flag_counts
from clustering.settings import Settings

SHOWN = 5  # names listed when files are only in one of two tables


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_duplicates(subparsers)
    _register_quality(subparsers)
    _register_evaluate(subparsers)


def _no_images(found: Discovery, skipped: list[Skipped]) -> CommandError:
    first = f" (first: {skipped[0].name}: {skipped[0].reason})" if skipped else ""
    return CommandError(f"none of the {len(found.images)} image(s) could be loaded{first}",
                        EXIT_INPUT)


# ---- duplicates ----------------------------------------------------------------------

def _register_duplicates(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "duplicates", help="find exact and near-duplicate images; write file,group,keep,reason",
        description="Group identical files and near-duplicates (re-compressed, resized, "
                    "slightly cropped, brightened or darkened, mirrored, converted copies) "
                    "by perceptual hash (also mirrored) and, unless --hash-only, by "
                    "features of --model. A file joins a group only when the kept image "
                    "contains its whole picture; shifted shots and bursts are never "
                    "grouped. Writes file,group,keep,reason for every image in a group; "
                    "keep marks the suggested file to keep (the image containing the "
                    "others: most pixels, then largest file, then first name), reason "
                    "says why another may go (exact copy, re-encode, resize, crop, "
                    "mirror, brightness, format change). With --hash-only, copies cropped "
                    "by more than a few percent are often missed.")
    add_input_options(parser)
    parser.add_argument("--out", required=True, metavar="CSV", help="where to write the groups")
    parser.add_argument("--sensitivity", type=arg_type(parse_sensitivity),
                        default=Settings.duplicate_sensitivity, metavar="S",
                        help="0 (strict) .. 1 (loose), or strict / normal / loose "
                             "(default: %(default)s = normal)")
    parser.add_argument("--hash-only", action="store_true",
                        help="compare perceptual hashes only: no features, no model needed")
    parser.set_defaults(func=duplicates)


def duplicates(args: argparse.Namespace) -> int:
    found = find_images(args)
    features = None if args.hash_only else features_for(args, found)
    with progress_bar(len(found.images), "hashes") as update:
        signatures = compute_signatures(found.images, FeatureCache(args.cache_dir),
                                        progress=update)
    if not len(signatures):
        raise _no_images(found, signatures.skipped)
    finder = DuplicateFinder(args.sensitivity).fit(signatures, features)
    frame = finder.to_frame()
    write_csv(frame, args.out)
    limits = finder.thresholds_
    how = ("hashes only" if features is None else
           f"hashes + features ({features.extractor.get('label', '')})")
    print(f"{len(signatures)} image(s) compared ({how}); "
          f"{len(found.skipped) + len(signatures.skipped)} skipped")
    print(f"{len(finder.groups_)} duplicate group(s) holding {len(frame)} image(s); "
          f"{int((~frame['keep']).sum())} file(s) suggested for removal, each contained in "
          f"the image kept in its group (column reason)")
    rule = f"sensitivity {args.sensitivity}: pHash within {limits.hash_bits} bits"
    if features is not None:
        rule += f", or cosine >= {limits.min_cosine} and pHash within {limits.gate_bits} bits"
    print(rule)
    print(f"wrote {args.out}")
    return 0


# ---- quality -------------------------------------------------------------------------

def _register_quality(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quality", help="flag blank, dark, bright, blurry, tiny, odd-shaped, grey and "
                        "outlier images",
        description="Score every image (entropy, brightness, sharpness, size, aspect, "
                    "colour) and flag those past the default thresholds. Unless "
                    "--no-outliers, also cluster the images (features of --model, PCA, "
                    "k-means++) and flag those far from their centroid or closer to "
                    "another cluster. Writes one row per image with each score and flag.")
    add_input_options(parser)
    parser.add_argument("--out", required=True, metavar="CSV", help="where to write the report")
    parser.add_argument("--k", type=k_value, default=None, metavar="N|auto",
                        help="clusters for the outlier flags (default: auto)")
    parser.add_argument("--no-outliers", action="store_true",
                        help="skip features and clustering: image flags only")
    # No --model: VGG16 when its weights are on this machine, else a clear message
    # (features are only needed for the outlier flags; no download is attempted).
    parser.set_defaults(func=quality, model=None)


def _clusters(args: argparse.Namespace, found: Discovery) -> tuple[pd.DataFrame | None, str]:
    """The clustering the outlier flags need (or None) and a note saying what was done."""
    if args.no_outliers:
        return None, "no outlier flags (--no-outliers)"
    if args.model is None:
        args.model = _default_quality_model(args)
    settings = settings_from_args(args, k=args.k)
    if args.k is not None:
        check_k(args.k, len(found.images))
    features = features_for(args, found, settings)
    if len(features.names) < MIN_IMAGES_TO_CLUSTER:
        return None, (f"no outlier flags: fewer than {MIN_IMAGES_TO_CLUSTER} loadable images "
                      f"to cluster")
    result = analyse(features, settings, found)
    return clusters_frame(result), f"outliers among k={result.clustering.k} clusters"


def _default_quality_model(args: argparse.Namespace) -> str:
    """VGG16 when its weights are given or cached here; otherwise a one-line error that
    says features serve only the outlier flags, instead of a download attempt."""
    spec = SPECS[("vgg16", args.layer != "pooled")]
    if args.weights or (models_dir() / spec.filename).is_file():
        return "vgg16"
    raise CommandError(
        f"the outlier flags need image features and VGG16 weights are not on this machine "
        f"({spec.filename} is not in {models_dir()}): add --model handcrafted (offline "
        f"extractor) or --no-outliers (image flags only), or --model vgg16 to download them",
        EXIT_WEIGHTS)


def quality(args: argparse.Namespace) -> int:
    found = find_images(args)
    clusters, note = _clusters(args, found)
    with progress_bar(len(found.images), "quality") as update:
        scorer = QualityScorer().fit(found.images, clusters, cache=FeatureCache(args.cache_dir),
                                     progress=update)
    if scorer.scores_.empty:
        raise _no_images(found, scorer.skipped_)
    write_csv(scorer.report_, args.out)
    counts = flag_counts(scorer.report_)
    flagged = int((scorer.report_["flags"] != "").sum())
    print(f"{len(scorer.scores_)} image(s) scored, {flagged} flagged, "
          f"{len(found.skipped) + len(scorer.skipped_)} skipped; {note}")
    width = max(map(len, FLAGS))
    for flag in FLAGS:
        print(f"  {flag:<{width}}  {counts[flag]}")
    print(f"wrote {args.out}")
    return 0


# ---- evaluate ------------------------------------------------------------------------

def _register_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score cluster labels against known labels",
        description="Compare LABELS_CSV (file,cluster, e.g. labels.csv from 'cluster') "
                    "with TRUTH_CSV (file,label): homogeneity, completeness, V-measure, "
                    "NMI and ARI on the files both list. Files only in one are reported.")
    parser.add_argument("labels", metavar="LABELS_CSV", help="file,cluster CSV")
    parser.add_argument("truth", metavar="TRUTH_CSV", help="file,label CSV")
    parser.add_argument("--out", metavar="CSV",
                        help="write the cluster x label contingency table here")
    parser.add_argument("--file-column", metavar="NAME",
                        help="TRUTH_CSV's column of file names (default: the one named file, "
                             "filename, image, path, filepath, name, ...)")
    parser.add_argument("--label-column", metavar="NAME",
                        help="TRUTH_CSV's column of labels (default: the one named label, "
                             "class, category, truth, target, ...)")
    parser.set_defaults(func=evaluate_command)


def evaluate_command(args: argparse.Namespace) -> int:
    try:
        result = evaluate(read_labels(args.labels),
                          read_truth(args.truth, args.file_column, args.label_column))
    except EvaluationInputError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from None
    print(f"{result.matched} file(s) in both tables")
    for side, names in (("labels", result.only_in_labels), ("truth", result.only_in_truth)):
        if names:
            more = f", ... ({len(names) - SHOWN} more)" if len(names) > SHOWN else ""
            print(f"{len(names)} file(s) only in the {side} CSV: "
                  f"{', '.join(names[:SHOWN])}{more}")
    for name, value in result.scores.items():
        print(f"  {name:<13} {value:.4f}")
    if args.out:
        table = result.contingency.reset_index()
        table.columns = [neutralise(str(column)) for column in table.columns]
        write_csv(table, args.out)
        print(f"wrote the contingency table to {args.out}")
    return 0
