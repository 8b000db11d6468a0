"""Quality flags: each on an image made to trigger it, and never on a plain sharp photo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skimage.data
from PIL import Image, ImageEnhance, ImageFilter

from clustering.files.discover import discover
from clustering.review.quality import FLAGS, QualityScorer, flag_counts, outlier_z, score_images

Make = Callable[[Image.Image], Image.Image]
IMAGE_FLAGS: dict[str, Make] = {
    "low_information": lambda photo: Image.fromarray(np.clip(
        128 + np.random.default_rng(0).normal(0, 2, (300, 400, 3)), 0, 255).astype(np.uint8)),
    "too_dark": lambda photo: ImageEnhance.Brightness(photo).enhance(0.15),
    "too_bright": lambda photo: Image.blend(photo, Image.new("RGB", photo.size, "white"), 0.85),
    "blurry": lambda photo: photo.filter(ImageFilter.GaussianBlur(6)),
    "tiny": lambda photo: photo.resize((90, 60)),
    "odd_aspect": lambda photo: photo.crop((0, 0, photo.width, photo.width // 4)),
    "grayscale": lambda photo: photo.convert("L"),
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> QualityScorer:
    """The coffee photo as it is ('plain.jpg') and one copy made to trigger each flag."""
    folder = tmp_path_factory.mktemp("quality")
    photo = Image.fromarray(skimage.data.coffee())
    photo.save(folder / "plain.jpg", quality=92)
    for flag, make in IMAGE_FLAGS.items():
        make(photo).save(folder / f"{flag}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    return QualityScorer().fit(discover(folder).images)


def _row(scorer: QualityScorer, file: str) -> pd.Series:
    return scorer.report_.set_index("file").loc[file]


@pytest.mark.parametrize("flag", IMAGE_FLAGS)
def test_flag_is_raised_on_an_image_made_to_trigger_it(scored: QualityScorer, flag: str):
    assert bool(_row(scored, f"{flag}.png")[flag])
    assert flag in _row(scored, f"{flag}.png")["flags"].split(", ")


@pytest.mark.parametrize("flag", FLAGS)
def test_plain_sharp_colour_photo_is_not_flagged(scored: QualityScorer, flag: str):
    assert not bool(_row(scored, "plain.jpg")[flag])


def test_report_has_one_row_per_image_with_scores_flags_and_summary(scored: QualityScorer):
    report = scored.report_
    assert sorted(report["file"]) == sorted(["plain.jpg", *(f"{f}.png" for f in IMAGE_FLAGS)])
    for column in ("entropy", "brightness", "sharpness", "short_side", "aspect_ratio",
                   "saturation", "outlier_z", "silhouette", *FLAGS, "flags"):
        assert column in report.columns
    assert _row(scored, "plain.jpg")["flags"] == ""
    assert [s.name for s in scored.skipped_] == ["broken.jpg"]
    assert flag_counts(report)["too_dark"] == 1


def test_thresholds_are_parameters_and_rescoring_needs_no_decoding(scored: QualityScorer):
    plain = _row(scored, "plain.jpg")
    stricter = QualityScorer(dark=plain["brightness"] + 1).fit(scored.scores_)
    assert bool(stricter.report_.set_index("file").loc["plain.jpg", "too_dark"])
    assert stricter.skipped_ == []


def test_scores_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from clustering.cache import FeatureCache
    from clustering.review import quality

    Image.fromarray(skimage.data.chelsea()).save(tmp_path / "cat.jpg")
    images = discover(tmp_path).images
    first, _ = score_images(images, cache=FeatureCache(tmp_path / "cache"))

    def not_again(*args, **kwargs):
        raise AssertionError("a cached image was scored again")

    monkeypatch.setattr(quality, "image_quality", not_again)
    again, skipped = score_images(images, cache=FeatureCache(tmp_path / "cache"))
    assert skipped == []
    pd.testing.assert_frame_equal(first, again)


def _clusters() -> pd.DataFrame:
    """Cluster 0: six images, the last far out; cluster 1: three images (too few)."""
    return pd.DataFrame({
        "file": [f"a{i}.jpg" for i in range(6)] + ["b0.jpg", "b1.jpg", "b2.jpg"],
        "cluster": [0] * 6 + [1] * 3,
        "distance_to_centroid": [1.0, 1.2, 0.8, 1.1, 0.9, 3.0, 1.0, 9.0, 1.0],
        "silhouette": [0.5, 0.4, 0.3, -0.2, np.nan, 0.1, 0.2, 0.2, 0.2],
    })


def test_outlier_z_is_the_robust_z_score_within_each_cluster():
    clusters = _clusters()
    z = outlier_z(clusters["cluster"], clusters["distance_to_centroid"], min_size=5)
    # cluster 0: median 1.05, absolute deviations .05 .15 .25 .05 .15 1.95 -> MAD 0.15
    assert z[5] == pytest.approx(0.6745 * (3.0 - 1.05) / 0.15)
    assert z[2] == pytest.approx(0.6745 * (0.8 - 1.05) / 0.15)
    assert np.isnan(z[6:]).all()


def test_outlier_and_between_clusters_flags_come_from_the_clustering():
    clusters = _clusters()
    scores = pd.DataFrame({"file": clusters["file"], "entropy": 7.0, "brightness": 120.0,
                           "sharpness": 500.0, "short_side": 400, "aspect_ratio": 1.5,
                           "saturation": 0.3})
    report = QualityScorer().fit(scores, clusters).report_.set_index("file")
    assert report.index[report["outlier"]].tolist() == ["a5.jpg"]
    assert report.index[report["between_clusters"]].tolist() == ["a3.jpg"]
    assert report.loc["a5.jpg", "flags"] == "outlier"
    assert not report.loc["b1.jpg", "outlier"]  # far out, but its cluster is too small
    without = QualityScorer().fit(scores).report_
    assert not without["outlier"].any() and without["outlier_z"].isna().all()


def test_cluster_summary_counts_duplicates_flags_and_mean_silhouette():
    from clustering.review.summary import review_summary

    labels = pd.DataFrame({"file": ["a", "b", "c", "d", "e"], "cluster": [1, 1, 1, 0, 0],
                           "silhouette": [0.5, np.nan, 0.1, -0.2, np.nan]})
    duplicates = pd.DataFrame({"file": ["a", "b", "d"], "group": [1, 1, 2],
                               "keep": [True, False, True]})
    quality = pd.DataFrame({"file": ["a", "b", "c", "d", "e"],
                            "flags": ["", "blurry", "too_dark, tiny", "", ""]})
    summary = review_summary(labels, duplicates, quality).set_index("cluster")
    assert summary["size"].to_dict() == {0: 2, 1: 3}
    assert summary.loc[1, "duplicate_share"] == pytest.approx(2 / 3)
    assert summary.loc[1, "removable_share"] == pytest.approx(1 / 3)
    assert summary.loc[0, "removable_share"] == 0  # d is in a group but is its keeper
    assert summary.loc[1, "flagged_share"] == pytest.approx(2 / 3)
    assert summary.loc[1, "mean_silhouette"] == pytest.approx(0.3)  # NaN ignored
    assert summary.loc[0, "mean_silhouette"] == pytest.approx(-0.2)
    bare = review_summary(labels[["file", "cluster"]])
    assert bare[["duplicate_share", "flagged_share", "mean_silhouette"]].isna().all().all()
