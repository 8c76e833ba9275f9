"""scoring: the pure marking-scheme layer (no web, no database). Leaf of the dependency graph."""
