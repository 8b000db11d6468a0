"""Options, progress bars and error handling shared by every command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from clustering.errors import (Cancelled, ClusterLensError, ConfigError, InputError, InvalidK,
                               WeightsUnavailable)
from clustering.features.extract import FeatureSet
from clustering.features.presets import known_model
from clustering.files.discover import Discovery, discover
from clustering.images.engine import Progress
from clustering.pipeline import compute_features
from clustering.settings import LAYERS, PRECISIONS, Settings

# Exit codes (documented in --help).
T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_K = 4
EXIT_WEIGHTS = 5
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0  success
  1  unexpected failure
  2  bad arguments or configuration file (.streamlit/clusterlens.toml)
  3  input missing or unusable, or no loadable images
  4  k not valid for this many images
  5  model weights unavailable or unusable
  130 interrupted (finished features stay cached)"""


class CommandError(ClusterLensError):
    """A failure to report in one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def add_input_options(parser: argparse.ArgumentParser, input_help: str | None = None) -> None:
    """INPUT plus the options that say how images are found and turned into features."""
    parser.add_argument("input", metavar="INPUT",
                        help=input_help or "a folder of images, a .zip of images, or one image")
    parser.add_argument("--model", default=Settings.model, metavar="MODEL",
                        type=arg_type(known_model),
                        help="feature extractor: vgg16 or vgg19 (ImageNet weights), "
                             "'handcrafted' (the offline colour+texture extractor, no "
                             "weights), a keras-hub preset name (clip_vit_base_patch32, "
                             "siglip2_base_patch16_224, dinov2_small, ...: looked up in "
                             "$CLUSTERLENS_MODELS/<name>/, then keras-hub's cache) or the "
                             "path of a preset folder (default: %(default)s)")
    parser.add_argument("--layer", choices=LAYERS, default=Settings.layer,
                        help="VGG layer: 'pooled' = global-average-pooled block5 (512 values, "
                             "small weights file); 'fc1'/'fc2' = 4096 values from the "
                             "fully-connected layers (big weights file) (default: %(default)s)")
    parser.add_argument("--weights", metavar="FILE",
                        help="a Keras .h5 weights file to use instead of looking in Keras' cache "
                             "($KERAS_HOME/models, default ~/.keras/models) or downloading")
    parser.add_argument("--precision", choices=PRECISIONS, default=Settings().precision,
                        help="arithmetic for the VGG network: bfloat16 is about twice as fast "
                             "on CPUs that have it (AVX-512 BF16 or AMX) and its features stay "
                             "within ~0.1%% of float32's; the default is bfloat16 on such "
                             "CPUs, float32 elsewhere (here: %(default)s)")
    add_reading_options(parser)


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """How images are read and where features are cached (every command that reads images)."""
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where computed features are kept between runs "
                             "(default: the user's cache folder, or $CLUSTERLENS_CACHE)")
    parser.add_argument("--no-recursive", dest="recursive", action="store_false",
                        help="only look at images directly in INPUT, not in sub-folders")
    parser.add_argument("--batch-size", type=positive_int, default=Settings.batch_size,
                        metavar="N", help="images per network call (default: %(default)s)")


def arg_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a parser that raises ``ValueError`` with a plain message."""
    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__  # argparse names the type in its messages
    return convert


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def settings_from_args(args: argparse.Namespace, **overrides) -> Settings:
    """The :class:`Settings` named by the shared options (plus ``overrides``)."""
    return Settings(model=args.model, layer=args.layer, weights=args.weights,
                    precision=args.precision, cache_dir=args.cache_dir,
                    recursive=args.recursive, batch_size=args.batch_size, **overrides)


def find_images(args: argparse.Namespace) -> Discovery:
    """Discover INPUT or fail with a one-line error."""
    try:
        found = discover(args.input, recursive=args.recursive)
    except InputError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from None
    if not found.images:
        raise CommandError(f"no images found in {args.input}", EXIT_INPUT)
    return found


def features_for(args: argparse.Namespace, found: Discovery,
                 settings: Settings | None = None) -> FeatureSet:
    """Features of the images found, with a progress bar; fails if none could load."""
    settings = settings or settings_from_args(args)
    with progress_bar(len(found.images), "features") as update:
        features = compute_features(found, settings, update)
    if not features.names:
        raise CommandError(f"none of the {len(found.images)} image(s) could be loaded "
                           f"(first: {features.skipped[0].name}: {features.skipped[0].reason})",
                           EXIT_INPUT)
    return features


# On a non-terminal (a CI log, a pipe) progress is one line this often, not a bar
# redrawn per image (which a log keeps as thousands of lines).
PLAIN_PROGRESS_EVERY_S = 5.0


def _plain_line(what: str, progress: Progress) -> str:
    eta = "" if progress.eta_s is None else f", {progress.eta_s:.0f} s left"
    return (f"{what}: {progress.done}/{progress.total} images ({progress.images_per_s:.1f}/s, "
            f"{progress.cached} cached, {progress.skipped} skipped{eta})")


@contextmanager
def progress_bar(total: int, what: str,
                 every_s: float = PLAIN_PROGRESS_EVERY_S) -> Iterator[Callable[[Progress], None]]:
    """A tqdm bar on stderr fed by :class:`Progress` reports; on a non-terminal, one
    plain line every ``every_s`` seconds and one at the end."""
    if not sys.stderr.isatty():
        state: dict = {"last": None, "shown": None, "at": -float("inf")}

        def plain(progress: Progress) -> None:
            state["last"] = progress
            if time.monotonic() - state["at"] >= every_s:
                print(_plain_line(what, progress), file=sys.stderr, flush=True)
                state["shown"], state["at"] = progress, time.monotonic()

        yield plain
        if state["last"] is not state["shown"]:  # where it ended
            print(_plain_line(what, state["last"]), file=sys.stderr, flush=True)
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=what, unit="img", file=sys.stderr, leave=False,
              dynamic_ncols=True) as bar:
        def update(progress: Progress) -> None:
            bar.n = progress.done
            bar.set_postfix(new=progress.computed, cached=progress.cached,
                            skipped=progress.skipped, refresh=False)
            bar.refresh()

        yield update


# Expected failures and their exit codes, most specific first: the one place the
# command line maps the library's errors.
EXIT_FOR: tuple[tuple[type[ClusterLensError], int, str], ...] = (
    (InvalidK, EXIT_K, "; choose a smaller --k"),
    (WeightsUnavailable, EXIT_WEIGHTS, ""),
    (ConfigError, EXIT_USAGE, ""),
    (Cancelled, EXIT_INTERRUPTED, ""),
    (ClusterLensError, EXIT_INPUT, ""),  # unusable input, images or tables
)


def run_guarded(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command, turning every known failure into one line on stderr and an exit code."""
    try:
        return func(args)
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except ClusterLensError as exc:
        code, hint = next((code, hint) for kind, code, hint in EXIT_FOR if isinstance(exc, kind))
        return _fail(f"{exc}{hint}", code)
    except KeyboardInterrupt:
        return _fail("interrupted; features finished so far are cached", EXIT_INTERRUPTED)
    except Exception as exc:  # last line of defence: never a traceback
        if os.environ.get("CLUSTERLENS_DEBUG"):
            raise
        return _fail(f"unexpected failure: {type(exc).__name__}: {exc}", EXIT_FAILURE)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code
