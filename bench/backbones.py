"""Images/s and peak memory of each backbone (float32 and bfloat16, batch 32) beside VGG16;
with ``--labelled DIR``, NMI/ARI of each backbone's clusters on an operator's own photos.

Speed: each backbone is built at its published size with random weights (no weights can
be downloaded here; speed does not depend on the values), saved as a keras-hub preset
under bench/data/presets, and run by ClusterLens' own extractor
(:class:`~clustering.features.hub.HubExtractor`: the preset's image converter, the
embedding, L2 normalisation) on pre-decoded batches of 32, so the table compares the
networks, not JPEG decoding. Each (backbone, precision) runs in its own process, which
reports its peak resident memory; images/s is the median of ``--runs`` timed runs
after one warm-up batch.

    PYTHONPATH=. .venv/bin/python bench/backbones.py [--batches 2] [--runs 3]
    PYTHONPATH=. .venv/bin/python bench/backbones.py --labelled DIR \\
        --models vgg16,clip_vit_base_patch32,siglip2_base_patch16_224,dinov2_small

Quality (``--labelled``): DIR holds one sub-folder per label; each model (a name or
preset folder, with real weights in $CLUSTERLENS_MODELS or keras-hub's cache) clusters
the images with k = the number of labels, and NMI/ARI against the folders are printed.
Results: bench/results/backbones.json (speed) and backbones_labelled.json (quality).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `bench` and `clustering` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (DATA, RANDOM_WEIGHTS_NOTE, ROOT, Timer, median, random_keras_home,
                           table, write_results)

BATCH = 32
# The published architectures (keras-hub's presets of these names), image side 224.
ARCHITECTURES = {
    "clip_vit_base_patch32": ("clip", dict(patch_size=32, hidden_dim=768, num_layers=12,
                                           num_heads=12, intermediate_dim=3072), 512),
    "siglip2_base_patch16_224": ("siglip", dict(patch_size=16, hidden_dim=768, num_layers=12,
                                                num_heads=12, intermediate_dim=3072), None),
    "dinov2_small": ("dinov2", dict(patch_size=14, hidden_dim=384, num_layers=12, num_heads=6,
                                    intermediate_dim=1536), None),
}
MODELS = ("vgg16", *ARCHITECTURES)


def published_size_preset(name: str) -> Path:
    """A random-weight preset of ``name``'s published architecture (made once, reused)."""
    folder = DATA / "presets" / name
    if (folder / "model.weights.h5").is_file():
        return folder
    from clustering.features.keras_import import import_keras

    keras = import_keras()
    import keras_hub

    kind, vision, projection = ARCHITECTURES[name]
    image = dict(image_size=(224, 224), scale=1 / 127.5, offset=-1.0)
    text = dict(vocabulary_size=1000, embedding_dim=vision["hidden_dim"], hidden_dim=64,
                num_layers=1, num_heads=2, intermediate_dim=64, max_sequence_length=16)
    if kind == "dinov2":
        backbone = keras_hub.models.DINOV2Backbone(image_shape=(224, 224, 3), **vision)
        converter = keras_hub.layers.DINOV2ImageConverter(**image)
    elif kind == "clip":
        text["embedding_dim"] = 64
        backbone = keras_hub.models.CLIPBackbone(
            vision_encoder=keras_hub.models.CLIPVisionEncoder(image_shape=(224, 224, 3),
                                                              **vision),
            text_encoder=keras_hub.models.CLIPTextEncoder(**text), projection_dim=projection)
        converter = keras_hub.layers.CLIPImageConverter(**image)
    else:
        text.update(hidden_dim=vision["hidden_dim"], embedding_dim=vision["hidden_dim"])
        backbone = keras_hub.models.SigLIPBackbone(
            vision_encoder=keras_hub.models.SigLIPVisionEncoder(image_shape=(224, 224, 3),
                                                                **vision),
            text_encoder=keras_hub.models.SigLIPTextEncoder(**text))
        converter = keras_hub.layers.SigLIPImageConverter(**image)
    folder.mkdir(parents=True, exist_ok=True)
    backbone.save_to_preset(str(folder))
    converter.save_to_preset(str(folder))
    keras.backend.clear_session()
    return folder


