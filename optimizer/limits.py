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
SPOKEHUB_MAX_UNZIPPED_MB  500      what an instance workbook (.xlsx, a zip) expands to
SPOKEHUB_MAX_ZIP_RATIO    100      how far any part of a workbook may expand (uncompressed
                                   over compressed size, for parts above 1 MB)
========================  =======  =================================================

A workbook's two limits are read from the zip's central directory before anything is
decompressed, so a zip bomb is refused at the cost of reading its table of contents.  Python's
zipfile never yields more than a part's declared size (a part that lies fails its CRC check), so
the declared sizes bound what is decompressed.

A CSV cell may hold at most 131,072 characters (Python's csv default): a longer one is almost
always a missing closing quote swallowing the rest of the file.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {"SPOKEHUB_MAX_INPUT_MB": 100.0, "SPOKEHUB_MAX_TOML_MB": 5.0, "SPOKEHUB_MAX_SCENARIOS": 10000,
            "SPOKEHUB_MAX_UNZIPPED_MB": 500.0, "SPOKEHUB_MAX_ZIP_RATIO": 100.0}
#: parts of a zip smaller than this are not held to the ratio (tiny parts compress oddly)
RATIO_FLOOR_BYTES = 1_000_000


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


def zip_too_large(path: Path) -> str | None:
    """A message if the zip archive at ``path`` (an .xlsx workbook) would expand beyond
    ``SPOKEHUB_MAX_UNZIPPED_MB`` in total or any part of it by more than
    ``SPOKEHUB_MAX_ZIP_RATIO``, else ``None``.  Reads only the central directory; raises
    :class:`zipfile.BadZipFile` if ``path`` is no zip archive."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    mb = limit("SPOKEHUB_MAX_UNZIPPED_MB")
    if total > mb * 1e6:
        return (f"a workbook that expands to at most {mb:g} MB (this one declares {total / 1e6:,.1f} MB uncompressed; "
                f"if the file is right, set SPOKEHUB_MAX_UNZIPPED_MB to a larger number of MB)")
    ratio = limit("SPOKEHUB_MAX_ZIP_RATIO")
    for i in infos:
        if i.file_size > RATIO_FLOOR_BYTES and i.file_size > ratio * max(i.compress_size, 1):
            return (f"a workbook whose parts expand at most {ratio:g}-fold ({i.filename} expands "
                    f"{i.file_size / max(i.compress_size, 1):,.0f}-fold, to {i.file_size / 1e6:,.1f} MB; if the file is right, "
                    f"set SPOKEHUB_MAX_ZIP_RATIO to a larger number)")
    return None
