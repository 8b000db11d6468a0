"""How long does the dashboard's library work take when the user changes k?

On a k change the Choose k and Clusters pages call ``cluster_at`` (k-means++ with
per-image distances and silhouettes) and rebuild their figures (elbow, mean
silhouette, per-image silhouette plot, 2-D map) plus the cluster summary and the
labels CSV; Streamlit then serialises each figure to JSON. This measures exactly
that on synthetic features (default: 2,000 images x 512 values, like VGG's pooled
layer), as medians over several runs, and writes ``bench/results/dashboard_k.json``.

    PYTHONPATH=. .venv/bin/python bench/dashboard_k.py --images 2000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import plotly.io

from dashboard.charts import (elbow_figure, scatter_figure, silhouette_k_figure,
                               silhouette_samples_figure)
from clustering.export.tables import csv_bytes, labels_frame
from clustering.clusters.members import clusters_overview, default_names, typical_order
from clustering.pipeline import cluster_at, reduce_features, sweep_k
from clustering.settings import Settings
from clustering.reduce.pca import project_2d

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard_k.json"
BUDGET_MS = 1000.0


def synthetic_features(n: int, dim: int, groups: int, seed: int = 0) -> np.ndarray:
    """Non-negative features in ``groups`` loose blobs (like ReLU outputs of a CNN)."""
    rng = np.random.default_rng(seed)
    centres = rng.gamma(1.0, 1.0, (groups, dim))
    labels = rng.integers(0, groups, n)
    return np.maximum(centres[labels] + rng.normal(0, 0.8, (n, dim)), 0).astype(np.float32)


def k_change(reduced: np.ndarray, coords: np.ndarray, names: list[str], sweep, k: int,
             settings: Settings) -> dict[str, float]:
    """One k change, timed by part (seconds)."""
    times: dict[str, float] = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    result = cluster_at(reduced, k, settings)
    times["cluster_at"] = time.perf_counter() - start

    start = time.perf_counter()
    cluster_names = default_names(k)
    figures = [elbow_figure(sweep.ks_, sweep.inertias_, k, sweep.choice_.k),
               silhouette_k_figure(sweep.ks_, sweep.silhouettes_, k, sweep.choice_.k),
               silhouette_samples_figure(result.silhouettes, result.labels, names, cluster_names),
               scatter_figure(coords, result.labels, names, cluster_names)]
    times["figures"] = time.perf_counter() - start

    start = time.perf_counter()
    for figure in figures:
        plotly.io.to_json(figure, validate=False)  # what st.plotly_chart sends
    times["figures_to_json"] = time.perf_counter() - start

    start = time.perf_counter()
    clusters_overview(result.labels, result.distances, result.silhouettes, names, cluster_names)
    typical_order(result.labels, result.distances, 0)
    csv_bytes(labels_frame(names, result.labels, result.distances, coords, cluster_names))
    times["tables"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    times["total_cpu"] = time.process_time() - cpu_start  # all threads' CPU time
    return times


def median_ms(runs: list[dict[str, float]], part: str) -> float:
    return round(1000 * statistics.median(run[part] for run in runs), 1)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    settings = Settings()
    features = synthetic_features(args.images, args.dim, args.groups)
    names = [f"img_{i:05d}.jpg" for i in range(args.images)]
    reduction, reduce_s = timed(lambda: reduce_features(features, settings))
    reducer, reduced = reduction.reducer, reduction.reduced
    coords = project_2d(reduced)
    sweep, sweep_s = timed(lambda: sweep_k(reduced, settings))
    print(f"{args.images} images x {args.dim} features; PCA keeps {reducer.n_components_} "
          f"components ({reduce_s:.2f} s, once per run); k sweep 2..20 took {sweep_s:.1f} s "
          f"(once per run, cached)")

    k_change(reduced, coords, names, sweep, args.ks[0], settings)  # warm-up
    rows = []
    for k in args.ks:
        runs = [k_change(reduced, coords, names, sweep, k, settings) for _ in range(args.runs)]
        rows.append({"k": k, **{part: median_ms(runs, part) for part in runs[0]}})

    parts = ["cluster_at", "figures", "figures_to_json", "tables", "total", "total_cpu"]
    load = os.getloadavg()[0]
    print(f"\nmedian of {args.runs} runs, milliseconds (wall clock; total_cpu = CPU time of "
          f"all threads); load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'k':>4} " + " ".join(f"{p:>16}" for p in parts))
    for row in rows:
        print(f"{row['k']:>4} " + " ".join(f"{row[p]:>16.1f}" for p in parts))
    worst = max(row["total"] for row in rows)
    verdict = "within" if worst < BUDGET_MS else "OVER"
    print(f"\nslowest k change: {worst:.0f} ms ({verdict} the {BUDGET_MS:.0f} ms budget)")
    if load > (os.cpu_count() or 1):
        print("the machine was busy (load average above the CPU count): wall times are inflated")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "images": args.images, "dim": args.dim, "groups": args.groups, "runs": args.runs,
        "pca_components": int(reducer.n_components_), "reduce_s": round(reduce_s, 3),
        "sweep_s": round(sweep_s, 2), "median_ms": rows, "slowest_total_ms": worst,
        "budget_ms": BUDGET_MS, "cpu_count": os.cpu_count(), "load_average_1min": load,
        "python": platform.python_version(),
    }, indent=2))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
