"""Image on hover for a plotly chart drawn by ``st.plotly_chart``.

Plotly has no image in its hover label, and ``st.plotly_chart`` reports selections,
not hovers. Rather than a second copy of plotly.js in a custom component (4.7 MB sent
on every rerun) this small ``st.components.v2`` component, which runs in the page
itself, finds the chart drawn inside the container keyed ``target`` and listens to
its ``plotly_hover`` events: the chart keeps Streamlit's own selection handling, and
the component only shows a floating thumbnail. Works offline (no external script).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

TOOLTIP_ID = "clusterlens-hover-image"

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const images = data.images || {};
  const tip = document.createElement("div");
  tip.id = data.tooltip_id;
  tip.style.cssText = "position:fixed;z-index:100000;pointer-events:none;display:none;" +
    "background:#fff;border:1px solid #999;border-radius:4px;padding:4px;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3);font:12px sans-serif;max-width:220px";
  document.body.appendChild(tip);
  let attached = null;
  const show = (event) => {
    const point = event.points && event.points[0];
    if (!point) return;
    const index = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
    const uri = images[String(index)];
    const name = point.text || "";
    tip.replaceChildren();
    if (uri) {
      const img = document.createElement("img");
      img.src = uri; img.alt = name;
      img.style.cssText = "display:block;max-width:200px;max-height:200px";
      tip.appendChild(img);
    }
    const caption = document.createElement("div");
    caption.textContent = uri ? name : name + " (no preview at this many points: click it)";
    tip.appendChild(caption);
    const e = event.event || {};
    tip.style.left = ((e.clientX || 0) + 16) + "px";
    tip.style.top = ((e.clientY || 0) + 16) + "px";
    tip.style.display = "block";
  };
  const hide = () => { tip.style.display = "none"; };
  const attach = () => {
    const chart = document.querySelector(`.st-key-${data.target} .js-plotly-plot`);
    if (!chart || chart === attached || typeof chart.on !== "function") return;
    chart.on("plotly_hover", show);
    chart.on("plotly_unhover", hide);
    attached = chart;
  };
  attach();
  const timer = setInterval(attach, 400);  // the chart may be drawn after this component
  return () => { clearInterval(timer); tip.remove(); };
}
"""

_hover_images = st.components.v2.component("clusterlens_hover_images", html="<span></span>",
                                            js=_JS)


def hover_images(target: str, images: Mapping[int, str]) -> None:
    """Show ``images`` (image index -> data URI) on hovering the points of the chart
    inside ``st.container(key=target)``."""
    _hover_images(key=f"hover_{target}", height=0,
                  data={"target": target, "tooltip_id": TOOLTIP_ID,
                        "images": {str(i): uri for i, uri in images.items()}})
