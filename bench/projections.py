"""Cost of the map projections (PCA, UMAP, t-SNE) on PCA-reduced features.

    PYTHONPATH=. .venv/bin/python -m bench.projections --n 10000 --dims 100 --runs 2

Data: ``--n`` points in ``--dims`` dimensions (the size PCA leaves VGG features at:
94-111 components in bench/clustering_scale.py), drawn around 20 centres of
different spreads. Each method runs ``--runs`` times in one process, interleaved
(pca, umap, tsne, pca, ...), so machine noise hits all alike; the table gives the
median. UMAP's first call also compiles its numba code: timed apart as "first call".
Quality: the share of each point's 10 nearest neighbours (in the reduced space) that
stay among its 10 nearest on the map, on a sample of 2,000 points.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from bench._common import Timer, median, table, write_results
from clustering.reduce.projection import project_map
from clustering.settings import MAP_METHODS

NEIGHBOURS = 10
QUALITY_SAMPLE = 2000


def make_data(n: int, dims: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (20, dims))
    groups = rng.integers(0, 20, n)
    spread = rng.uniform(0.3, 0.9, 20)[groups, None]
    return (centres[groups] + rng.normal(0, 1, (n, dims)) * spread).astype(np.float32)


def neighbours_kept(X: np.ndarray, coords: np.ndarray, seed: int = 0) -> float:
    """Mean share of each sampled point's k nearest neighbours that the map keeps."""
    sample = np.random.default_rng(seed).choice(len(X), min(QUALITY_SAMPLE, len(X)), replace=False)
    def knn(data: np.ndarray) -> np.ndarray:
        model = NearestNeighbors(n_neighbors=NEIGHBOURS + 1).fit(data)
        return model.kneighbors(data[sample], return_distance=False)[:, 1:]
    high, low = knn(X), knn(coords)
    return float(np.mean([len(set(h) & set(l)) / NEIGHBOURS for h, l in zip(high, low)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--dims", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    X = make_data(args.n, args.dims)
    with Timer() as first:
        project_map(X[:200], "umap")  # numba compilation, paid once per process
    times: dict[str, list[float]] = {m: [] for m in MAP_METHODS}
    noise: dict[str, list[float]] = {m: [] for m in MAP_METHODS}
    quality: dict[str, float] = {}
    for run in range(args.runs):
        for method in MAP_METHODS:
            with Timer() as t:
                result = project_map(X, method, seed=run)
            times[method].append(t.seconds)
            noise[method].append(t.other_cores)
            if run == 0:
                quality[method] = neighbours_kept(X, result.coords)
            print(f"run {run + 1} {method}: {t.seconds:.2f} s (other cores busy "
                  f"{t.other_cores:.2f})", flush=True)
    pca = median(times["pca"])
    rows = [[m.upper(), f"{median(times[m]):.2f}", f"{median(times[m]) / pca:.0f}x",
             f"{quality[m]:.3f}", f"{median(noise[m]):.2f}"] for m in MAP_METHODS]
    print(f"\n{args.n:,} points x {args.dims} dims, median of {args.runs} run(s); "
          f"UMAP first call in a process (numba compile, 200 points): {first.seconds:.1f} s")
    print(table(["map", "seconds", "x PCA", f"{NEIGHBOURS}-NN kept", "other cores busy"], rows))
    write_results("projections", {"n": args.n, "dims": args.dims, "runs": args.runs,
                                  "seconds": times, "other_cores": noise,
                                  "neighbours_kept": quality,
                                  "umap_first_call_seconds": first.seconds,
                                  "finished": time.strftime("%Y-%m-%d %H:%M:%S")})


if __name__ == "__main__":
    main()
