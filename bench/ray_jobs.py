"""Feature extraction for a dashboard job on a Ray cluster vs on this server.

For each extractor (the offline ``handcrafted`` one, and VGG16 with random weights:
the speed is real, the features carry no ImageNet knowledge), the same generated
photos are extracted into an empty feature cache:

* ``local``: :func:`clustering.pipeline.compute_features`, as the dashboard does today;
* ``ray``: :func:`clustering.distributed.cache_fill.extract_on_cluster` on a two-node
  cluster on 127.0.0.1 (``ray.cluster_utils.Cluster``, one CPU per node), which ends
  with the same local pass, all cache hits.

images/s is the median of ``--runs`` runs, interleaved (a fresh cache each); the cluster's
start-up is not counted, its actors' start (building the network) is. On this
machine both nodes share the two cores the local run uses alone, so the ratio
measures the engine's overhead, not a speed-up (bench/scale_out.py measures
one node vs two).

    PYTHONPATH=. .venv/bin/python bench/ray_jobs.py [--images 200] [--vgg-images 48]
        [--photo-size 640x480] [--runs 3]

Results: bench/results/ray_jobs.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (RANDOM_WEIGHTS_NOTE, load_average, median, photo_folder,
                           random_keras_home, table, wait_for_quiet, write_results)
from bench.scale_out import ray_cluster


def timed(run) -> tuple[float, Any]:
    """Seconds for ``run(cache folder)`` with a fresh, empty cache."""
    cache = Path(tempfile.mkdtemp(prefix="ray-jobs-cache-"))
    try:
        wait_for_quiet(20)
        start = time.perf_counter()
        result = run(str(cache))
        return time.perf_counter() - start, result
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def measure(model: str, images: int, size: tuple[int, int], runs: int,
            address: str) -> dict[str, Any]:
    from clustering.distributed.cache_fill import extract_on_cluster
    from clustering.files.discover import discover
    from clustering.pipeline import compute_features
    from clustering.settings import Settings

    folder = Path(photo_folder(f"ray_jobs_{size[0]}x{size[1]}", images, size=size)[0]).parent
    found = discover(folder)
    found.images = found.images[:images]
    settings = Settings(model=model)
    local, remote = [], []
    for _ in range(runs):  # interleaved, so that both meet the same load
        local.append(timed(lambda cache: compute_features(found,
                                                          settings.replace(cache_dir=cache))))
        remote.append(timed(lambda cache: extract_on_cluster(
            found, settings.replace(cache_dir=cache), address, shard_size=max(8, images // 8))))
    per_node = sorted(remote[-1][1].engine.images_per_node.values())
    local_rate = images / median([s for s, _ in local])
    ray_rate = images / median([s for s, _ in remote])
    print(f"  {model}: local {local_rate:.1f} images/s, ray {ray_rate:.1f} images/s",
          file=sys.stderr)
    return {"model": model, "precision": settings.precision, "images": images,
            "local_s": [s for s, _ in local], "ray_s": [s for s, _ in remote],
            "local_images_per_s": local_rate, "ray_images_per_s": ray_rate,
            "ray_vs_local": ray_rate / local_rate, "per_node": per_node,
            "load": load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="for the handcrafted extractor")
    parser.add_argument("--vgg-images", type=int, default=48)
    parser.add_argument("--photo-size", default="640x480")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.photo_size.split("x"))
    random_keras_home(["vgg16"])  # before the cluster starts: its workers inherit KERAS_HOME
    with ray_cluster(2) as cluster:
        rows = [measure("handcrafted", args.images, size, args.runs, cluster.address),
                measure("vgg16", args.vgg_images, size, args.runs, cluster.address)]
    print(table(["extractor", "images", "local images/s", "ray images/s", "ray / local",
                 "per node"],
                [[r["model"], r["images"], r["local_images_per_s"], r["ray_images_per_s"],
                  f"{r['ray_vs_local']:.2f}x", r["per_node"]] for r in rows]))
    print(write_results("ray_jobs", {"rows": rows, "weights": RANDOM_WEIGHTS_NOTE,
                                     "cluster": "2 nodes x 1 CPU on 127.0.0.1 (same 2 cores)"}))


if __name__ == "__main__":
    main()
