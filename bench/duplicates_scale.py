"""The whole duplicate fit at 100,000 images: time and memory, step by step.

Synthetic inputs as in bench/clustering_scale.py: clustered 512-value features,
random 64-bit pHashes and random geometry rows, with 1 % of the images planted as
copies of another (hash 2 bits away, features and geometry nearly equal), so the
geometric check has real work. Each size runs in its own process; the peak memory
is the process's peak resident size above its size before the inputs were made.

    PYTHONPATH=. .venv/bin/python -m bench.duplicates_scale --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.clustering_scale import peak_mb, rss_mb, synthetic_features

RESULTS = Path(__file__).resolve().parent / "results" / "duplicates_scale.json"
TARGET_S, TARGET_MB = 60.0, 2048.0
COPIES = 0.01


def inputs(n: int, dim: int, seed: int = 0):
    """Signatures and a FeatureSet for ``n`` synthetic images (1 % planted copies)."""
    from clustering.review.geometry import GEOMETRY_DIM
    from clustering.review.duplicates import Signatures
    from clustering.features.extract import FeatureSet

    rng = np.random.default_rng(seed)
    features = synthetic_features(n, dim, seed)
    phash = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
    geometry = rng.integers(0, 256, (n, GEOMETRY_DIM), dtype=np.uint8)
    copies = rng.choice(n, int(n * COPIES), replace=False)
    originals = (copies + 1) % n
    flips = np.uint64(1) << rng.integers(0, 64, len(copies)).astype(np.uint64)
    phash[copies] = phash[originals] ^ flips
    features[copies] = features[originals] * 1.01
    geometry[copies] = geometry[originals]
    names = [f"img{i:06d}.jpg" for i in range(n)]
    sig = Signatures(names=names, hashes=[f"{i:032x}" for i in range(n)],
                     width=np.full(n, 3000), height=np.full(n, 2000),
                     file_size=np.full(n, 2_000_000), phash=phash,
                     phash_mirror=phash ^ np.uint64(0xF0F0F0F0F0F0F0F0), geometry=geometry)
    return sig, FeatureSet(names=names, hashes=sig.hashes, features=features,
                           extractor={"cache_key": "vgg16-pooled"}), len(copies)


def worker(n: int, dim: int) -> dict:
    """One size, in this process."""
    import cProfile
    import pstats

    from clustering.review.duplicates import DuplicateFinder

    base = rss_mb()
    sig, features, planted = inputs(n, dim)
    inputs_mb = rss_mb() - base
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    finder = DuplicateFinder().fit(sig, features)
    profile.disable()
    seconds = time.perf_counter() - start
    stats = pstats.Stats(profile).sort_stats("cumulative")
    steps = {f"{Path(k[0]).name}:{k[2]}": round(v[3], 2) for k, v in stats.stats.items()
             if k[2] in {"hash_pairs", "feature_pairs", "_feature_links", "verify_pairs",
                         "star_groups", "_merge_links", "hash_distance", "exact_pairs"}}
    found = int(sum(len(g) - 1 for g in finder.groups_))
    return {"n": n, "dim": dim, "seconds": seconds, "peak_above_mb": peak_mb() - base,
            "inputs_mb": inputs_mb, "steps_s": steps, "planted_copies": planted,
            "copies_found": found, "candidate_pairs": len(finder.pairs_) + len(finder.similar_)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.dim)))
        return 0
    cases = []
    for n in map(int, args.sizes.split(",")):
        out = subprocess.run([sys.executable, "-m", "bench.duplicates_scale", "--worker", str(n),
                              "--dim", str(args.dim)], capture_output=True, text=True, check=True)
        case = json.loads(out.stdout.strip().splitlines()[-1])
        cases.append(case)
        print(f"{n:>7,} x {args.dim}: fit {case['seconds']:.1f} s, peak +{case['peak_above_mb']:.0f} MB"
              f" (inputs {case['inputs_mb']:.0f} MB), {case['candidate_pairs']:,} candidates, "
              f"{case['copies_found']}/{case['planted_copies']} planted copies found; "
              f"steps (s): {case['steps_s']}", flush=True)
    big = max(cases, key=lambda c: c["n"])
    checks = [[f"duplicates fit, {big['n']:,} x {args.dim}", big["seconds"], f"< {TARGET_S} s",
               "met" if big["seconds"] < TARGET_S else "MISSED"],
              [f"peak memory, {big['n']:,}", big["peak_above_mb"], f"< {TARGET_MB:.0f} MB",
               "met" if big["peak_above_mb"] < TARGET_MB else "MISSED"]]
    for row in checks:
        print(f"  {row[0]:36} {row[1]:10.1f}  {row[2]:12} {row[3]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cases": cases, "checks": checks}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
