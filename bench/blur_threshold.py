"""Is the ``blurry`` flag right on real photos blurred by known amounts?

Every real photo of ``bench/duplicates.py`` (69 on this machine) is stored at a long
side of 800 and of 3000 pixels, sharp and Gaussian-blurred (radius 1-8 px at the
800-px scale, scaled with the size), as JPEG q90, and scored by the same code as the
dashboard (:func:`clustering.review.quality.image_quality`). Reported per blur
radius: the share flagged ``blurry`` at the default ``min_sharpness``, and the AUC
of the sharpness score between the sharp photos and those blurred by that radius
(1.0: one threshold separates them perfectly). Target: no sharp photo flagged.

    PYTHONPATH=. .venv/bin/python -m bench.blur_threshold
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from bench._common import table, write_results
from bench.duplicates import load_photos
from clustering.review.quality import MEASURED, QualityScorer, image_quality

RADII = (0, 1, 2, 3, 4, 6, 8)
LONG_SIDES = (800, 3000)
SHARPNESS = MEASURED.index("sharpness")


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def sharpness_table(photos: list[Image.Image]) -> np.ndarray:
    """Rows of (radius, long side, sharpness) for every photo, size and radius."""
    rows = []
    for photo in photos:
        for long in LONG_SIDES:
            sized = photo.resize((long, max(1, round(long * photo.height / photo.width))))
            for radius in RADII:
                image = sized.filter(ImageFilter.GaussianBlur(radius * long / 800)) \
                    if radius else sized
                rows.append((radius, long, image_quality(_jpeg(image))[SHARPNESS]))
    return np.array(rows)


def auc(sharp: np.ndarray, blurred: np.ndarray) -> float:
    """P(a sharp photo scores higher than a blurred one)."""
    return float((sharp[:, None] > blurred[None, :]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    photos = [p.image for p in load_photos(Path("demo/images"))]
    rows = sharpness_table(photos)
    threshold = QualityScorer().min_sharpness
    radius, score = rows[:, 0], rows[:, 2]
    sharp = score[radius == 0]
    results = {}
    for r in RADII:
        mine = score[radius == r]
        results[r] = {"flagged": float((mine < threshold).mean()),
                      "auc_vs_sharp": auc(sharp, mine) if r else None, "images": len(mine)}
    print(f"{len(photos)} photos x {len(LONG_SIDES)} sizes, min_sharpness {threshold}")
    print(table(["blur radius (px at 800)", "images", "flagged blurry", "AUC vs sharp"],
                [[r, v["images"], f"{v['flagged']:.2f}",
                  "–" if v["auc_vs_sharp"] is None else f"{v['auc_vs_sharp']:.3f}"]
                 for r, v in results.items()]))
    ok = results[0]["flagged"] == 0
    print(f"  sharp photos flagged: {results[0]['flagged']:.2f} (target 0): "
          f"{'met' if ok else 'MISSED'}")
    write_results("blur_threshold", {"photos": len(photos), "min_sharpness": threshold,
                                     "results": results, "sharp_flagged_target_met": ok})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
