"""The router: page list, sidebar status, and no traceback ever reaching the page."""

from __future__ import annotations

from unittest import mock

import clustering.discover
import clustering.export
from app_pages import _common as ui
from tests.test_app_helpers import (APP, button, coloured_uploads, fresh_streamlit,  # noqa: F401
                                    messages, new_app, no_traceback, upload)


def test_there_is_no_legacy_pages_folder():
    # A `pages/` folder next to app.py switches Streamlit to its legacy multipage mode:
    # every file there becomes a page and deep links bypass the router.
    assert not (APP.parent / "pages").exists()


def test_every_page_file_exists_and_is_reachable():
    at = new_app()
    for page in (ui.DATA_PAGE, ui.FEATURES_PAGE, ui.CHOOSE_K_PAGE, ui.CLUSTERS_PAGE):
        assert (APP.parent / page).is_file()
        at.switch_page(page).run()
        no_traceback(at)


def test_sidebar_shows_where_the_user_is():
    at = new_app()
    assert "**Images:** none chosen yet" in [c.value for c in at.sidebar.caption]
    at = upload(at, coloured_uploads(1))
    assert "**Images:** 3 from 3 uploaded file(s)" in [c.value for c in at.sidebar.caption]


def test_an_unexpected_library_failure_is_a_message_not_a_traceback():
    at = new_app()
    with mock.patch.object(clustering.discover, "discover", side_effect=RuntimeError("boom")):
        button(at, "Use the demo set").click().run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "Something unexpected went wrong while reading the demo set" in error
    assert "RuntimeError: boom" in error


def test_a_failure_outside_any_guard_is_caught_by_the_router():
    at = upload(new_app(), coloured_uploads(1))
    with mock.patch.object(clustering.export, "skipped_frame", side_effect=ValueError("bad")):
        at.file_uploader(key="upload_files").set_value(
            coloured_uploads(1) + [("x.jpg", b"junk", "image/jpeg")]).run()
    no_traceback(at)
    assert any("while showing the Data page" in e for e in messages(at, "error"))


def test_make_run_opens_the_demo_set_once(monkeypatch):
    monkeypatch.setenv("CLUSTERLENS_OPEN_DEMO", "1")
    at = new_app()
    no_traceback(at)
    demo = len(clustering.discover.discover(ui.DEMO_DIR).images)
    assert f"**Images:** {demo} from the bundled demo set" in [c.value for c in at.sidebar.caption]
    at = upload(at, coloured_uploads(1))  # a later choice is not overridden by the demo
    assert "**Images:** 3 from 3 uploaded file(s)" in [c.value for c in at.sidebar.caption]


def test_without_the_setting_no_images_are_chosen():
    at = new_app()
    assert "**Images:** none chosen yet" in [c.value for c in at.sidebar.caption]
