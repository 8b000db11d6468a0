"""End-to-end feature extraction speed, beside its ceilings, on generated 12-MP photos.

For each precision (float32 and bfloat16 by default), in the same process, on the
same files, interleaved run by run so that machine noise hits every method alike:

* **e2e**: :func:`clustering.pipeline.compute_features`, the exact code path of
  ``python -m clustering cluster`` (discovery, read + hash + draft-decode in worker
  threads, batched inference, writes to a cold feature cache), model already built;
* **bare**: the same compiled Keras network called on pre-decoded, pre-processed
  batches of the same size (the ceiling for our own code);
* **notebook** (float32): ``keras.utils.load_img`` (full decode, resize), then
  ``model.predict`` on one image at a time, as the original notebook did;
* **ceiling**: the float32 (and bfloat16) matmul peak of this CPU measured with
  TensorFlow (best of 3 in every run, just before the network runs), divided by
  the work per image (VGG16 30.7 GFLOP, VGG19 39.0).

Every ratio is the median of per-run ratios (each run's methods measured minutes
apart), so slow drifts of the machine's speed cancel out; images/s are medians.

Then the real CLI in a subprocess (cold cache): ``python -m clustering features``
on all images and on a small subset with the same last-batch size (16 + N mod 16
images): the difference gives its marginal rate, the rest is process start-up
(interpreter, imports, model build and first calls); and ``python -m clustering
cluster`` once on all images (features + PCA + k sweep + exports), for the record.

    PYTHONPATH=. .venv/bin/python bench/extraction.py [--images 200] [--runs 3]

Results: bench/results/extraction.json. Weights are random (see RANDOM_WEIGHTS_NOTE):
speed is exactly that of the ImageNet weights.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `bench` and `clustering` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (GFLOP_PER_IMAGE, RANDOM_WEIGHTS_NOTE, ROOT, Timer, link_folder,
                           median, photo_folder, random_keras_home, table, wait_for_quiet,
                           write_results)

CLI_SMALL = 16  # images (plus N mod batch) in the subset that separates the CLI's fixed costs


def matmul_peak(dtype: str, n: int = 4096, reps: int = 5) -> dict[str, float]:
    """GFLOP/s of an n x n matmul in TensorFlow (best and median of ``reps``)."""
    import tensorflow as tf

    tf_dtype = tf.bfloat16 if dtype == "bfloat16" else tf.float32
    a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), tf_dtype)
    b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), tf_dtype)
    mm = tf.function(lambda x, y: tf.reduce_sum(tf.cast(tf.matmul(x, y)[:1, :1], tf.float32)))
    mm(a, b).numpy()  # trace + warm up
    rates = []
    for _ in range(reps):
        with Timer() as t:
            mm(a, b).numpy()
        rates.append(2 * n ** 3 / t.seconds / 1e9)
    return {"best_gflops": max(rates), "median_gflops": median(rates), "n": n}


def record(t: Timer, images: int) -> dict:
    return {"seconds": t.seconds, "cpu_seconds": t.cpu_seconds, "images": images,
            "images_per_s": images / t.seconds, "other_cores": t.other_cores,
            "stolen_cores": t.stolen_cores}


def bare_run(infer, batches, images: int) -> dict:
    """The compiled network over pre-decoded, pre-processed batches."""
    with Timer() as t:
        for batch in batches:
            infer(batch).numpy()
    return record(t, images)


def e2e_run(paths: list[Path], settings) -> dict:
    """The CLI's feature stage on a cold cache."""
    from clustering.files.discover import discover
    from clustering.pipeline import compute_features

    with Timer() as t:
        found = discover(paths)
        features = compute_features(found, settings)
    assert features.computed == len(paths), (features.computed, features.skipped[:3])
    return record(t, features.computed)


def notebook_run(model, paths: list[Path]) -> dict:
    """The notebook way: load_img (full decode + resize), predict one image at a time."""
    keras = sys.modules["keras"]
    from keras.applications.vgg16 import preprocess_input

    with Timer() as t:
        for path in paths:
            image = keras.utils.load_img(path, target_size=(224, 224))
            x = preprocess_input(keras.utils.img_to_array(image)[None])
            model.predict(x, verbose=0)
    return record(t, len(paths))


