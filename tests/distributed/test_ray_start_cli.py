"""The issue's done-when command against a head and a worker started with ``ray start``.

Both nodes are started as an operator would (``ray start`` through
``clustering.distributed.loopback`` so that they stay on 127.0.0.1), in their own
temporary folder; only the processes naming that folder are stopped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.distributed.test_ray_engine import make_images

ROOT = Path(__file__).parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.ray]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)


def _processes_naming(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (read from /proc; Linux)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def _stop(temp_dir: str) -> None:
    """End this cluster's processes (those naming ``temp_dir``); Ray's workers follow
    their raylet. ``ray stop`` would end every Ray process of the machine."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _processes_naming(temp_dir):
            try:
                os.kill(pid, sig)
            except OSError:
                continue
        deadline = time.monotonic() + 15
        while _processes_naming(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture
def started_cluster() -> Iterator[str]:
    """A head and one worker (one CPU each) on 127.0.0.1; yields the head's address."""
    temp_dir = tempfile.mkdtemp(prefix="clray-")  # short: Ray's socket paths must fit 107 bytes
    address = f"127.0.0.1:{_free_port()}"
    start = ["-m", "clustering.distributed.loopback", "start", "--node-ip-address", "127.0.0.1",
             "--num-cpus", "1", "--disable-usage-stats"]
    try:
        head = _run(*start, "--head", "--port", address.split(":")[1], "--temp-dir", temp_dir,
                    "--include-dashboard=false")
        assert head.returncode == 0, head.stderr[-2000:]
        worker = _run(*start, "--address", address)
        assert worker.returncode == 0, worker.stderr[-2000:]
        yield address
    finally:
        _stop(temp_dir)


def test_cluster_on_a_ray_start_cluster_equals_a_local_run(started_cluster: str,
                                                           tmp_path: Path) -> None:
    images = make_images(tmp_path / "in", 30)
    common = ["--model", "handcrafted", "--k", "3"]
    local = _run("-m", "clustering", "cluster", str(images), "--out", str(tmp_path / "local"),
                 *common)
    assert local.returncode == 0, local.stderr[-2000:]
    remote = _run("-m", "clustering", "cluster", str(images), "--out", str(tmp_path / "ray"),
                  *common, "--engine", "ray", "--ray-address", started_cluster,
                  "--shard-size", "5", timeout=180)
    assert remote.returncode == 0, remote.stderr[-2000:]
    engine = json.loads((tmp_path / "ray" / "run.json").read_text())["engine"]
    assert [n["address"] for n in engine["nodes"]] == ["127.0.0.1", "127.0.0.1"]
    per_node = engine["images_per_node"]
    assert len(per_node) == 2 and all(v > 0 for v in per_node.values())
    assert sum(per_node.values()) == 30
    ours = pd.read_csv(tmp_path / "ray" / "labels.csv")
    theirs = pd.read_csv(tmp_path / "local" / "labels.csv")
    assert ours["file"].tolist() == theirs["file"].tolist()
    assert ours["cluster"].tolist() == theirs["cluster"].tolist()
    assert sorted(p.name for p in (tmp_path / "ray" / "features").glob("*.parquet"))[0] \
        == "shard-00000.parquet"


def test_nothing_listening_is_a_message_at_once(tmp_path: Path) -> None:
    out = _run("-m", "clustering", "cluster", str(tmp_path), "--out", str(tmp_path / "o"),
               "--engine", "ray", "--ray-address", f"127.0.0.1:{_free_port()}", timeout=60)
    assert out.returncode != 0
    assert "cannot connect to Ray at 127.0.0.1:" in out.stderr
    assert "Traceback" not in out.stderr
