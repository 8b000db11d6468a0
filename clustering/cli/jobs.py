"""``jobs``: the background jobs the dashboard runs (list them; run a worker)."""

from __future__ import annotations

import argparse
import time

from clustering.jobs import worker
from clustering.jobs.store import JobStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs", help="list the dashboard's background jobs, or run a worker",
        description="The dashboard runs long work (features, the duplicate and quality scan, "
                    "maps) as background jobs, kept in jobs.sqlite3 in the cache folder.")
    commands = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    listing = commands.add_parser("list", help="a table of the newest jobs")
    listing.add_argument("--db", metavar="FILE", help="the job table (default: "
                                                      "jobs.sqlite3 in the cache folder)")
    listing.add_argument("--limit", type=int, default=50, help="jobs shown (default: 50)")
    listing.set_defaults(func=list_command)
    run = commands.add_parser("run-worker", help="run queued jobs until none is left "
                                                 "(the dashboard starts these itself)")
    run.add_argument("--db", metavar="FILE", help="the job table")
    run.set_defaults(func=lambda args: worker.main(args.db))


def _age(when: float | None) -> str:
    return "-" if when is None else f"{time.time() - when:,.0f} s ago"


def list_command(args: argparse.Namespace) -> int:
    jobs = JobStore(args.db).jobs(limit=args.limit)
    print(f"{'id':>5}  {'kind':<9} {'state':<10} {'progress':>17} {'rate/s':>7}  "
          f"{'started':>14}  error")
    for job in jobs:
        progress = f"{job.done:,}/{job.total:,}" if job.total else "-"
        print(f"{job.id:>5}  {job.kind:<9} {job.state:<10} {progress:>17} {job.rate:>7.1f}  "
              f"{_age(job.started):>14}  {job.error or ''}")
    if not jobs:
        print("no jobs")
    return 0
