"""Weights files uploaded by one session: checked, kept apart, labelled honestly.

An upload must never change what other users get, so it is never written into
Keras' shared folder (``$KERAS_HOME/models`` is the operator's, set up by files or
configuration). :func:`accept_weights` keeps a file in a folder the caller gives
(the session's own) only after it has loaded into the very network it claims to be
for, with Keras' real loading code, and names it by its md5 so two uploads never
overwrite each other. Its label says "custom weights" unless the md5 is the
published ImageNet file's.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from clustering.features.weights import SPECS, ResolvedWeights, WeightsUnavailable, file_md5

# The largest published file (VGG19 with its top) is 549 MB.
MAX_WEIGHTS_BYTES = 600 * 1024 * 1024
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class WeightsRejected(WeightsUnavailable):
    """An uploaded weights file that does not fit the network it is for."""


def weights_origin(weights: ResolvedWeights) -> str:
    """"ImageNet weights" or "custom weights (...)", as every label and run.json say it."""
    return ("ImageNet weights" if weights.imagenet
            else "custom weights (not the published ImageNet file)")


def accept_weights(data: bytes, model: str, include_top: bool,
                   folder: str | os.PathLike) -> ResolvedWeights:
    """Keep ``data`` in ``folder`` as ``model``'s weights once it loads into that network.

    ``include_top`` says which network: with the fully-connected layers (for ``fc1``/
    ``fc2``) or without (``pooled``). Raises :class:`WeightsRejected` with a plain
    message for anything else; nothing is left in ``folder`` then.
    """
    if (model, include_top) not in SPECS:
        raise WeightsRejected(f"unknown network {model!r}; weights can be given for "
                              f"{', '.join(sorted({m for m, _ in SPECS}))}")
    what = f"{model.upper()} {'with' if include_top else 'without'} its top layers"
    if len(data) > MAX_WEIGHTS_BYTES:
        raise WeightsRejected(f"the file is {len(data) / 1024**2:,.0f} MB; weights for {what} "
                              f"are at most {MAX_WEIGHTS_BYTES // 1024**2} MB")
    if not data.startswith(HDF5_SIGNATURE):
        raise WeightsRejected(f"the file is not a Keras .h5 weights file (no HDF5 signature); "
                              f"expected weights for {what}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / f".incoming-{uuid.uuid4().hex}.h5"  # hidden: never picked up half-done
    try:
        incoming.write_bytes(data)
        _try_loading(incoming, model, include_top, what)
        md5 = file_md5(incoming)
        final = folder / f"{model}-{'top' if include_top else 'notop'}-{md5}.h5"
        os.replace(incoming, final)  # same content, same name: a repeat upload is harmless
    finally:
        incoming.unlink(missing_ok=True)
    return ResolvedWeights(path=final, source="upload", md5=md5,
                           imagenet=md5 == SPECS[(model, include_top)].md5)


def _try_loading(path: Path, model: str, include_top: bool, what: str) -> None:
    """Build the network from ``path`` with Keras' own loader (as features will)."""
    from clustering.features.vgg import _compile

    try:  # the network built here is dropped (no keras.clear_session: other sessions' live)
        _compile(model, "fc1" if include_top else "pooled", path, "float32")
    except WeightsUnavailable as exc:
        reason = str(exc).split("): ", 1)[-1]
        raise WeightsRejected(f"the uploaded file is not weights for {what}: it does not load "
                              f"into that network ({reason})") from None
