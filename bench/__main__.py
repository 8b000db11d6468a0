"""Run the benchmark suite in order and print a summary of every target.

    PYTHONPATH=. .venv/bin/python -m bench              # the four of issue #5 (~20 min)
    PYTHONPATH=. .venv/bin/python -m bench --quick      # fewer images and runs (~6 min)
    PYTHONPATH=. .venv/bin/python -m bench --only cache,precision
    PYTHONPATH=. .venv/bin/python -m bench --only duplicate_shots,duplicates,duplicates_scale
    PYTHONPATH=. .venv/bin/python -m bench --all        # also every other bench/*.py
    PYTHONPATH=. .venv/bin/python -m bench --summary    # only re-print the summary
    PYTHONPATH=. .venv/bin/python -m bench --record     # write bench/RESULTS.md from results/

Each benchmark runs in its own process (so one's memory and threads never affect
the next), prints its own table and writes bench/results/<name>.json; the summary
is read back from those files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench._common import RESULTS, ROOT, machine_info, table

BENCH = Path(__file__).resolve().parent
# Order matters: precision reads the speed measured by extraction.
SUITE = ["extraction", "precision", "cache", "clustering_scale"]
QUICK = {"extraction": ["--images", "64", "--runs", "2", "--notebook-images", "16"],
         "cache": ["--images", "300", "--runs", "2"],
         "clustering_scale": ["--sizes", "1000,10000", "--runs", "2"],
         "precision": ["--seeds", "0"]}


def others() -> list[str]:
    """Other benchmark scripts in bench/ (written for other issues)."""
    mine = set(SUITE) | {"__init__", "__main__"}
    return sorted(p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_")
                  and p.stem not in mine)


def run(name: str, extra: list[str]) -> tuple[int, float]:
    cmd = [sys.executable, "-m", f"bench.{name}", *extra]
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    return code, time.perf_counter() - start


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "MISSED")


def targets() -> list[list]:
    """One row per target of issue #5: what, measured, target, verdict, source."""
    rows: list[list] = []
    ex = load("extraction")
    if ex:
        for precision, s in ex["summary"].items():
            rows.append([f"e2e / bare model ({precision})", f"{s['e2e_over_bare']:.2f}x",
                         ">= 0.85x", _verdict(s["e2e_over_bare"] >= 0.85), "extraction"])
            rows.append([f"e2e / notebook ({precision} e2e vs float32 notebook)",
                         f"{s['e2e_over_notebook']:.2f}x", ">= 2x",
                         _verdict(s["e2e_over_notebook"] >= 2), "extraction"])
        bf = ex["summary"].get("bfloat16")
        if bf:
            rows.append(["bf16 network (bare) / float32 ceiling",
                         f"{bf['bare_over_float32_ceiling']:.2f}x", ">= 1.8x",
                         _verdict(bf["bare_over_float32_ceiling"] >= 1.8), "extraction"])
            rows.append(["bf16 end to end / float32 ceiling",
                         f"{bf['e2e_over_float32_ceiling']:.2f}x", "(>= 1.8x)",
                         _verdict(bf["e2e_over_float32_ceiling"] >= 1.8), "extraction"])
    pr = load("precision")
    if pr:
        worst = min(pr["results"], key=lambda r: r["min_centred_cos"])
        same = max(v["changed_same_centroids"] for r in pr["results"] for v in r["per_k"].values())
        rerun = max(v["changed_bf16"] for r in pr["results"] for v in r["per_k"].values())
        rows.append(["bf16 vs fp32 features, real photos (random weights!)",
                     f"centred cos mean >= {min(r['mean_centred_cos'] for r in pr['results']):.4f}, "
                     f"min {worst['min_centred_cos']:.4f}; cluster changes {same:.1%} "
                     f"(same centroids), <= {rerun:.1%} (independent rerun)",
                     "cos >= 0.995 mean, >= 0.98 min; <= 2% changes (same centroids)",
                     _verdict(pr["accuracy_passes"]), "precision"])
    ca = load("cache")
    if ca:
        fs = ca["feature_stage"]
        rows.append([f"warm / cold, feature stage, {ca['images']} photos",
                     f"{fs['speedup']:.0f}x ({fs['cold_s']:.0f} s -> {fs['warm_median_s']:.2f} s)",
                     ">= 50x", _verdict(fs["speedup"] >= 50), "cache"])
        if "cli" in ca:
            c = ca["cli"]
            rows.append([f"warm / cold, whole CLI run, {ca['images']} photos",
                         f"{c['speedup']:.0f}x ({c['cold_s']:.0f} s -> {c['warm_median_s']:.2f} s)",
                         "(>= 50x)", _verdict(c["speedup"] >= 50), "cache"])
    cs = load("clustering_scale")
    if cs:
        for what, measured, target, verdict in cs["checks"]:
            value = f"{measured:,.2f}" if isinstance(measured, float) else str(measured)
            rows.append([what, value, target, verdict, "clustering_scale"])
    for name in ("duplicate_shots", "duplicates_scale"):  # issue 9
        data = load(name)
        for what, measured, goal, verdict in (data or {}).get("checks", []):
            rows.append([what, f"{measured:,.3f}" if isinstance(measured, float) else measured,
                         goal, verdict, name])
    return rows


