"""The image map's view and hover, read from the plotly chart in the browser.

``st.plotly_chart`` reports selections, not zooms or hovers. A small
``st.components.v2`` component runs in the page itself (no iframe, no second copy of
plotly.js), finds the chart drawn inside ``st.container(key=target)`` and:

- on ``plotly_relayout`` (a drag zoom, scroll zoom, pan, double-click reset) sends the
  axes' new ranges back as its ``view`` state (kept in ``st.session_state`` under the
  instance's key, so the view survives reruns);
- draws the layout images Python chose for that view with ``Plotly.relayout`` on the
  same chart (only the view's thumbnails travel; the points are never sent again), and
  draws them again if a rerun redrew the chart without them;
- on ``plotly_hover`` shows a floating preview and asks Python for the hovered point's
  image (``hover`` state), which comes back in ``data`` and is kept in the page.

Two instances per map, each in its own ``st.fragment``: a zoom reruns only the view
part, a hover only the hover part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

TOOLTIP_ID = "clusterlens-hover-image"

_JS = """
const maps = (window.__clusterlensMaps = window.__clusterlensMaps || {});

function chartOf(target) {
  const chart = document.querySelector(`.st-key-${target} .js-plotly-plot`);
  return chart && typeof chart.on === "function" && chart._fullLayout ? chart : null;
}

function applyImages(map) {
  const chart = map.chart;
  if (!chart || !map.images || !window.Plotly) return;
  const shown = (chart.layout.images || []).length;
  if (map.applied === map.token && shown === map.images.length) return;
  map.applied = map.token;
  window.Plotly.relayout(chart, { images: map.images }).then(() => {
    chart.setAttribute("data-view-token", map.token);
  });
}

function viewOf(chart, event) {
  const x = chart._fullLayout.xaxis.range, y = chart._fullLayout.yaxis.range;
  const reset = Object.keys(event).some((k) => k.endsWith("autorange"));
  return { x: [Number(x[0]), Number(x[1])], y: [Number(y[0]), Number(y[1])], reset };
}

function tooltip(map) {
  let tip = document.getElementById(map.tooltipId);
  if (!tip) {
    tip = document.createElement("div");
    tip.id = map.tooltipId;
    tip.style.cssText = "position:fixed;z-index:100000;pointer-events:none;display:none;" +
      "background:#fff;border:1px solid #999;border-radius:4px;padding:4px;" +
      "box-shadow:0 2px 8px rgba(0,0,0,.3);font:12px sans-serif;max-width:260px";
    document.body.appendChild(tip);
  }
  return tip;
}

function showTip(map) {
  const tip = tooltip(map), hovered = map.hovered;
  if (hovered === null) { tip.style.display = "none"; return; }
  const found = map.previews[hovered.index];
  tip.replaceChildren();
  if (found && found.uri) {
    const img = document.createElement("img");
    img.src = found.uri; img.alt = hovered.name;
    img.style.cssText = "display:block;max-width:240px;max-height:240px";
    tip.appendChild(img);
  }
  const caption = document.createElement("div");
  caption.textContent = hovered.name + (found ? (found.uri ? "" : " (" + found.reason + ")")
                                               : " (loading…)");
  tip.appendChild(caption);
  tip.style.left = (hovered.x + 16) + "px";
  tip.style.top = (hovered.y + 16) + "px";
  tip.style.display = "block";
}

// A view whose answer (the rerun drawing it) has not come back in RETRY_MS is sent again,
// RETRIES times at most: a request that crosses another fragment's rerun can be lost.
const RETRY_MS = 2000, RETRIES = 3;

function sendView(map, view, retries) {
  if (!map.sendView) return;
  map.seq += 1;
  const seq = map.seq;
  map.sendView({ ...view, seq, for: map.drawing });
  clearTimeout(map.retry);
  map.retry = setTimeout(() => {
    if (map.answered < seq && retries > 0) sendView(map, view, retries - 1);
  }, RETRY_MS);
}

function attach(map) {
  const chart = chartOf(map.target);
  if (!chart || chart === map.chart) return;
  map.chart = chart;
  map.applied = null;
  let timer = null;
  chart.on("plotly_relayout", (event) => {
    const moved = Object.keys(event || {}).some((k) => /^[xy]axis/.test(k));
    if (!moved || !map.sendView) return;
    clearTimeout(timer);  // a scroll zoom sends many: report where it ends
    timer = setTimeout(() => sendView(map, viewOf(chart, event), RETRIES), 150);
  });
  chart.on("plotly_afterplot", () => applyImages(map));
  chart.on("plotly_hover", (event) => {
    const point = event.points && event.points[0];
    if (!point) return;
    const index = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
    const e = event.event || {};
    map.hovered = { index: Number(index), name: point.text || "", x: e.clientX || 0,
                    y: e.clientY || 0 };
    showTip(map);
    clearTimeout(map.hoverTimer);  // passing over many points asks only for the last one
    const ask = (retries) => {
      if (!map.hovered || map.hovered.index !== Number(index) || index in map.previews) return;
      if (map.sendHover) map.sendHover(Number(index));
      if (retries > 0) map.hoverTimer = setTimeout(() => ask(retries - 1), RETRY_MS);
    };
    map.hoverTimer = setTimeout(() => ask(RETRIES), 60);
  });
  chart.on("plotly_unhover", () => { map.hovered = null; showTip(map); });
  applyImages(map);
}

