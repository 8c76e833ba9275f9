"""The venue check (issue #15): what an organiser looks at on the venue's network before the contest day —
`checks` (each section's state), `sheet` (the printer test sheet PDF) and `routes` (the pages)."""
