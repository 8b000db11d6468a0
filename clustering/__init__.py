"""ClusterLens: group images by what they look like.

Stages, each usable alone: :mod:`~clustering.files.discover` (find images),
:mod:`~clustering.images.loading` (decode safely), :mod:`~clustering.features.extract` (extract with
a cache), :mod:`~clustering.reduce.pca` (L2 + PCA), :mod:`~clustering.clusters.kmeans` (k sweep and
k-means++), :mod:`~clustering.export.tables` (CSV/JSON); :mod:`~clustering.pipeline` chains them.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter quiet
