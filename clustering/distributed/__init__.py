"""Running ClusterLens on a Ray cluster (Ray Data), for collections past one machine.

Only the modules of this package import Ray, and only inside functions, so the rest
of the library and the dashboard never pay for importing it:

* :mod:`~clustering.distributed.layout` — the dataset folder (manifest, feature shards,
  markers) shared by every step; no Ray;
* :mod:`~clustering.distributed.session` — connecting to a cluster and listing its nodes;
* :mod:`~clustering.distributed.extract` — feature extraction in Ray Data actors, one
  Parquet shard per manifest shard, resumable;
* :mod:`~clustering.distributed.scale` — PCA and k fitted on a sample on the driver,
  assignment of every image in parallel, the usual labels.csv/skipped.csv/run.json;
* :mod:`~clustering.distributed.result` — reading a finished result (stratified map
  sample, one cluster's rows, the labels CSV in chunks); pyarrow only, no Ray.
"""
