"""The Features page's choice of extractor: VGG, the offline one, or a keras-hub preset
(those in the operator's models folder, or a preset folder typed as a server path)."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from clustering.errors import ClusterLensError
from clustering.features.presets import (BACKBONE_KINDS, FAMILIES, check_preset,
                                         is_preset_model, local_presets, models_home)
from clustering.settings import MODELS
from dashboard import sources, state
from dashboard.roots import resolve_inside

FOLDER = "preset folder"  # the option whose path is typed in the box below it
FOLDER_TEXT = "preset_folder_text"  # the typed path (kept while the session lasts)
FOLDER_PROBLEM = "preset_folder_problem"  # why the typed path was refused


def model_options() -> list[str]:
    """VGG16, VGG19, the offline extractor, the models folder's presets, a typed folder."""
    return [*MODELS, *(folder.name for folder in local_presets()), FOLDER]


def model_label(model: str) -> str:
    """What the select box shows for an option (or a run's model)."""
    if model in state.MODEL_LABELS:
        return state.MODEL_LABELS[model]
    if model == FOLDER:
        return "A keras-hub preset folder on the server…"
    folder = Path(model) if Path(model).is_dir() else models_home() / model
    family = _family_title(folder)
    return f"{Path(model).name} ({family}, keras-hub preset)" if family else model


def _family_title(folder: Path) -> str | None:
    try:
        class_name = json.loads((folder / "config.json").read_text())["class_name"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    kind = BACKBONE_KINDS.get(class_name)
    return FAMILIES[kind].title if kind else None


def uses_layer(model: str) -> bool:
    """Whether the VGG layer choice applies to ``model``."""
    return model in ("vgg16", "vgg19")


def choose_model() -> str | None:
    """Draw the extractor choice; the model to run, or None while a typed folder is unusable."""
    current = state.setting("model")
    options = model_options()
    shown = current if current in options else FOLDER
    choice = st.selectbox("Feature extractor", options, format_func=model_label,
                          **state.bind("model", shown=shown),
                          help="CLIP and SigLIP also find images by text and name clusters "
                               "with words; DINOv2 is strong on fine visual similarity. "
                               f"Presets are read from the models folder ({models_home()}).")
    if choice != FOLDER:
        return choice
    st.text_input("Preset folder on the server", key=FOLDER_TEXT, on_change=_use_folder,
                  placeholder=str(models_home() / "clip_vit_base_patch32"),
                  help="A folder with config.json and model.weights.h5 as saved by keras-hub, "
                       "inside the models folder or a folder this server allows.")
    if st.session_state.get("model") == FOLDER and st.session_state.get(FOLDER_TEXT):
        _use_folder()  # a path typed before the page was left
    problem = st.session_state.get(FOLDER_PROBLEM)
    if problem:
        st.error(problem, icon=":material/error:")
    model = st.session_state.get("model")
    return model if model != FOLDER and is_preset_model(model) else None


def _use_folder() -> None:
    """on_change: accept the typed folder when it is an allowed, usable preset."""
    text = str(st.session_state.get(FOLDER_TEXT, ""))
    st.session_state.pop(FOLDER_PROBLEM, None)
    roots = [*sources.allowed_roots(), models_home().resolve()]
    try:
        folder = resolve_inside(text, roots)
        check_preset(folder, folder.name, "folder")
    except ClusterLensError as exc:
        st.session_state[FOLDER_PROBLEM] = str(exc)
        st.session_state["model"] = FOLDER
        return
    st.session_state["model"] = str(folder)


def preset_help(message: str) -> None:
    """Say why a preset cannot run, and where its folder goes."""
    st.error(f"**This model cannot run on this server.** {message}", icon=":material/cloud_off:")
