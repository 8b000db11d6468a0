"""The Ray engine past one machine: one node vs two, memory and fit time vs collection size.

Three measurements, each on a Ray cluster started on 127.0.0.1 with
``ray.cluster_utils.Cluster`` (one CPU per node, as the issue's two-core machine allows):

* ``throughput``: distributed extraction (offline "handcrafted" extractor: decode,
  resize, colour and texture statistics) of the same ``--images`` generated photos
  with one node, then with two; images/s of each and the speed-up, side by side.
  Before each run it waits (up to 2 min) for other processes to use < 0.25 core and
  records what they used (``wait_for_quiet``): on a
  shared machine they cap the speed-up, and the table says so.
* ``scale``: ``cluster_dataset`` (fit on a sample on the driver, assign every shard in
  actors) on synthetic feature shards of 10,000 to 100,000 images (512 values each,
  12 blobs), each size in its own process: the driver's peak RSS, the peak RSS of the
  node's Ray worker processes (sampled every 0.2 s), the fit time and the assign time.
  Memory and fit time should stay flat beyond ``--fit-sample`` images.

No GPU here: VGG16 images/s per GPU worker is not measured.

    PYTHONPATH=. .venv/bin/python bench/scale_out.py [--images 2000] [--photo-size 640x480]
        [--sizes 10000,30000,100000] [--fit-sample 10000] [--runs 1]

Results: bench/results/scale_out.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (ROOT, load_average, median, photo_folder, table, wait_for_quiet,
                           write_results)

DIM = 512
BLOBS = 12


@contextmanager
def ray_cluster(nodes: int) -> Iterator[Any]:
    """``nodes`` nodes of one CPU each on 127.0.0.1, the driver connected; all stopped after."""
    from clustering.distributed.loopback import keep_loopback

    keep_loopback()
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    import ray
    from ray.cluster_utils import Cluster
    from ray.data import DataContext

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, include_dashboard=False)
    DataContext.get_current().enable_progress_bars = False
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


# ---- throughput: one node vs two ---------------------------------------------------

def throughput(images: int, size: tuple[int, int], runs: int) -> list[dict[str, Any]]:
    from clustering.distributed.extract import DistributedExtraction, extractor_factory
    from clustering.files.discover import discover

    paths = photo_folder(f"scale_out_{size[0]}x{size[1]}", images, size=size)
    folder = Path(paths[0]).parent
    found = discover(folder)
    rows = []
    for nodes in (1, 2):
        with ray_cluster(nodes):
            times, busy = [], []
            for _ in range(runs):
                out = Path(tempfile.mkdtemp(prefix="scale-out-"))
                busy.append(wait_for_quiet(120))  # other processes: they cap the speed-up
                job = DistributedExtraction(extractor_factory("handcrafted"), out,
                                            shard_size=50, batch_size=16)
                start = time.perf_counter()
                report = job.run(found)
                times.append(time.perf_counter() - start)
                shutil.rmtree(out)
            rows.append({"nodes": nodes, "images": report.extracted, "seconds": median(times),
                         "images_per_s": report.extracted / median(times),
                         "per_node": sorted(report.images_per_node.values()),
                         "other_cores_before": median(busy), "load": load_average()})
        print(f"  {nodes} node(s): {rows[-1]['images_per_s']:.1f} images/s", file=sys.stderr)
    rows[1]["speed_up"] = rows[1]["images_per_s"] / rows[0]["images_per_s"]
    return rows


# ---- scale: memory and fit time vs images ------------------------------------------

def synthetic_dataset(folder: Path, images: int, shard_size: int = 1000) -> None:
    """Feature shards, markers and dataset.json as ``features --engine ray`` leaves them."""
    import pyarrow as pa

    from clustering.distributed.layout import DatasetInfo, DatasetLayout, write_atomic, write_table

    layout = DatasetLayout(folder)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (BLOBS, DIM)).astype(np.float32)
    shards = -(-images // shard_size)
    for shard in range(shards):
        n = min(shard_size, images - shard * shard_size)
        blob = rng.integers(0, BLOBS, n)
        values = np.maximum(centres[blob] + rng.normal(0, 0.4, (n, DIM)), 0).astype(np.float32)
        names = [f"img_{shard * shard_size + i:07d}.jpg" for i in range(n)]
        write_table(pa.table({"file": names, "hash": names, "feature":
                              pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)),
                                                                DIM)}),
                    layout.shard_file("features", shard))
        write_table(pa.table({"file": pa.array([], pa.string()),
                              "reason": pa.array([], pa.string())}),
                    layout.shard_file("skipped", shard))
        write_atomic(layout.shard_file("done", shard, ".json"), json.dumps(
            {"shard": shard, "node": "synthetic", "extracted": n, "skipped": 0}).encode())
    write_table(pa.table({"file": pa.array([], pa.string()), "reason": pa.array([], pa.string())}),
                layout.listing_skipped_file)
    layout.write_info(DatasetInfo(input_root="synthetic", extractor={"cache_key": "synthetic"},
                                  shard_size=shard_size, shards=shards, images=images,
                                  listing_sha1="synthetic"))


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc; Linux)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def node_rss(cluster: Any) -> int:
    """Resident bytes of every process the node's raylet started (its Ray workers)."""
    return sum(_rss(child) for info in cluster.head_node.all_processes.get("raylet", [])
               for child in _descendants(info.process.pid))


