"""Find a run's images by text: CLIP/SigLIP text embeddings against the image embeddings.

Both encoders of a language-image model map into one space, so the cosine of a
sentence's embedding and an image's embedding says how well the sentence describes
the image. Only CLIP and SigLIP runs can search; any other model's run gets
:class:`~clustering.errors.NoTextEncoder` with the models that can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustering.errors import InputError, NoTextEncoder
from clustering.features.presets import (SUGGESTED_PRESETS, TEXT_KINDS, ResolvedPreset,
                                         resolve_preset)

TEXT_MODELS_HINT = (f"text search needs a CLIP or SigLIP model (--model "
                    f"{' or '.join(p for p in SUGGESTED_PRESETS if not p.startswith('dino'))}, "
                    f"or the folder of such a keras-hub preset)")


def text_preset(extractor: Mapping[str, Any]) -> ResolvedPreset:
    """The CLIP/SigLIP preset whose features these are (``run.json``'s extractor)."""
    if extractor.get("kind") not in TEXT_KINDS:
        label = extractor.get("label") or extractor.get("model") or "this model"
        raise NoTextEncoder(f"the features come from {label}, which reads no text; "
                            f"{TEXT_MODELS_HINT}")
    return resolve_preset(str(extractor.get("path") or extractor["preset"]),
                          allow_download=False)


def rank_by_text(text: str, embeddings: np.ndarray, files: Sequence[str],
                 clusters: Sequence[int], extractor: Mapping[str, Any],
                 top: int | None = None) -> pd.DataFrame:
    """``file, score, cluster`` of the images best described by ``text``, best first.

    ``embeddings`` are the run's image embeddings (one row per file); ``score`` is
    the cosine of the text's and the image's embeddings.
    """
    from clustering.features.hub import l2_normalise, text_embeddings

    text = text.strip()
    if not text:
        raise InputError("type a few words to search for, e.g. 'a dog on a beach'")
    preset = text_preset(extractor)
    query = text_embeddings(preset, [text], extractor.get("precision", "float32"))[0]
    scores = l2_normalise(embeddings) @ query
    order = np.argsort(-scores, kind="stable")[:top]
    return pd.DataFrame({"file": np.asarray(files, dtype=object)[order],
                         "score": np.round(scores[order].astype(float), 6),
                         "cluster": np.asarray(clusters, dtype=int)[order]})
