"""One colour per cluster, the same in the dashboard's charts and the HTML report."""

from __future__ import annotations

from plotly.colors import qualitative

PALETTE = list(dict.fromkeys(qualitative.Plotly + qualitative.Dark24 + qualitative.Light24))


def cluster_colour(cluster: int) -> str:
    """The colour of ``cluster`` (the palette repeats after ~60 clusters)."""
    return PALETTE[cluster % len(PALETTE)]
