"""Decoding threads run at a lower priority than the network (Linux)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

import clustering.images.engine as engine
from clustering.features.extract import FeatureExtraction
from clustering.files.discover import discover
from clustering.images.engine import DECODE_NICENESS, _lower_thread_priority

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread niceness is Linux-only")


def _nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_lowering_affects_only_the_calling_thread() -> None:
    before = _nice_of_this_thread()
    seen: list[int] = []

    def probe() -> None:
        _lower_thread_priority()
        seen.append(_nice_of_this_thread())

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    assert seen == [min(19, before + DECODE_NICENESS)]
    assert _nice_of_this_thread() == before


@linux_only
def test_extraction_decodes_in_nicer_threads(image_folder: Path, mean_extractor,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    main = _nice_of_this_thread()
    seen: list[int] = []
    decode = engine._read_one

    def spy(*args, **kwargs):
        seen.append(_nice_of_this_thread())
        return decode(*args, **kwargs)

    monkeypatch.setattr(engine, "_read_one", spy)
    result = FeatureExtraction(mean_extractor).run(discover(image_folder).images)
    assert len(result.names) == 12
    assert seen and all(nice == min(19, main + DECODE_NICENESS) for nice in seen)
    assert _nice_of_this_thread() == main


def test_no_change_when_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    before = os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else None
    _lower_thread_priority()
    if before is not None:
        assert os.getpriority(os.PRIO_PROCESS, 0) == before
