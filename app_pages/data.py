"""Data page: choose the images (uploads, a folder on the server, or the demo set)."""

from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from clustering.discover import IMAGE_EXTENSIONS, discover
from clustering.export import skipped_frame
from clustering.roots import configured_roots, resolve_inside
from clustering.uploads import Upload
from app_pages import _common as ui

IMAGE_TYPES = sorted(ext.lstrip(".") for ext in IMAGE_EXTENSIONS)
PREVIEW = 12


def use_uploads(files: list[UploadedFile], widget_key: str, label: str) -> None:
    """Save what an uploader holds and use it, once per new set of files."""
    signatures = st.session_state.setdefault(ui.UPLOAD_SIGNATURES, {})
    signature = tuple((f.file_id, f.size) for f in files)
    if files and signatures.get(widget_key, (None,))[0] != signature:
        uploads = [Upload(f.name, f.getvalue()) for f in files]
        try:
            found = ui.save_session_upload(uploads)
        except Exception as exc:  # too large, unwritable ...: a message, not a traceback
            signatures[widget_key] = (signature, ui.explain(exc, "saving the upload"))
        else:
            signatures[widget_key] = (signature, None)
            ui.set_source(ui.DataSource(label, found))
    if files and signatures[widget_key][1]:
        st.error(signatures[widget_key][1], icon=":material/error:")


def use_server_folder(text: str) -> None:
    roots = configured_roots(ui.APP_DIR, ui.DEMO_DIR)
    folder = resolve_inside(text, roots)
    ui.set_source(ui.DataSource(f"server folder {folder}", discover(folder)))


def folder_label(files: list[UploadedFile]) -> str:
    top = {PurePosixPath(f.name).parts[0] for f in files if "/" in f.name}
    return f"uploaded folder {top.pop()}" if len(top) == 1 else f"{len(files)} uploaded files"


st.title("Data")
st.write("Choose the images to group: upload them, name a folder on this server, "
         "or try the bundled demo set.")
if st.button("Use the demo set", type="primary", icon=":material/photo_library:"):
    ui.use_demo()

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
    roots = ui.attempt("reading the allowed folders", configured_roots, ui.APP_DIR, ui.DEMO_DIR)
    if roots:
        st.caption("Allowed folders: " + ", ".join(f"`{r}`" for r in roots))
    path_text = st.text_input("Folder path (or a .zip) on the server", key="server_path",
                              placeholder=str(ui.DEMO_DIR))
    if st.button("Use this folder", icon=":material/folder_open:"):
        ui.attempt("opening the folder", use_server_folder, path_text)

st.divider()
current = ui.source()
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
    ui.show_thumbnails(images[:PREVIEW])
    if len(images) > PREVIEW:
        st.caption(f"The first {PREVIEW} of {len(images)} images.")

feature_run = ui.run()
skipped = current.discovery.skipped + (feature_run.features.skipped if feature_run else [])
if skipped:
    st.subheader(f"{len(skipped)} files skipped")
    st.dataframe(skipped_frame(skipped), hide_index=True)
if images:
    st.page_link(ui.FEATURES_PAGE, label="Next: extract features",
                 icon=":material/arrow_forward:")
