"""Uploaded weights: checked against their network, kept per session, labelled honestly."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from clustering.features.uploaded_weights import WeightsRejected, accept_weights, weights_origin
from clustering.features.vgg import VGGExtractor
from clustering.features.weights import SPECS, models_dir

pytestmark = pytest.mark.slow  # builds random-weight VGG networks


def fake_h5(path: Path) -> bytes:
    """An HDF5 file with one dataset named ``junk``: what broke VGG for everyone."""
    with h5py.File(path, "w") as handle:
        handle["junk"] = [1, 2, 3]
    return path.read_bytes()


def test_a_real_weights_file_is_kept_in_the_session_folder_as_custom(with_keras_home, tmp_path):
    shared = models_dir()
    before = sorted(p.name for p in shared.iterdir())
    data = (shared / SPECS[("vgg16", False)].filename).read_bytes()
    accepted = accept_weights(data, "vgg16", include_top=False, folder=tmp_path / "session")
    assert accepted.path.parent == tmp_path / "session"
    assert accepted.path.read_bytes() == data and accepted.source == "upload"
    assert not accepted.imagenet and weights_origin(accepted).startswith("custom weights")
    assert sorted(p.name for p in shared.iterdir()) == before  # the shared folder is untouched
    assert [p.name for p in (tmp_path / "session").iterdir()] == [accepted.path.name]
    extractor = VGGExtractor("vgg16", "pooled", weights=accepted.path)
    assert "custom weights" in extractor.label
    again = accept_weights(data, "vgg16", include_top=False, folder=tmp_path / "session")
    assert again.path == accepted.path  # same content, same file


def test_a_fake_h5_is_refused_in_words_and_leaves_nothing(with_keras_home, tmp_path):
    data = fake_h5(tmp_path / "junk.h5")
    folder = tmp_path / "session"
    with pytest.raises(WeightsRejected, match=r"^the uploaded file is not weights for VGG16 "
                                              r"without its top layers: it does not load"):
        accept_weights(data, "vgg16", include_top=False, folder=folder)
    assert list(folder.iterdir()) == []
    assert not (models_dir() / SPECS[("vgg16", False)].filename).read_bytes() == data


def test_weights_for_another_network_are_refused(with_keras_home, tmp_path):
    vgg19 = (models_dir() / SPECS[("vgg19", False)].filename).read_bytes()
    with pytest.raises(WeightsRejected, match="not weights for VGG16 without its top layers"):
        accept_weights(vgg19, "vgg16", include_top=False, folder=tmp_path)
    with pytest.raises(WeightsRejected, match="not weights for VGG16 with its top layers"):
        accept_weights(vgg19, "vgg16", include_top=True, folder=tmp_path)


def test_files_that_are_not_hdf5_are_refused_before_keras(tmp_path):
    with pytest.raises(WeightsRejected, match="not a Keras .h5 weights file"):
        accept_weights(b"<html>not weights</html>", "vgg16", False, tmp_path)
    with pytest.raises(WeightsRejected, match="unknown network 'resnet'"):
        accept_weights(b"", "resnet", False, tmp_path)
