"""Progress of the library's long work, drawn as a Streamlit progress bar.

The library reports :class:`~clustering.images.engine.Progress` through a callback;
:class:`ProgressBar` is that callback. Created inside an ``st.cache_data`` function, a
cache hit replays the bar and its removal, so a warm page shows nothing.
"""

from __future__ import annotations

import time

import streamlit as st

from clustering.images.engine import Progress

PROGRESS_EVERY_S = 0.25  # redraw at most this often: each redraw is a message to the browser


def duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    return f"{minutes // 60} h {minutes % 60} min"


def progress_text(p: Progress, unit: str = "images") -> str:
    """``"12 / 40 images · 5.1 images/s · about 6 s left"``."""
    parts = [f"{p.done:,} / {p.total:,} {unit}"]
    if p.images_per_s > 0:
        parts.append(f"{p.images_per_s:,.1f} {unit}/s")
    if p.eta_s is not None and p.done < p.total:
        parts.append(f"about {duration(p.eta_s)} left")
    if p.cached:
        parts.append(f"{p.cached:,} from cache")
    if p.skipped:
        parts.append(f"{p.skipped:,} skipped")
    return " · ".join(parts)


class ProgressBar:
    """A throttled ``st.progress`` fed by the library's progress callback; a context
    manager that removes the bar when the work ends (or fails).

    ``label`` says what is being done; ``unit`` what ``done`` and ``total`` count.
    """

    def __init__(self, label: str, unit: str = "images") -> None:
        self.label, self.unit = label, unit
        self._slot = None
        self._last = 0.0

    def __enter__(self) -> "ProgressBar":
        self._slot = st.empty()
        return self

    def __exit__(self, *exc: object) -> None:
        self._slot.empty()

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.done == p.total or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self._slot.progress(min(1.0, p.done / max(1, p.total)),
                                text=f"{self.label}: {progress_text(p, self.unit)}")
