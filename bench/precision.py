"""Are bfloat16 features close enough to float32 ones to be the default?

Runs the VGG network at float32 and under Keras' ``mixed_bfloat16`` policy on the
real photographs of the demo set (63 photos in 5 groups), through the library's own
decode path, and reports per image the cosine similarity of the two feature vectors
(mean and minimum), also after centring (L2-normalised features minus the set's
mean, which is what PCA and k-means see: random-weight features share a large
common component that makes raw cosines look better than they are), then clusters both feature sets the way the pipeline does
(L2, PCA 0.95, k-means++ with the same seed) at k = 5 (the number of groups) and at
the k the float32 sweep suggests, and counts the images whose cluster changes in
two ways:

* **same centroids**: each bfloat16 feature, reduced by the float32 run's PCA, is
  assigned to the nearest centroid of the float32 run. This is the effect of the
  precision alone, and the one the rule below uses;
* **independent run**: the whole pipeline rerun on the bfloat16 features (clusters
  matched one-to-one by the Hungarian method). k-means can land in another local
  optimum after *any* tiny perturbation, so for scale the table also shows the
  changes caused by float32 features plus random noise of the same size as the
  bfloat16 error, and by nothing but another k-means seed.

CAVEAT: only random-weight VGG files exist on this machine (ImageNet weights cannot
be downloaded), so this is measured for several random initialisations; ImageNet
activations are distributed differently (sparser, larger dynamic range) and the
check must be rerun with the real weights (``--weights FILE``) where they exist.

The rule for making bfloat16 the default (all must hold, for every seed):
mean centred cosine >= 0.995, minimum centred cosine >= 0.98, <= 2 % of images change
cluster (same centroids) at each k, and (from bench/results/extraction.json) the bfloat16 network runs >= 1.8x
the float32 ceiling (matmul peak / work per image; the network alone is compared
with a network-only ceiling; end-to-end figures are printed beside it). Where it
passes, the library's default is bfloat16 on CPUs with native bfloat16 (AVX-512
BF16 or AMX; clustering.settings.default_precision), float32 elsewhere.

    PYTHONPATH=. .venv/bin/python bench/precision.py [--seeds 0,1,2] [--models vgg16]

Results: bench/results/precision.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (RANDOM_WEIGHTS_NOTE, RESULTS, ROOT, Timer, random_weights_file,
                           table, write_results)

MEAN_COS_MIN = 0.995
MIN_COS_MIN = 0.98
CLUSTER_CHANGE_MAX = 0.02
SPEEDUP_MIN = 1.8  # bfloat16 network (bare model) over the float32 matmul-peak ceiling
RULE = (f"mean centred cos >= {MEAN_COS_MIN}, min centred cos >= {MIN_COS_MIN}, "
        f"<= {CLUSTER_CHANGE_MAX:.0%} cluster changes (same centroids) at each k, "
        f"bf16 network >= {SPEEDUP_MIN}x float32 ceiling")


def changed_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of items whose cluster differs after matching clusters one-to-one."""
    from scipy.optimize import linear_sum_assignment

    k = int(max(a.max(), b.max())) + 1
    table_ = np.zeros((k, k), dtype=np.int64)
    np.add.at(table_, (a, b), 1)
    rows, cols = linear_sum_assignment(-table_)
    return 1.0 - table_[rows, cols].sum() / len(a)