export default function (component) {
  const { data, setStateValue } = component;
  const map = (maps[data.target] = maps[data.target] || {
    target: data.target, tooltipId: data.tooltip_id, chart: null, seq: 0, previews: {},
    hovered: null, images: null, token: null, applied: null,
  });
  if (data.part === "view") {
    map.images = data.images;
    map.token = data.token;
    map.drawing = data.drawing;
    map.answered = data.answered;
    map.seq = Math.max(map.seq, data.answered);
    map.sendView = (view) => setStateValue("view", view);
  } else {
    if (map.previewsFor !== data.drawing) {  // other points: other images
      map.previews = {};
      map.previewsFor = data.drawing;
    }
    map.sendHover = (index) => {
      map.seq += 1;  // a new value each time, so asking again reruns
      setStateValue("hover", { index, for: data.drawing, seq: map.seq });
    };
    if (data.preview) {
      map.previews[data.preview.index] = data.preview;
      if (map.hovered && map.hovered.index === data.preview.index) showTip(map);
    }
  }
  attach(map);
  applyImages(map);
  // the chart may be drawn after this component, or drawn anew by a rerun
  clearInterval(map.timer);
  map.timer = setInterval(() => { attach(map); applyImages(map); }, 300);
  return () => clearInterval(map.timer);
}
"""

_component = st.components.v2.component("clusterlens_image_map", html="<span></span>", js=_JS)


def _state(key: str) -> Mapping[str, Any]:
    found = st.session_state.get(key)
    return found if isinstance(found, Mapping) else {}


def view_key(target: str) -> str:
    return f"{target}_view"


def hover_key(target: str) -> str:
    return f"{target}_hover"


def parse_view(value: Any) -> tuple[float, float, float, float] | None:
    """``(x0, x1, y0, y1)`` of a view the browser sent, or None for the overview (a
    double-click reset, nothing sent yet, or anything malformed)."""
    if not isinstance(value, Mapping) or value.get("reset"):
        return None
    try:
        x0, x1 = (float(v) for v in value["x"])
        y0, y1 = (float(v) for v in value["y"])
    except (KeyError, TypeError, ValueError):
        return None
    box = (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))
    finite = all(abs(v) < float("inf") for v in box)
    return box if finite and box[1] > box[0] and box[3] > box[2] else None


def current_view(target: str, drawing: str) -> tuple[float, float, float, float] | None:
    """The view the user last zoomed to on the map ``target`` while it showed ``drawing``
    (None: the overview, also when the map now shows other points)."""
    view = _state(view_key(target)).get("view")
    return parse_view(view) if isinstance(view, Mapping) and view.get("for") == drawing \
        else None


def hovered(target: str, drawing: str) -> int | None:
    """The index of the point last hovered on the map ``target`` while it showed
    ``drawing``, or None."""
    value = _state(hover_key(target)).get("hover")
    if not isinstance(value, Mapping) or value.get("for") != drawing:
        return None
    index = value.get("index")
    return int(index) if isinstance(index, (int, float)) else None


def draw_view(target: str, drawing: str, images: list[dict], token: str) -> None:
    """Send the layout images of the current view to the map ``target``, which shows the
    points named ``drawing`` (a view sent back is for those points only)."""
    view = _state(view_key(target)).get("view")
    answered = view.get("seq") if isinstance(view, Mapping) else None
    _component(key=view_key(target), height=0, on_view_change=lambda: None,
               data={"part": "view", "target": target, "tooltip_id": TOOLTIP_ID,
                     "images": images, "token": token, "drawing": drawing,
                     "answered": answered if isinstance(answered, int) else 0})


def draw_hover(target: str, drawing: str, preview: dict | None) -> None:
    """Send the hovered point's image (``{"index", "uri", "reason"}``) to the map ``target``
    showing ``drawing``."""
    _component(key=hover_key(target), height=0, on_hover_change=lambda: None,
               data={"part": "hover", "target": target, "tooltip_id": TOOLTIP_ID,
                     "preview": preview, "drawing": drawing})
