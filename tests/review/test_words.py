"""Cluster names from words (zero-shot on CLIP/SigLIP embeddings) and the pasted word list."""

from __future__ import annotations

import numpy as np
import pytest

from clustering.errors import InputError, NoTextEncoder
from clustering.features import make_extractor
from clustering.features.hub import text_embeddings
from clustering.review.names import suggest_names
from clustering.review.words import PROMPT, parse_word_list, word_shares


def test_pasted_lists_are_split_trimmed_and_deduplicated():
    assert parse_word_list("dog\n cat , Dog;\n\n a red  car ") == ["dog", "cat", "a red car"]
    with pytest.raises(InputError, match="at least two"):
        parse_word_list(" , \n")


def test_each_cluster_is_named_by_the_words_its_images_match(hub_preset):
    extractor = make_extractor(str(hub_preset("clip")), precision="float32")
    record = extractor.describe()
    words = ["cat", "dog", "car", "tree"]
    # Images that *are* the word embeddings (plus a little noise) must get their word.
    texts = text_embeddings(extractor.preset, [PROMPT.format(w) for w in words])
    noise = np.random.default_rng(0).normal(0, 0.01, (8, texts.shape[1]))
    features = np.repeat(texts[[0, 2]], 4, axis=0) + noise
    labels = np.repeat([0, 1], 4)
    shares = word_shares(features, labels, record, words)
    assert shares[0][0] == ("cat", 1.0) and shares[1][0] == ("car", 1.0)
    suggestions = suggest_names(features, labels, np.zeros(8), [str(i) for i in range(8)],
                                record, read_image=lambda name: b"", words=words)
    assert suggestions.source == "words" and suggestions.names[0].startswith("cat 100")
    assert "your words" in suggestions.reason


def test_models_without_text_cannot_name_from_words():
    with pytest.raises(NoTextEncoder, match="CLIP or SigLIP"):
        word_shares(np.ones((2, 3)), np.array([0, 1]), {"kind": "dinov2", "label": "DINOv2"})
