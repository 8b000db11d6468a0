"""Cluster names from words: zero-shot matching of CLIP/SigLIP embeddings against a word list.

Each word becomes a prompt ("a photo of a dog."), the text encoder embeds it, and
every cluster is named by the words nearest its centroid (the mean of its images'
unit embeddings), each with the share of the cluster's images whose own nearest word
it is, so a name says how much of the cluster agrees ("dog 72 %, cat 15 %"). The
list is :data:`EVERYDAY_SUBJECTS` or one the user gives (:func:`parse_word_list`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from clustering.errors import InputError

PROMPT = "a photo of {}."
TOP_WORDS = 2  # words named per cluster
MIN_WORD_SHARE = 0.10  # a second word is named only if this share of images agrees with it
MAX_WORDS = 1000  # longest user list accepted

# Everyday photo subjects (what phone and camera collections hold), not ImageNet's
# 1000 fine-grained classes.
EVERYDAY_SUBJECTS = (
    "people", "a portrait", "a group of friends", "a child", "a baby", "a selfie", "a wedding",
    "a party", "a crowd", "a dog", "a cat", "a bird", "a horse", "a farm animal", "a wild animal",
    "fish", "insects", "flowers", "a garden", "trees", "a forest", "a park", "mountains",
    "a lake", "a river", "a beach", "the sea", "a waterfall", "snow", "a desert", "a sunset",
    "the night sky", "clouds", "a field", "a city street", "buildings", "a skyline", "a house",
    "a church", "a bridge", "a monument", "a museum", "a room", "a kitchen", "a bedroom",
    "an office", "a shop", "a restaurant", "food", "a meal", "a cake", "drinks", "fruit",
    "vegetables", "a car", "a bicycle", "a motorcycle", "a bus", "a train", "a boat",
    "an aeroplane", "a road", "sports", "a football match", "a swimming pool", "a concert",
    "a stage", "art", "a painting", "a sculpture", "a document", "text", "a screenshot",
    "a diagram", "a map", "a book", "a computer", "a phone", "furniture", "clothes", "shoes",
    "toys", "tools", "a plant", "a window", "a door", "graffiti", "a market", "a playground",
)


def parse_word_list(text: str) -> list[str]:
    """Words or phrases from pasted text (one per line or comma-separated), de-duplicated."""
    words: list[str] = []
    for part in re.split(r"[\n,;]+", text):
        word = " ".join(part.split())
        if word and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    if len(words) < 2:
        raise InputError("give at least two words or phrases, one per line or separated by "
                         "commas")
    if len(words) > MAX_WORDS:
        raise InputError(f"the list has {len(words)} words; give at most {MAX_WORDS}")
    return words


def word_shares(features: np.ndarray, labels: np.ndarray, extractor: Mapping[str, Any],
                words: Sequence[str] | None = None) -> dict[int, list[tuple[str, float]]]:
    """Per cluster: the words nearest its centroid, each with the share of images agreeing.

    ``features`` are the run's image embeddings (one row per image); ``extractor``
    is ``run.json``'s extractor record (a CLIP or SigLIP preset, else
    :class:`~clustering.errors.NoTextEncoder`).
    """
    from clustering.features.hub import l2_normalise, text_embeddings
    from clustering.review.search import text_preset

    preset = text_preset(extractor)
    vocabulary = list(words or EVERYDAY_SUBJECTS)
    texts = text_embeddings(preset, [PROMPT.format(w) for w in vocabulary],
                            extractor.get("precision", "float32"))
    images = l2_normalise(features)
    nearest = (images @ texts.T).argmax(axis=1)
    labels = np.asarray(labels)
    result: dict[int, list[tuple[str, float]]] = {}
    for cluster in np.unique(labels):
        members = labels == cluster
        centroid = l2_normalise(images[members].mean(axis=0, keepdims=True))[0]
        order = np.argsort(-(texts @ centroid), kind="stable")[:TOP_WORDS]
        shares = [(vocabulary[i], float(np.mean(nearest[members] == i))) for i in order]
        result[int(cluster)] = [shares[0]] + [s for s in shares[1:] if s[1] >= MIN_WORD_SHARE]
    return result
