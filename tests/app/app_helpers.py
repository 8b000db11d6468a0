"""Shared helpers for the dashboard's AppTest tests (imported by the test_app_* modules;
their fixtures are in ``tests/app/conftest.py``)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.helpers import COLOURS

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 180
Upload = tuple[str, bytes, str]


def new_app() -> AppTest:
    """The dashboard, run once (it opens on the Data page)."""
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def png(colour: tuple[int, int, int], seed: int, size: tuple[int, int] = (48, 40)) -> bytes:
    """A small noisy PNG of one dominant colour."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 18, (size[1], size[0], 3)), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def coloured_uploads(per_colour: int = 3, counts: dict[str, int] | None = None) -> list[Upload]:
    """``per_colour`` PNGs of each test colour (or ``counts`` per colour name)."""
    counts = counts or {name: per_colour for name in COLOURS}
    return [(f"{name}_{i}.png", png(COLOURS[name], seed=100 * g + i), "image/png")
            for g, (name, n) in enumerate(counts.items()) for i in range(n)]


def upload(at: AppTest, files: list[Upload], key: str = "upload_files") -> AppTest:
    """Put ``files`` in an uploader of the Data page and rerun."""
    at.switch_page("pages/data.py").run()
    return at.file_uploader(key=key).set_value(files).run()


def extract(at: AppTest, model: str = "handcrafted") -> AppTest:
    """Open the Features page, pick ``model`` and press Run."""
    at.switch_page("pages/features.py").run()
    at.selectbox(key="_w_model").set_value(model).run()
    return button(at, "Run").click().run()


def button(at: AppTest, label: str):
    """The button labelled ``label``."""
    return next(b for b in at.button if b.label == label)


def messages(at: AppTest, kind: str) -> list[str]:
    """The texts of the page's ``error``/``warning``/``info``/``success`` messages."""
    return [m.value for m in getattr(at, kind)]


def plotly_values(data: object) -> list:
    """A plotly array from a figure's JSON: a plain list, or plotly's base64 typed array."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def charts(at: AppTest) -> dict[str, dict]:
    """The page's plotly figures (as JSON) by title."""
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {f["layout"].get("title", {}).get("text", ""): f for f in figures}


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def analysed_app(**counts: int) -> AppTest:
    """Uploaded test images (3 of each colour, or ``counts``) with offline features."""
    files = coloured_uploads(counts=counts) if counts else coloured_uploads(3)
    return extract(upload(new_app(), files), "handcrafted")
