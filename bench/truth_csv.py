"""How long does a big truth CSV take to read, before and after issue 10?

Generates a 1,000,020-row truth CSV (~30 MB, ``file,label``; the size of the one
that took 61 s on the Evaluate page) and times, each in a fresh process (so peak
memory is its own), as medians of ``--runs`` runs with per-run paired ratios:

* ``read_truth`` (clustering/evaluate.py, the code the page used) and one
  ``evaluate`` against 1,000 clustered images: what each scoring did;
* ``read_truth`` alone, to compare readers like for like;
* ``read_truth_capped`` without a cap: the fast reader on the whole file (what a
  collection of 100,000+ images would allow);
* ``truth_from_bytes`` for 1,000 clustered images: refused at the row cap;
* ``truth_from_bytes`` called a second time with the same content: the cache.

    PYTHONPATH=. .venv/bin/python bench/truth_csv.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from bench._common import DATA, ROOT, median, table, write_results

ROWS = 1_000_020
IMAGES = 1_000

SETUP = """
import json, resource, time
from clustering.review.evaluate import evaluate, read_truth
from clustering.review.truth import TruthFileError, read_truth_capped, truth_from_bytes
path = {path!r}
labels = {{f"photos/img_{{i:07d}}.jpg": i % 5 for i in range({images})}}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
"""
METHODS = {
    "read_truth + evaluate (before)": "evaluate(labels, read_truth(path))",
    "read_truth alone (before)": "read_truth(path)",
    "read_truth_capped, no cap": "read_truth_capped(path)",
    f"truth_from_bytes, {IMAGES:,} images (refused at the cap)": """
try:
    truth_from_bytes(open(path, 'rb').read(), {images})
except TruthFileError:
    pass""",
    "truth_from_bytes, same content again (cached)": """
data = open(path, 'rb').read()
truth_from_bytes(data)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
truth_from_bytes(data)""",
}
REPORT = """
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": (peak - base) / 1024}))
"""


def make_truth_file(rows: int = ROWS) -> str:
    """The generated truth CSV (written once into bench/data)."""
    path = DATA / f"truth_{rows}.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        labels = np.random.default_rng(0).integers(0, 40, rows)
        body = "".join(f"photos/img_{i:07d}.jpg,cat_{label}\n" for i, label in enumerate(labels))
        path.write_text("file,label\n" + body)
    return str(path)


def measure(code: str, path: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; its time and peak memory above the start."""
    script = SETUP.format(path=path, images=IMAGES) + code.format(images=IMAGES) + REPORT
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = make_truth_file()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in METHODS}
    for _ in range(args.runs):  # interleaved, so load changes hit every method alike
        for name, code in METHODS.items():
            runs[name].append(measure(code, path))
    before = runs[next(iter(METHODS))]
    rows, summary = [], {}
    for name, results in runs.items():
        ratio = median([b["seconds"] / r["seconds"] for b, r in zip(before, results)])
        summary[name] = {"seconds": median([r["seconds"] for r in results]),
                         "peak_mb": median([r["peak_mb"] for r in results]),
                         "speedup_vs_before": ratio, "runs": results}
        rows.append([name, f"{summary[name]['seconds']:.3f}", f"{summary[name]['peak_mb']:.0f}",
                     f"{ratio:.1f}x"])
    size_mb = os.path.getsize(path) / 1024**2
    print(f"truth CSV: {ROWS:,} rows, {size_mb:.1f} MB; medians of {args.runs} runs")
    print(table(["method", "seconds", "peak MB above start", "speed-up (paired)"], rows))
    write_results("truth_csv", {"rows": ROWS, "file_mb": size_mb, "images": IMAGES,
                                "runs": args.runs, "results": summary})


if __name__ == "__main__":
    main()
