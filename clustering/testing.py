"""Random-weight VGG files under Keras' standard names, for tests and benchmarks.

They run at exactly the speed of the real ImageNet weights but carry no knowledge;
their md5 differs from the published one, so every label built on them says
"custom weights". Never use them to show a user ImageNet features.
"""

from __future__ import annotations

from pathlib import Path

from clustering.features.weights import SPECS


def write_random_weights(model: str, include_top: bool, models_folder: Path,
                         seed: int = 0) -> Path:
    """Save a randomly initialised VGG under its standard file name in ``models_folder``."""
    import h5py
    import keras
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    keras.utils.set_random_seed(seed)
    constructor = keras.applications.VGG16 if model == "vgg16" else keras.applications.VGG19
    net = constructor(weights=None, include_top=include_top,
                      input_shape=None if include_top else (224, 224, 3))
    models_folder.mkdir(parents=True, exist_ok=True)
    path = models_folder / SPECS[(model, include_top)].filename
    with h5py.File(path, "w") as handle:
        save_weights_to_hdf5_group(handle, net)
    keras.backend.clear_session()
    return path


# Words the tiny random presets' tokenizers know (enough for "a cat", "a dog on a beach").
PRESET_WORDS = ("a", "an", "the", "of", "on", "in", "photo", "cat", "dog", "car", "beach",
                "tree", "sky", "flower", "food", "person", "building", "red", "green", "blue")
PRESET_KINDS = ("clip", "siglip", "dinov2")
_IMAGE_SIZE = 32
_PATCH = 8


def write_random_preset(kind: str, folder: Path, seed: int = 0) -> Path:
    """Save a tiny 2-layer random keras-hub preset (``clip``, ``siglip`` or ``dinov2``).

    The folder has what a published preset has (``config.json``, ``model.weights.h5``,
    ``metadata.json``, ``image_converter.json`` and, for CLIP/SigLIP, the tokenizer and
    preprocessor), so every code path that reads a real preset reads it. Its features
    carry no knowledge: tests and benchmarks only.
    """
    import keras
    import keras_hub

    if kind not in PRESET_KINDS:
        raise ValueError(f"unknown preset kind {kind!r}; choose one of {', '.join(PRESET_KINDS)}")
    keras.utils.set_random_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tiny = dict(hidden_dim=16, num_layers=2, num_heads=2, intermediate_dim=32)
    image = dict(image_size=(_IMAGE_SIZE, _IMAGE_SIZE), scale=1 / 127.5, offset=-1.0)
    if kind == "dinov2":
        backbone = keras_hub.models.DINOV2Backbone(
            patch_size=_PATCH, image_shape=(_IMAGE_SIZE, _IMAGE_SIZE, 3),
            position_embedding_shape=(_IMAGE_SIZE, _IMAGE_SIZE, 3), **tiny)
        parts = [backbone, keras_hub.layers.DINOV2ImageConverter(**image)]
    elif kind == "clip":
        vocabulary, merges = _bpe_vocabulary()
        tokenizer = keras_hub.models.CLIPTokenizer(vocabulary=vocabulary, merges=merges)
        backbone = keras_hub.models.CLIPBackbone(
            vision_encoder=keras_hub.models.CLIPVisionEncoder(
                patch_size=_PATCH, image_shape=(_IMAGE_SIZE, _IMAGE_SIZE, 3), **tiny),
            text_encoder=keras_hub.models.CLIPTextEncoder(
                vocabulary_size=len(vocabulary), embedding_dim=16, max_sequence_length=16,
                **tiny),
            projection_dim=16)
        parts = [backbone, tokenizer, keras_hub.layers.CLIPImageConverter(**image),
                 keras_hub.models.CLIPPreprocessor(tokenizer=tokenizer, sequence_length=16)]
    else:
        tokenizer = keras_hub.models.SigLIPTokenizer(proto=_sentencepiece_proto())
        backbone = keras_hub.models.SigLIPBackbone(
            vision_encoder=keras_hub.models.SigLIPVisionEncoder(
                patch_size=_PATCH, image_shape=(_IMAGE_SIZE, _IMAGE_SIZE, 3), **tiny),
            text_encoder=keras_hub.models.SigLIPTextEncoder(
                vocabulary_size=tokenizer.vocabulary_size(), embedding_dim=16,
                max_sequence_length=16, **tiny))
        parts = [backbone, tokenizer, keras_hub.layers.SigLIPImageConverter(**image),
                 keras_hub.models.SigLIPPreprocessor(tokenizer=tokenizer, sequence_length=16)]
    for part in parts:
        part.save_to_preset(str(folder))
    keras.backend.clear_session()
    return folder


def _bpe_vocabulary() -> tuple[dict[str, int], list[str]]:
    """A byte-pair vocabulary and merge rules that spell :data:`PRESET_WORDS` whole."""
    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocabulary.setdefault(letter, len(vocabulary))
        vocabulary.setdefault(letter + "</w>", len(vocabulary))
    merges: list[str] = []
    for word in PRESET_WORDS:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            rule, merged = f"{parts[0]} {parts[1]}", parts[0] + parts[1]
            if rule not in merges:
                merges.append(rule)
            vocabulary.setdefault(merged, len(vocabulary))
            parts = [merged, *parts[2:]]
    return vocabulary, merges


def _sentencepiece_proto() -> bytes:
    """A word-level SentencePiece model of :data:`PRESET_WORDS` (SigLIP's tokenizer)."""
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter([" ".join(PRESET_WORDS)] * 4), model_writer=model,
        vocab_size=len(PRESET_WORDS) + 2, model_type="WORD", pad_id=-1, unk_id=0,
        bos_id=-1, eos_id=1, unk_piece="<unk>", eos_piece="</s>", minloglevel=2)
    return model.getvalue()
