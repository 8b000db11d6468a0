"""Data page: choose the images (uploads, a folder on the server, or the demo set)."""

from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from clustering.clusters.members import named_clusters
from clustering.export.saved_model import UNSURE_QUANTILE
from clustering.export.tables import skipped_frame
from clustering.files.discover import IMAGE_EXTENSIONS, Discovery, discover
from dashboard import (added_map, compute, distributed, errors, job_results, jobs, persist,
                       router, sources, state, thumbnails)
from dashboard.markdown import escape
from dashboard.uploads import Upload

router.ensure_routed(__file__)

IMAGE_TYPES = sorted(ext.lstrip(".") for ext in IMAGE_EXTENSIONS)
PREVIEW = 12


def use_uploads(files: list[UploadedFile], widget_key: str, label: str) -> None:
    """Save what an uploader holds and use it, once per new set of files."""
    signatures = st.session_state.setdefault(state.UPLOAD_SIGNATURES, {})
    signature = tuple((f.file_id, f.size) for f in files)
    if files and signatures.get(widget_key, (None,))[0] != signature:
        uploads = [Upload(f.name, f.getvalue()) for f in files]
        try:
            found = sources.save_session_upload(uploads)
        except Exception as exc:  # too large, unwritable ...: a message, not a traceback
            signatures[widget_key] = (signature,
                                      errors.logged_explanation("saving the upload", exc))
        else:
            signatures[widget_key] = (signature, None)
            state.set_source(state.DataSource(label, found))
    if files and signatures[widget_key][1]:
        st.error(signatures[widget_key][1], icon=":material/error:")


def use_server_folder(text: str) -> None:
    folder = sources.server_path(text)
    state.set_source(state.DataSource(f"server folder {folder}", discover(folder)))


def folder_label(files: list[UploadedFile]) -> str:
    top = {PurePosixPath(f.name).parts[0] for f in files if "/" in f.name}
    return f"uploaded folder {top.pop()}" if len(top) == 1 else f"{len(files)} uploaded files"


st.title("Data")
st.write("Choose the images to group: upload them, name a folder on this server, "
         "or try the bundled demo set.")
if st.button("Use the demo set", type="primary", icon=":material/photo_library:"):
    sources.use_demo()

files_tab, folder_tab, server_tab = st.tabs(
    ["Upload images or a .zip", "Upload a folder", "Folder on this server"])
with files_tab:
    files = st.file_uploader("Images, or .zip archives of images", type=IMAGE_TYPES + ["zip"],
                             accept_multiple_files=True, key="upload_files")
    use_uploads(files, "upload_files", f"{len(files)} uploaded file(s)")
with folder_tab:
    folder_files = st.file_uploader("A folder of images (sub-folders included)",
                                    type=IMAGE_TYPES, accept_multiple_files="directory",
                                    key="upload_folder")
    use_uploads(folder_files, "upload_folder", folder_label(folder_files))
with server_tab:
    roots = errors.attempt("reading the allowed folders", sources.allowed_roots)
    if roots:
        st.caption("Allowed folders: " + ", ".join(f"`{r}`" for r in roots))
    path_text = st.text_input("Folder path (or a .zip) on the server", key="server_path",
                              placeholder=str(sources.DEMO_DIR))
    if st.button("Use this folder", icon=":material/folder_open:"):
        errors.attempt("opening the folder", use_server_folder, path_text)


# ---- Save and reopen (issue 10) ---------------------------------------------------------
def reopen_upload() -> None:
    """Reopen the bundle in the uploader, once per new file."""
    file = st.session_state.get("reopen_bundle")
    if file is not None and st.session_state.get("reopen_done") != file.file_id:
        st.session_state["reopen_done"] = file.file_id
        run_reopen(persist.reopen_bundle, file.getvalue(), f"the bundle {file.name}")


def run_reopen(fn, *args) -> None:
    """Reopen with ``fn``; keep what happened to say it on this page."""
    try:
        st.session_state[persist.REOPEN_MESSAGE] = ("success", fn(*args))
    except Exception as exc:  # refused bundle, folder not allowed, images gone: in words
        st.session_state[persist.REOPEN_MESSAGE] = (
            "error", errors.logged_explanation("reopening the run", exc))


def add_found(found: Discovery) -> None:
    errors.attempt("placing the new images", persist.add_images, found)
    job_results.collect()  # already done when these images were placed before


def show_added(reopened: dict, added: dict) -> None:
    """The saved map with the new images on it, and the new images by cluster."""
    bundle, table = reopened["bundle"], added["table"]
    names = named_clusters(bundle.labels["cluster"], bundle.cluster_names)
    unsure, known = int(table["unsure"].sum()), int(table["clustered"].sum())
    st.write(f"**{len(table)} images placed**: {len(table) - known} new, {unsure} of them "
             f"*unsure* (farther from their cluster's centre than {UNSURE_QUANTILE * 100:.0f} % "
             f"of the images clustered there)"
             + (f"; {known} were already in the saved run and keep their cluster"
                if known else "") + ".")
    added_map.show_added_map()
    for cluster in sorted(table["cluster"].unique()):
        rows = table[table["cluster"] == cluster].sort_values("distance_to_centroid")
        known = int(rows["clustered"].sum())
        st.markdown(f"**{escape(names.get(int(cluster), cluster))}**: {len(rows) - known} new"
                    + (f", {known} already in the run" if known else ""))
        thumbnails.show_thumbnails(
            [added["images"][f] for f in rows["file"]],
            [("already in the run · " if old else "NEW · ") + PurePosixPath(f).name
             + (" · unsure" if u else "")
             for f, u, old in zip(rows["file"], rows["unsure"], rows["clustered"])])
    if added["skipped"]:
        st.dataframe(skipped_frame(added["skipped"]), hide_index=True)


