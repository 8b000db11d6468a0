"""Server-path confinement: only folders inside configured roots are accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clustering.config import CONFIG_NAME
from clustering.errors import ConfigError
from dashboard.roots import ROOTS_ENV, PathRefused, configured_roots, resolve_inside


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    """An app folder with a demo folder, an allowed root and a private folder."""
    app = tmp_path / "app"
    demo = app / "demo" / "images"
    allowed = tmp_path / "allowed"
    private = tmp_path / "private"
    for folder in (demo, allowed / "photos" / "2024", private):
        folder.mkdir(parents=True)
    (allowed / "photos.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (allowed / "notes.txt").write_text("x")
    return {"app": app, "demo": demo, "allowed": allowed, "private": private}


def roots_for(layout: dict[str, Path], env: dict[str, str] | None = None) -> list[Path]:
    return configured_roots(layout["app"], layout["demo"], environ=env or {})


def test_default_is_only_the_demo_folder(layout):
    assert roots_for(layout) == [layout["demo"].resolve()]


def test_environment_adds_roots_and_drops_missing_ones(layout):
    env = {ROOTS_ENV: os.pathsep.join([str(layout["allowed"]), "/no/such/folder", ""])}
    assert roots_for(layout, env) == [layout["demo"].resolve(), layout["allowed"].resolve()]


def test_config_file_adds_roots_relative_to_the_app(layout):
    config = layout["app"] / CONFIG_NAME
    config.parent.mkdir()
    config.write_text(f'roots = ["../allowed", "{layout["private"]}"]\n')
    assert roots_for(layout) == [layout["demo"].resolve(), layout["allowed"].resolve(),
                                 layout["private"].resolve()]


@pytest.mark.parametrize("text", ['roots = "not a list"', "roots = [1, 2]", "roots = [unclosed"])
def test_a_broken_config_file_is_reported(layout, text):
    config = layout["app"] / CONFIG_NAME
    config.parent.mkdir()
    config.write_text(text)
    with pytest.raises(ConfigError, match="clusterlens.toml"):
        roots_for(layout)


def test_folders_and_zips_inside_a_root_are_accepted(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    photos = layout["allowed"] / "photos"
    assert resolve_inside(str(photos), roots) == photos.resolve()
    assert resolve_inside(f"  {photos}/2024/ ", roots) == (photos / "2024").resolve()
    assert resolve_inside(str(layout["allowed"] / "photos.zip"), roots).name == "photos.zip"
    assert resolve_inside("photos/2024", roots) == (photos / "2024").resolve()  # relative


def test_parent_references_are_refused_even_when_they_land_inside(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    with pytest.raises(PathRefused, match=r"'\.\.' is not allowed"):
        resolve_inside(str(layout["allowed"] / "photos" / ".." / "photos"), roots)
    with pytest.raises(PathRefused, match=r"'\.\.' is not allowed"):
        resolve_inside("../private", roots)


def test_absolute_paths_elsewhere_are_refused(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    for text in (str(layout["private"]), "/etc", "/", "/no/such/place"):
        with pytest.raises(PathRefused, match="outside the folders this server allows"):
            resolve_inside(text, roots)


def test_a_root_that_is_a_prefix_of_another_folder_does_not_admit_it(layout, tmp_path):
    sibling = tmp_path / "allowed-but-not-really"
    sibling.mkdir()
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    with pytest.raises(PathRefused, match="outside"):
        resolve_inside(str(sibling), roots)


def test_symlinks_leading_out_are_refused(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    (layout["allowed"] / "escape").symlink_to(layout["private"], target_is_directory=True)
    with pytest.raises(PathRefused, match="outside"):
        resolve_inside(str(layout["allowed"] / "escape"), roots)
    with pytest.raises(PathRefused, match="outside"):
        resolve_inside("escape", roots)


def test_symlinks_staying_inside_are_followed(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    (layout["allowed"] / "shortcut").symlink_to(layout["allowed"] / "photos" / "2024")
    assert resolve_inside("shortcut", roots) == (layout["allowed"] / "photos" / "2024").resolve()


def test_missing_files_and_empty_input_get_advice(layout):
    roots = roots_for(layout, {ROOTS_ENV: str(layout["allowed"])})
    with pytest.raises(PathRefused, match="No folder nowhere was found"):
        resolve_inside("nowhere", roots)
    with pytest.raises(PathRefused, match="not a folder or a .zip"):
        resolve_inside(str(layout["allowed"] / "notes.txt"), roots)
    with pytest.raises(PathRefused, match="Type the path"):
        resolve_inside("   ", roots)
    with pytest.raises(PathRefused, match="NUL"):
        resolve_inside("photos\x00", roots)
    with pytest.raises(PathRefused, match="allows no folders"):
        resolve_inside("photos", [])
