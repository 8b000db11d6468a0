"""A Ray cluster kept on loopback (127.0.0.1): for tests and one-machine trials.

Ray 2.60 rewrites ``127.0.0.1``/``localhost`` into the machine's interface address,
both in the address a driver or ``ray start --address`` connects to and in
``--node-ip-address``. A head started with ``--node-ip-address 127.0.0.1`` listens on
loopback only, so the rewritten address reaches nothing, and a worker's rewritten
node address makes its raylet listen on every interface. The environment flag Ray
offers (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) keeps the driver on loopback only
if set before Ray is imported, and makes ``ray start`` refuse to start a worker.
:func:`keep_loopback` turns the rewrite off for loopback addresses (every other
address is rewritten as before), and ``python -m clustering.distributed.loopback
start …`` is ``ray start`` with it::

    python -m clustering.distributed.loopback start --head --node-ip-address 127.0.0.1 \\
        --port 6391 --num-cpus 1 --temp-dir /tmp/cl-ray
    python -m clustering.distributed.loopback start --address 127.0.0.1:6391 \\
        --node-ip-address 127.0.0.1 --num-cpus 1
"""

from __future__ import annotations

import sys

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` (HOST:PORT or HOST) names this machine's loopback interface."""
    if not address or "://" in address:
        return False
    if address.startswith("["):  # [IPv6]:PORT
        host = address[1:address.find("]")]
    else:  # HOST:PORT, HOST or a bare IPv6 address
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    return host in LOOPBACK_HOSTS


def keep_loopback() -> None:
    """Stop Ray from rewriting loopback hosts (a private Ray function, pinned 2.60)."""
    import ray._private.services as services

    rewrite = getattr(services.resolve_ip_for_localhost, "__wrapped__",
                      services.resolve_ip_for_localhost)

    def resolve(host: str) -> str:
        return host if host in LOOPBACK_HOSTS else rewrite(host)

    resolve.__wrapped__ = rewrite  # type: ignore[attr-defined]
    services.resolve_ip_for_localhost = resolve


def main() -> None:
    """``ray start``/``ray status``/… with loopback addresses kept as given."""
    keep_loopback()
    from ray.scripts.scripts import main as ray_main

    sys.argv[0] = "ray"
    ray_main()


if __name__ == "__main__":
    main()
