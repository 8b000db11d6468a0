"""The one mapping from exceptions to words: what is shown is also logged."""

from __future__ import annotations

import logging

import pytest

from clustering.errors import InputError, first_line
from dashboard import errors


def test_first_line_of_any_message() -> None:
    assert first_line(ValueError("bad\nsecond line")) == "bad"
    assert first_line(ValueError()) == "ValueError"
    assert first_line(ValueError("  \n ")) == "ValueError"
    assert first_line(ValueError("x" * 500), limit=10) == "x" * 10


def test_an_unexpected_error_is_explained_and_its_traceback_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clusterlens"):
        try:
            raise KeyError("gone")
        except KeyError as exc:
            text = errors.logged_explanation("reopening the run", exc)
    assert "details are in the server log" in text
    [record] = [r for r in caplog.records if r.name == "clusterlens"]
    assert record.exc_info is not None and "reopening the run" in record.getMessage()


def test_an_expected_refusal_is_logged_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clusterlens"):
        text = errors.logged_explanation("saving the upload", InputError("no images\nin it"))
    assert text.startswith("no images")
    [record] = [r for r in caplog.records if r.name == "clusterlens"]
    assert record.exc_info is None and "\n" not in record.getMessage()


def test_configuration_and_cluster_failures_read_as_advice() -> None:
    from clustering.distributed.session import RayUnavailable
    from clustering.errors import Cancelled, ConfigError

    broken = errors.explain(ConfigError("cannot read .streamlit/clusterlens.toml: x"), "starting")
    assert broken.startswith("The server's configuration is broken") and "operator" in broken
    ray = RayUnavailable("cannot connect to Ray at 10.0.0.5:6379; check that it runs")
    assert errors.explain(ray, "extracting") == str(ray)  # not the dataset-folder advice
    assert errors.explain(Cancelled("stopped after 3 images"), "x") == "stopped after 3 images"
