"""Choosing k and re-clustering at 1k, 10k and 100k images, with memory, on synthetic features.

The features are synthetic "clustered blobs" shaped like CNN features: 12 groups in
a 256-dimensional latent space (spread decaying slowly over the dimensions) mapped
linearly to 512 or 4096 dimensions, passed through a ReLU (non-negative, like VGG's)
and with a little isotropic noise; PCA 0.95 keeps ~90-180 dimensions of them, in
the range real VGG features of photo collections need. Each (images, dimensions) case runs in its own subprocess,
which times, as the pipeline runs them (clustering.pipeline, default Settings):

* ``reduce``: L2 normalisation + PCA keeping 95 % of the variance (reduce_features);
* ``sweep``: k-means++ for k = 2..20 with the mean silhouette (sweep_k);
* ``recluster``: one re-cluster at a new k, with per-image silhouettes (cluster_at);
* ``project``: the 2-D projection for the scatter plot (project_2d);
* ``duplicates``: the duplicate search of clustering.review.duplicates on the raw features:
  its feature k-NN search (faiss, exact inner product, ``feature_pairs``) and, for the
  whole of :class:`~clustering.review.duplicates.DuplicateFinder`, also its pHash k-NN with
  random 64-bit hashes standing in for the signatures of real files;

and reads the peak resident memory (``ru_maxrss``) above the process's RSS after its
imports, after every step. Memory per image should stay flat as the count grows
(no n x n matrix anywhere).

    PYTHONPATH=. .venv/bin/python bench/clustering_scale.py [--sizes 1000,10000,100000]
        [--dims 512,4096] [--runs 3]

The exact duplicate search costs n^2 x d: at 100k x 4096 it is skipped unless
``--duplicates-4096-100k`` is given, and estimated from 10k (x 100).
Results: bench/results/clustering_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, median, table, write_results

LATENT = 256
GROUPS = 12
NEW_K = 7  # the "new k" of the re-cluster timing

TARGETS = {"recluster_10k_s": 0.5, "sweep_10k_s": 10.0, "duplicates_100k_512_s": 60.0,
           "memory_10k_mb": 2048.0}


def synthetic_features(n: int, dim: int, seed: int = 0, chunk: int = 10_000) -> np.ndarray:
    """``n`` x ``dim`` float32 clustered, non-negative features (written chunk by chunk)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, (GROUPS, LATENT)).astype(np.float32)
    spread = (1.0 / np.arange(1, LATENT + 1) ** 0.25).astype(np.float32)
    mixing = rng.normal(0, 1 / np.sqrt(LATENT), (LATENT, dim)).astype(np.float32)
    sizes = rng.dirichlet(np.full(GROUPS, 3.0))
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        labels = rng.choice(GROUPS, m, p=sizes)
        latent = centres[labels] + rng.standard_normal((m, LATENT), dtype=np.float32) * spread
        block = latent @ mixing + 0.5
        np.maximum(block, 0, out=block)
        block += np.abs(rng.standard_normal((m, dim), dtype=np.float32)) * 0.05
        out[start:start + m] = block
    return out


IVF_FROM = 50_000  # also time an approximate (IVF) k-NN from this many images
IVF_LISTS, IVF_PROBES = 1024, 16


