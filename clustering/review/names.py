"""Suggested cluster names: ImageNet classes or words when the features allow it, else
pixel words.

* VGG ``fc1``/``fc2`` features from the **published** ImageNet weights file: the
  network's remaining dense layers (read from that same ``.h5`` file) turn each
  image's features into ImageNet class probabilities without running the network
  again; a cluster is named by its most frequent top-1 classes with their share
  ("daisy 61 %, bee 12 %").
* CLIP or SigLIP embeddings: the everyday subjects (or the user's words) nearest each
  cluster's centroid, with the share of images that agree (:mod:`.words`).
* Anything else (pooled features, which lack the classifier; the offline extractor;
  weights that are not the published file, whose "classes" would be invented):
  words for what the pixels of the cluster's most typical images show — dominant
  colour names, light/dark, smooth/textured. The reason is returned so a page can
  say why there are no ImageNet names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from clustering.clusters.members import default_names, typical_order
from clustering.errors import ImageLoadError
from clustering.features.presets import TEXT_KINDS
from clustering.images.loading import open_image
from clustering.results import RunResult
from clustering.review.words import word_shares

CLASS_FILE = Path(__file__).with_name("imagenet_classes.txt")
TOP_CLASSES = 2  # classes named per cluster
MIN_CLASS_SHARE = 0.10  # a second class is named only if this share of images has it
TYPICAL_IMAGES = 8  # most typical images whose pixels name a cluster
PIXEL_SIZE = 96  # long side the pixels are read at: colour and texture words need no more
MIN_COLOUR_SHARE = 0.20  # a colour is named only if this share of pixels has it
DARK_BELOW, LIGHT_ABOVE = 0.35, 0.70  # mean CIELAB lightness L*/100 (perceived, not HSV value)
SMOOTH_BELOW, TEXTURED_ABOVE = 0.04, 0.09  # mean gradient magnitude (0..1 per pixel)
GREY_SATURATION = 0.20  # below: a pixel is white/grey/black, not a hue
# Hue (degrees) upper bounds of each colour name; red wraps around 360.
HUE_NAMES = ((15, "red"), (40, "orange"), (68, "yellow"), (165, "green"), (200, "cyan"),
             (255, "blue"), (290, "purple"), (340, "pink"), (360, "red"))

ReadImage = Callable[[str], bytes]
NameProgress = Callable[[int, int], None]  # (clusters done, clusters)


@dataclass
class NameSuggestions:
    """Suggested ``names`` per cluster, where they come from and why.

    ``source`` is ``"imagenet"``, ``"words"`` or ``"pixels"``; ``reason`` says why that source
    (shown when ImageNet names are not offered); ``details`` keeps, per cluster, the
    (word, share) pairs behind each name.
    """

    names: dict[int, str]
    source: str
    reason: str
    details: dict[int, list[tuple[str, float]]] = field(default_factory=dict)


def imagenet_reason(extractor: Mapping[str, Any]) -> str | None:
    """None when ImageNet classes can be read from these features; else why not."""
    model, layer = extractor.get("model"), extractor.get("layer")
    if model not in ("vgg16", "vgg19"):
        return (f"{extractor['label']} has no ImageNet classifier" if extractor.get("kind")
                else "the offline extractor has no ImageNet classifier")
    if layer not in ("fc1", "fc2"):
        return ("pooled features skip VGG's classifier layers; choose layer fc1 or fc2 "
                "(full ImageNet weights file) for ImageNet class names")
    weights = extractor.get("weights") or {}
    if not weights.get("published_imagenet_weights"):
        return ("these weights are not the published ImageNet file (md5 differs), so their "
                "outputs are not ImageNet classes")
    if not Path(str(weights.get("path", ""))).is_file():
        return f"the weights file {weights.get('path')} is no longer there"
    return None


def suggest_names(features: np.ndarray, labels: np.ndarray, distances: np.ndarray,
                  names: Sequence[str], extractor: Mapping[str, Any], read_image: ReadImage,
                  progress: NameProgress | None = None,
                  words: Sequence[str] | None = None) -> NameSuggestions:
    """Suggested names for the clusters ``labels`` (0..k-1) of images ``names``.

    ``features`` are the raw extractor features (not PCA-reduced: the dense layers
    need them); ``read_image(name)`` returns an image's bytes for pixel words;
    ``words`` replaces the everyday subjects CLIP/SigLIP clusters are named from.
    """
    labels = np.asarray(labels)
    reason = imagenet_reason(extractor)
    if extractor.get("kind") in TEXT_KINDS:
        details = word_shares(features, labels, extractor, words)
        source = "words"
        reason = (f"{'your words' if words else 'everyday photo subjects'} nearest each "
                  f"cluster's centre, with the share of its images that agree")
    elif reason is None:
        probabilities = imagenet_probabilities(features, extractor["layer"],
                                               Path(extractor["weights"]["path"]))
        details = class_shares(probabilities.argmax(axis=1), labels)
        source, reason = "imagenet", "most frequent ImageNet classes among the cluster's images"
    else:
        details = pixel_words(labels, distances, names, read_image, progress)
        source = "pixels"
    suggestions = default_names(int(labels.max()) + 1 if len(labels) else 0)
    suggestions.update({c: describe(words, source) for c, words in details.items() if words})
    return NameSuggestions(suggestions, source, reason, details)


def describe(words: Sequence[tuple[str, float]], source: str) -> str:
    """``"daisy 61 %, bee 12 %"`` for classes; ``"green, blue · light · textured"`` for pixels."""
    if source in ("imagenet", "words"):
        return ", ".join(f"{word} {share:.0%}".replace("%", " %") for word, share in words)
    colours = [word for word, _ in words if word in _COLOUR_WORDS]
    rest = [word for word, _ in words if word not in _COLOUR_WORDS]
    return " · ".join(part for part in (", ".join(colours), *rest) if part)


# ---- ImageNet classes -----------------------------------------------------------------

@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 class names in VGG's output order (shipped file; no download)."""
    lines = [line for line in CLASS_FILE.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    return tuple(line.split("\t")[1].replace("_", " ") for line in lines)


def _dense(handle: Any, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of a dense layer in a Keras ``.h5`` weights file (old or new names)."""
    group = handle[layer]
    kernel, bias = (np.asarray(group[name], dtype=np.float32)
                    for name in group.attrs["weight_names"])
    return kernel, bias


def imagenet_probabilities(features: np.ndarray, layer: str, weights_path: Path) -> np.ndarray:
    """Class probabilities (n, classes) from ``fc1``/``fc2`` features and the file's top layers."""
    import h5py

    x = np.asarray(features, dtype=np.float32)
    with h5py.File(weights_path, "r") as handle:
        if layer == "fc1":
            kernel, bias = _dense(handle, "fc2")
            x = np.maximum(x @ kernel + bias, 0.0)
        kernel, bias = _dense(handle, "predictions")
    logits = x @ kernel + bias
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def class_shares(top1: np.ndarray, labels: np.ndarray) -> dict[int, list[tuple[str, float]]]:
    """Per cluster, its most frequent top-1 classes and their share of the cluster's images."""
    classes = imagenet_classes()
    result: dict[int, list[tuple[str, float]]] = {}
    for cluster in np.unique(labels):
        counts = np.bincount(top1[labels == cluster], minlength=len(classes))
        order = np.argsort(-counts, kind="stable")[:TOP_CLASSES]
        total = counts.sum()
        shares = [(classes[i], counts[i] / total) for i in order]
        result[int(cluster)] = [shares[0]] + [s for s in shares[1:] if s[1] >= MIN_CLASS_SHARE]
    return result


# ---- words from pixels ----------------------------------------------------------------

_COLOUR_WORDS = {name for _, name in HUE_NAMES} | {"white", "grey", "black", "brown"}


def pixel_words(labels: np.ndarray, distances: np.ndarray, names: Sequence[str],
                read_image: ReadImage,
                progress: NameProgress | None = None) -> dict[int, list[tuple[str, float]]]:
    """Per cluster: colour names with their pixel share, then light/dark and smooth/textured.

    Read from the ``TYPICAL_IMAGES`` images nearest the centroid; images that cannot be
    read are skipped (a cluster with none readable gets no words).
    """
    clusters = [int(c) for c in np.unique(labels)]
    result: dict[int, list[tuple[str, float]]] = {}
    for done, cluster in enumerate(clusters, 1):
        pixels = []
        for index in typical_order(labels, distances, cluster)[:TYPICAL_IMAGES]:
            try:
                pixels.append(_pixels(read_image(names[index])))
            except (ImageLoadError, OSError, KeyError, ValueError):
                continue
        result[cluster] = image_words(pixels) if pixels else []
        if progress:
            progress(done, len(clusters))
    return result


def _pixels(data: bytes) -> np.ndarray:
    """An image as float RGB in 0..1, long side at most ``PIXEL_SIZE``."""
    image = open_image(data, draft_size=PIXEL_SIZE)
    image.thumbnail((PIXEL_SIZE, PIXEL_SIZE))
    return np.asarray(image, dtype=np.float32) / 255.0


def image_words(images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """Words for a set of RGB images (0..1): colours (with share), lightness, texture."""
    from skimage.color import rgb2hsv, rgb2lab
    from skimage.filters import sobel

    hsv = np.concatenate([rgb2hsv(img).reshape(-1, 3) for img in images])
    colours = colour_names(hsv)
    counts = {name: float(np.mean(colours == name)) for name in np.unique(colours)}
    words = sorted(((n, s) for n, s in counts.items() if s >= MIN_COLOUR_SHARE),
                   key=lambda item: -item[1])[:3] or [max(counts.items(), key=lambda i: i[1])]
    value = float(np.mean([rgb2lab(img)[..., 0].mean() for img in images])) / 100
    if value < DARK_BELOW:
        words.append(("dark", 1.0))
    elif value > LIGHT_ABOVE:
        words.append(("light", 1.0))
    edges = float(np.mean([sobel(img.mean(axis=2)).mean() for img in images]))
    if edges < SMOOTH_BELOW:
        words.append(("smooth", 1.0))
    elif edges > TEXTURED_ABOVE:
        words.append(("textured", 1.0))
    return words


def colour_names(hsv: np.ndarray) -> np.ndarray:
    """A colour name per HSV pixel (n, 3 in 0..1): hue names, brown, white, grey, black."""
    hue, sat, val = hsv[:, 0] * 360, hsv[:, 1], hsv[:, 2]
    bounds = np.array([b for b, _ in HUE_NAMES])
    names = np.array([n for _, n in HUE_NAMES], dtype=object)[
        np.minimum(np.searchsorted(bounds, hue, side="right"), len(bounds) - 1)]
    brown = np.isin(names, ["red", "orange", "yellow"]) & (val < 0.6) & (sat < 0.8)
    names[brown] = "brown"
    grey = sat < GREY_SATURATION
    names[grey] = "grey"
    names[grey & (val > 0.8)] = "white"
    names[val < 0.15] = "black"
    return names


def names_for_run(result: RunResult, progress: NameProgress | None = None,
                  words: Sequence[str] | None = None) -> NameSuggestions:
    """Suggested names for a run's clusters (ImageNet classes, words nearest CLIP/SigLIP
    embeddings, or words from the pixels); ``words``: the user's own list."""
    run = result.clustering
    return suggest_names(result.features.features, run.labels, run.distances,
                         result.features.names, result.features.extractor, result.read_image,
                         progress, words)
