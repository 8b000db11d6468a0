"""The operator's configuration: one reader for .streamlit/clusterlens.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clustering.config import CONFIG_NAME, RAY_ADDRESS_ENV, configured_ray_address
from clustering.errors import ConfigError

ROOT = Path(__file__).parents[1]


def write_config(app: Path, text: str) -> Path:
    path = app / CONFIG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_address_anywhere_is_none(tmp_path: Path) -> None:
    assert configured_ray_address(tmp_path, environ={}) is None
    write_config(tmp_path, 'roots = ["x"]\nray_address = "  "\n')
    assert configured_ray_address(tmp_path, environ={RAY_ADDRESS_ENV: ""}) is None


def test_address_from_the_file_and_the_environment_wins(tmp_path: Path) -> None:
    write_config(tmp_path, 'ray_address = "10.0.0.5:6379"\n')
    assert configured_ray_address(tmp_path, environ={}) == "10.0.0.5:6379"
    env = {RAY_ADDRESS_ENV: " 127.0.0.1:6391 "}
    assert configured_ray_address(tmp_path, environ=env) == "127.0.0.1:6391"


@pytest.mark.parametrize("text", ["ray_address = 6379", "ray_address = [unclosed",
                                  "ray_address = '''a\nb'''x"])
def test_a_broken_file_is_one_line_config_error(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    with pytest.raises(ConfigError, match="clusterlens.toml") as caught:
        configured_ray_address(tmp_path, environ={})
    assert "\n" not in str(caught.value)


def test_without_an_address_nothing_imports_ray(tmp_path: Path) -> None:
    """Reading the config and the dashboard's engine glue never import Ray."""
    code = ("import sys\nfrom clustering.config import configured_ray_address\n"
            "import clustering.distributed.cache_fill, dashboard.engine\n"
            "assert configured_ray_address() is None\n"
            "print(dashboard.engine.configured_engine())\n"
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n")
    env = {k: v for k, v in os.environ.items() if k != RAY_ADDRESS_ENV}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    assert out == ["this server", "[]"]