def cosines(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    num = (x * y).sum(1)
    den = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    return num / np.maximum(den, 1e-30)


def centred(x: np.ndarray) -> np.ndarray:
    """L2-normalised rows minus their mean: the part of the features PCA works on."""
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    return x - x.mean(0)


def same_centroid_changes(base: np.ndarray, other: np.ndarray, k: int, seed: int = 0) -> float:
    """Share of ``other``'s rows that the float32 run (on ``base``) would put elsewhere."""
    from clustering.clusters.kmeans import ImageClusterer
    from clustering.pipeline import reduce_features
    from clustering.settings import Settings

    settings = Settings(seed=seed)
    reduction = reduce_features(base, settings)
    reducer, reduced = reduction.reducer, reduction.reduced
    model = ImageClusterer(k, n_init=settings.n_init, random_state=seed).fit(reduced)
    moved = reducer.transform(other)
    distances = ((moved[:, None, :] - model.cluster_centers_[None]) ** 2).sum(-1)
    return float(np.mean(distances.argmin(1) != model.labels_))


def labels_at(features: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    from clustering.pipeline import cluster_at, reduce_features
    from clustering.settings import Settings

    settings = Settings(seed=seed)
    reduced = reduce_features(features, settings).reduced
    return cluster_at(reduced, k, settings).labels


def suggested_k(features: np.ndarray) -> int:
    from clustering.pipeline import reduce_features, sweep_k
    from clustering.settings import Settings

    settings = Settings()
    reduced = reduce_features(features, settings).reduced
    return int(sweep_k(reduced, settings).choice_.k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, default=ROOT / "demo" / "images",
                        help="folder of real photographs (default: demo/images)")
    parser.add_argument("--models", default="vgg16", help="comma-separated (default: vgg16)")
    parser.add_argument("--seeds", default="0,1,2",
                        help="random-weight initialisations to try (default: 0,1,2)")
    parser.add_argument("--weights", type=Path,
                        help="a real weights file to use instead of random ones (one model)")
    parser.add_argument("--k", type=int, default=5, help="fixed k to compare at (default: 5)")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]

    from clustering.features.keras_import import import_keras

    import_keras()
    from sklearn.metrics import adjusted_rand_score

    from clustering.files.discover import discover
    from clustering.features.extract import extract_features
    from clustering.features.vgg import VGGExtractor

    found = discover(args.images)
    if not found.images:
        raise SystemExit(f"no images in {args.images}")
    groups = [Path(ref.name).parts[0] if len(Path(ref.name).parts) > 1 else "" for ref in found.images]
    print(f"{len(found.images)} real photographs in {len(set(groups))} groups from {args.images}; "
          f"{'weights ' + str(args.weights) if args.weights else RANDOM_WEIGHTS_NOTE}", flush=True)

    rows, results, passed = [], [], True
    setups = ([(models[0], None, args.weights)] if args.weights else
              [(m, s, random_weights_file(m, False, s)) for m in models for s in seeds])
    for model, seed, weights in setups:
        feats = {}
        for precision in ("float32", "bfloat16"):
            extractor = VGGExtractor(model, "pooled", weights=weights, precision=precision,
                                     allow_download=False)
            with Timer():
                fs = extract_features(found.images, extractor, cache=None)
            feats[precision] = fs.features
            names = fs.names
        truth = np.unique([Path(n).parts[0] for n in names], return_inverse=True)[1]
        raw = cosines(feats["float32"], feats["bfloat16"])
        cos = cosines(centred(feats["float32"]), centred(feats["bfloat16"]))
        rel = (np.linalg.norm(feats["float32"] - feats["bfloat16"], axis=1)
               / np.maximum(np.linalg.norm(feats["float32"], axis=1), 1e-30))
        k_auto = suggested_k(feats["float32"])
        per_k = {}
        for k in sorted({args.k, k_auto}):
            base = labels_at(feats["float32"], k)
            bf16 = labels_at(feats["bfloat16"], k)
            reseed = labels_at(feats["float32"], k, seed=1)
            error = np.linalg.norm(feats["bfloat16"] - feats["float32"], axis=1, keepdims=True)
            noise = np.random.default_rng(k).standard_normal(feats["float32"].shape)
            noise *= error / np.linalg.norm(noise, axis=1, keepdims=True)
            noisy = labels_at((feats["float32"] + noise).astype(np.float32), k)
            per_k[k] = {"changed_same_centroids": same_centroid_changes(
                            feats["float32"], feats["bfloat16"], k),
                        "changed_bf16": changed_share(base, bf16),
                        "changed_equal_noise": changed_share(base, noisy),
                        "changed_other_kmeans_seed": changed_share(base, reseed),
                        "ari_float32_vs_groups": adjusted_rand_score(truth, base),
                        "ari_bf16_vs_groups": adjusted_rand_score(truth, bf16)}
        ok = (cos.mean() >= MEAN_COS_MIN and cos.min() >= MIN_COS_MIN
              and all(v["changed_same_centroids"] <= CLUSTER_CHANGE_MAX for v in per_k.values()))
        passed &= ok
        weights_label = f"random seed {seed}" if seed is not None else str(weights)
        results.append({"model": model, "weights": weights_label, "images": len(names),
                        "mean_cos": float(raw.mean()), "min_cos": float(raw.min()),
                        "mean_centred_cos": float(cos.mean()), "min_centred_cos": float(cos.min()),
                        "p01_centred_cos": float(np.quantile(cos, 0.01)),
                        "mean_rel_l2_error": float(rel.mean()), "max_rel_l2_error": float(rel.max()),
                        "k_auto_float32": k_auto, "per_k": per_k, "passes": bool(ok)})
        for k, v in per_k.items():
            rows.append([model, weights_label, f"{raw.mean():.6f} / {raw.min():.6f}",
                         f"{cos.mean():.5f} / {cos.min():.5f}", f"{rel.max():.4f}", f"{k}{' (auto)' if k == k_auto else ''}",
                         f"{v['changed_same_centroids']:.1%}", f"{v['changed_bf16']:.1%}",
                         f"{v['changed_equal_noise']:.1%}", f"{v['changed_other_kmeans_seed']:.1%}",
                         f"{v['ari_float32_vs_groups']:.2f} / {v['ari_bf16_vs_groups']:.2f}",
                         "yes" if ok else "NO"])
        print(f"{model} {weights_label}: cos mean {raw.mean():.6f} min {raw.min():.6f}; centred "
              f"mean {cos.mean():.5f} min {cos.min():.5f}", flush=True)

    speed = None
    extraction = RESULTS / "extraction.json"
    if extraction.exists():
        summaries = json.loads(extraction.read_text()).get("summary", {})
        bf16, fp32 = summaries.get("bfloat16"), summaries.get("float32")
        if bf16:
            speed = {"bf16_e2e_over_float32_ceiling": bf16["e2e_over_float32_ceiling"],
                     "bf16_bare_over_float32_ceiling": bf16["bare_over_float32_ceiling"],
                     "bf16_e2e_over_float32_e2e": (bf16["e2e_images_per_s"]
                                                   / fp32["e2e_images_per_s"] if fp32 else None),
                     "source": str(extraction.relative_to(ROOT))}
    speed_ok = speed is not None and speed["bf16_bare_over_float32_ceiling"] >= SPEEDUP_MIN
    headers = ["model", "weights", "cos mean / min", "centred cos mean / min",
               "max rel. L2 err", "k",
               "changed: same centroids", "changed: independent run",
               "(fp32 + equal noise)", "(fp32, other k-means seed)",
               "ARI vs groups fp32 / bf16", "accuracy rule"]
    print()
    print(f"bfloat16 vs float32 features on {len(found.images)} real photographs "
          f"(CAVEAT: {RANDOM_WEIGHTS_NOTE if not args.weights else 'weights: ' + str(args.weights)})")
    print(table(headers, rows))
    if speed:
        ratio = speed["bf16_e2e_over_float32_e2e"]
        print(f"speed (from {speed['source']}): bf16 network (bare model) = "
              f"{speed['bf16_bare_over_float32_ceiling']:.2f}x the float32 ceiling "
              f"(rule: >= {SPEEDUP_MIN}x); end to end "
              f"{speed['bf16_e2e_over_float32_ceiling']:.2f}x the ceiling"
              + (f", {ratio:.2f}x float32 end to end" if ratio else ""))
    else:
        print("speed: no bench/results/extraction.json yet (run bench/extraction.py)")
    verdict = passed and speed_ok
    print(f"rule: {RULE} -> {'PASS' if verdict else 'FAIL'}"
          f"{'' if speed is not None else ' (speed not measured)'}")
    path = write_results("precision", {
        "settings": {k: str(v) for k, v in vars(args).items()}, "note": RANDOM_WEIGHTS_NOTE,
        "rule": RULE, "accuracy_passes": bool(passed), "speed": speed,
        "speed_passes": bool(speed_ok), "passes": bool(verdict), "results": results,
        "table": {"headers": headers, "rows": rows}})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
