"""Dashboard jobs on a Ray cluster: features extracted on two nodes land in the local cache.

Slow (the cluster takes ~10 s to start); every Ray process is stopped at the end.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from clustering.cache import FeatureCache
from clustering.distributed.cache_fill import DATASETS, extract_on_cluster
from clustering.distributed.session import RayUnavailable
from clustering.errors import Cancelled
from clustering.files.discover import discover
from clustering.pipeline import compute_features
from clustering.settings import Settings
from dashboard.engine import node_rows
from tests.app.app_helpers import coloured_uploads, extract, new_app, no_traceback, upload
from tests.app.conftest import fresh_streamlit, jobs_run_inline  # noqa: F401 (autouse here too)
from tests.distributed.test_ray_engine import make_images
from tests.helpers import SlowExtractor

pytestmark = [pytest.mark.slow, pytest.mark.ray]
IMAGES = 24  # and one broken file


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("cache-fill-images"), IMAGES)


def test_an_unreachable_cluster_is_one_line_of_advice(images: Path, tmp_path: Path) -> None:
    """Runs before the module's cluster starts (a connected driver ignores the address)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = Settings(model="handcrafted", cache_dir=str(tmp_path / "cache"))
    with pytest.raises(RayUnavailable, match=f"cannot connect to Ray at {address}") as caught:
        extract_on_cluster(images, settings, address)
    assert "\n" not in str(caught.value) and "check that the Ray cluster is running" in str(
        caught.value)


def test_cluster_features_equal_local_ones_and_land_in_the_cache(
        ray_cluster, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ray.data import DataContext

    # Both actors up before the first shard is handed out: on a loaded machine one node
    # could otherwise finish every shard before the other's actor has started.
    monkeypatch.setattr(DataContext.get_current(), "wait_for_min_actors_s", 60)
    settings = Settings(model="handcrafted", cache_dir=str(tmp_path / "cache"))
    progress: list[tuple[int, int]] = []
    result = extract_on_cluster(images, settings, ray_cluster.address,
                                on_progress=lambda done, total: progress.append((done, total)),
                                shard_size=4)
    local = compute_features(discover(images), settings.replace(cache_dir=str(tmp_path / "l")))
    assert result.names == local.names and result.hashes == local.hashes
    np.testing.assert_allclose(result.features, local.features, rtol=1e-5, atol=1e-6)
    assert [(s.name, s.reason) for s in result.skipped] == [(s.name, s.reason)
                                                           for s in local.skipped]
    assert result.extractor == local.extractor
    engine = result.engine
    assert (result.computed, engine.extracted, engine.name) == (IMAGES, IMAGES, "ray")
    assert len(engine.images_per_node) == 2 and sum(engine.images_per_node.values()) == IMAGES
    assert set(engine.nodes) == set(engine.images_per_node)
    rows = node_rows(engine.images_per_node, engine.nodes)
    assert sum(row["images"] for row in rows) == IMAGES and rows[0]["address"] == "127.0.0.1"
    files = IMAGES + 1  # the broken file is done at once (not sent to the cluster)
    assert progress[0] == (1, files) and progress[-1] == (files, files)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)

    again = compute_features(discover(images), settings)  # the normal pipeline: all cached
    assert (again.computed, again.cached) == (0, IMAGES)
    rerun = extract_on_cluster(images, settings, ray_cluster.address, shard_size=4)
    assert (rerun.computed, rerun.engine.extracted, rerun.engine.images_per_node) == (0, 0, {})
    assert not list((tmp_path / "cache" / DATASETS).rglob("*.parquet"))  # shards cleaned up


def test_a_stopped_run_keeps_its_shards_and_a_rerun_sends_only_the_rest(
        ray_cluster, images: Path, tmp_path: Path) -> None:
    settings = Settings(cache_dir=str(tmp_path / "cache"))
    seen: list[int] = []
    with pytest.raises(Cancelled, match="stopped after"):
        extract_on_cluster(images, settings, ray_cluster.address,
                           on_progress=lambda done, total: seen.append(done),
                           should_stop=lambda: len(seen) > 1, shard_size=3,
                           factory=SlowExtractor)
    kept = len(FeatureCache(tmp_path / "cache").lookup(SlowExtractor().cache_key))
    assert 3 <= kept < IMAGES and seen[-1] >= kept
    rerun = extract_on_cluster(images, settings, ray_cluster.address, shard_size=3,
                               factory=SlowExtractor)
    assert 0 < rerun.engine.extracted <= IMAGES - kept  # nothing finished is computed again
    assert rerun.computed == rerun.engine.extracted and len(rerun.names) == IMAGES
    assert len(FeatureCache(tmp_path / "cache").lookup(SlowExtractor().cache_key)) == IMAGES


def test_the_dashboard_opens_a_cluster_extraction_without_computing(ray_cluster,
                                                                    tmp_path: Path) -> None:
    """Features extracted on the cluster; the Features page's Run and Clusters page as usual."""
    files = coloured_uploads(3)
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, data, _ in files:
        (folder / name).write_bytes(data)
    extract_on_cluster(folder, Settings(model="handcrafted"), ray_cluster.address, shard_size=3)
    at = extract(upload(new_app(), files), "handcrafted")  # the same contents, uploaded
    no_traceback(at)
    features = at.session_state["run"].features
    assert (features.computed, features.cached) == (0, len(files))
    at.session_state["k"] = 3
    at.switch_page("pages/clusters.py").run()
    no_traceback(at)
    assert [m.value for m in at.metric][:2] == ["3", str(len(files))]


def test_a_feature_job_runs_on_the_configured_cluster(
        ray_cluster, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job system's one engine choice: a configured address sends the extraction to
    the cluster; the result names the engine and the images each node extracted."""
    from clustering.images.engine import Progress
    from clustering.jobs import work
    from dashboard.engine import ran_on

    monkeypatch.setenv("CLUSTERLENS_RAY_ADDRESS", ray_cluster.address)
    settings = Settings(model="handcrafted", cache_dir=str(tmp_path / "cache"))
    reports: list[Progress] = []
    result = work.features_job(work.make_inputs(discover(images).images, settings),
                               reports.append, tmp_path)
    assert result["images"] == IMAGES and result["engine"]["name"] == "ray"
    assert result["engine"]["address"] == ray_cluster.address
    assert sum(result["engine"]["images_per_node"].values()) == IMAGES
    assert reports and reports[-1].done == reports[-1].total
    assert "Extracted on the Ray cluster at" in ran_on(result["engine"])
    again = compute_features(discover(images), settings)
    assert again.computed == 0 and again.cached == IMAGES
