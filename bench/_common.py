"""Shared helpers for the benchmarks: generated photos, random weights, tables, JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"  # gitignored: generated photos, random weights
RESULTS = BENCH / "results"  # gitignored: one JSON per benchmark

# Work per image of the convolutional part at 224x224 (multiply-add = 2 FLOP),
# the figures the issue uses.
GFLOP_PER_IMAGE = {"vgg16": 30.7, "vgg19": 39.0}

RANDOM_WEIGHTS_NOTE = ("random-weight VGG (ImageNet weights cannot be downloaded here): "
                       "speed is the real one; features carry no ImageNet knowledge")


# ---- generated photographs ---------------------------------------------------------

PHOTO_VERSION = 1  # bump when make_photo changes, so cached folders are rebuilt


def make_photo(seed: int, size: tuple[int, int] = (3000, 2000)):
    """A photo-like RGB image: smooth gradient, cloudy colour fields, hard-edged shapes,
    mid-frequency texture and sensor-like grain (JPEG q90 of 3000x2000 is 1-3 MB)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    lw, lh = max(8, w // 8), max(8, h // 8)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xx / lw + np.sin(angle) * yy / lh
    t = (t - t.min()) / (np.ptp(t) + 1e-6)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    base = c0 + (c1 - c0) * t[..., None]
    for cells, amp in (((3, 4), 60), ((8, 12), 35), ((30, 45), 20)):
        grid = (rng.random((*cells, 3)) * 255).astype(np.uint8)
        smooth = Image.fromarray(grid).resize((lw, lh), Image.Resampling.BICUBIC)
        base += (np.asarray(smooth, dtype=np.float32) / 255 - 0.5) * amp
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    image = image.resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 25))):
        x0, y0 = rng.uniform(-0.1 * w, w), rng.uniform(-0.1 * h, h)
        s = rng.uniform(0.03, 0.35) * w
        colour = tuple(int(v) for v in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x0 + s, y0 + s * rng.uniform(0.4, 1.6)], fill=colour)
        else:
            points = [(x0 + rng.uniform(0, s), y0 + rng.uniform(0, s))
                      for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(points, fill=colour)
    pixels = np.asarray(image, dtype=np.int16)
    texture_amp, grain = int(rng.integers(40, 85)), int(rng.integers(8, 19))
    texture = Image.fromarray(rng.integers(0, 256, (max(1, h // 2), max(1, w // 2)),
                                           dtype=np.uint8))
    texture = np.asarray(texture.resize((w, h), Image.Resampling.BILINEAR), dtype=np.int16)
    pixels = pixels + ((texture - 128) * texture_amp // 256)[..., None]
    pixels = pixels + (rng.integers(0, grain + 1, (h, w, 1), dtype=np.int16) - grain // 2)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def photo_folder(name: str, count: int, size: tuple[int, int] = (3000, 2000),
                 quality: int = 90, first_seed: int = 0, verbose: bool = True) -> list[Path]:
    """``count`` generated JPEG photos in ``bench/data/<name>/`` (made once, then reused).

    Returns the paths in order; photo ``i`` always has the same content.
    """
    folder = DATA / name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"v{PHOTO_VERSION}-{size[0]}x{size[1]}-q{quality}"
    paths = [folder / f"photo_{first_seed + i:05d}_{stamp}.jpg" for i in range(count)]
    missing = [p for p in paths if not p.exists()]
    if missing and verbose:
        print(f"generating {len(missing)} {size[0]}x{size[1]} JPEG photo(s) in {folder} "
              f"(once; reused later)", file=sys.stderr, flush=True)
    todo = [(first_seed + i, size, quality, path) for i, path in enumerate(paths)
            if not path.exists()]
    if len(todo) > 4 and (os.cpu_count() or 1) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=os.cpu_count(),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(_save_photo, todo, chunksize=4))
    else:
        for job in todo:
            _save_photo(job)
    return paths


def _save_photo(job: tuple[int, tuple[int, int], int, Path]) -> None:
    seed, size, quality, path = job
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    make_photo(seed, size).save(tmp, "JPEG", quality=quality)
    os.replace(tmp, path)


def link_folder(name: str, files: Sequence[Path]) -> Path:
    """A fresh folder ``bench/data/<name>/`` holding hard links (or copies) of ``files``."""
    import shutil

    folder = DATA / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in files:
        try:
            os.link(f, folder / f.name)
        except OSError:
            shutil.copy2(f, folder / f.name)
    return folder


# ---- random-weight VGG files --------------------------------------------------------

def random_keras_home(models: Iterable[str] = ("vgg16",), include_top: bool = False,
                      seed: int = 0, set_env: bool = True) -> Path:
    """A KERAS_HOME under bench/data whose models/ holds random-weight VGG files
    (made once per seed, then reused). Sets ``$KERAS_HOME`` unless ``set_env`` is false."""
    home = DATA / ("keras_home" if seed == 0 else f"keras_home-seed{seed}")
    folder = home / "models"
    from clustering.features.weights import SPECS

    for model in models:
        if not (folder / SPECS[(model, include_top)].filename).exists():
            from clustering.features.keras_import import import_keras
            from clustering.testing import write_random_weights

            import_keras()
            write_random_weights(model, include_top, folder, seed=seed)
    if set_env:
        os.environ["KERAS_HOME"] = str(home)
    return home


def random_weights_file(model: str, include_top: bool = False, seed: int = 0) -> Path:
    """The random-weight file for ``model`` and ``seed`` (made once, then reused)."""
    from clustering.features.weights import SPECS

    home = random_keras_home([model], include_top, seed=seed, set_env=False)
    return home / "models" / SPECS[(model, include_top)].filename


# ---- measuring and reporting ----------------------------------------------------------

def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory and library versions, for the record."""
    info: dict[str, Any] = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "python": platform.python_version(), "cores": os.cpu_count(),
                            "platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                      if line.startswith("model name")), "")
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                      if line.startswith("flags")), [])
        info["cpu"] = model
        info["cpu_flags"] = sorted(f for f in flags if f.startswith(("avx512_bf16", "amx",
                                                                     "avx512f", "avx2")))
    except OSError:  # pragma: no cover
        pass
    try:
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gb"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, ValueError):  # pragma: no cover
        pass
    versions = {}
    for name in ("numpy", "tensorflow", "keras", "sklearn", "PIL", "faiss"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    info["versions"] = versions
    info["load_average_at_end"] = load_average()
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OMP_", "OPENBLAS", "TF_", "MKL_", "KMP_"))}
    if env:
        info["env"] = env
    return info


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # pragma: no cover
        return ""


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (with machine info) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    script = Path(sys.argv[0]).resolve()
    script_name = str(script.relative_to(ROOT)) if script.is_relative_to(ROOT) else sys.argv[0]
    payload = {"benchmark": name,
               "command": " ".join(["PYTHONPATH=. .venv/bin/python", script_name, *sys.argv[1:]]),
               "commit": git_commit(), "machine": machine_info(), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (prints well in a terminal and pastes into RESULTS.md)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda parts: "| " + " | ".join(p.ljust(w) for p, w in zip(parts, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "–"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def _busy_jiffies() -> tuple[int, int]:
    """(busy, stolen) CPU time of the whole machine so far, in clock ticks: busy is
    user + system + irq of every process; stolen is time the hypervisor gave to
    other virtual machines while ours wanted the CPU."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6]
    return busy, values[7] if len(values) > 7 else 0


def _own_cpu() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``, ``t.cpu_seconds`` (this process and
    its finished children), ``t.other_cores``: how many cores *other* processes
    kept busy meanwhile, and ``t.stolen_cores``: how many the hypervisor took away
    (machine noise; both 0 on a quiet machine)."""

    def __enter__(self) -> "Timer":
        self._cpu = _own_cpu()
        try:
            self._busy = _busy_jiffies()
        except OSError:  # pragma: no cover - not Linux
            self._busy = None
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = _own_cpu() - self._cpu
        self.other_cores = self.stolen_cores = float("nan")
        if self._busy is not None:
            busy, stolen = _busy_jiffies()
            ticks = os.sysconf("SC_CLK_TCK")
            machine = (busy - self._busy[0]) / ticks
            self.other_cores = max(0.0, machine - self.cpu_seconds) / max(self.seconds, 1e-9)
            self.stolen_cores = (stolen - self._busy[1]) / ticks / max(self.seconds, 1e-9)


def other_cores(seconds: float = 1.0) -> float:
    """Cores taken by other processes or other virtual machines over the next
    ``seconds`` (we sleep meanwhile)."""
    with Timer() as t:
        time.sleep(seconds)
    return t.other_cores + t.stolen_cores


def wait_for_quiet(max_wait: float, threshold: float = 0.25, verbose: bool = True) -> float:
    """Wait (up to ``max_wait`` s) until other processes (and VMs) use < ``threshold``
    cores for 2 s in a row; return the last reading. Benchmarks call this before each run."""
    deadline = time.monotonic() + max_wait
    reading = other_cores(1.0)
    announced = False
    while time.monotonic() < deadline:
        if reading < threshold:
            second = other_cores(1.0)
            if second < threshold:
                return second
            reading = second
            continue
        if verbose and not announced:
            print(f"  (machine busy: other processes use {reading:.1f} cores; waiting up to "
                  f"{max_wait:.0f} s)", file=sys.stderr, flush=True)
            announced = True
        reading = other_cores(2.0)
    return reading
