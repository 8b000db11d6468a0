"""A page with only the image map, for bench/image_map.py (served by ``streamlit run``).

    CLUSTERLENS_MAP_POINTS=100000 CLUSTERLENS_MAP_IMAGES=folder streamlit run bench/_image_map_app.py

``CLUSTERLENS_MAP_POINTS`` points in 20 clusters (as bench/map_render.py places them);
point ``i`` shows image ``i mod K`` of the ``K`` JPEGs in ``CLUSTERLENS_MAP_IMAGES``.
Each view's server time is logged to ``CLUSTERLENS_MAP_LOG`` (one line per view).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import streamlit as st

from clustering.files.discover import ImageRef
from dashboard import image_map

CLUSTERS = 20


@st.cache_resource
def points(n: int, folder: str) -> tuple[np.ndarray, np.ndarray, list[str], list[ImageRef]]:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (CLUSTERS, 2))
    labels = rng.integers(0, CLUSTERS, n)
    coords = centres[labels] + rng.normal(0, 1, (n, 2))
    files = sorted(Path(folder).glob("*.jpg"))
    refs = [ImageRef(name=f.name, path=f) for f in files]
    return coords, labels, [f"image_{i:06d}.jpg" for i in range(n)], \
        [refs[i % len(refs)] for i in range(n)]


@st.cache_resource
def log_views(path: str) -> None:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(image_map.__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


if os.environ.get("CLUSTERLENS_MAP_LOG"):
    log_views(os.environ["CLUSTERLENS_MAP_LOG"])
coords, labels, names, refs = points(int(os.environ.get("CLUSTERLENS_MAP_POINTS", "10000")),
                                     os.environ["CLUSTERLENS_MAP_IMAGES"])
image_map.image_map("bench_map", coords, labels, names,
                    {c: f"cluster {c}" for c in range(CLUSTERS)}, refs)
