"""The installed package carries every data file the source tree has.

Tests import ``optimizer`` from the source tree, so a file missing from the wheel (the vendored
Leaflet that offline maps inline) would pass every other test and fail only for a user who ran
``pip install .``.  This checks the declared package data against the files on disk.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_data_covers_every_non_python_file():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = cfg["tool"]["setuptools"]["package-data"]["optimizer"]
    pkg = ROOT / "optimizer"
    declared = {p for pattern in patterns for p in pkg.glob(pattern) if p.is_file()}
    data_files = {p for p in pkg.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
                  and "__pycache__" not in p.parts}
    assert any("vendor" in p.parts for p in data_files)  # the files this guards exist
    missing = sorted(str(p.relative_to(pkg)) for p in data_files - declared)
    assert missing == [], f"not in [tool.setuptools.package-data]: {missing}"
