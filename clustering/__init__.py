"""ClusterLens: group images by what they look like.

The sub-packages are the stages, in the order data flows through them:
:mod:`~clustering.files` (find images) → :mod:`~clustering.images` (decode; the
per-image engine) → :mod:`~clustering.features` (VGG16/VGG19 or the offline
extractor, cached) → :mod:`~clustering.reduce` (L2 + PCA, the 2-D map) →
:mod:`~clustering.clusters` (k sweep, k-means++) → :mod:`~clustering.review`
(duplicates, quality, evaluation, names) → :mod:`~clustering.export` (CSV, JSON, report).
:mod:`~clustering.pipeline` chains them; :mod:`~clustering.settings` holds every default
and :mod:`~clustering.errors` every expected error.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter quiet
