"""The two-node Ray cluster on 127.0.0.1 that the distributed tests share (one per module)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]  # the repository: workers import clustering and tests.helpers


def start_cluster():
    """Head + one worker on 127.0.0.1; the driver connected to it."""
    from clustering.distributed.loopback import keep_loopback

    keep_loopback()  # Ray would rewrite 127.0.0.1 into the interface address
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, include_dashboard=False)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False
    return cluster, worker


def stop_cluster(cluster) -> None:
    import ray

    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    """One cluster for the module; ``test_worker`` is its second node (a test may remove it)."""
    cluster, worker = start_cluster()
    cluster.test_worker = worker
    yield cluster
    stop_cluster(cluster)
