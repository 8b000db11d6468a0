"""Features page: choose the extractor and PCA, extract (cached) and see what came out."""

from __future__ import annotations

import streamlit as st

from clustering.export.tables import skipped_frame
from clustering.features.presets import is_preset_model
from clustering.features.uploaded_weights import accept_weights, weights_origin
from clustering.features.weights import SPECS, models_dir
from clustering.jobs import work
from clustering.settings import LAYERS
from clustering.settings import Settings
from dashboard import (backbones, engine, errors, job_results, jobs, persist, router, sources,
                       state)
from dashboard.markdown import escape

router.ensure_routed(__file__)

WEIGHTS_NOTE = "weights_note"  # ("success" | "error", text) about the last weights upload


def extract(settings: Settings) -> None:
    """Start extraction as a background job (shared with anyone asking the same); the
    page follows its progress and, when it ends, reduces and sweeps k."""
    for key in (state.WEIGHTS_PROBLEM, WEIGHTS_NOTE, persist.REOPENING):
        st.session_state.pop(key, None)
    persist.autosave()  # uploaded images are kept with the session before a job reads them
    started = errors.attempt("starting the feature extraction", jobs.submit, jobs.FEATURES,
                             work.FEATURES, state.source().discovery.images, settings)
    if started is not None:
        job_results.collect()  # already done when the same work was done before


def show_notes() -> None:
    """What the last extraction job said when it ended."""
    for kind, text in jobs.notes(jobs.FEATURES):
        if kind == "complete":
            st.status(text, state="complete", expanded=False)
        else:
            getattr(st, kind)(text, icon=":material/error:" if kind == "error"
                              else ":material/info:")


def weights_help(problem: dict[str, str]) -> None:
    """Say that ImageNet weights are missing, how to get them, and offer alternatives."""
    if is_preset_model(problem["model"]):
        backbones.preset_help(problem["message"])
        offline_button()
        return
    spec = SPECS[(problem["model"], problem["layer"] != "pooled")]
    st.error(f"**{spec.model.upper()} cannot run: its ImageNet weights are not available on "
             f"this server.** The server's operator can download [{spec.filename}]({spec.url}) "
             f"and put it in `{models_dir()}`; or upload that file here (it is checked, and "
             f"used for your session only). Or use the offline extractor, which needs no "
             f"download.", icon=":material/cloud_off:")
    with st.expander("What went wrong, in detail"):
        st.write(problem["message"])
    left, right = st.columns(2)
    with left:
        key = f"weights_{spec.model}_{spec.include_top}"
        st.file_uploader(f"Upload {spec.filename}", type=["h5"], max_upload_size=1024, key=key,
                         on_change=weights_uploaded, args=(key, problem["model"], problem["layer"]))
    with right:
        offline_button()


def offline_button() -> None:
    """One click to the offline extractor (no weights needed)."""
    if st.button("Use the offline extractor instead", icon=":material/bolt:"):
        st.session_state["model"] = "handcrafted"
        st.session_state.pop(state.WEIGHTS_PROBLEM, None)
        extract(state.current_settings())
        st.rerun()


def weights_uploaded(key: str, model: str, layer: str) -> None:
    """Check a newly uploaded weights file once (loading it builds the network)."""
    file = st.session_state.get(key)
    if file is None:
        return
    try:
        st.session_state[WEIGHTS_NOTE] = ("success", use_weights(file.getvalue(), model, layer))
    except Exception as exc:  # a message, never a traceback
        st.session_state[WEIGHTS_NOTE] = (
            "error", errors.logged_explanation("checking the weights file", exc))