def cli_run(folder: Path, precision: str, model: str, batch_size: int,
            command: str = "features") -> float:
    """Wall seconds of ``python -m clustering COMMAND`` on ``folder`` with a cold cache."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        out = f"{tmp}/features.npz" if command == "features" else f"{tmp}/out"
        cmd = [sys.executable, "-m", "clustering", command, str(folder), "--out", out,
               "--cache-dir", f"{tmp}/cache", "--model", model,
               "--precision", precision, "--batch-size", str(batch_size)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with Timer() as t:
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    return t.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="photos (default: 200)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per method (default: 3)")
    parser.add_argument("--notebook-images", type=int, default=64,
                        help="photos for the (slow) notebook method, the first of the same "
                             "set (default: 64)")
    parser.add_argument("--model", choices=("vgg16", "vgg19"), default="vgg16")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cli-runs", type=int, default=1,
                        help="runs of the CLI subprocess per precision, 0 to skip (default: 1)")
    parser.add_argument("--quiet-wait", type=float, default=60,
                        help="before each run, wait up to this many seconds for other "
                             "processes to leave the CPU alone (default: 60)")
    args = parser.parse_args(argv)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]

    random_keras_home([args.model])
    paths = photo_folder("photos", args.images)
    sizes = [p.stat().st_size for p in paths]
    print(f"{len(paths)} photos 3000x2000, JPEG {min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB "
          f"(mean {np.mean(sizes) / 1e6:.2f} MB); {args.runs} runs; {RANDOM_WEIGHTS_NOTE}",
          flush=True)

    from clustering.features.keras_import import import_keras

    keras = import_keras()
    import tensorflow as tf

    from clustering.images.loading import load_for_model
    from clustering.settings import Settings
    from clustering.features.vgg import VGGExtractor, _build, preprocess

    # How long one image takes to read + decode (serially), with and without draft.
    with Timer() as t:
        pixels = [load_for_model(p.read_bytes(), 224) for p in paths]
    decode_draft_ms = 1000 * t.seconds / len(paths)
    with Timer() as t:
        for p in paths[:20]:
            keras.utils.load_img(p, target_size=(224, 224))
    decode_full_ms = 1000 * t.seconds / min(20, len(paths))
    print(f"decode (serial): {decode_draft_ms:.1f} ms/image with draft, "
          f"{decode_full_ms:.1f} ms/image full (keras load_img)", flush=True)


    bs = args.batch_size
    infers, batches, _settings = {}, {}, {}
    for precision in precisions:
        extractor = VGGExtractor(args.model, "pooled", precision=precision,
                                 allow_download=False).load()
        infers[precision] = _build(args.model, "pooled", extractor.weights.path, precision)
        batches[precision] = [tf.constant(preprocess(args.model, np.stack(pixels[i:i + bs])))
                              for i in range(0, len(pixels), bs)]
        for b in {batches[precision][0].shape[0]: batches[precision][0],
                  batches[precision][-1].shape[0]: batches[precision][-1]}.values():
            infers[precision](b).numpy()  # trace both batch shapes, warm up
    del pixels

    notebook_model = None
    nb_paths = paths[: min(args.notebook_images, len(paths))]
    if args.notebook_images > 0:
        keras.config.set_dtype_policy("float32")
        constructor = keras.applications.VGG16 if args.model == "vgg16" else keras.applications.VGG19
        from clustering.features.weights import resolve_weights

        notebook_model = constructor(weights=str(resolve_weights(args.model, False,
                                                                 allow_download=False).path),
                                     include_top=False, pooling="avg", input_shape=(224, 224, 3))
        notebook_run(notebook_model, nb_paths[:2])  # warm up predict()

    gflop = GFLOP_PER_IMAGE[args.model]
    runs: dict[str, list[dict]] = {}
    for run in range(args.runs):
        wait_for_quiet(args.quiet_wait)
        for dtype in ("float32", "bfloat16"):
            with Timer() as t:
                peak = matmul_peak(dtype, reps=3)
            runs.setdefault(f"ceiling/{dtype}", []).append(
                {**peak, "images_per_s": peak["best_gflops"] / gflop, "seconds": t.seconds,
                 "cpu_seconds": t.cpu_seconds, "other_cores": t.other_cores,
                 "stolen_cores": t.stolen_cores})
        for precision in precisions:
            wait_for_quiet(args.quiet_wait)
            runs.setdefault(f"bare/{precision}", []).append(
                bare_run(infers[precision], batches[precision], len(paths)))
            wait_for_quiet(args.quiet_wait)
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
                s = Settings(model=args.model, precision=precision, cache_dir=cache,
                             batch_size=bs)
                runs.setdefault(f"e2e/{precision}", []).append(e2e_run(paths, s))
        if notebook_model is not None:
            wait_for_quiet(args.quiet_wait)
            runs.setdefault("notebook/float32", []).append(notebook_run(notebook_model, nb_paths))
        print(f"run {run + 1}/{args.runs}: " + ", ".join(
            f"{k} {v[-1]['images_per_s']:.2f} img/s [others {v[-1]['other_cores']:.2f} "
            f"+ stolen {v[-1]['stolen_cores']:.2f} cores]"
            for k, v in runs.items()), flush=True)

    cli: dict[str, dict] = {}
    if args.cli_runs > 0:
        n_small = min(len(paths), CLI_SMALL + len(paths) % bs)  # same batch shapes as all
        folder = link_folder("extraction-cli", paths)
        small = link_folder("extraction-cli-small", paths[:n_small])
        for precision in precisions:
            full_s, small_s = [], []
            for _ in range(args.cli_runs):
                wait_for_quiet(args.quiet_wait)
                full_s.append(cli_run(folder, precision, args.model, bs))
                wait_for_quiet(args.quiet_wait)
                small_s.append(cli_run(small, precision, args.model, bs))
            wait_for_quiet(args.quiet_wait)
            t_cluster = cli_run(folder, precision, args.model, bs, command="cluster")
            t_full, t_small = median(full_s), median(small_s)
            marginal = (len(paths) - n_small) / max(1e-9, t_full - t_small)
            cli[precision] = {"seconds_all": full_s, "seconds_small": small_s,
                              "images": len(paths), "small_images": n_small,
                              "overall_images_per_s": len(paths) / t_full,
                              "marginal_images_per_s": marginal,
                              "fixed_seconds": t_small - n_small / marginal,
                              "cluster_command_seconds": t_cluster}
            print(f"CLI {precision}: features {t_full:.1f} s for {len(paths)} images, "
                  f"{t_small:.1f} s for {n_small}: marginal {marginal:.2f} img/s, fixed cost "
                  f"{cli[precision]['fixed_seconds']:.1f} s; whole `cluster` command "
                  f"{t_cluster:.1f} s", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(small, ignore_errors=True)

    rate = {k: median([r["images_per_s"] for r in v]) for k, v in runs.items()}
    cores = {k: median([r["cpu_seconds"] / r["seconds"] for r in v]) for k, v in runs.items()}
    others = {k: median([r["other_cores"] + r["stolen_cores"] for r in v])
              for k, v in runs.items()}

    def ratio(a: str | None, b: str | None, value: float | None = None) -> float:
        """Median over runs of a's rate / b's rate in the same run (or value / b)."""
        if b not in runs or (a is not None and a not in runs):
            return float("nan")
        tops = ([r["images_per_s"] for r in runs[a]] if a is not None
                else [value] * len(runs[b]))
        return median([x / r["images_per_s"] for x, r in zip(tops, runs[b])])

    fp32_ceiling, nb = "ceiling/float32", "notebook/float32"
    notebook = rate.get(nb, float("nan"))
    rows, summary = [], {}
    for precision in precisions:
        bare, e2e = f"bare/{precision}", f"e2e/{precision}"
        marginal = cli.get(precision, {}).get("marginal_images_per_s")
        summary[precision] = {
            "e2e_images_per_s": rate[e2e], "bare_images_per_s": rate[bare],
            "cli_marginal_images_per_s": marginal, "notebook_images_per_s": notebook,
            "float32_ceiling_images_per_s": rate[fp32_ceiling],
            "e2e_over_bare": ratio(e2e, bare), "e2e_over_notebook": ratio(e2e, nb),
            "e2e_over_float32_ceiling": ratio(e2e, fp32_ceiling),
            "bare_over_float32_ceiling": ratio(bare, fp32_ceiling),
            "cli_marginal_over_bare": ratio(None, bare, marginal) if marginal else None,
            "cores_busy_e2e": cores[e2e], "cores_busy_bare": cores[bare]}
        rows.append([precision, "e2e (CLI code path, in process)", rate[e2e], cores[e2e],
                     others[e2e], ratio(e2e, bare), ratio(e2e, nb), ratio(e2e, fp32_ceiling)])
        rows.append([precision, "CLI `features` subprocess, marginal",
                     marginal or float("nan"), float("nan"), float("nan"),
                     *(ratio(None, key, marginal) if marginal else float("nan")
                       for key in (bare, nb, fp32_ceiling))])
        rows.append([precision, "bare model, pre-decoded", rate[bare], cores[bare], others[bare],
                     1.0, ratio(bare, nb), ratio(bare, fp32_ceiling)])
    rows.append(["float32", "notebook (load_img + predict per image)", notebook,
                 cores.get(nb, float("nan")), others.get(nb, float("nan")),
                 ratio(nb, "bare/float32"), 1.0, ratio(nb, fp32_ceiling)])
    for dtype in ("float32", "bfloat16"):
        key = f"ceiling/{dtype}"
        gflops = median([r["best_gflops"] for r in runs[key]])
        rows.append([dtype, f"matmul-peak ceiling ({gflops:.0f} GFLOP/s / {gflop} GFLOP)",
                     rate[key], float("nan"), others[key], float("nan"), ratio(key, nb),
                     ratio(key, fp32_ceiling)])
    headers = ["precision", "method", "img/s", "cores used", "others' cores (noise)",
               "× bare (same prec.)", "× notebook", "× fp32 ceiling"]
    print()
    print(f"Extraction, {args.model.upper()} pooled, {len(paths)} photos 3000x2000 "
          f"(notebook: first {len(nb_paths)}), batch {bs}; medians of {args.runs} runs, "
          f"ratios paired run by run")
    print(table(headers, rows))
    path = write_results("extraction", {
        "settings": vars(args), "note": RANDOM_WEIGHTS_NOTE,
        "photos": {"count": len(paths), "size": "3000x2000", "mean_mb": np.mean(sizes) / 1e6},
        "decode_ms": {"draft": decode_draft_ms, "full_load_img": decode_full_ms},
        "gflop_per_image": gflop, "runs": runs, "cli": cli,
        "images_per_s": rate, "cores_busy": cores, "other_cores": others,
        "summary": summary,
        "table": {"headers": headers, "rows": rows}})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
