"""The .zip download: one folder per cluster, named after it, safe and distinct."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from clustering.files.discover import ImageRef, discover
from dashboard.export_zip import clusters_zip, folder_name, folder_names
from tests.helpers import save_image


def test_folder_names_are_safe_and_distinct():
    assert folder_name("../../etc/passwd", 0) == "etc_passwd"
    assert folder_name("  ...  ", 3) == "cluster_3"
    assert folder_name("Cats & dogs (2024)", 1) == "Cats & dogs (2024)"
    assert folder_names([0, 1, 2, 1], {0: "Cats", 1: "cats", 2: "a/b"}) == {
        0: "Cats", 1: "cats_1", 2: "a_b"}
    assert folder_names([0, 1]) == {0: "cluster 0", 1: "cluster 1"}


def test_zip_has_one_folder_per_cluster_with_every_image(tmp_path):
    for i in range(4):
        save_image(tmp_path / ("a" if i % 2 else "b") / "same.png", (50 * i, 0, 0), seed=i)
        save_image(tmp_path / f"img{i}.jpg", (0, 50 * i, 0), seed=i)
    images = discover(tmp_path).images
    labels = np.array([0, 1, 0, 1, 0, 1])[: len(images)]
    missing = ImageRef("gone.png", tmp_path / "gone.png")
    data = clusters_zip(images + [missing], np.append(labels, 0), {0: "Reds", 1: "=cmd|x"},
                        {"labels.csv": b"file,cluster\n"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert archive.read("labels.csv") == b"file,cluster\n"
        assert "gone.png" in archive.read("not_included.txt").decode()
        for ref, label in zip(images, labels):
            folder = "Reds" if label == 0 else "cmd_x"
            matches = [n for n in names if n.startswith(f"{folder}/")
                       and archive.read(n) == ref.read_bytes()]
            assert matches, ref.name
    assert sum(n.startswith(("Reds/", "cmd_x/")) for n in names) == len(images)
