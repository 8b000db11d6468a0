"""Which engine runs feature extraction, in words and rows for the pages (no Ray import)."""

from __future__ import annotations

from collections.abc import Mapping

from clustering.config import configured_ray_address


LOCAL = "this server"  # where features are extracted without a Ray address


def configured_engine() -> str:
    """``this server`` or ``the Ray cluster at HOST:PORT``, as the operator configured
    (raises :class:`~clustering.errors.ConfigError` for a broken configuration file)."""
    address = configured_ray_address()
    return f"the Ray cluster at {address}" if address else LOCAL


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


def ran_on(engine: Mapping[str, object]) -> str:
    """Where a finished feature job ran, in words (empty for this server): the Ray
    cluster's address and the images each node extracted."""
    if engine.get("name") != "ray":
        return ""
    rows = node_rows(engine.get("images_per_node") or {}, engine.get("nodes") or {})
    nodes = ", ".join(f"{r['node']}" + (f" ({r['address']})" if r["address"] else "")
                      + f" {r['images']:,}" for r in rows)
    return (f"Extracted on the Ray cluster at {engine.get('address')}; images per node: "
            f"{nodes or 'none (every image was cached already)'}.")
