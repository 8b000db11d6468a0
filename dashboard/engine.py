"""Which engine runs feature extraction, in words and rows for the pages (no Ray import)."""

from __future__ import annotations

from collections.abc import Mapping

from clustering.config import configured_ray_address


def configured_engine() -> str:
    """``local (this server)`` or ``Ray cluster at HOST:PORT``, as the operator configured."""
    address = configured_ray_address()
    return f"Ray cluster at {address}" if address else "local (this server)"


def node_rows(images_per_node: Mapping[str, int],
              nodes: Mapping[str, str] | None = None) -> list[dict[str, object]]:
    """Rows of the "images per node" table, busiest node first.

    ``images_per_node`` maps Ray node ids to image counts; ``nodes`` (node id ->
    address), when given, adds each node's address.
    """
    nodes = nodes or {}
    ordered = sorted(images_per_node.items(), key=lambda item: (-item[1], item[0]))
    return [{"node": node[:8], "address": nodes.get(node, ""), "images": count}
            for node, count in ordered]
