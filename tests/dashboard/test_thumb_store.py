"""Thumbnails on disk: by content hash, atomic, bounded; a revisit decodes nothing."""

from __future__ import annotations

import io
import os
from pathlib import Path
from unittest.mock import patch

from PIL import Image

from clustering.cache import content_hash
from clustering.files.discover import ImageRef
from dashboard import thumbnails
from dashboard.thumb_store import FOLDER, PRUNE_TO, ThumbnailStore


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 40 + seed).convert("RGB").save(out, format="JPEG")
    return out.getvalue()


def test_put_then_get_by_content_hash_leaves_no_temporary_file(tmp_path: Path):
    store = ThumbnailStore(tmp_path)
    assert store.get("ab" * 16, 192) is None
    store.put("ab" * 16, 192, b"thumb")
    assert store.get("ab" * 16, 192) == b"thumb"
    assert store.get("ab" * 16, 96) is None  # another size is another thumbnail
    files = [p.name for p in (tmp_path / FOLDER).rglob("*") if p.is_file()]
    assert files == [f"{'ab' * 16}.jpg"]


def test_prune_drops_least_recently_used_to_stay_in_budget(tmp_path: Path):
    store = ThumbnailStore(tmp_path, max_bytes=10_000)
    digests = [f"{i:032x}" for i in range(12)]
    for age, digest in enumerate(digests):
        store.put(digest, 192, b"x" * 1_000)
        os.utime(store.path(digest, 192), ns=(age * 10**9, age * 10**9))
    store.get(digests[0], 192)  # used just now: kept
    store.prune()
    assert store.size() <= 10_000 * PRUNE_TO
    assert store.get(digests[0], 192) is not None
    assert store.get(digests[1], 192) is None and store.get(digests[-1], 192) is not None


def test_unwritable_cache_folder_still_gives_the_thumbnail(tmp_path: Path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = ThumbnailStore(blocked)
    store.put("cd" * 16, 192, b"thumb")  # no exception
    assert store.get("cd" * 16, 192) is None


def test_second_visit_decodes_nothing_even_after_a_restart(tmp_path: Path):
    data = jpeg(0)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    ref = ImageRef(name="a.jpg", path=path)
    thumbnails._thumbnail.cache_clear()
    [(first, reason)] = thumbnails.thumbnails([ref])
    assert reason == "" and Image.open(io.BytesIO(first)).size == (192, 144)
    cache = Path(os.environ["CLUSTERLENS_CACHE"])
    assert ThumbnailStore(cache).get(content_hash(data), 192) == first
    thumbnails._thumbnail.cache_clear()  # a restarted server: the memory cache is empty
    with patch("dashboard.thumbnails.make_thumbnail", side_effect=AssertionError("decoded")):
        assert thumbnails.thumbnails([ref]) == [(first, "")]


def test_unreadable_images_give_a_reason(tmp_path: Path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    result = thumbnails.thumbnails([ImageRef(name="bad.jpg", path=bad),
                                    ImageRef(name="gone.jpg", path=tmp_path / "gone.jpg")])
    assert [data for data, _ in result] == [None, None]
    assert result[1][1].startswith("cannot read file")
    assert result[0][1]
