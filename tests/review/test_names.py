"""Suggested cluster names: ImageNet classes only from published fc1/fc2 weights, else pixel words."""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from clustering.cli import main
from clustering.review.names import (class_shares, imagenet_classes, imagenet_probabilities,
                                      imagenet_reason, suggest_names)


def png(colour: tuple[int, int, int], noise: float = 0.0, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, noise, (40, 40, 3)), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def write_top_layers(path: Path, kernel_fc2: np.ndarray, kernel_pred: np.ndarray,
                     old_names: bool = True) -> Path:
    """A Keras legacy .h5 holding only ``fc2`` and ``predictions`` (small shapes)."""
    with h5py.File(path, "w") as handle:
        for layer, kernel in (("fc2", kernel_fc2), ("predictions", kernel_pred)):
            group = handle.create_group(layer)
            names = ([f"{layer}_W_1:0", f"{layer}_b_1:0"] if old_names
                     else [f"{layer}/kernel", f"{layer}/bias"])
            group.attrs["weight_names"] = names
            group.create_dataset(names[0], data=kernel)
            group.create_dataset(names[1], data=np.zeros(kernel.shape[1], np.float32))
    return path


def test_the_shipped_class_list_is_imagenets_1000_in_keras_order() -> None:
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert (classes[0], classes[309], classes[985], classes[999]) == (
        "tench", "bee", "daisy", "toilet tissue")


@pytest.mark.parametrize("extractor, expected", [
    ({"model": "handcrafted"}, "offline extractor"),
    ({"model": "vgg16", "layer": "pooled"}, "pooled features"),
    ({"model": "vgg19", "layer": "fc2", "weights": {"published_imagenet_weights": False,
                                                    "path": __file__}}, "not the published"),
])
def test_no_imagenet_names_without_published_classifier_weights(extractor, expected) -> None:
    assert expected in imagenet_reason(extractor)


def test_published_weights_with_fc_layer_allow_imagenet_names() -> None:
    extractor = {"model": "vgg16", "layer": "fc1",
                 "weights": {"published_imagenet_weights": True, "path": __file__}}
    assert imagenet_reason(extractor) is None


@pytest.mark.parametrize("layer", ["fc1", "fc2"])
def test_probabilities_come_from_the_files_own_top_layers(tmp_path: Path, layer: str) -> None:
    # fc2 = identity (4 -> 4), predictions maps feature j to class 309 + j (bee ...).
    pred = np.full((4, 1000), -50.0, np.float32)
    for j in range(4):
        pred[j, 309 + j] = 50.0
    path = write_top_layers(tmp_path / "w.h5", np.eye(4, dtype=np.float32), pred,
                            old_names=layer == "fc1")
    features = np.eye(4, dtype=np.float32)[[0, 0, 1, 2]]
    probs = imagenet_probabilities(features, layer, path)
    assert probs.shape == (4, 1000) and np.allclose(probs.sum(axis=1), 1)
    assert probs.argmax(axis=1).tolist() == [309, 309, 310, 311]


def test_class_shares_name_the_most_frequent_classes_with_their_share() -> None:
    top1 = np.array([985] * 6 + [309] * 3 + [1] * 1)  # daisy 60 %, bee 30 %, goldfish 10 %
    shares = class_shares(top1, np.zeros(10, dtype=int))
    assert shares[0] == [("daisy", pytest.approx(0.6)), ("bee", pytest.approx(0.3))]


def test_imagenet_names_end_to_end(tmp_path: Path) -> None:
    pred = np.full((2, 1000), -50.0, np.float32)
    pred[0, 985] = pred[1, 309] = 50.0
    path = write_top_layers(tmp_path / "w.h5", np.eye(2, dtype=np.float32), pred)
    extractor = {"model": "vgg16", "layer": "fc2",
                 "weights": {"published_imagenet_weights": True, "path": str(path)}}
    features = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], np.float32)
    labels = np.array([0, 0, 1, 1, 1])
    result = suggest_names(features, labels, np.zeros(5), [f"{i}.png" for i in range(5)],
                           extractor, read_image=lambda name: pytest.fail("no pixels needed"))
    assert result.source == "imagenet"
    assert result.names == {0: "daisy 100 %", 1: "bee 67 %, daisy 33 %"}


def test_pixel_words_describe_colour_lightness_and_texture() -> None:
    images = {"red.png": png((220, 20, 20)), "night.png": png((10, 10, 40)),
              "snow.png": png((245, 245, 245)), "grass.png": png((40, 160, 40), noise=80),
              "broken.png": b"not an image"}
    names = list(images)
    labels = np.array([0, 1, 2, 3, 3])
    result = suggest_names(np.zeros((5, 3)), labels, np.zeros(5), names, {"model": "handcrafted"},
                           read_image=images.__getitem__)
    assert result.source == "pixels" and "offline extractor" in result.reason
    assert result.names[0].startswith("red") and "smooth" in result.names[0]
    assert "dark" in result.names[1] and "blue" in result.names[1]
    assert result.names[2].startswith("white") and "light" in result.names[2]
    assert "green" in result.names[3] and "textured" in result.names[3]  # broken file skipped


def test_a_cluster_with_no_readable_image_keeps_its_default_name() -> None:
    result = suggest_names(np.zeros((2, 3)), np.array([0, 1]), np.zeros(2), ["a", "b"],
                           {"model": "handcrafted"},
                           read_image=lambda name: png((0, 0, 255)) if name == "a" else b"")
    assert result.names[1] == "cluster 1" and result.names[0].startswith("blue")


def test_cli_labels_carry_suggested_names(image_folder: Path, tmp_path: Path) -> None:
    assert main(["cluster", str(image_folder), "--out", str(tmp_path / "o"), "--model",
                 "handcrafted", "--k", "3"]) == 0
    labels = pd.read_csv(tmp_path / "o" / "labels.csv")
    by_group = labels.assign(group=labels["file"].str.extract(r"(red|green|blue)_")[0])
    names = by_group.groupby("group")["cluster_name"].first()
    assert {g: names[g].split(",")[0].split(" ")[0] for g in names.index} == {
        "red": "red", "green": "green", "blue": "blue"}
