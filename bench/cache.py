"""The feature cache: a cold run, warm reruns, and a rerun after adding 10 images.

On a folder of 1,000 generated 3000x2000 JPEG photos (the 200 of bench/extraction.py
plus 800 more of the same kind; made once under bench/data/), at the default
precision unless ``--precision`` says otherwise:

* **feature stage, in process** (:func:`clustering.pipeline.compute_features`, the
  CLI's code path; each run opens the cache afresh as a new process would, with its
  stat index, so unchanged files are not even read): cold
  (empty cache), warm (median of ``--runs``; the first warm run, which also merges
  the cold run's many small cache chunks, is shown on its own), and after adding
  10 new photos (only those 10 are computed);
* **whole CLI** (``python -m clustering cluster``, a subprocess: interpreter start,
  imports, features, PCA, the k sweep, exports): cold and warm, so the fixed costs
  that no feature cache can remove are visible.

    PYTHONPATH=. .venv/bin/python bench/cache.py [--images 1000] [--runs 3] [--no-cli]

Results: bench/results/cache.json. Weights are random (speed is the real one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (RANDOM_WEIGHTS_NOTE, ROOT, Timer, link_folder, median,
                           photo_folder, random_keras_home, table, wait_for_quiet,
                           write_results)

ADDED = 10


NOISE: list[float] = []  # cores taken by other processes / VMs during each timed run


def feature_stage(folder: Path, settings, quiet_wait: float) -> tuple[float, int, int]:
    """Seconds, computed and cached counts of one in-process feature stage."""
    from clustering.files.discover import discover
    from clustering.pipeline import compute_features

    wait_for_quiet(quiet_wait)
    with Timer() as t:
        features = compute_features(discover(folder), settings)
    NOISE.append(t.other_cores + t.stolen_cores)
    return t.seconds, features.computed, features.cached


def cli(folder: Path, cache_dir: Path, precision: str, out: Path, quiet_wait: float) -> float:
    wait_for_quiet(quiet_wait)
    cmd = [sys.executable, "-m", "clustering", "cluster", str(folder), "--out", str(out),
           "--cache-dir", str(cache_dir), "--precision", precision]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with Timer() as t:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    NOISE.append(t.other_cores + t.stolen_cores)
    return t.seconds


def main(argv: list[str] | None = None) -> int:
    from clustering.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="photos (default: 1000)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (default: 3)")
    parser.add_argument("--precision", choices=("float32", "bfloat16"),
                        default=Settings().precision,
                        help="network precision (default: the library default, %(default)s)")
    parser.add_argument("--no-cli", dest="cli", action="store_false",
                        help="skip the CLI subprocess runs (cold and warm)")
    parser.add_argument("--quiet-wait", type=float, default=60,
                        help="before each run, wait up to this many seconds for a quiet CPU")
    args = parser.parse_args(argv)

    random_keras_home(["vgg16"])
    photos = photo_folder("photos", args.images + ADDED)
    folder = link_folder("cache-input", photos[: args.images])
    total_mb = sum(p.stat().st_size for p in photos[: args.images]) / 1e6
    print(f"{args.images} photos 3000x2000 ({total_mb:,.0f} MB of JPEG), precision "
          f"{args.precision}; {RANDOM_WEIGHTS_NOTE}", flush=True)

    from clustering.features.keras_import import import_keras

    import_keras()
    from clustering.features.vgg import VGGExtractor

    VGGExtractor("vgg16", precision=args.precision, allow_download=False).load()  # build once

    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    results: dict = {"images": args.images, "jpeg_mb": total_mb}
    try:
        settings = Settings(precision=args.precision, cache_dir=str(work / "cache"))
        cold, computed, _ = feature_stage(folder, settings, args.quiet_wait)
        assert computed == args.images, computed
        print(f"feature stage cold: {cold:.1f} s ({args.images / cold:.2f} img/s)", flush=True)
        warm = []
        for _ in range(args.runs + 1):
            seconds, computed, cached = feature_stage(folder, settings, args.quiet_wait)
            assert computed == 0 and cached == args.images, (computed, cached)
            warm.append(seconds)
        print(f"feature stage warm: first {warm[0]:.2f} s, then {', '.join(f'{w:.2f}' for w in warm[1:])} s",
              flush=True)
        for p in photos[args.images:]:
            os.link(p, folder / p.name)
        added, computed, cached = feature_stage(folder, settings, args.quiet_wait)
        assert computed == ADDED and cached == args.images, (computed, cached)
        print(f"feature stage after adding {ADDED}: {added:.2f} s", flush=True)
        for p in photos[args.images:]:
            (folder / p.name).unlink()
        results["feature_stage"] = {"cold_s": cold, "first_warm_s": warm[0],
                                    "warm_s": warm[1:], "warm_median_s": median(warm[1:]),
                                    "added_s": added, "added": ADDED,
                                    "speedup": cold / median(warm[1:])}
        if args.cli:
            cold_cli = cli(folder, work / "cli-cache", args.precision, work / "out",
                           args.quiet_wait)
            warm_cli = [cli(folder, work / "cli-cache", args.precision, work / "out",
                            args.quiet_wait) for _ in range(args.runs + 1)]
            print(f"CLI cold {cold_cli:.1f} s; warm first {warm_cli[0]:.2f} s, then "
                  f"{', '.join(f'{w:.2f}' for w in warm_cli[1:])} s", flush=True)
            results["cli"] = {"cold_s": cold_cli, "first_warm_s": warm_cli[0],
                              "warm_s": warm_cli[1:], "warm_median_s": median(warm_cli[1:]),
                              "speedup": cold_cli / median(warm_cli[1:])}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)

    fs = results["feature_stage"]
    rows = [["feature stage (in process)", fs["cold_s"], fs["first_warm_s"], fs["warm_median_s"],
             fs["speedup"], f"{fs['added_s']:.2f} s ({ADDED} computed)"]]
    if "cli" in results:
        c = results["cli"]
        rows.append(["whole CLI `cluster` (subprocess)", c["cold_s"], c["first_warm_s"],
                     c["warm_median_s"], c["speedup"], "–"])
    headers = ["what", "cold s", "first warm s", f"warm s (median of {args.runs})",
               "cold / warm", f"+{ADDED} images"]
    print()
    print(f"Feature cache, {args.images} photos 3000x2000 ({total_mb:,.0f} MB), {args.precision}")
    print(table(headers, rows))
    print(f"other processes / VMs took {median(NOISE):.2f} cores (median over runs; "
          f"max {max(NOISE):.2f})")
    results["other_cores"] = NOISE
    path = write_results("cache", {"settings": vars(args), "note": RANDOM_WEIGHTS_NOTE,
                                   **results, "table": {"headers": headers, "rows": rows}})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
