"""Refresh ``constraints.txt``, the tested set of dependency versions.

The README's install commands use it (``pip install -c constraints.txt ...``), so a user gets
exactly what CI tested; ``.ci/run`` also runs the suite on the newest versions pip resolves and on
the oldest ones ``pyproject.toml`` allows (``.ci/oldest.txt``).  Run this when CI's newest run is
green on versions newer than the tested set:

    python scripts/lock.py            # fresh venv, newest versions, pip freeze -> constraints.txt

It installs into a temporary virtual environment with ``--no-cache-dir`` (what pip serves today,
not a cached answer) and writes every installed distribution but spokehub itself.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = """\
# The tested set: every dependency (direct and transitive) pinned to the version CI ran the suite
# with.  Used by the README's install commands: pip install -c constraints.txt ...
# Regenerate with: python scripts/lock.py  (fresh venv, newest versions, {python}, {day})
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "venv"
        venv.create(env, with_pip=True)
        py = env / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-cache-dir", f"{ROOT}[test]"], check=True)
        frozen = subprocess.run([str(py), "-m", "pip", "freeze", "--exclude", "spokehub"], check=True,
                                capture_output=True, text=True).stdout
    pins = sorted((line for line in frozen.splitlines() if line and not line.startswith(("#", "-e"))),
                  key=str.lower)
    text = HEADER.format(python=f"Python {sys.version_info.major}.{sys.version_info.minor}", day=date.today()) + "\n".join(pins) + "\n"
    (ROOT / "constraints.txt").write_text(text, encoding="utf-8")
    print(f"constraints.txt: {len(pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