def print_summary() -> None:
    rows = targets()
    if not rows:
        print("no results yet in bench/results/")
        return
    print("\n=== Summary: targets of issue #5")
    print(table(["target", "measured", "goal", "", "benchmark"], rows))


def record(path: Path = BENCH / "RESULTS.md") -> Path:
    """Write RESULTS.md: machine, commands and every benchmark's table, from results/."""
    parts = ["# Benchmark results", "",
             "Written by `python -m bench --record` from `bench/results/*.json`; "
             "see `bench/README.md` for what each benchmark measures.", ""]
    first = next((d for d in map(load, SUITE) if d), None)
    info = (first or {}).get("machine") or machine_info()
    parts += ["## Machine", "",
              f"- date: {info.get('date')}",
              f"- CPU: {info.get('cpu')} ({info.get('cores')} cores; "
              f"{', '.join(info.get('cpu_flags', []))}), {info.get('memory_gb')} GB RAM",
              f"- {info.get('platform')}, Python {info.get('python')}",
              f"- versions: {', '.join(f'{k} {v}' for k, v in info.get('versions', {}).items())}",
              "- shared machine: other processes' CPU use is measured during every timed run "
              "(`other procs' cores`); benchmarks wait for a quiet CPU before each run", ""]
    parts += ["## Targets", "", table(["target", "measured", "goal", "", "benchmark"],
                                      targets()), ""]
    parts += ["## Reading these numbers", "",
              "- VGG weights are random-weight files (ImageNet weights cannot be downloaded "
              "on this machine): speeds are those of the real network; the bfloat16 accuracy "
              "check is only indicative until rerun with the real weights "
              "(`bench/precision.py --weights FILE`).",
              "- The bfloat16 speed target compares the network (bare model) with the float32 "
              "network ceiling; end-to-end figures include JPEG decoding (~20 ms of CPU per "
              "12-MP photo even with draft decoding) that no network precision removes.",
              "- e2e vs bare: on 2 cores the network already keeps both cores busy, so every "
              "millisecond of decoding is taken from it; the bound is "
              "t_net / (t_net + t_decode) per image.",
              "- `others' cores` is CPU other processes and VMs took during the timed runs "
              "(0 on a quiet machine); compare ratios measured side by side, not absolute "
              "numbers across runs.", ""]
    for name in SUITE:
        data = load(name)
        if not data:
            continue
        parts += [f"## {name}", "", f"Command: `{data.get('command')}` "
                  f"(commit {data.get('commit')}, {data.get('machine', {}).get('date')})", ""]
        if data.get("note"):
            parts += [f"Note: {data['note']}.", ""]
        t = data.get("table")
        if t:
            parts += [table(t["headers"], t["rows"]), ""]
        if name == "clustering_scale" and data.get("checks"):
            parts += [table(["target", "measured", "goal", ""], data["checks"]), ""]
    path.write_text("\n".join(parts))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(SUITE + others())}")
    parser.add_argument("--all", action="store_true", help="also run the other bench/*.py scripts")
    parser.add_argument("--quick", action="store_true", help="fewer images and runs")
    parser.add_argument("--summary", action="store_true", help="only print the summary")
    parser.add_argument("--record", action="store_true",
                        help="write bench/RESULTS.md from bench/results/ (no runs)")
    args = parser.parse_args(argv)
    if args.record:
        print(f"wrote {record()}")
        return 0
    if args.summary:
        print_summary()
        return 0
    names = (args.only.split(",") if args.only else SUITE + (others() if args.all else []))
    failed, took = [], {}
    for name in names:
        extra = QUICK.get(name, []) if args.quick else []
        code, seconds = run(name.strip(), extra)
        took[name] = seconds
        if code != 0:
            failed.append(name)
    print_summary()
    print("\n" + table(["benchmark", "minutes", "exit"],
                       [[n, took[n] / 60, "failed" if n in failed else "ok"] for n in names]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
