"""Event set-up: the event file stored as tables, its API, CLI helpers and organiser pages."""
