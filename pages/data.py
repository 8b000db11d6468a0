"""Data page: choose the images (uploads, a folder on the server, or the demo set)."""

from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from clustering.export.tables import skipped_frame
from clustering.files.discover import IMAGE_EXTENSIONS, discover
from dashboard import distributed, errors, router, sources, state, thumbnails
from dashboard.roots import configured_roots, resolve_inside
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
            signatures[widget_key] = (signature, errors.explain(exc, "saving the upload"))
        else:
            signatures[widget_key] = (signature, None)
            state.set_source(state.DataSource(label, found))
    if files and signatures[widget_key][1]:
        st.error(signatures[widget_key][1], icon=":material/error:")


def use_server_folder(text: str) -> None:
    roots = configured_roots(router.APP_DIR, sources.DEMO_DIR)
    folder = resolve_inside(text, roots)
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
    roots = errors.attempt("reading the allowed folders", configured_roots, router.APP_DIR, sources.DEMO_DIR)
    if roots:
        st.caption("Allowed folders: " + ", ".join(f"`{r}`" for r in roots))
    path_text = st.text_input("Folder path (or a .zip) on the server", key="server_path",
                              placeholder=str(sources.DEMO_DIR))
    if st.button("Use this folder", icon=":material/folder_open:"):
        errors.attempt("opening the folder", use_server_folder, path_text)

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
st.caption(f"From {current.label}.")
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
