"""``--engine ray``: the ``features`` and ``cluster`` commands on a Ray cluster.

Everything Ray-related is imported inside the functions, so the command line starts
as fast as before for the default local engine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clustering.cli.common import find_images, positive_int, settings_from_args

ENGINES = ("local", "ray")


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """--engine, --ray-address and the shard settings."""
    from clustering.distributed.layout import SHARD_SIZE

    group = parser.add_argument_group("distributed run (Ray)")
    group.add_argument("--engine", choices=ENGINES, default="local",
                       help="'local' (default): this machine; 'ray': a Ray cluster, with "
                            "--out a dataset folder of Parquet shards (resumable)")
    group.add_argument("--ray-address", metavar="HOST:PORT",
                       help="the Ray head to connect to (default: start Ray on this machine)")
    group.add_argument("--shard-size", type=positive_int, default=SHARD_SIZE, metavar="N",
                       help="images per shard, the unit of work and of resume "
                            "(default: %(default)s)")
    group.add_argument("--actors", type=positive_int, metavar="N",
                       help="extraction actors (default: one per CPU of the cluster)")
    group.add_argument("--gpus-per-actor", type=float, default=0.0, metavar="F",
                       help="GPUs each extraction actor holds, e.g. 1 (default: 0)")


def _extract(args: argparse.Namespace, dataset: Path):
    from clustering.distributed.extract import DistributedExtraction, extractor_factory

    found = find_images(args)
    factory = extractor_factory(args.model, args.layer, args.weights, args.precision)
    job = DistributedExtraction(factory, dataset, shard_size=args.shard_size,
                                batch_size=args.batch_size, actors=args.actors,
                                gpus_per_actor=args.gpus_per_actor)
    report = job.run(found)
    nodes = ", ".join(f"{node[:8]}: {count}" for node, count in report.images_per_node.items())
    print(f"{report.extracted} image(s) in {report.shards} shard(s) ({report.shards_run} run, "
          f"{report.shards_resumed} finished before); {report.skipped + len(found.skipped)} "
          f"skipped; per node: {nodes}; features in {dataset / 'features'}")


def features(args: argparse.Namespace) -> int:
    """``features --engine ray``: extract into the dataset folder --out."""
    from clustering.distributed.session import ray_session

    with ray_session(args.ray_address):
        _extract(args, Path(args.out))
    return 0


def cluster(args: argparse.Namespace) -> int:
    """``cluster --engine ray``: extract (unless INPUT is a dataset folder), then cluster."""
    import ray

    from clustering.distributed.layout import DatasetError, DatasetLayout
    from clustering.distributed.scale import cluster_dataset
    from clustering.distributed.session import cluster_nodes, ray_session

    dataset = Path(args.out)
    given = DatasetLayout(args.input)
    if given.info_file.exists() and given.folder.resolve() != dataset.resolve():
        raise DatasetError(f"{args.input} is a dataset folder: its results are written into "
                           f"it, so give it as --out too")
    settings = settings_from_args(args, pca=args.pca, whiten=args.whiten,
                                  normalize=args.normalize, k=args.k, k_min=args.k_range[0],
                                  k_max=args.k_range[1], seed=args.seed)
    with ray_session(args.ray_address):
        if not given.info_file.exists():
            _extract(args, dataset)
        layout = DatasetLayout(dataset)
        engine = {"name": "ray", "address": args.ray_address, "nodes": cluster_nodes(),
                  "images_per_node": layout.images_per_node()}
        actors = args.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        record = cluster_dataset(dataset, settings, engine, actors,
                                 progress=lambda line: print(line, file=sys.stderr))
    print(f"clustered {record['counts']['clustered']} image(s) into k={record['k']['value']} "
          f"clusters (sizes {', '.join(map(str, record['counts']['cluster_sizes']))}); "
          f"{record['counts']['skipped']} skipped")
    print(f"k: {record['k']['how']}")
    print(f"wrote {dataset / 'labels.csv'}, {dataset / 'skipped.csv'}, {dataset / 'run.json'} "
          f"and Parquet results in {dataset / 'clusters'}")
    return 0
