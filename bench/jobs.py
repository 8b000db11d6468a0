"""What running long work as a background job costs.

1. Time to result: feature extraction of the same photos (offline extractor, cold cache)
   called in this process vs submitted as a job (a real worker process started by the
   supervisor; submit until the table says done, polled every 0.1 s). Runs alternate,
   each with a fresh cache; medians. Target: the job path at most 5 % slower.
2. A page of another session opened while two extraction jobs run (CLUSTERLENS_MAX_JOBS=2,
   a real dashboard server, headless Chromium): seconds until the Data page's script run
   has ended, median of 5 new sessions. Target: at most 2 s.

    PYTHONPATH=. nice -n 5 .venv/bin/python -m bench.jobs --images 2000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._common import load_average, median, table, write_results
from bench.dashboard_scale import library, ready
from clustering.files.discover import discover
from clustering.jobs import work
from clustering.jobs.store import ACTIVE, DONE, JobStore
from clustering.jobs.supervisor import Supervisor
from clustering.settings import MAX_JOBS_ENV, Settings

JOB_TARGET, PAGE_TARGET_S = 1.05, 2.0
POLL_S = 0.1


def in_process(images, cache: Path) -> float:
    start = time.perf_counter()
    work.run_features(images, Settings(model="handcrafted", cache_dir=str(cache)))
    return time.perf_counter() - start


def submit(store: JobStore, images, cache: Path, owner: str = "bench"):
    inputs = work.make_inputs(images, Settings(model="handcrafted", cache_dir=str(cache)))
    return store.submit(work.FEATURES, work.job_key(work.FEATURES, inputs), owner, inputs)


def through_a_job(images, home: Path) -> float:
    store = JobStore(home / "jobs.sqlite3")
    start = time.perf_counter()
    job = submit(store, images, home / "cache")
    Supervisor(store, max_running=1).kick()
    while (now := store.get(job.id)).state in ACTIVE:
        time.sleep(POLL_S)
    if now.state != DONE:
        raise RuntimeError(f"the job ended {now.state}: {now.error}")
    return time.perf_counter() - start


def time_to_result(images, runs: int) -> dict:
    seconds: dict[str, list[float]] = {"in-process": [], "job": []}
    for run in range(runs):
        for way in seconds:
            with tempfile.TemporaryDirectory(prefix="clusterlens-bench-jobs-",
                                             ignore_cleanup_errors=True) as home:
                took = (in_process(images, Path(home) / "cache") if way == "in-process"
                        else through_a_job(images, Path(home)))
            seconds[way].append(took)
            print(f"  run {run + 1}, {way}: {took:.2f} s", file=sys.stderr, flush=True)
    return {way: {"runs_s": values, "median_s": median(values)}
            for way, values in seconds.items()}


def page_loads(browser, url: str, loads: int, store: JobStore) -> tuple[list[float], list[int]]:
    """Seconds for each of ``loads`` new sessions to open the Data page, and how many jobs
    ran meanwhile."""
    from playwright.sync_api import expect

    times, running = [], []
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 2000})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url)
        expect(page.get_by_role("heading", name="Data")).to_be_visible(timeout=120_000)
        times.append(ready(page, start))
        running.append(store.count("running"))
        print(f"  page load {times[-1]:.2f} s with {running[-1]} jobs running",
              file=sys.stderr, flush=True)
        context.close()
    return times, running


def page_load_while_jobs_run(folder: Path, images, loads: int) -> dict:
    """``loads`` new sessions open the Data page with no job running, then while two jobs
    (on the two halves of ``images``) run."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, dashboard_server

    half = len(images) // 2
    with tempfile.TemporaryDirectory(prefix="clusterlens-bench-jobs-",
                                     ignore_cleanup_errors=True) as home:
        with dashboard_server(Path(home), folder, env={MAX_JOBS_ENV: "2"}) as url:
            store = JobStore(Path(home) / "cache" / "jobs.sqlite3")
            play = sync_playwright().start()
            browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                warm_up = browser.new_page()  # the server's first page run is not counted
                warm_up.goto(url)
                ready(warm_up, time.perf_counter())
                warm_up.close()
                idle, _ = page_loads(browser, url, loads, store)
                for part in (images[:half], images[half:]):
                    submit(store, part, Path(home) / "cache")
                os.environ[MAX_JOBS_ENV] = "2"  # the workers read it when they claim a job
                Supervisor(store, max_running=2).kick()
                deadline = time.monotonic() + 120
                while store.count("running") < 2 and time.monotonic() < deadline:
                    time.sleep(POLL_S)
                times, running = page_loads(browser, url, loads, store)
            finally:
                browser.close()
                play.stop()
                for job in store.jobs():
                    store.cancel(job.id, "bench")
    return {"idle_loads_s": idle, "idle_median_s": median(idle),
            "loads_s": times, "median_s": median(times), "jobs_running_at_each": running}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    folder = library(args.images)
    images = discover(folder).images
    results = {"images": len(images), "load_average_before": load_average()}
    if args.runs:
        results["time_to_result"] = time_to_result(images, args.runs)
    results["page_load"] = page_load_while_jobs_run(folder, images, args.loads)
    results["load_average_after"] = load_average()
    page = results["page_load"]
    rows = []
    if args.runs:
        ttr = results["time_to_result"]
        ratio = ttr["job"]["median_s"] / ttr["in-process"]["median_s"]
        results["job_over_in_process"] = ratio
        rows += [(f"extraction in-process, {len(images):,} images (median of {args.runs})",
                  f"{ttr['in-process']['median_s']:.2f} s", ""),
                 (f"the same through a job (median of {args.runs})",
                  f"{ttr['job']['median_s']:.2f} s", ""),
                 ("job / in-process", f"{ratio:.3f}", f"<= {JOB_TARGET:.2f}")]
    rows += [(f"another session's page, no job running (median of {args.loads})",
              f"{page['idle_median_s']:.2f} s", ""),
             (f"another session's page, two jobs running (median of {args.loads})",
              f"{page['median_s']:.2f} s", f"<= {PAGE_TARGET_S:.1f} s")]
    write_results("jobs", results)
    print(table(["measure", "value", "target"], rows))


if __name__ == "__main__":
    main()