def one_size(images: int, fit_sample: int) -> dict[str, Any]:
    """Runs in its own process: cluster ``images`` synthetic images on a one-node cluster."""
    from clustering.distributed.layout import DatasetLayout
    from clustering.distributed.scale import assign_shards, fit_sample as fit, read_sample
    from clustering.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="scale-out-"))
    try:
        synthetic_dataset(folder, images)
        layout = DatasetLayout(folder)
        counts = [m["extracted"] for m in layout.markers()]
        with ray_cluster(1) as cluster:
            base_driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            peak = {"node": node_rss(cluster)}
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.2):
                    peak["node"] = max(peak["node"], node_rss(cluster))

            watcher = threading.Thread(target=sample, daemon=True)
            watcher.start()
            start = time.perf_counter()
            model = fit(read_sample(layout, counts, fit_sample, 0), Settings(k=BLOBS))
            fitted = time.perf_counter()
            assign_shards(model.model, layout, len(counts), actors=1)
            assigned = time.perf_counter()
            done.set()
            watcher.join()
        driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return {"images": images, "fit_sample": model.sample_size,
                "fit_s": fitted - start, "assign_s": assigned - fitted,
                "driver_peak_mb": driver / 2**20, "driver_before_mb": base_driver / 2**20,
                "node_workers_peak_mb": peak["node"] / 2**20, "load": load_average()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def scale(sizes: list[int], fit_sample: int) -> list[dict[str, Any]]:
    rows = []
    for images in sizes:
        out = subprocess.run([sys.executable, __file__, "--one-size", str(images),
                              "--fit-sample", str(fit_sample)], cwd=ROOT, text=True,
                             capture_output=True, timeout=900)
        if out.returncode:
            raise RuntimeError(f"size {images} failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  {images:,} images: fit {rows[-1]['fit_s']:.1f} s, node workers peak "
              f"{rows[-1]['node_workers_peak_mb']:.0f} MB", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--photo-size", default="640x480")
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--fit-sample", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--skip", default="", help="throughput and/or scale")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        print(json.dumps(one_size(args.one_size, args.fit_sample)))
        return
    results: dict[str, Any] = {"gpu": "not measured: no GPU on this machine "
                                      "(VGG16 images/s per GPU worker)"}
    if "throughput" not in args.skip:
        size = tuple(int(v) for v in args.photo_size.split("x"))
        results["throughput"] = rows = throughput(args.images, size, args.runs)  # type: ignore[arg-type]
        print(table(["nodes", "images", "seconds", "images/s", "per node", "other cores",
                     "speed-up"],
                    [[r["nodes"], r["images"], f"{r['seconds']:.1f}", f"{r['images_per_s']:.1f}",
                      r["per_node"], f"{r['other_cores_before']:.2f}",
                      f"{r.get('speed_up', 1.0):.2f}x"] for r in rows]))
    if "scale" not in args.skip:
        sizes = [int(s) for s in args.sizes.split(",")]
        results["scale"] = rows = scale(sizes, args.fit_sample)
        print(table(["images", "fit sample", "fit s", "assign s", "driver peak MB",
                     "node workers peak MB"],
                    [[f"{r['images']:,}", f"{r['fit_sample']:,}", f"{r['fit_s']:.2f}",
                      f"{r['assign_s']:.1f}", f"{r['driver_peak_mb']:.0f}",
                      f"{r['node_workers_peak_mb']:.0f}"] for r in rows]))
    print(write_results("scale_out", results))


if __name__ == "__main__":
    main()