def ivf_knn(features: np.ndarray, min_cosine: float, k: int = 17,
            queries: int = 1000) -> tuple[float, float, float]:
    """A possible replacement for the exact k-NN of clustering.review.duplicates: faiss
    IVF-Flat (inner product on L2-normalised rows). Returns its seconds (train, add,
    search all), its recall@k against the exact search for ``queries`` random rows,
    and its recall of the exact neighbours at cosine >= ``min_cosine`` (the
    candidate duplicates)."""
    import faiss

    x = np.ascontiguousarray(features, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    t = time.perf_counter()
    quantizer = faiss.IndexFlatIP(x.shape[1])
    index = faiss.IndexIVFFlat(quantizer, x.shape[1], IVF_LISTS, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    index.train(x[rng.choice(len(x), min(len(x), 40 * IVF_LISTS), replace=False)])
    index.add(x)
    index.nprobe = IVF_PROBES
    _, found = index.search(x, k)
    seconds = time.perf_counter() - t
    rows = rng.choice(len(x), queries, replace=False)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    cos, truth = exact.search(x[rows], k)
    hits = sum(len(set(a) & set(b)) for a, b in zip(found[rows], truth))
    close = [(set(a), set(b[c >= min_cosine])) for a, b, c in zip(found[rows], truth, cos)]
    wanted = sum(len(b) for _, b in close)
    close_hits = sum(len(a & b) for a, b in close)
    return seconds, hits / truth.size, close_hits / wanted if wanted else float("nan")


def rss_mb() -> float:
    """Current resident memory of this process, MB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(n: int, dim: int, runs: int, duplicates: bool) -> dict:
    """One case, in this process: times and memory as JSON-able dict."""
    import threadpoolctl  # noqa: F401  (imported by sklearn anyway; here before the baseline)

    from clustering.review.duplicates import DuplicateFinder, Signatures, feature_pairs, thresholds
    from clustering.features.extract import FeatureSet
    from clustering.pipeline import cluster_at, reduce_features, sweep_k
    from clustering.settings import Settings
    from clustering.reduce.pca import project_2d

    base = rss_mb()
    out: dict = {"n": n, "dim": dim, "baseline_rss_mb": base, "seconds": {}, "peak_above_mb": {}}

    def mark(step: str, seconds: float | list[float]) -> None:
        out["seconds"][step] = seconds
        out["peak_above_mb"][step] = peak_mb() - base

    t = time.perf_counter()
    features = synthetic_features(n, dim)
    mark("generate", time.perf_counter() - t)
    settings = Settings()

    t = time.perf_counter()
    reduction = reduce_features(features, settings)
    reducer, reduced = reduction.reducer, reduction.reduced
    mark("reduce", time.perf_counter() - t)
    out["pca_components"] = int(reducer.n_components_)

    t = time.perf_counter()
    sweep = sweep_k(reduced, settings)
    mark("sweep", time.perf_counter() - t)
    out["suggested_k"] = int(sweep.choice_.k)

    times = []
    for run in range(runs):
        t = time.perf_counter()
        cluster_at(reduced, NEW_K + run % 2, settings)  # a new k each time, as in the UI
        times.append(time.perf_counter() - t)
    mark("recluster", times)

    t = time.perf_counter()
    project_2d(reduced, settings.seed)
    mark("project", time.perf_counter() - t)

    if duplicates:
        key = "vgg16-pooled" if dim == 512 else "vgg16-fc1"
        t = time.perf_counter()
        feature_pairs(features, thresholds(0.5, key).min_cosine)
        mark("duplicates_knn", time.perf_counter() - t)

        rng = np.random.default_rng(1)
        phash = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64)
        names = [f"img{i:06d}.jpg" for i in range(n)]
        sig = Signatures(names=names, hashes=[f"{i:032x}" for i in range(n)],
                         width=np.full(n, 3000), height=np.full(n, 2000),
                         file_size=np.full(n, 2_000_000), phash=phash,
                         phash_mirror=phash ^ np.uint64(0xF0F0F0F0F0F0F0F0))
        fs = FeatureSet(names=names, hashes=sig.hashes, features=features,
                        extractor={"cache_key": key})
        t = time.perf_counter()
        DuplicateFinder().fit(sig, fs)
        mark("duplicates_all", time.perf_counter() - t)
        if n >= IVF_FROM:
            seconds, recall, close = ivf_knn(features, thresholds(0.5, key).min_cosine)
            mark("duplicates_ivf", seconds)
            out["ivf_recall"], out["ivf_recall_close"] = recall, close
            out["dup_min_cosine"] = thresholds(0.5, key).min_cosine
    out["features_mb"] = features.nbytes / 2**20
    out["peak_above_mb_total"] = peak_mb() - base
    return out


def run_case(n: int, dim: int, runs: int, duplicates: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(n), str(dim),
           "--runs", str(runs)] + ([] if duplicates else ["--no-duplicates"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"case {n} x {dim} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--dims", default="512,4096")
    parser.add_argument("--runs", type=int, default=3, help="re-cluster runs (default: 3)")
    parser.add_argument("--duplicates-4096-100k", dest="dup_big", action="store_true",
                        help="also run the exact duplicate search at 100k x 4096 (long)")
    parser.add_argument("--worker", nargs=2, type=int, metavar=("N", "DIM"), help=argparse.SUPPRESS)
    parser.add_argument("--no-duplicates", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args.runs, not args.no_duplicates)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    dims = [int(d) for d in args.dims.split(",")]
    cases = []
    for dim in dims:
        for n in sizes:
            dup = not (n >= 100_000 and dim > 512) or args.dup_big
            t = time.perf_counter()
            case = run_case(n, dim, args.runs, dup)
            case["wall_s"] = time.perf_counter() - t
            cases.append(case)
            s = case["seconds"]
            print(f"{n:>7,} x {dim}: PCA -> {case['pca_components']} dims; reduce "
                  f"{s['reduce']:.2f} s, sweep {s['sweep']:.2f} s, recluster "
                  f"{median(s['recluster']):.3f} s, project {s['project']:.3f} s, duplicates "
                  f"{s.get('duplicates_knn', float('nan')):.2f} s; peak "
                  f"+{case['peak_above_mb_total']:,.0f} MB", flush=True)

    def find(n: int, dim: int) -> dict | None:
        return next((c for c in cases if c["n"] == n and c["dim"] == dim), None)

    rows = []
    for c in cases:
        s = c["seconds"]
        knn = s.get("duplicates_knn")
        note = ""
        if knn is None:
            small = find(c["n"] // 10, c["dim"])
            if small and "duplicates_knn" in small["seconds"]:
                knn = small["seconds"]["duplicates_knn"] * 100
                note = " (est. 100x the 10k time)"
        smaller = [o for o in cases if o["dim"] == c["dim"] and o["n"] < c["n"]]
        marginal = float("nan")
        if smaller:
            prev = max(smaller, key=lambda o: o["n"])
            marginal = ((c["peak_above_mb_total"] - prev["peak_above_mb_total"]) * 1024
                        / (c["n"] - prev["n"]))
        c["marginal_kb_per_image"] = marginal
        rows.append([f"{c['n']:,}", c["dim"], c["pca_components"], s["reduce"], s["sweep"],
                     median(s["recluster"]), s["project"],
                     (f"{knn:.2f}{note}" if knn is not None else "–"),
                     s.get("duplicates_all", float("nan")), c["peak_above_mb_total"],
                     marginal, c["dim"] * 4 / 1024])
    headers = ["images", "dim", "PCA dims", "reduce s", "sweep 2..20 s", "re-cluster s",
               "2-D projection s", "dup. feature k-NN s", "dup. finder (all) s",
               "peak MB above start", "marginal KB / image", "feature KB / image"]
    checks = []
    for dim in dims:
        c10 = find(10_000, dim)
        if c10:
            checks.append((f"re-cluster at a new k, 10k x {dim}", median(c10["seconds"]["recluster"]),
                           TARGETS["recluster_10k_s"], "s"))
            checks.append((f"k sweep 2..20, 10k x {dim}", c10["seconds"]["sweep"],
                           TARGETS["sweep_10k_s"], "s"))
            checks.append((f"memory above start, 10k x {dim}", c10["peak_above_mb_total"],
                           TARGETS["memory_10k_mb"], "MB"))
    c100 = find(100_000, 512)
    if c100 and "duplicates_knn" in c100["seconds"]:
        checks.append(("duplicate search (feature k-NN), 100k x 512",
                       c100["seconds"]["duplicates_knn"], TARGETS["duplicates_100k_512_s"], "s"))
        checks.append(("duplicate finder (hash + feature k-NN), 100k x 512",
                       c100["seconds"]["duplicates_all"], TARGETS["duplicates_100k_512_s"], "s"))
    print()
    print("Clustering at scale (synthetic clustered features; default Settings: L2, PCA 0.95, "
          f"k-means++ with n_init {Settings_n_init()})")
    print(table(headers, rows))
    check_rows = [[what, round(value, 3), f"< {target:g} {unit}",
                   "met" if value < target else "MISSED"] for what, value, target, unit in checks]
    print()
    print(table(["target", "measured", "target", ""], check_rows))
    ivf = [[f"{c['n']:,}", c["dim"], c["seconds"]["duplicates_knn"],
            c["seconds"]["duplicates_ivf"], f"{c['ivf_recall']:.1%}",
            f"{c['ivf_recall_close']:.1%} (cos >= {c['dup_min_cosine']})"]
           for c in cases if "duplicates_ivf" in c["seconds"] and "duplicates_knn" in c["seconds"]]
    if ivf:
        print()
        print(f"Not in the library: approximate k-NN (faiss IVF{IVF_LISTS}, nprobe {IVF_PROBES}) "
              "as a possible replacement of the exact search")
        print(table(["images", "dim", "exact k-NN s", "IVF k-NN s", "recall@17",
                     "recall of candidate pairs"], ivf))
    linear = []
    for dim in dims:
        per = [(c["n"], c["peak_above_mb_total"] * 1024 / c["n"]) for c in cases if c["dim"] == dim]
        linear.append({"dim": dim, "kb_per_image": per})
    path = write_results("clustering_scale", {
        "settings": vars(args), "cases": cases, "targets": TARGETS, "checks": check_rows,
        "memory_per_image": linear, "ivf": ivf, "table": {"headers": headers, "rows": rows}})
    print(f"\nwrote {path}")
    return 0


def Settings_n_init() -> int:  # noqa: N802
    from clustering.settings import Settings

    return Settings().n_init


if __name__ == "__main__":
    sys.exit(main())
