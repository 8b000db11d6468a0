"""Paging through a gallery of many images."""

from __future__ import annotations

import math

import numpy as np


def page_count(n_items: int, per_page: int) -> int:
    """Number of pages needed for ``n_items`` (at least 1)."""
    return max(1, math.ceil(n_items / per_page))


def page_items(order: np.ndarray, page: int, per_page: int) -> np.ndarray:
    """The items on 1-based ``page`` (clamped to the valid pages)."""
    page = min(max(1, page), page_count(len(order), per_page))
    return order[(page - 1) * per_page: page * per_page]
