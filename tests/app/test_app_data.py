"""Data page: uploads (files, folder, zip), server folders inside roots, the demo set."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from clustering.files.discover import discover
from dashboard.roots import ROOTS_ENV
from dashboard.upload_store import QUOTA_ENV, folder_size
from dashboard.uploads import MAX_TOTAL_ENV
from tests.files.test_zips_and_limits import lying_zip
from tests.helpers import save_image
from tests.app.app_helpers import (analysed_app, button, coloured_uploads, messages, new_app,
                                   no_traceback, png, upload)

DEMO = Path(__file__).resolve().parents[2] / "demo" / "images"


def subheaders(at) -> list[str]:
    return [s.value for s in at.subheader]


def skipped_table(at) -> dict[str, str]:
    frame = at.dataframe[0].value
    return dict(zip(frame["file"], frame["reason"]))


def test_opens_on_the_data_page_with_nothing_chosen():
    at = new_app()
    no_traceback(at)
    assert at.title[0].value == "Data"
    assert "No images chosen yet." in messages(at, "info")


def test_demo_set_is_one_click_away():
    at = new_app()
    button(at, "Use the demo set").click().run()
    no_traceback(at)
    assert f"{len(discover(DEMO).images)} images found" in subheaders(at)
    assert len(at.get("image")) == 12  # the thumbnail strip


def test_uploaded_images_are_counted_previewed_and_corrupt_ones_listed():
    files = coloured_uploads(2) + [("broken.jpg", b"this is not a jpeg", "image/jpeg")]
    at = upload(new_app(), files)
    no_traceback(at)
    assert "6 images found" in subheaders(at)
    assert "1 files skipped" in subheaders(at)
    assert "corrupt" in skipped_table(at)["broken.jpg"]
    assert at.session_state["source"].label == "7 uploaded file(s)"


def test_a_zip_upload_keeps_the_names_inside_it():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data, _ in coloured_uploads(1):
            zf.writestr(f"holiday/{name}", data)
        zf.writestr("../escape.png", png((0, 0, 0), 1))
    at = upload(new_app(), [("photos.zip", archive.getvalue(), "application/zip")])
    no_traceback(at)
    names = [ref.name for ref in at.session_state["source"].discovery.images]
    assert names == ["photos.zip/holiday/blue_0.png", "photos.zip/holiday/green_0.png",
                     "photos.zip/holiday/red_0.png"]
    assert "unsafe path" in skipped_table(at)["photos.zip/../escape.png"]


def test_a_folder_upload_keeps_relative_names():
    files = [(f"trip/{sub}{name}", data, mime) for (name, data, mime), sub
             in zip(coloured_uploads(1), ["", "day2/", "day2/"])]
    at = upload(new_app(), files, key="upload_folder")
    no_traceback(at)
    source = at.session_state["source"]
    assert source.label == "uploaded folder trip"
    assert [ref.name for ref in source.discovery.images] == [
        "trip/day2/blue_0.png", "trip/day2/green_0.png", "trip/red_0.png"]


def test_an_oversized_upload_is_refused_with_advice_and_the_images_in_use_stay(monkeypatch):
    at = upload(new_app(), coloured_uploads(1))
    in_use = at.session_state["source"]
    monkeypatch.setenv(MAX_TOTAL_ENV, "0.001")  # about 1 KB
    at.file_uploader(key="upload_files").set_value(coloured_uploads(2)).run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "accepts at most" in error and "Upload fewer images" in error
    assert at.session_state["source"] is in_use
    assert all(ref.path.is_file() for ref in in_use.discovery.images)


def test_an_upload_with_no_images_says_so():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "no pictures here")
    at = upload(new_app(), [("notes.zip", archive.getvalue(), "application/zip")])
    no_traceback(at)
    assert "0 images found" in subheaders(at)
    assert any("No images were found" in w for w in messages(at, "warning"))


def server_folder(at, text: str):
    at.text_input(key="server_path").input(text)
    return button(at, "Use this folder").click().run()


def test_a_server_folder_inside_a_root_is_used(tmp_path, monkeypatch):
    for i, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        save_image(tmp_path / "photos" / f"{i}.png", colour, seed=i)
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = server_folder(new_app(), str(tmp_path / "photos"))
    no_traceback(at)
    assert "3 images found" in subheaders(at)
    assert any(str(tmp_path) in c.value for c in at.caption)  # the allowed roots are listed


def test_a_folder_outside_the_roots_is_refused(tmp_path, monkeypatch):
    (tmp_path / "allowed").mkdir()
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path / "allowed"))
    at = new_app()
    for text, expected in (("/etc", "outside the folders this server allows"),
                           (f"{tmp_path}/allowed/../", "'..' is not allowed")):
        server_folder(at, text)
        no_traceback(at)
        assert any(expected in e for e in messages(at, "error")), messages(at, "error")
    assert "source" not in at.session_state


def test_a_new_source_drops_results_made_from_the_old_one():
    at = analysed_app()
    assert "run" in at.session_state and "k" in at.session_state
    at.switch_page("pages/data.py").run()
    button(at, "Use the demo set").click().run()
    no_traceback(at)
    assert "run" not in at.session_state and "k" not in at.session_state


def test_a_zip_that_lies_about_its_size_is_stopped_by_what_really_comes_out(monkeypatch,
                                                                             tmp_path):
    monkeypatch.setenv("CLUSTERLENS_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv(MAX_TOTAL_ENV, "1")  # 1 MB; the member declares 1,000 bytes
    bomb = lying_zip(8 * 1024 * 1024, extra={"ok.png": png((0, 200, 0), 3)})
    assert len(bomb) < 100_000
    at = upload(new_app(), [("bomb.zip", bomb, "application/zip")])
    no_traceback(at)
    assert [r.name for r in at.session_state["source"].discovery.images] == ["bomb.zip/ok.png"]
    reason = skipped_table(at)["bomb.zip/bomb.png"]
    assert "does not match the zip's" in reason, reason
    assert folder_size(tmp_path / "uploads") < 200_000  # the lie was never written out


def test_uploads_go_to_the_sessions_own_folder_replaced_by_the_next(monkeypatch, tmp_path):
    root = tmp_path / "uploads"
    monkeypatch.setenv("CLUSTERLENS_UPLOAD_DIR", str(root))
    at = upload(new_app(), coloured_uploads(1))
    folder = Path(at.session_state["upload_dir"])
    assert folder.parent.parent == root and folder.is_dir()
    upload(at, coloured_uploads(2))
    assert not folder.exists() and len(list(folder.parent.iterdir())) == 1


def test_a_full_upload_space_is_explained_and_other_sessions_keep_their_images(monkeypatch,
                                                                               tmp_path):
    small, large = coloured_uploads(1), coloured_uploads(2)
    quota = sum(len(f[1]) for f in small + large) - 1  # room for one of them, not both
    monkeypatch.setenv("CLUSTERLENS_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv(QUOTA_ENV, str(quota / 1024 / 1024))
    first = upload(new_app(), small)
    second = upload(new_app(), large)
    no_traceback(second)
    [error] = messages(second, "error")
    assert "upload space is full" in error and QUOTA_ENV in error
    assert "source" not in second.session_state
    assert all(r.path.is_file() for r in first.session_state["source"].discovery.images)
