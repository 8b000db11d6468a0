"""What each cluster holds: members from most to least typical, names, an overview table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


def default_name(cluster: int) -> str:
    """``"cluster 3"``: the name a cluster has until the user renames it."""
    return f"cluster {int(cluster)}"


def default_names(k: int) -> dict[int, str]:
    """``{0: "cluster 0", ...}`` for clusters ``0..k-1``."""
    return {c: default_name(c) for c in range(k)}


def name_of(cluster: int, names: Mapping[int, str] | None = None) -> str:
    """``cluster``'s name in ``names``, else its default name."""
    return (names or {}).get(int(cluster)) or default_name(cluster)


def named_clusters(clusters: Iterable[int],
                   names: Mapping[int, str] | None = None) -> dict[int, str]:
    """``{cluster: name}`` for every cluster in ``clusters`` (default names where
    ``names`` has none), plus any other entries of ``names``."""
    return {**{int(c): default_name(c) for c in set(clusters)}, **dict(names or {})}


def typical_order(labels: np.ndarray, distances: np.ndarray, cluster: int) -> np.ndarray:
    """Indices of ``cluster``'s images, nearest its centroid (most typical) first."""
    members = np.flatnonzero(np.asarray(labels) == cluster)
    return members[np.argsort(np.asarray(distances)[members], kind="stable")]


def clusters_overview(labels: np.ndarray, distances: np.ndarray, silhouettes: np.ndarray,
                    names: Sequence[str], cluster_names: Mapping[int, str]) -> pd.DataFrame:
    """One row per cluster: cluster, name, images, mean silhouette, most typical image."""
    rows = []
    for cluster in sorted(cluster_names):
        order = typical_order(labels, distances, cluster)
        sil = np.asarray(silhouettes)[order]
        sil = sil[~np.isnan(sil)]
        rows.append({"cluster": cluster, "name": cluster_names[cluster], "images": len(order),
                     "mean silhouette": round(float(sil.mean()), 3) if len(sil) else None,
                     "most typical image": names[order[0]] if len(order) else ""})
    return pd.DataFrame(rows, columns=["cluster", "name", "images", "mean silhouette",
                                       "most typical image"])
