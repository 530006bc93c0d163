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


def _bounds() -> dict[str, str]:
    """Direct dependency -> lower bound, from pyproject.toml (runtime and test extras)."""
    import re

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = cfg["project"]["dependencies"] + cfg["project"]["optional-dependencies"]["test"]
    out = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[([a-z,]+)\])?>=([0-9][0-9a-z.]*)", spec)
        assert m, f"{spec}: every dependency has exactly a lower bound (>=), proven by CI's oldest run"
        out[m.group(1).lower()] = m.group(3)
        for extra in (m.group(2) or "").split(","):
            if extra:  # dask[distributed]: distributed is pinned with dask
                out[extra] = m.group(3)
    return out


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_lower_bounds_are_the_versions_the_oldest_run_tests():
    assert _pins(ROOT / ".ci" / "oldest.txt") == _bounds()


def test_tested_set_pins_every_direct_dependency_within_its_bounds():
    from packaging.version import Version

    tested = _pins(ROOT / "constraints.txt")
    for name, low in _bounds().items():
        assert name in tested, f"constraints.txt does not pin {name}"
        assert Version(tested[name]) >= Version(low), (name, tested[name], low)


def test_readme_commands_install_the_tested_set_and_ci_runs_them_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt '.[test]' && .venv/bin/python -m pytest"
    solve_cmd = ("python3 -m venv .venv && .venv/bin/pip install -c constraints.txt . && .venv/bin/spokehub solve "
                 "instances/north-america --out results/north-america")
    assert test_cmd in readme and solve_cmd in readme
    assert test_cmd in ci.splitlines()
