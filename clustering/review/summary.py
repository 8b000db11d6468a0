"""Per-cluster review summary: size, duplicates, quality flags and silhouette of each cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["cluster", "size", "duplicate_share", "removable_share", "flagged_share",
           "mean_silhouette"]


def review_summary(labels: pd.DataFrame, duplicates: pd.DataFrame | None = None,
                    quality: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster of ``labels`` (``file``, ``cluster``[, ``silhouette``]).

    ``duplicate_share``: images in a duplicate group; ``removable_share``: images
    suggested for removal (in a group, not its keeper) — both from a ``file, group,
    keep`` frame. ``flagged_share``: images with any quality flag (a frame with
    ``file`` and ``flags``). ``mean_silhouette`` ignores images without one. Shares
    are NaN when the frame they come from is not given.
    """
    files = labels["file"]
    frame = pd.DataFrame({"cluster": labels["cluster"].to_numpy()})
    if duplicates is not None:
        keep = duplicates.set_index("file")["keep"].astype(bool)
        frame["duplicate"] = files.isin(keep.index).to_numpy()
        frame["removable"] = files.map(~keep).fillna(False).astype(bool).to_numpy()
    if quality is not None:
        flags = quality.set_index("file")["flags"].fillna("")
        frame["flagged"] = (files.map(flags).fillna("") != "").to_numpy()
    if "silhouette" in labels:
        frame["silhouette"] = labels["silhouette"].astype(float).to_numpy()
    groups = frame.groupby("cluster", sort=True)
    summary = pd.DataFrame({"size": groups.size()})
    for share, column in (("duplicate_share", "duplicate"), ("removable_share", "removable"),
                          ("flagged_share", "flagged"), ("mean_silhouette", "silhouette")):
        summary[share] = groups[column].mean() if column in frame else np.nan
    return summary.reset_index()[COLUMNS]
