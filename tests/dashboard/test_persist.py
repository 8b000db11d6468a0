"""The server-side session store: ids, refused paths, expiry, round trip, forks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.persist import (MAX_AGE_S, RECORD_FILE, InvalidSessionId, SessionStore, check_id,
                               new_id)

RECORD = {"version": 1, "source": {"kind": "demo", "path": "/x", "label": "demo"},
          "k": 4, "names": {"for": "abc", "names": {"0": "sea"}}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(tmp_path: Path, clock: Clock) -> SessionStore:
    return SessionStore(tmp_path / "sessions", clock=clock)


def test_new_ids_are_long_random_and_valid():
    ids = {new_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) >= 40 and check_id(i) == i for i in ids)


@pytest.mark.parametrize("bad", ["../../etc", "a" * 31, "a" * 65, "abc/" + "a" * 40,
                                 "." * 40, "a" * 39 + "\n", "", None, 42, "a" * 39 + "%2e"])
def test_ids_that_could_name_a_path_are_refused(bad, sessions: SessionStore):
    with pytest.raises(InvalidSessionId):
        check_id(bad)
    with pytest.raises(InvalidSessionId):
        sessions.load(bad)
    with pytest.raises(InvalidSessionId):
        sessions.save(bad, RECORD)
    assert not (sessions.root.parent / "etc").exists()


def test_round_trip_and_atomic_file(sessions: SessionStore):
    sid = new_id()
    assert sessions.load(sid) is None
    sessions.save(sid, RECORD)
    assert sessions.load(sid) == RECORD
    assert sorted(p.name for p in sessions.folder(sid).iterdir()) == [RECORD_FILE]  # no temp left


def test_unreadable_or_foreign_records_are_ignored(sessions: SessionStore):
    sid = new_id()
    sessions.save(sid, RECORD)
    (sessions.folder(sid) / RECORD_FILE).write_text("{not json")
    assert sessions.load(sid) is None
    (sessions.folder(sid) / RECORD_FILE).write_text(json.dumps({**RECORD, "version": 99}))
    assert sessions.load(sid) is None


def test_old_records_expire(sessions: SessionStore, clock: Clock):
    old, young = new_id(), new_id()
    sessions.save(old, RECORD)
    clock.now += MAX_AGE_S - 10
    sessions.save(young, RECORD)
    clock.now += 20
    assert sessions.load(old) is None  # too old to restore even before the clean-up
    assert sessions.load(young) == RECORD
    (sessions.root / "not-a-session").mkdir()
    assert sessions.remove_stale() == [old]
    assert not sessions.folder(old).exists() and sessions.folder(young).exists()
    assert (sessions.root / "not-a-session").exists()  # only what looks like ours is touched


def test_a_fork_is_a_copy_under_a_new_id_with_the_images(sessions: SessionStore, tmp_path: Path):
    sid = new_id()
    upload = tmp_path / "upload" / "sub"
    upload.mkdir(parents=True)
    (upload / "a.png").write_bytes(b"png")
    kept = sessions.keep_images(sid, upload.parent)  # before the first save: a new folder
    sessions.save(sid, {**RECORD, "source": {"kind": "upload", "path": str(kept), "label": "up"}})
    copy, record = sessions.fork(sid)
    assert copy != sid and check_id(copy) == copy
    assert record["source"]["path"] == str(sessions.images_dir(copy))
    assert (sessions.images_dir(copy) / "sub" / "a.png").read_bytes() == b"png"
    assert sessions.load(copy) == record
    sessions.save(copy, {**record, "k": 9})  # the copy's changes never reach the original
    assert sessions.load(sid)["k"] == 4
    assert sessions.fork(new_id()) is None
