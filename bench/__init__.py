"""ClusterLens benchmarks: ``make bench`` (``python -m bench``) runs them; see README.md."""
