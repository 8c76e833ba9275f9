"""scoring: the pure marking-scheme layer (no web, no database). Leaf of the dependency graph.

Modules: `event_file` (contracts §2), `rounding` (exact half-up arithmetic), `marking` (steps 1–5 in
Decimal, the reference), `fast` (the same over polars tables), `checks` (findings on judges' marks).
Nothing is imported here, so that `import scoring.event_file` does not pull in polars.
"""

__all__: list[str] = []
