"""Limits on what spokehub reads: files far larger than any instance needs are refused before
they are read, so a wrong or hostile file costs neither minutes nor gigabytes.

Every limit is stated here and can be raised through an environment variable (a real instance
bigger than these is a welcome surprise: raise the limit and tell us):

========================  =======  =================================================
variable                  default  what
========================  =======  =================================================
SPOKEHUB_MAX_INPUT_MB     100      each CSV, GeoJSON or workbook of an instance
SPOKEHUB_MAX_TOML_MB      5        instance.toml, a scenario or grid file
SPOKEHUB_MAX_SCENARIOS    10000    scenarios one sweep may expand to
========================  =======  =================================================

A CSV cell may hold at most 131,072 characters (Python's csv default): a longer one is almost
always a missing closing quote swallowing the rest of the file.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {"SPOKEHUB_MAX_INPUT_MB": 100.0, "SPOKEHUB_MAX_TOML_MB": 5.0, "SPOKEHUB_MAX_SCENARIOS": 10000}


def limit(name: str) -> float:
    """The limit ``name`` (an environment variable overrides the default)."""
    raw = os.environ.get(name)
    if raw is None:
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        return DEFAULTS[name]
    return value if value > 0 else DEFAULTS[name]


def too_large(path: Path, variable: str) -> str | None:
    """A message if ``path`` is larger than the limit ``variable`` (in MB), else ``None``."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    mb = limit(variable)
    if size > mb * 1e6:
        return (f"a file of at most {mb:g} MB ({size / 1e6:,.1f} MB; if the file is right, set {variable} "
                f"to a larger number of MB)")
    return None
