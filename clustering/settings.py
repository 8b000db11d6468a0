"""Every choice that shapes a run, and its default: the one place defaults live.

The library's functions, the command line's options (``clustering/cli``) and the
dashboard's widgets (``dashboard/``) all read their defaults from :class:`Settings`,
so a run started from any of them extracts, reduces and clusters the same way and
shares the same cache entries.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, fields
from typing import Any

MODELS = ("vgg16", "vgg19", "handcrafted")
LAYERS = ("pooled", "fc1", "fc2")
PRECISIONS = ("float32", "bfloat16")
MAP_METHODS = ("pca", "umap", "tsne")
# The image map draws every point in view as its thumbnail up to this many, else a
# spread sample of this many (one per region of the view). bench/image_map.py: at
# 100,000 points a zoom showing 300 thumbnails is drawn in well under a second.
MAP_THUMBS_IN_VIEW = 300

# CPU features with native bfloat16 arithmetic: oneDNN runs VGG about twice as fast
# in bfloat16 as in float32 there; elsewhere bfloat16 is emulated (no faster, often
# slower), so the default stays float32.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = "/proc/cpuinfo"


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX; Linux only)."""
    try:
        with open(CPUINFO) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in BF16_CPU_FLAGS)
    except OSError:
        pass
    return False


def default_precision() -> str:
    """``bfloat16`` where the CPU has it natively, else ``float32``.

    bfloat16 features stay within ~0.1 % of float32's (bench/precision.py: mean
    cosine 0.9995 after centring, no cluster changes beyond k-means' own noise);
    ``precision="float32"`` (``--precision float32``) turns it off.
    """
    return "bfloat16" if native_bfloat16() else "float32"


@dataclass
class Settings:
    """Every choice that shapes a run (recorded in ``run.json``), with its default."""

    model: str = "vgg16"
    layer: str = "pooled"
    weights: str | None = None
    precision: str = field(default_factory=default_precision)  # bfloat16 on bf16 CPUs
    pca: int | float | None = 0.95
    whiten: bool = False
    normalize: bool = True
    k: int | None = None  # None: choose automatically from the sweep
    k_min: int = 2
    k_max: int = 20
    seed: int = 0
    map: str = "pca"  # the 2-D map of the PCA-reduced features: pca, umap or tsne
    n_init: int = 4
    recursive: bool = True
    cache_dir: str | None = None  # None: $CLUSTERLENS_CACHE or the user's cache folder
    batch_size: int = 16
    workers: int = 2  # decoding threads
    duplicate_sensitivity: float = 0.5  # 0 strict .. 1 loose

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (unknown names raise ``TypeError``)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


# What the dashboard offers when PCA keeps a number of components (the default keeps a
# fraction of the variance, Settings.pca); the most clusters it offers.
PCA_COMPONENTS_OFFERED = 50
K_MAX_OFFERED = 50
# The dashboard's thumbnails on disk (cache folder): at most this many MB, least
# recently used dropped first (about 10 KB each: 50,000 thumbnails).
THUMBNAIL_CACHE_MB = 512

# Background jobs (clustering/jobs): how many run at once on one server. Measured on 2
# cores: three VGG16 extractions at once gave the same total images/s as one (about 9):
# the network already fills every core, so more at once only makes each one slower.
# One job per 4 cores (at least one) leaves room for the server and decoding threads.
MAX_JOBS_ENV = "CLUSTERLENS_MAX_JOBS"
CORES_PER_JOB = 4


def max_jobs() -> int:
    """Jobs allowed to run at once: ``$CLUSTERLENS_MAX_JOBS``, else one per 4 cores (>= 1)."""
    text = os.environ.get(MAX_JOBS_ENV, "").strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return max(1, (os.cpu_count() or 1) // CORES_PER_JOB)
