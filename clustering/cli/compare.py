"""``compare``: how two runs' labels agree (ARI, NMI, contingency, images that moved)."""

from __future__ import annotations

import argparse

from clustering.cli.common import EXIT_INPUT, CommandError
from clustering.review.compare import compare_label_files, contingency_frame
from clustering.errors import EvaluationInputError
from clustering.export.tables import write_csv

SHOWN = 20  # moved files listed on the terminal (all of them go to --moved)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare two runs' labels.csv: ARI, NMI, contingency, moved images",
        description="Compare two clusterings of the same images (e.g. VGG16 vs VGG19): "
                    "adjusted Rand index and normalised mutual information, the table of "
                    "images per (cluster in A, cluster in B), and the images that moved: "
                    "clusters are paired one-to-one to keep the most images together "
                    "(Hungarian algorithm) and an image moved when its B cluster is not "
                    "the one paired with its A cluster.")
    parser.add_argument("labels_a", metavar="LABELS_A.csv", help="labels.csv of run A")
    parser.add_argument("labels_b", metavar="LABELS_B.csv", help="labels.csv of run B")
    parser.add_argument("--out", metavar="CSV", help="write the contingency table here")
    parser.add_argument("--moved", metavar="CSV",
                        help="write the moved images here (file,cluster_a,cluster_b,matched_b)")
    parser.set_defaults(func=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    try:
        result = compare_label_files(args.labels_a, args.labels_b)
    except EvaluationInputError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from None
    print(f"{result.matched} file(s) in both runs; A has {len(result.contingency.index)} "
          f"cluster(s), B has {len(result.contingency.columns)}")
    for side, names in (("A", result.only_in_a), ("B", result.only_in_b)):
        if names:
            print(f"{len(names)} file(s) only in run {side}, e.g. {names[0]}")
    print(f"  ari           {result.ari:.4f}")
    print(f"  nmi           {result.nmi:.4f}")
    pairs = ", ".join(f"{a}->{b}" for a, b in result.matching.items())
    print(f"cluster pairing (A->B): {pairs}")
    print(f"{len(result.moved)} image(s) moved ({result.agreement:.1%} stayed together)")
    for row in result.moved.head(SHOWN).itertuples():
        print(f"  {row.file}: A {row.cluster_a} -> B {row.cluster_b}")
    if len(result.moved) > SHOWN:
        print(f"  ... {len(result.moved) - SHOWN} more" + ("" if args.moved else
                                                           " (all of them with --moved CSV)"))
    if args.out:
        write_csv(contingency_frame(result), args.out)
        print(f"wrote the contingency table to {args.out}")
    if args.moved:
        write_csv(result.moved, args.moved)
        print(f"wrote the moved images to {args.moved}")
    return 0
