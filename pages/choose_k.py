"""Choose k page: elbow and silhouette charts (click a point to choose k), a k slider,
the per-image silhouette plot and the PCA explained-variance curve."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import choices, compute, router, state
from dashboard.charts import (elbow_figure, k_from_points, silhouette_k_figure,
                               silhouette_samples_figure, variance_figure)

router.ensure_routed(__file__)


def choose_from_chart(chart_key: str) -> None:
    """on_select callback: the clicked point's k becomes the chosen k."""
    k = k_from_points(st.session_state[chart_key]["selection"]["points"])
    if k is not None:
        st.session_state[state.K] = k


st.title("Choose k")
analysis = compute.require_analysis()
sweep, k = analysis.sweep, analysis.k
n_images = len(analysis.names)
low, high = compute.k_limits(n_images)

st.info(f"**Suggested k = {sweep.choice_.k}**: {sweep.choice_.rule}.", icon=":material/lightbulb:")
if high > low:
    st.slider("k values to try", low, high, **state.bind("k_range", compute.k_range(n_images)),
              help=f"Each k in this range is fitted once to draw the curves (at most {high} "
                   f"with {n_images} images).")
if sweep.ks_[-1] > sweep.ks_[0]:
    st.slider("k (number of clusters)", int(sweep.ks_[0]), int(sweep.ks_[-1]), **state.bind(state.K),
              help="Or click a point on either chart.")
else:
    st.caption(f"Only k = {k} is possible here.")

left, right = st.columns(2)
for column, figure, name in (
        (left, elbow_figure(sweep.ks_, sweep.inertias_, k, sweep.choice_.k), "elbow"),
        (right, silhouette_k_figure(sweep.ks_, sweep.silhouettes_, k, sweep.choice_.k),
         "silhouette")):
    chart_key = f"{name}_chart_{k}"  # a new chart per k, so an old click is not kept
    column.plotly_chart(figure, key=chart_key, on_select=partial(choose_from_chart, chart_key),
                        selection_mode="points")

names = choices.cluster_names(analysis)
st.plotly_chart(silhouette_samples_figure(analysis.clustering.silhouettes,
                                          analysis.clustering.labels, analysis.names, names),
                key="silhouette_samples")
reducer = analysis.reduction.reducer
settings = analysis.run.settings
st.plotly_chart(variance_figure(compute.variance(analysis),
                                reducer.n_components_ if reducer.pca_ is not None else None,
                                settings.pca if isinstance(settings.pca, float) else None),
                key="pca_variance")
st.caption(f"PCA keeps {reducer.n_components_} components"
           + (f" ({reducer.cumulative_variance_[-1]:.0%} of the variance)."
              if len(reducer.cumulative_variance_) else " (no PCA)."))
st.page_link(router.CLUSTERS_PAGE, label=f"Next: see the {k} clusters",
             icon=":material/arrow_forward:")
