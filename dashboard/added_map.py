"""The "Add images" map of a reopened run: the saved run's points and the images placed in
it, drawn with the one image map (new images as stars, hollow when unsure; images
already in the run as diamonds). Shown on the Data page and on Clusters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from clustering.clusters.members import named_clusters
from clustering.files.discover import ImageRef
from dashboard import persist, state
from dashboard.image_map import Marks, image_map

TARGET = "added_map"


@dataclass
class PlacedPoints:
    """The saved points followed by the placed ones, as the image map takes them."""

    coords: np.ndarray
    labels: np.ndarray
    names: list[str]
    refs: list[ImageRef | None]
    marks: list[Marks]
    cluster_names: dict[int, str]


def placed_points(saved: pd.DataFrame, added: pd.DataFrame, cluster_names: Mapping[int, str],
                  saved_refs: Mapping[str, ImageRef], added_refs: Mapping[str, ImageRef]
                  ) -> PlacedPoints:
    """``saved`` (``file, cluster, x, y``) and ``added`` (those plus ``unsure`` and
    ``clustered``) as one set of points; a file with no image here gets no thumbnail."""
    names = named_clusters([*saved["cluster"], *added["cluster"]], cluster_names)
    both = pd.concat([saved[["file", "cluster", "x", "y"]], added[["file", "cluster", "x", "y"]]],
                     ignore_index=True)
    refs = ([saved_refs.get(f) for f in saved["file"]]
            + [added_refs.get(f) for f in added["file"]])
    first = len(saved)
    new = ~added["clustered"].astype(bool).to_numpy()
    unsure = added["unsure"].astype(bool).to_numpy()
    marks = []
    for label, rows, symbol in (("new", new & ~unsure, "star"),
                                ("new, unsure", new & unsure, "star-open"),
                                ("already in the run", ~new, "diamond")):
        picked = added[rows]
        marks.append(Marks(label, (first + np.flatnonzero(rows)).tolist(), symbol,
                           [f"{f} → {names.get(int(c), c)} ({label})"
                            for f, c in zip(picked["file"], picked["cluster"])]))
    return PlacedPoints(both[["x", "y"]].to_numpy(float), both["cluster"].to_numpy(int),
                        list(both["file"]), refs, marks, names)


def placed() -> bool:
    """Whether images were placed in a reopened run in this session."""
    return (st.session_state.get(persist.REOPENED) is not None
            and st.session_state.get(persist.ADDED) is not None)


def show_added_map() -> None:
    """The reopened run's map with the images placed in it, if any were placed."""
    if not placed():
        return
    reopened, added = st.session_state[persist.REOPENED], st.session_state[persist.ADDED]
    current = state.source()
    saved_refs = ({ref.name: ref for ref in current.discovery.images}
                  if current is not None else {})
    bundle = reopened["bundle"]
    points = placed_points(bundle.labels, added["table"], bundle.cluster_names, saved_refs,
                           added["images"])
    image_map(TARGET, points.coords, points.labels, points.names, points.cluster_names,
              points.refs, marks=points.marks)
