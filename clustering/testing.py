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
