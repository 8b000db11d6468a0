"""Connecting to a Ray cluster, and what its nodes are."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from clustering.distributed.layout import DatasetError
from clustering.errors import first_line
from clustering.distributed.loopback import is_loopback, keep_loopback

# How long a run waits for the actors of its pool to start (each loads its model):
# past it the run fails with Ray's "Timed out while starting actors" and is retried.
ACTORS_START_S = 300.0


class RayUnavailable(DatasetError):
    """No Ray cluster could be reached at the address given."""


def _reachable(address: str | None) -> None:
    """Fail at once when nothing listens at ``address`` (Ray would retry for minutes)."""
    if address is None or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise RayUnavailable(f"cannot connect to Ray at {address}: {exc}") from None


@contextmanager
def ray_session(address: str | None = None) -> Iterator[None]:
    """Connect to the cluster at ``address`` (HOST:PORT), or start a local one.

    Disconnects at the end if this call connected (a caller already connected keeps
    its connection).
    """
    import ray

    if ray.is_initialized():
        _configure_data()
        yield
        return
    _reachable(address)
    if is_loopback(address):
        keep_loopback()
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a new local cluster"
        raise RayUnavailable(f"cannot connect to Ray at {where}: {first_line(exc)}") from None
    try:
        _configure_data()
        yield
    finally:
        ray.shutdown()


def _configure_data() -> None:
    """Ray Data settings of every run: no progress bars, and no shard handed out before
    every actor of the pool has started (else the first actor ready, often the
    head's, can finish a small run alone while the other nodes still load a model)."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.wait_for_min_actors_s = ACTORS_START_S


def cluster_nodes() -> list[dict[str, Any]]:
    """The alive nodes of the connected cluster: id, address, CPUs and GPUs."""
    import ray

    return [{"id": n["NodeID"], "address": n["NodeManagerAddress"],
             "cpus": n["Resources"].get("CPU", 0), "gpus": n["Resources"].get("GPU", 0)}
            for n in ray.nodes() if n.get("Alive")]
