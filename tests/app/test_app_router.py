"""The router: page list, sidebar status, and no traceback ever reaching the page."""

from __future__ import annotations

import ast
from unittest import mock

import clustering.files.discover
import clustering.export.tables
from dashboard import router, sources
from tests.app.app_helpers import (APP, button, coloured_uploads, messages, new_app, no_traceback,
                                   upload)


def test_every_page_in_pages_starts_with_the_router_guard():
    # Streamlit runs a page of `pages/` alone (legacy multipage mode) until the router
    # has run once in the process; the guard then runs the router in its place.
    files = sorted((APP.parent / "pages").glob("*.py"))
    assert {f"pages/{f.name}" for f in files} == {path for path, _, _ in router.PAGES}
    for file in files:
        body = [node for node in ast.parse(file.read_text()).body[1:]  # after the docstring
                if not isinstance(node, (ast.Import, ast.ImportFrom))]
        assert ast.unparse(body[0]) == "router.ensure_routed(__file__)", file.name


def test_a_page_run_alone_is_drawn_inside_the_router():
    # AppTest starts every run in Streamlit's legacy mode (the first-request case):
    # the page must still get the router's sidebar and keep the widget values sent.
    at = new_app()
    at.switch_page(router.FEATURES_PAGE).run()
    no_traceback(at)
    assert "**Images:** none chosen yet" in [c.value for c in at.sidebar.caption]
    at = upload(at, coloured_uploads(1))  # a widget value survives the detour
    assert "**Images:** 3 from 3 uploaded file\\(s\\)" in [c.value for c in at.sidebar.caption]


def test_every_page_file_exists_and_is_reachable():
    at = new_app()
    for page, _, _ in router.PAGES:
        assert (APP.parent / page).is_file()
        at.switch_page(page).run()
        no_traceback(at)


def test_sidebar_shows_where_the_user_is():
    at = new_app()
    assert "**Images:** none chosen yet" in [c.value for c in at.sidebar.caption]
    at = upload(at, coloured_uploads(1))
    assert "**Images:** 3 from 3 uploaded file\\(s\\)" in [c.value for c in at.sidebar.caption]


def test_an_unexpected_library_failure_is_a_message_not_a_traceback():
    at = new_app()
    with mock.patch.object(clustering.files.discover, "discover", side_effect=RuntimeError("boom")):
        button(at, "Use the demo set").click().run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "Something unexpected went wrong while reading the demo set" in error
    assert "RuntimeError: boom" in error


def test_a_failure_outside_any_guard_is_caught_by_the_router():
    at = upload(new_app(), coloured_uploads(1))
    with mock.patch.object(clustering.export.tables, "skipped_frame", side_effect=ValueError("bad")):
        at.file_uploader(key="upload_files").set_value(
            coloured_uploads(1) + [("x.jpg", b"junk", "image/jpeg")]).run()
    no_traceback(at)
    assert any("while showing the Data page" in e for e in messages(at, "error"))


def test_make_run_opens_the_demo_set_once(monkeypatch):
    monkeypatch.setenv("CLUSTERLENS_OPEN_DEMO", "1")
    at = new_app()
    no_traceback(at)
    demo = len(clustering.files.discover.discover(sources.DEMO_DIR).images)
    assert f"**Images:** {demo} from the bundled demo set" in [c.value for c in at.sidebar.caption]
    at = upload(at, coloured_uploads(1))  # a later choice is not overridden by the demo
    assert "**Images:** 3 from 3 uploaded file\\(s\\)" in [c.value for c in at.sidebar.caption]


def test_without_the_setting_no_images_are_chosen():
    at = new_app()
    assert "**Images:** none chosen yet" in [c.value for c in at.sidebar.caption]
