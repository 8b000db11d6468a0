"""Per-session upload folders: cleanup at session end and after a crash, and a quota."""

from __future__ import annotations

import time

import pytest

from dashboard.upload_store import (QUOTA_ENV, InvalidSessionId, UploadStore, UploadStoreFull,
                                     quota_bytes)
from dashboard.uploads import Upload, save_uploads
from tests.app.app_helpers import png


class FakeClock:
    """Starts at the real time: writing a file sets its folder's mtime to the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_each_session_has_its_own_folder_and_loses_it_at_the_end(tmp_path):
    store = UploadStore(tmp_path / "uploads", quota=10**6)
    a, b = store.folder("session-aaaa"), store.folder("session-bbbb")
    assert a != b and a.parent == b.parent == tmp_path / "uploads"
    save_uploads([Upload("x.png", png((1, 2, 3), 0))], a, limit=store.room())
    assert store.usage() > 0
    assert store.end_session("session-aaaa") is True
    assert not a.exists() and b.is_dir() and store.usage() == 0
    assert store.end_session("session-aaaa") is False


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "short", "x" * 65, "..%2f..%2fetcetc"])
def test_session_ids_never_name_a_path(tmp_path, bad):
    store = UploadStore(tmp_path, quota=10**6)
    with pytest.raises(InvalidSessionId):
        store.folder(bad)
    with pytest.raises(InvalidSessionId):
        store.end_session(bad)


def test_leftovers_of_a_crashed_server_are_removed_by_age(tmp_path):
    clock = FakeClock()
    store = UploadStore(tmp_path, quota=10**6, max_age_s=3600, clock=clock)
    old = store.folder("crashed-session")
    (old / "private.png").write_bytes(b"x" * 100)
    clock.now += 3000
    alive = store.folder("alive-session")
    clock.now += 1000  # the first is now 4000 s old, the second 1000 s
    assert store.remove_stale() == ["crashed-session"]
    assert not old.exists() and alive.is_dir()
    clock.now += 500
    store.touch("alive-session")
    clock.now += 3500  # touched 3500 s ago: still alive
    assert store.remove_stale() == [] and alive.is_dir()
    assert UploadStore(tmp_path / "missing").remove_stale() == []


def test_the_quota_is_kept_with_a_clear_message(tmp_path):
    store = UploadStore(tmp_path, quota=1000)
    (store.folder("someone-else") / "a.bin").write_bytes(b"x" * 700)
    store.check_room(300)
    assert store.room() == 300
    with pytest.raises(UploadStoreFull, match=rf"upload space is full: 700 bytes of 1000 bytes "
                                              rf".*needs 400 bytes.*{QUOTA_ENV}"):
        store.check_room(400)


def test_the_quota_comes_from_the_environment():
    assert quota_bytes({QUOTA_ENV: "2"}) == 2 * 1024 * 1024
    assert quota_bytes({QUOTA_ENV: "lots"}) == quota_bytes({}) == 10 * 1024**3