def use_weights(data: bytes, model: str, layer: str) -> str:
    """Keep an uploaded weights file for this session once it loads into the network.

    It goes into the session's own folder (deleted when the session ends), never into
    Keras' shared folder, so an upload can neither break nor swap another user's weights.
    """
    slot = state.weights_slot(model, layer)
    sources.upload_store().check_room(len(data))
    accepted = accept_weights(data, model, include_top=layer != "pooled",
                              folder=sources.weights_folder())
    st.session_state.setdefault(state.SESSION_WEIGHTS, {})[slot] = str(accepted.path)
    st.session_state.pop(state.WEIGHTS_PROBLEM, None)
    return (f"The file loads into {model.upper()}: {weights_origin(accepted)}, used for your "
            f"session only. Press Run to extract features with it.")


def show_result(feature_run: state.FeatureRun) -> None:
    features = feature_run.features
    label = features.extractor.get("label", "")
    st.subheader("Result")
    if "custom weights" in label:
        st.warning(f"{label}. These are not the published ImageNet weights, so the groups "
                   f"may not reflect what the images show.", icon=":material/warning:")
    else:
        st.caption(label)
    cols = st.columns(4)
    cols[0].metric("Images", len(features.names))
    cols[1].metric("Features each", features.features.shape[1] if features.names else 0)
    cols[2].metric("Computed / from cache", f"{features.computed} / {features.cached}")
    cols[3].metric("Seconds", f"{features.seconds:.1f}")
    if features.skipped:
        st.write(f"{len(features.skipped)} images could not be decoded and were left out:")
        st.dataframe(skipped_frame(features.skipped), hide_index=True)
    if feature_run.settings != state.current_settings():
        st.info("The settings above changed since this run: press Run to apply them.",
                icon=":material/info:")
    if features.names:
        st.page_link(router.CHOOSE_K_PAGE, label="Next: choose k", icon=":material/arrow_forward:")


st.title("Features")
data = state.source()
if data is None or not data.discovery.images:
    st.info("Choose some images on the Data page first.", icon=":material/info:")
    st.page_link(router.DATA_PAGE, label="Go to Data", icon=":material/arrow_back:")
    st.stop()
st.caption(f"{len(data.discovery.images)} images from {escape(data.label)}.")

left, right = st.columns(2)
with left:
    model = backbones.choose_model()
    st.selectbox("VGG layer", LAYERS, format_func=state.LAYER_LABELS.get,
                 disabled=not backbones.uses_layer(model), **state.bind("layer"),
                 help="pooled: compact and fast; fc1/fc2: the fully connected layers, "
                      "more specific to ImageNet's classes, and a larger weights file.")
with right:
    mode = st.radio("PCA before clustering", state.PCA_MODES, format_func=state.PCA_MODE_LABELS.get,
                    horizontal=True, **state.bind("pca_mode"))
    if mode == "variance":
        st.slider("Fraction of variance to keep", 0.50, 0.99, step=0.01,
                  **state.bind("pca_fraction"))
    elif mode == "components":
        st.number_input("Number of components", 2, 4096, step=1, **state.bind("pca_components"))
    st.checkbox("Whiten the PCA components", **state.bind("whiten"),
                help="Gives every component the same variance.")
    st.checkbox("L2-normalise features first", **state.bind("normalize"),
                help="Compares images by the direction of their feature vectors.")

where = errors.attempt("reading the server's configuration", engine.configured_engine)
if where:
    st.caption(f"Features are extracted on {where}, in the background: you may close this "
               f"page while they are.")
if st.button("Run", type="primary", icon=":material/play_arrow:", disabled=model is None):
    extract(state.current_settings())
jobs.show_progress(jobs.FEATURES, "Extracting features" + (
    f" on {where}" if where and where != engine.LOCAL else ""))
show_notes()

problem = st.session_state.get(state.WEIGHTS_PROBLEM)
if problem and problem["model"] == state.setting("model"):
    weights_help(problem)
note = st.session_state.get(WEIGHTS_NOTE)
if note:
    kind, text = note
    getattr(st, kind)(text, icon=":material/check_circle:" if kind == "success"
                      else ":material/error:")
if state.run() is not None:
    show_result(state.run())
