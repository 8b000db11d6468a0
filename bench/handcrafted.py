"""Does the offline extractor cluster real photographs better than raw pixels?

Loads a folder of photographs whose sub-folder names are the true labels,
clusters them with k-means++ (k = number of labels) after PCA, once on raw
pixels and once on the handcrafted features, and prints ARI, NMI and V-measure
(medians over seeds) plus the extractor's speed. The table is also written as
JSON to ``bench/results/handcrafted.json``.

    PYTHONPATH=. .venv/bin/python bench/handcrafted.py --images demo/images --seeds 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score
from sklearn.preprocessing import normalize

from clustering.features.handcrafted import HandcraftedExtractor
from clustering.images.loading import ImageLoadError, load_for_model

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif"}
RESULTS = Path(__file__).resolve().parent / "results" / "handcrafted.json"
RAW_SIZE = 32
BATCH = 32


def load_labelled(folder: Path, size: int) -> tuple[np.ndarray, list[str]]:
    """Every decodable image under ``folder``'s sub-folders, and its sub-folder name."""
    images, labels = [], []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or path.parent == folder:
            continue
        try:
            images.append(load_for_model(path.read_bytes(), size))
        except ImageLoadError as exc:
            print(f"skipped {path}: {exc}")
            continue
        labels.append(path.relative_to(folder).parts[0])
    if not images:
        raise SystemExit(f"no labelled images under {folder} (expected {folder}/LABEL/*.jpg)")
    return np.stack(images), labels


def raw_pixels(images: np.ndarray) -> np.ndarray:
    """Images shrunk to RAW_SIZE x RAW_SIZE x 3 by block averaging, flattened, in [0, 1]."""
    n, size = images.shape[:2]
    factor = size // RAW_SIZE
    cut = images[:, :RAW_SIZE * factor, :RAW_SIZE * factor].astype(np.float32) / 255.0
    return cut.reshape(n, RAW_SIZE, factor, RAW_SIZE, factor, 3).mean(axis=(2, 4)).reshape(n, -1)


def handcrafted(images: np.ndarray,
                extractor: HandcraftedExtractor) -> tuple[np.ndarray, dict[str, float]]:
    """Handcrafted features of ``images`` and the extractor's speed.

    Speed is wall-clock images/s and CPU milliseconds per image (all threads):
    the latter stays meaningful when other work shares the machine.
    """
    extractor.extract(images[:2])  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    features = np.concatenate([extractor.extract(images[i:i + BATCH])
                               for i in range(0, len(images), BATCH)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return features, {"images_per_second": len(images) / wall,
                      "cpu_ms_per_image": 1000 * cpu / len(images)}


def scores(features: np.ndarray, truth: np.ndarray, seeds: int, variance: float) -> dict:
    """Median ARI / NMI / V-measure over ``seeds`` of the app's default clustering.

    As ``clustering.pipeline`` does by default: L2-normalise each row, PCA keeping
    ``variance`` of the variance, k-means++ with 4 initialisations.
    """
    k = len(np.unique(truth))
    pca = PCA(n_components=variance, svd_solver="full")
    reduced = pca.fit_transform(normalize(features))
    runs = []
    for seed in range(seeds):
        predicted = KMeans(n_clusters=k, init="k-means++", n_init=4,
                           random_state=seed).fit_predict(reduced)
        runs.append((adjusted_rand_score(truth, predicted),
                     normalized_mutual_info_score(truth, predicted),
                     v_measure_score(truth, predicted)))
    median = np.median(np.array(runs), axis=0)
    return {"ari": float(median[0]), "nmi": float(median[1]), "v_measure": float(median[2]),
            "pca_components": int(pca.n_components_)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=Path("demo/images"),
                        help="folder of LABEL/IMAGE files (default: demo/images)")
    parser.add_argument("--seeds", type=int, default=10, help="k-means seeds (default: 10)")
    parser.add_argument("--variance", type=float, default=0.95,
                        help="fraction of variance PCA keeps (default: 0.95, as the app)")
    args = parser.parse_args()

    extractor = HandcraftedExtractor()
    images, labels = load_labelled(args.images, extractor.input_size)
    names, truth = np.unique(labels, return_inverse=True)
    print(f"{len(images)} images in {len(names)} groups from {args.images}: "
          + ", ".join(f"{name} {np.sum(truth == i)}" for i, name in enumerate(names)))

    features, speed = handcrafted(images, extractor)
    rows = {
        f"raw pixels {RAW_SIZE}x{RAW_SIZE}x3 + PCA": scores(raw_pixels(images), truth,
                                                           args.seeds, args.variance),
        f"handcrafted ({extractor.dim} dims) + PCA": scores(features, truth,
                                                           args.seeds, args.variance),
    }
    print(f"\n{'features':<34} {'ARI':>6} {'NMI':>6} {'V':>6}")
    for name, row in rows.items():
        print(f"{name:<34} {row['ari']:6.3f} {row['nmi']:6.3f} {row['v_measure']:6.3f}")
    print(f"\nhandcrafted extractor: {speed['images_per_second']:.0f} images/s, "
          f"{speed['cpu_ms_per_image']:.1f} CPU ms/image ({extractor.input_size}x"
          f"{extractor.input_size}, batches of {BATCH}, decoding excluded)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "images": str(args.images), "n_images": len(images), "groups": names.tolist(),
        "seeds": args.seeds, "extractor": extractor.describe(),
        **speed, "results": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
