"""Regenerate the README's generated blocks (tests check they are current):

* the field reference, from optimizer/schema.py;
* the bad-input catalogue, from the table in tests/test_bad_input_catalogue.py's docstring;
* the scenario levers, from optimizer/schema.py's SCENARIO_LEVERS.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.schema import markdown_tables, scenario_markdown  # noqa: E402

BEGIN, END = "<!-- schema:begin -->", "<!-- schema:end -->"
CAT_BEGIN, CAT_END = "<!-- catalogue:begin -->", "<!-- catalogue:end -->"
LEV_BEGIN, LEV_END = "<!-- levers:begin -->", "<!-- levers:end -->"


def catalogue_table() -> str:
    doc = (ROOT / "tests" / "test_bad_input_catalogue.py").read_text(encoding="utf-8").split('"""')[1]
    return "\n".join(line for line in doc.splitlines() if line.startswith("|"))


def render(text: str) -> str:
    block = f"{BEGIN}\n\n{markdown_tables().strip()}\n\n{END}"
    text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    cat = f"{CAT_BEGIN}\n{catalogue_table()}\n{CAT_END}"
    text = re.sub(re.escape(CAT_BEGIN) + r".*?" + re.escape(CAT_END), lambda _m: cat, text, flags=re.S)
    lev = f"{LEV_BEGIN}\n{scenario_markdown().strip()}\n{LEV_END}"
    return re.sub(re.escape(LEV_BEGIN) + r".*?" + re.escape(LEV_END), lambda _m: lev, text, flags=re.S)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {path}")
