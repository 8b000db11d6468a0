"""Paging through a gallery of many images."""

from __future__ import annotations

import math


def page_count(n_items: int, per_page: int) -> int:
    """Number of pages needed for ``n_items`` (at least 1)."""
    return max(1, math.ceil(n_items / per_page))