st.divider()
st.subheader("Save and reopen")
st.caption("Your work here is saved on this server as you go: reloading this address "
           f"(it ends in `?{persist.QUERY_KEY}=…`) brings it back for "
           f"{persist.MAX_AGE_S / 86400:.0f} days. Anyone with the address gets a copy of your "
           "work and can see your images, so share it only with people who may.")
analysis = compute.current_analysis()
if analysis is not None:
    st.download_button("Save (download a bundle)", persist.bundle_maker(analysis),
                       "clusterlens-bundle.zip", "application/zip", on_click="ignore",
                       icon=":material/download:",
                       help="run.json, labels, cluster names, your keep/remove choices, truth "
                            "labels, the fitted PCA and centroids; no images.")
else:
    st.caption("A bundle can be downloaded once the images are clustered (Features page).")
bundle_tab, run_tab = st.tabs(["Reopen a bundle", "Reopen a saved run on this server"])
with bundle_tab:
    st.file_uploader("A bundle saved here (clusterlens-bundle.zip)", type=["zip"],
                     key="reopen_bundle", on_change=reopen_upload)
with run_tab:
    run_text = st.text_input("Folder written by `python -m clustering cluster … --out FOLDER`",
                             key="reopen_path")
    if st.button("Reopen this run", icon=":material/history:"):
        run_reopen(persist.reopen_folder, run_text)
message = st.session_state.get(persist.REOPEN_MESSAGE)  # kept: reruns must not hide it
if message:
    getattr(st, message[0])(message[1], icon=":material/history:")
reopened = st.session_state.get(persist.REOPENED)
if reopened is not None and reopened["bundle"].model is not None:
    st.markdown(f"#### Add images to {escape(reopened['label'])}")
    st.caption("New images are placed with the saved PCA and centroids: same map, same "
               "clusters; nothing is re-clustered.")
    add_upload_tab, add_folder_tab = st.tabs(["Upload images", "Folder on this server"])
    with add_upload_tab:
        new_files = st.file_uploader("Images, or .zip archives of images",
                                     type=IMAGE_TYPES + ["zip"], accept_multiple_files=True,
                                     key="add_files")
        if new_files and st.button("Place these images", icon=":material/add_photo_alternate:"):
            found = errors.attempt("saving the new images", persist.save_added,
                                   [Upload(f.name, f.getvalue()) for f in new_files])
            if found is not None:
                add_found(found)
    with add_folder_tab:
        add_text = st.text_input("Folder path on the server", key="add_path")
        if st.button("Place the images of this folder", icon=":material/add_photo_alternate:"):
            found = errors.attempt("opening the folder", persist.find_added, add_text)
            if found is not None:
                add_found(found)
    jobs.show_progress(jobs.ASSIGN, "Placing the new images")
    for kind, text in jobs.notes(jobs.ASSIGN):
        getattr(st, kind)(text, icon=":material/warning:")
    added = st.session_state.get(persist.ADDED)
    if added is not None:
        show_added(reopened, added)
elif reopened is not None:
    st.caption(f"{escape(reopened['label'])} holds no fitted model, so new images cannot be "
               f"placed in it.")
# ---- end of Save and reopen -------------------------------------------------------------

# --- Distributed result (issue 11): its own block; the result opens on its own page ---
with st.expander("Open a distributed result (Ray)", icon=":material/hub:"):
    st.caption("The folder that `cluster --engine ray` wrote (--out), inside the allowed "
               "folders. Only a sample and one cluster at a time are read.")
    result_text = st.text_input("Result folder on the server", key="distributed_path")
    if st.button("Open this result", icon=":material/hub:", key="open_distributed"):
        if errors.attempt("opening the result", distributed.open_result, result_text):
            st.switch_page(router.DATASET_PAGE)
# --- end of the distributed result block ---

st.divider()
current = state.source()
if current is None:
    st.info("No images chosen yet.", icon=":material/info:")
    st.stop()

images = current.discovery.images
st.subheader(f"{len(images)} images found")
st.caption(f"From {escape(current.label)}.")
if not images:
    st.warning("No images were found there. Supported types: "
               + ", ".join(IMAGE_TYPES) + ". Choose another folder or upload images.",
               icon=":material/warning:")
else:
    thumbnails.show_thumbnails(images[:PREVIEW])
    if len(images) > PREVIEW:
        st.caption(f"The first {PREVIEW} of {len(images)} images.")

feature_run = state.run()
skipped = current.discovery.skipped + (feature_run.features.skipped if feature_run else [])
if skipped:
    st.subheader(f"{len(skipped)} files skipped")
    st.dataframe(skipped_frame(skipped), hide_index=True)
if images:
    st.page_link(router.FEATURES_PAGE, label="Next: extract features",
                 icon=":material/arrow_forward:")
