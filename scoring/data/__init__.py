"""Package data of the pure layer: the item catalogs (suggested occupations, special abilities and the
2026 special-ability contest's items)."""
