"""results: ranking, awards, promotion and the offline `results compute` (contracts §3).

Pure modules: `awards`, `ranking`, `model`, `reference` (Decimal path), `engine` (polars path),
`convert`, `explain`. Files: `tables` (CSV/XLSX as text), `inputs` (validation), `offline` (the command).
"""

__all__: list[str] = []
