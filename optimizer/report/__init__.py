"""Reporting: console summaries, CSV/JSON output folders, maps (the only layer that formats)."""
