"""Regenerate the README's field reference from optimizer/schema.py (a test checks it is current)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.schema import markdown_tables  # noqa: E402

BEGIN, END = "<!-- schema:begin -->", "<!-- schema:end -->"


def render(text: str) -> str:
    block = f"{BEGIN}\n\n{markdown_tables().strip()}\n\n{END}"
    return re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {path}")
