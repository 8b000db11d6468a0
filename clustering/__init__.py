"""ClusterLens: group images by what they look like.

Stages, each usable alone: :mod:`~clustering.discover` (find images),
:mod:`~clustering.loading` (decode safely), :mod:`~clustering.features` (extract with
a cache), :mod:`~clustering.reduce` (L2 + PCA), :mod:`~clustering.kmeans` (k sweep and
k-means++), :mod:`~clustering.export` (CSV/JSON); :mod:`~clustering.pipeline` chains them.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter quiet
