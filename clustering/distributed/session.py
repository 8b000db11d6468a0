"""Connecting to a Ray cluster, and what its nodes are."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from clustering.distributed.layout import DatasetError

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class RayUnavailable(DatasetError):
    """No Ray cluster could be reached at the address given."""


def _prefer_loopback(address: str | None) -> None:
    """Keep a loopback cluster on loopback.

    Ray rewrites a ``127.0.0.1`` address into the machine's interface address before
    connecting, which fails when the head was started with ``--node-ip-address
    127.0.0.1`` (it listens on loopback only). Ray skips that rewrite when this flag is
    off; it must be set before Ray is imported.
    """
    host = (address or "127.0.0.1").rsplit(":", 1)[0].strip("[]")
    if host in _LOOPBACK:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@contextmanager
def ray_session(address: str | None = None) -> Iterator[None]:
    """Connect to the cluster at ``address`` (HOST:PORT), or start a local one.

    Disconnects at the end if this call connected (a caller already connected keeps
    its connection).
    """
    _prefer_loopback(address)
    import ray

    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a new local cluster"
        raise RayUnavailable(f"cannot connect to Ray at {where}: {exc}".splitlines()[0]) from None
    try:
        from ray.data import DataContext

        DataContext.get_current().enable_progress_bars = False
        yield
    finally:
        ray.shutdown()


def cluster_nodes() -> list[dict[str, Any]]:
    """The alive nodes of the connected cluster: id, address, CPUs and GPUs."""
    import ray

    return [{"id": n["NodeID"], "address": n["NodeManagerAddress"],
             "cpus": n["Resources"].get("CPU", 0), "gpus": n["Resources"].get("GPU", 0)}
            for n in ray.nodes() if n.get("Alive")]
