"""Duplicates & quality page: groups, sensitivity, keep overrides, remove list, flags,
outliers, per-cluster summary, and the extra columns of labels.csv."""

from __future__ import annotations

import io
import re
from unittest.mock import patch

import numpy as np
import pandas as pd
from pathlib import Path

from PIL import Image, ImageOps

from dashboard import state
from clustering.review.duplicates import DuplicateFinder
from clustering.review.quality import FLAGS
from dashboard.fingerprint import combine
from clustering.review.decisions import remove_list
from tests.app.app_helpers import (extract, messages, new_app, no_traceback,
                                   upload)

PAGE = "pages/duplicates_quality.py"


def encoded(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def photo(seed: int) -> Image.Image:
    """A structured image (smooth blobs): pHash needs more than noise to be stable."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((160, 120), Image.Resampling.BICUBIC)


def review_uploads(crop: bool = False) -> list[tuple[str, bytes, str]]:
    """6 distinct images, a mirrored copy of the first, a half-size copy of the second
    and a blank one (and with ``crop`` a crop of the third, 16 pHash bits away: a
    duplicate only at sensitivity 1)."""
    files = [(f"photo_{i}.png", encoded(photo(i)), "image/png") for i in range(6)]
    files.append(("mirrored.png", encoded(ImageOps.mirror(photo(0))), "image/png"))
    files.append(("small.png", encoded(photo(1).resize((80, 60))), "image/png"))
    files.append(("blank.png", encoded(Image.new("RGB", (160, 120), (128, 128, 128))),
                  "image/png"))
    if crop:
        files.append(("cropped.png", encoded(photo(2).crop((12, 9, 148, 111))), "image/png"))
    return files


def open_review(at):
    return at.switch_page(PAGE).run()


def remove_rows(at) -> list[list]:
    frame = next(d.value for d in at.dataframe if list(d.value.columns) == ["file", "group",
                                                                             "reason"])
    return frame.values.tolist()


def test_points_to_the_data_page_without_images():
    at = open_review(new_app())
    no_traceback(at)
    assert any("choose images on the Data page" in m for m in messages(at, "info"))


def test_groups_keepers_and_remove_list_hash_only():
    at = open_review(upload(new_app(), review_uploads()))
    no_traceback(at)
    assert not at.error
    assert any("perceptual hash only" in c.value for c in at.caption)
    assert any("**2 groups**" in m.value for m in at.markdown)
    assert sorted(remove_rows(at)) == [["mirrored.png", 1, "mirror of photo_0.png"],
                                       ["small.png", 2, "resize of photo_1.png"]]
    assert any(c.value.startswith("2 files on the remove list; each is contained in the image "
                                  "kept in its group") for c in at.caption)
    keepers = [c for c in at.caption if c.value.startswith("★ suggested keeper")]
    names = sorted(c.value.split("\n")[1].strip() for c in keepers)
    assert names == ["photo_0.png", "photo_1.png"]
    assert len(keepers) == 2 and any("160×120 px" in c.value for c in keepers)
    assert len(at.checkbox) == 4  # one per image in a group
    assert len(at.get("image")) >= 4  # thumbnails of the groups (+ flagged images)


def test_override_changes_the_remove_list_and_survives_page_changes():
    at = open_review(upload(new_app(), review_uploads()))
    boxes = {c.key: c for c in at.checkbox}  # keys end with a digest of the file name
    small = next(c for k, c in boxes.items() if k.endswith(combine("small.png")))
    photo1 = next(c for k, c in boxes.items() if k.endswith(combine("photo_1.png")))
    assert small.value is False and photo1.value is True
    small.check().run()
    at.checkbox(key=photo1.key).uncheck().run()
    no_traceback(at)
    rows = {r[0]: r for r in remove_rows(at)}
    assert "small.png" not in rows
    assert rows["photo_1.png"][2] == "duplicate of small.png (your choice)"
    at.switch_page("pages/data.py").run()
    at = open_review(at)
    assert "photo_1.png" in {r[0] for r in remove_rows(at)}


def test_sensitivity_changes_the_groups_from_cached_signatures():
    at = open_review(upload(new_app(), review_uploads(crop=True)))
    assert sorted(r[0] for r in remove_rows(at)) == ["mirrored.png", "small.png"]
    with patch("dashboard.compute.scan_images",
               side_effect=AssertionError("signatures are recomputed")):
        at.slider(key="_w_dup_sensitivity").set_value(1.0).run()
        no_traceback(at)
        assert at.session_state["dup_sensitivity"] == 1.0
        assert "cropped.png" in set(at.session_state[state.REVIEW].duplicates["file"])
        assert any("≤ 16 bits" in c.value for c in at.caption)
        at.slider(key="_w_dup_sensitivity").set_value(0.0).run()
        assert "cropped.png" not in {r[0] for r in remove_rows(at)}
        assert any("≤ 4 bits" in c.value for c in at.caption)


def test_quality_flags_filter_the_gallery():
    at = open_review(upload(new_app(), review_uploads()))
    counts = next(d.value for d in at.dataframe if "low_information" in d.value.columns)
    assert list(counts.columns) == list(FLAGS) and int(counts["low_information"][0]) == 1
    flags = at.multiselect(key="flag_filter")
    assert "low_information" in flags.value
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert any(c.startswith("blank.png") and "low_information: entropy" in c for c in captions)
    flags.set_value(["tiny"]).run()
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert not any(c.startswith("blank.png") for c in captions)
    assert any(c.startswith("small.png") and "tiny: short_side = 60" in c for c in captions)
    no_traceback(at)


def test_without_clustering_points_to_choose_k():
    at = open_review(upload(new_app(), review_uploads()))
    assert any("No clustering yet" in m for m in messages(at, "info"))
    assert any(link.value == "Go to Choose k" for link in at.page_link)


def test_features_outliers_summary_and_labels_columns():
    at = extract(upload(new_app(), review_uploads()))
    at.session_state["k"] = 3
    at = open_review(at)
    no_traceback(at)
    assert not at.error
    assert any("features of the current run" in c.value for c in at.caption)
    summary = next(d.value for d in at.dataframe if "removable_share" in d.value.columns)
    assert summary["size"].sum() == 9 and list(summary.columns[:2]) == ["cluster", "name"]
    expected = DuplicateFinder().fit(at.session_state[state.RUN].source.discovery.images,
                                     features=at.session_state[state.RUN].features)
    assert sorted(remove_rows(at)) == sorted(remove_list(expected.to_frame()).values.tolist())

    stored = at.session_state[state.REVIEW]
    assert stored.duplicates is not None and stored.scores is not None
    frames = []
    with patch("clustering.export.tables.csv_bytes", side_effect=lambda f: frames.append(f) or b""):
        at.switch_page("pages/clusters.py").run()
    no_traceback(at)
    labels = frames[0]
    assert list(labels.columns[:2]) == ["file", "cluster"]
    assert list(labels.columns[-len(FLAGS) - 1:]) == ["duplicate_group", *FLAGS]
    groups = labels.set_index("file")["duplicate_group"]
    assert groups["mirrored.png"] == groups["photo_0.png"] and pd.isna(groups["photo_3.png"])
    assert labels.set_index("file").loc["blank.png", "low_information"]


def many_groups() -> list[tuple[str, bytes, str]]:
    """12 photos each with a mirrored copy, and one photo with 7 smaller copies: 13 groups,
    the biggest (8 images) first."""
    files = []
    for i in range(10, 22):
        files += [(f"p{i}.png", encoded(photo(i)), "image/png"),
                  (f"p{i}_mirror.png", encoded(ImageOps.mirror(photo(i))), "image/png")]
    files.append(("big.png", encoded(photo(30)), "image/png"))
    files += [(f"big_{w}.png", encoded(photo(30).resize((w, w * 3 // 4))), "image/png")
              for w in range(152, 96, -8)]
    return files


def test_duplicate_groups_come_a_page_at_a_time():
    at = open_review(upload(new_app(), many_groups()))
    no_traceback(at)
    assert any("**13 groups**" in m.value for m in at.markdown)
    headers = [m.value for m in at.markdown if m.value.startswith("**Group ")]
    assert len(headers) == 10 and headers[0].startswith("**Group 1** · 8 images · 7 to remove")
    assert len(at.checkbox) == 6 + 9 * 2  # the big group shows its first row only
    assert len(remove_rows(at)) == 7 + 12  # the remove list covers every group
    pages = next(n for n in at.number_input if n.label == "Page of groups (of 2)")
    pages.set_value(2).run()
    headers = [m.value for m in at.markdown if m.value.startswith("**Group ")]
    assert [h.split("**")[1] for h in headers] == ["Group 11", "Group 12", "Group 13"]
    assert any(c.value == "Groups 11–13 of 13, biggest first." for c in at.caption)


def test_a_big_group_shows_all_its_images_on_request():
    at = open_review(upload(new_app(), many_groups()))
    show_all = next(t for t in at.toggle if t.label == "Show all 8 images")
    show_all.set_value(True).run()
    no_traceback(at)
    assert len(at.checkbox) == 8 + 9 * 2
    assert any(c.value == "Images 1–8 of 8" for c in at.caption)


def test_progress_is_reported_for_hashes_quality_and_search():
    from clustering.review import scan
    from dashboard.progress import ProgressBar

    seen = []

    def spy(real):
        def call(*args, progress=None, **kwargs):
            seen.append((real.__name__, type(progress)))
            return real(*args, progress=progress, **kwargs)
        return call

    with (patch("dashboard.compute.scan_images", spy(scan.scan_images)),
          patch.object(DuplicateFinder, "fit", spy(DuplicateFinder.fit))):
        at = open_review(upload(new_app(), review_uploads()))
    no_traceback(at)
    # hashes and quality scores come from one pass over the images
    assert sorted(seen) == [("fit", ProgressBar), ("scan_images", ProgressBar)]


def test_progress_bar_says_done_total_rate_and_time_left():
    from streamlit.testing.v1 import AppTest

    def script():
        from clustering.images.engine import Progress
        from dashboard.progress import ProgressBar

        bar = ProgressBar("Hashing the images").__enter__()
        bar(Progress(done=2_500, total=10_000, computed=2_500, cached=0, skipped=3,
                     elapsed_s=10.0, images_per_s=250.0, eta_s=30.0))

    at = AppTest.from_function(script).run()
    [bar] = at.get("progress")
    assert bar.proto.text == ("Hashing the images: 2,500 / 10,000 images · 250.0 images/s · "
                              "about 30 s left · 3 skipped")
    assert bar.proto.value == 25


SCENE = Path(__file__).resolve().parents[2] / "demo" / "images" / "buildings" / "buildings_01.jpg"


def test_similar_shots_are_shown_apart_and_never_on_the_remove_list():
    scene = Image.open(SCENE).convert("RGB")
    scene.thumbnail((640, 640))
    w, h = scene.size

    def shot(left: float) -> Image.Image:  # three shots panning across one scene
        return scene.crop((int(left * w), int(0.1 * h), int((left + 0.7) * w), int(0.9 * h)))

    def jpeg(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=92)
        return out.getvalue()

    files = [(f"{name}.jpg", jpeg(shot(left)), "image/jpeg")
             for name, left in (("a", 0.0), ("b", 0.15), ("c", 0.3))]
    files.append(("b_mirror.jpg", jpeg(ImageOps.mirror(shot(0.15))), "image/jpeg"))
    at = extract(upload(new_app(), files))
    at = open_review(at)
    no_traceback(at)
    assert any(s.value == "Similar shots (not duplicates)" for s in at.subheader)
    similar = next(d.value for d in at.dataframe if "file_a" in d.value.columns)
    pairs = {frozenset(p) for p in zip(similar["file_a"], similar["file_b"])}
    assert frozenset({"b.jpg", "c.jpg"}) in pairs
    removed = {r[0] for r in remove_rows(at)}
    assert removed == {"b_mirror.jpg"} or removed == {"b.jpg"}
    assert not removed & {"a.jpg", "c.jpg"}
    assert any("never put on the remove list" in m.value for m in at.markdown)
    assert any(re.search(r"^Not a duplicate: each shows something the other lacks .*"
                         r"correlation 0\.\d\d \(a copy needs 0\.\d\d\)", c.value)
               for c in at.caption)  # why each pair is not a duplicate


def test_a_duplicate_opens_side_by_side_with_the_keeper():
    at = open_review(upload(new_app(), review_uploads()))
    sides = [b for b in at.button if b.label == "Compare"]
    assert len(sides) == 2  # one per non-keeper (one copy in each of the 2 groups)
    images_before = len(at.get("image"))
    next(b for b in sides if b.key.endswith(combine("small.png"))).click().run()
    no_traceback(at)
    assert any(m.value.startswith("**Why**: on the remove list: resize of the keeper")
               and "*Seen in the pixels*: this copy is smaller" in m.value
               and "80×60 px against 160×120" in m.value for m in at.markdown)
    captions = [i.proto.imgs[0].caption for i in at.get("image")[images_before:]]
    assert captions[:2] == ["the keeper: photo_1.png", "this copy: small.png"]
    assert captions[2].startswith("Where they differ, in red")