def measure_one(model: str, precision: str, batches: int, runs: int) -> dict:
    """In this process: images/s of one backbone at one precision, and peak memory."""
    from clustering.features import make_extractor

    if model == "vgg16":
        random_keras_home(["vgg16"])
        extractor = make_extractor("vgg16", precision=precision, allow_download=False)
    else:
        extractor = make_extractor(str(published_size_preset(model)), precision=precision)
    size = extractor.input_size
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (BATCH, size, size, 3), dtype=np.uint8)
    extractor.extract(batch)  # build + trace
    rates, others = [], []
    for _ in range(runs):
        with Timer() as t:
            for _ in range(batches):
                extractor.extract(batch)
        rates.append(batches * BATCH / t.seconds)
        others.append(t.other_cores)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": model, "precision": precision, "images_per_s": median(rates),
            "runs": rates, "other_cores": median(others), "dim": extractor.dim, "peak_rss_mb": peak_mb,
            "label": extractor.label}


def speed(models: list[str], precisions: list[str], batches: int, runs: int) -> list[dict]:
    """Every (model, precision) in its own process (own memory peak, own thread pools)."""
    rows = []
    for model in models:
        published_size_preset(model) if model != "vgg16" else None
        for precision in precisions:
            done = subprocess.run(
                [sys.executable, __file__, "--one", model, precision, "--batches",
                 str(batches), "--runs", str(runs)], cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{model} {precision} failed:\n{done.stderr[-2000:]}")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  {model} {precision}: {rows[-1]['images_per_s']:.1f} images/s", flush=True)
    return rows


def quality(labelled: Path, models: list[str]) -> list[dict]:
    """NMI/ARI of each model's clustering (k = number of labels) against the folders."""
    from clustering.files.discover import discover
    from clustering.pipeline import analyse, compute_features
    from clustering.settings import Settings
    from clustering.review.evaluate import scores

    found = discover(labelled)
    truth = {ref.name: ref.name.split("/")[0] for ref in found.images}
    k = len(set(truth.values()))
    rows = []
    for model in models:
        settings = Settings(model=model, k=k, k_min=k, k_max=k)
        features = compute_features(found, settings)
        result = analyse(features, settings, found)
        got = scores([truth[name] for name in features.names], result.clustering.labels)
        rows.append({"model": model, "images": len(features.names), "k": k,
                     "label": features.extractor.get("label", ""), **got})
        print(f"  {model}: NMI {got['nmi']:.3f}, ARI {got['ari']:.3f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--batches", type=int, default=2, help="batches of 32 per timed run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--labelled", type=Path, metavar="DIR",
                        help="folders = labels: measure NMI/ARI per model instead of speed")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "PRECISION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.one:
        print(json.dumps(measure_one(*args.one, args.batches, args.runs)))
        return
    if args.labelled:
        rows = quality(args.labelled, models)
        print(table(["model", "images", "k", "NMI", "ARI"],
                    [[r["model"], r["images"], r["k"], f"{r['nmi']:.3f}", f"{r['ari']:.3f}"]
                     for r in rows]))
        write_results("backbones_labelled", {"labelled": str(args.labelled), "rows": rows})
        return
    rows = speed(models, [p.strip() for p in args.precisions.split(",")], args.batches,
                 args.runs)
    vgg = {r["precision"]: r["images_per_s"] for r in rows if r["model"] == "vgg16"}
    print(table(["model", "precision", "images/s", "x VGG16", "dim", "peak MB", "other cores"],
                [[r["model"], r["precision"], f"{r['images_per_s']:.1f}",
                  f"{r['images_per_s'] / vgg[r['precision']]:.2f}" if r["precision"] in vgg
                  else "–", r["dim"], f"{r['peak_rss_mb']:.0f}",
                  f"{r.get('other_cores', float('nan')):.1f}"] for r in rows]))
    write_results("backbones", {"batch": BATCH, "batches": args.batches, "runs": args.runs,
                                "note": RANDOM_WEIGHTS_NOTE + "; the same holds for the "
                                "keras-hub backbones", "rows": rows})


if __name__ == "__main__":
    main()
