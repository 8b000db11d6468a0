"""What a careless or hostile user meets: plain words, a usable page, one log line."""

from __future__ import annotations

import logging

from dashboard.roots import ROOTS_ENV
from tests.app.app_helpers import (button, extract, messages, new_app, no_traceback, png, upload)
from tests.files.test_zips_and_limits import big_png


def test_five_identical_images_say_too_few_distinct_and_the_page_stays_usable():
    same = png((200, 30, 30), 1)
    at = extract(upload(new_app(), [(f"copy_{i}.png", same, "image/png") for i in range(5)]))
    at.switch_page("pages/choose_k.py").run()
    no_traceback(at)
    errors = messages(at, "error")
    assert any("only 1 distinct image(s) among 5" in e for e in errors), errors
    assert not any("Something unexpected" in e or "NaN" in e for e in errors)
    at.switch_page("pages/data.py").run()  # the rest of the app still works
    no_traceback(at)


def test_a_50000_pixel_square_png_is_called_too_large():
    at = upload(new_app(), [("huge.png", big_png(50_000, 50_000), "image/png"),
                            ("ok.png", png((0, 0, 200), 2), "image/png")])
    no_traceback(at)
    reasons = dict(zip(at.dataframe[0].value["file"], at.dataframe[0].value["reason"]))
    assert reasons["huge.png"].startswith("image too large: "), reasons


def test_a_very_long_folder_path_is_named_as_such_and_logged_in_one_line(tmp_path, monkeypatch,
                                                                         caplog):
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))
    at = new_app()
    at.text_input(key="server_path").input(str(tmp_path / ("deep/" * 1000)))
    with caplog.at_level(logging.INFO, logger="clusterlens"):
        button(at, "Use this folder").click().run()
    no_traceback(at)
    [error] = messages(at, "error")
    assert "path too long" in error and "File name too long" not in error, error
    [record] = [r for r in caplog.records if r.name == "clusterlens"]
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert record.getMessage().startswith("refused while opening the folder: ")
