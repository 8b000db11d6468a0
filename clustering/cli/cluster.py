"""``scan``, ``features`` and ``cluster``: the core pipeline from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from clustering.cli import ray_engine
from clustering.cli.common import (EXIT_INPUT, CommandError, add_input_options, arg_type,
                                   features_for, find_images, positive_int, settings_from_args)
from clustering.files.discover import Discovery, Skipped
from clustering.export.tables import json_bytes, skipped_frame, write_csv
from clustering.features.extract import FeatureSet
from clustering.clusters.kmeans import check_k
from clustering.errors import ImageLoadError
from clustering.images.loading import open_image
from clustering.export.report import build_report
from clustering.export.run_folder import write_run
from clustering.pipeline import analyse
from clustering.review.names import names_for_run
from clustering.reduce.pca import parse_pca
from clustering.review.words import parse_word_list
from clustering.settings import MAP_METHODS
from clustering.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_scan(subparsers)
    _register_features(subparsers)
    _register_cluster(subparsers)


# ---- scan ----------------------------------------------------------------------------

def _register_scan(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scan", help="find images and check that each one decodes",
        description="Find the images in INPUT, decode each one, and list those refused "
                    "with the reason. Writes skipped.csv with --out.")
    parser.add_argument("input", metavar="INPUT", help="a folder, a .zip, or one image")
    parser.add_argument("--out", metavar="CSV", help="write the refused files here (file,reason)")
    parser.add_argument("--no-recursive", dest="recursive", action="store_false",
                        help="only look at images directly in INPUT")
    parser.set_defaults(func=scan)


def scan(args: argparse.Namespace) -> int:
    found = find_images(args)
    skipped = list(found.skipped)
    for ref in found.images:
        try:
            open_image(ref.read_bytes(), draft_size=64)
        except (ImageLoadError, OSError) as exc:
            skipped.append(Skipped(ref.name, str(exc)))
    good = len(found.images) - (len(skipped) - len(found.skipped))
    print(f"{good} loadable image(s), {len(skipped)} skipped, in {found.root}")
    for item in skipped:
        print(f"  skipped {item.name}: {item.reason}")
    if args.out:
        write_csv(skipped_frame(skipped), args.out)
        print(f"skipped files written to {args.out}")
    return 0


# ---- features ------------------------------------------------------------------------

def _register_features(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "features", help="extract features to a .npz file",
        description="Extract features of every image in INPUT (using and filling the "
                    "feature cache) and save them to a .npz file that 'cluster' accepts.")
    add_input_options(parser)
    parser.add_argument("--out", required=True, metavar="FILE.npz|DIR",
                        help="where to save them (with --engine ray: a dataset folder)")
    ray_engine.add_engine_options(parser)
    parser.set_defaults(func=features)


def features(args: argparse.Namespace) -> int:
    if args.engine == "ray":
        return ray_engine.features(args)
    found = find_images(args)
    feats = features_for(args, found)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, names=np.asarray(feats.names), hashes=np.asarray(feats.hashes),
                        features=feats.features, root=np.asarray(found.root),
                        extractor=np.frombuffer(json_bytes(feats.extractor), dtype=np.uint8),
                        skipped=np.asarray([[s.name, s.reason] for s in
                                            found.skipped + feats.skipped] or np.empty((0, 2)),
                                           dtype=str))
    print(f"{len(feats.names)} image(s): {feats.computed} computed, {feats.cached} from cache, "
          f"{len(found.skipped) + len(feats.skipped)} skipped; features "
          f"{feats.features.shape[1]}-d saved to {out}")
    return 0


def load_feature_file(path: Path) -> tuple[FeatureSet, str]:
    """A :class:`FeatureSet` and its input root from a file written by ``features``."""
    import json

    try:
        with np.load(path, allow_pickle=False) as data:
            skipped = [Skipped(str(n), str(r)) for n, r in data["skipped"]]
            fs = FeatureSet(names=data["names"].tolist(), hashes=data["hashes"].tolist(),
                            features=data["features"], skipped=skipped,
                            extractor=json.loads(data["extractor"].tobytes()))
            return fs, str(data["root"])
    except (OSError, ValueError, KeyError) as exc:
        raise CommandError(f"not a features file written by 'features': {path} ({exc})",
                           EXIT_INPUT) from None


# ---- cluster -------------------------------------------------------------------------

def _name_words(path: str | None) -> list[str] | None:
    """The ``--name-words`` list, or None for the built-in one."""
    if path is None:
        return None
    try:
        return parse_word_list(Path(path).read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}", EXIT_INPUT) from None


def k_value(text: str) -> int | None:
    """argparse type for --k: a whole number, or 'auto' (None)."""
    if text.lower() == "auto":
        return None
    return positive_int(text)


def k_range(text: str) -> tuple[int, int]:
    """argparse type for --k-range: 'MIN:MAX'."""
    try:
        low, high = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX such as 2:20, got {text!r}") from None
    if not 2 <= low <= high:
        raise argparse.ArgumentTypeError(f"need 2 <= MIN <= MAX, got {text!r}")
    return low, high


def _register_cluster(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cluster", help="cluster images and write labels.csv, skipped.csv, run.json",
        description="Extract features (cached), reduce them with PCA, choose k (or take "
                    "--k), cluster with k-means++ and write labels.csv, skipped.csv and "
                    "run.json into --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_options(parser, "a folder of images, a .zip, one image, or a .npz written by "
                              "'features'")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    parser.add_argument("--k", type=k_value, default=None, metavar="N|auto",
                        help="number of clusters, or 'auto' to choose it from the elbow and "
                             "silhouette of a sweep over --k-range (default: auto)")
    parser.add_argument("--k-range", type=k_range, default=(Settings.k_min, Settings.k_max),
                        metavar="MIN:MAX",
                        help="k values to sweep when --k is auto; capped at the number of "
                             f"images - 1 (default: {Settings.k_min}:{Settings.k_max})")
    parser.add_argument("--pca", type=arg_type(parse_pca), default=Settings.pca,
                        metavar="N|F|none",
                        help="PCA before clustering: N components, a fraction F of variance "
                             "to keep (e.g. 0.95), or 'none' (default: %(default)s)")
    parser.add_argument("--whiten", action="store_true", help="whiten the PCA components")
    parser.add_argument("--no-l2", dest="normalize", action="store_false",
                        help="do not L2-normalise features before PCA")
    parser.add_argument("--seed", type=int, default=Settings.seed,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--map", choices=MAP_METHODS, default=Settings.map,
                        help="2-D map (x, y in labels.csv) of the PCA-reduced features: 'pca' "
                             "(instant), 'umap' or 'tsne' (separate clusters better, cost "
                             "seconds to minutes) (default: %(default)s)")
    parser.add_argument("--report", metavar="FILE.html",
                        help="also write a self-contained HTML report (charts, map, each "
                             "cluster's name, size and typical images) to share")
    parser.add_argument("--name-words", metavar="FILE.txt",
                        help="CLIP/SigLIP runs: name the clusters from these words or phrases "
                             "(one per line) instead of the built-in everyday photo subjects")
    ray_engine.add_engine_options(parser)
    parser.set_defaults(func=cluster)


def cluster(args: argparse.Namespace) -> int:
    if args.engine == "ray":
        return ray_engine.cluster(args)
    words = _name_words(args.name_words)  # a bad list fails before any work
    settings = settings_from_args(args, pca=args.pca, whiten=args.whiten,
                                  normalize=args.normalize, k=args.k, k_min=args.k_range[0],
                                  k_max=args.k_range[1], seed=args.seed, map=args.map)
    if str(args.input).lower().endswith(".npz"):
        feats, root = load_feature_file(Path(args.input))
        found = Discovery(root=root)
    else:
        found = find_images(args)
        if args.k is not None:
            check_k(args.k, len(found.images))
        feats = features_for(args, found, settings)
    result = analyse(feats, settings, found)
    suggestions = names_for_run(result, words=words)
    paths = write_run(result, args.out, suggestions.names)
    sizes = np.bincount(result.clustering.labels, minlength=result.clustering.k)
    print(f"clustered {len(feats.names)} image(s) into k={result.clustering.k} clusters "
          f"(sizes {', '.join(map(str, sizes))}); {len(result.skipped)} skipped")
    print(f"k: {result.k_reason}")
    print(f"features: {feats.extractor.get('label', '')}; {feats.computed} computed, "
          f"{feats.cached} from cache")
    print(f"PCA: {result.reducer.n_components_} components; map: {result.map.method} "
          f"({result.map.seconds:.1f} s)")
    print(f"cluster names ({suggestions.reason}): "
          + "; ".join(f"{c}: {name}" for c, name in suggestions.names.items()))
    print(f"wrote {paths['labels']}, {paths['skipped']}, {paths['run']}, {paths['model']}")
    if args.report:
        report = Path(args.report)
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_bytes(build_report(result, suggestions.names))
        print(f"wrote the report to {report}")
    return 0
