DuplicateFinder = UnionFind = compute_signatures = None
