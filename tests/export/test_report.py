"""The shareable HTML report: self-contained, every embedded image decodes, content present."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image

from clustering.cli import main
from clustering.export.report import build_report
from clustering.pipeline import run_pipeline
from clustering.review.names import names_for_run
from clustering.settings import Settings

RESOURCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*([^"'\s>]+)|url\(\s*["']?([^"')]+)""", re.I)
DATA_IMAGE = re.compile(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)")


def check_self_contained(page: str) -> int:
    """Assert no resource is outside the file and every embedded image decodes; count them."""
    assert not re.search(r"https?://", page)
    for match in RESOURCE.finditer(page):
        target = match.group(1) or match.group(2)
        assert target.startswith("data:image/jpeg;base64,"), target[:80]
    images = DATA_IMAGE.findall(page)
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            image.load()
            assert image.format == "JPEG" and min(image.size) > 0
    return len(images)


def test_report_from_the_command_line(image_folder: Path, tmp_path: Path) -> None:
    (image_folder / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    report = tmp_path / "r" / "report.html"
    assert main(["cluster", str(image_folder), "--out", str(tmp_path / "o"), "--model",
                 "handcrafted", "--k-range", "2:5", "--report", str(report)]) == 0
    page = report.read_text(encoding="utf-8")
    # 12 images: up to 8 typical per cluster, plus one centre image per cluster on the map
    assert check_self_contained(page) >= 12 + 2
    assert "Elbow: inertia vs k" in page and "Mean silhouette vs k" in page
    assert "Map (PCA)" in page and "images skipped</th><td>1" in page
    assert page.count("class=cluster ") >= 2


def test_report_bytes_for_a_page_with_given_k_and_renamed_clusters(image_folder: Path) -> None:
    result = run_pipeline(image_folder, Settings(model="handcrafted", k=3, map="umap"))
    names = names_for_run(result).names | {0: "my <own> name"}
    page = build_report(result, names).decode("utf-8")
    check_self_contained(page)
    assert "my &lt;own&gt; name" in page and "no sweep was run" in page and "Map (UMAP)" in page


def test_unreadable_images_are_marked_not_fatal(image_folder: Path) -> None:
    result = run_pipeline(image_folder, Settings(model="handcrafted", k=3))
    for ref in result.discovery.images[:2]:
        ref.path.unlink()  # gone after clustering
    page = build_report(result, names_for_run(result).names).decode("utf-8")
    assert page.count("(unreadable)") == 2
    check_self_contained(page)
