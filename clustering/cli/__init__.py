"""The ``python -m clustering`` command line: one sub-command per stage."""

from __future__ import annotations

import argparse
import sys

from clustering.cli import assign, cluster, compare, inspect, jobs, search
from clustering.cli.common import EXIT_CODES_HELP, run_guarded

# each module's register() adds its sub-commands
COMMANDS = (cluster, inspect, compare, assign, search, jobs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clustering",
        description="ClusterLens: group images by what they look like (VGG16/VGG19 "
                    "features or an offline extractor, PCA, k-means++).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    for sub in subparsers.choices.values():
        sub.epilog = sub.epilog or EXIT_CODES_HELP
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_guarded(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
