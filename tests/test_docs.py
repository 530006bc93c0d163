"""The README's field reference is generated from the schema and must be current."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_schema_tables_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts" / "update_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert mod.render(text) == text, "run: python scripts/update_readme.py"


def test_readme_catalogue_matches_test_module():
    import re

    doc = (ROOT / "tests" / "test_bad_input_catalogue.py").read_text(encoding="utf-8").split('"""')[1]
    table = [line for line in doc.splitlines() if line.startswith("|")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- catalogue:begin -->\n(.*?)\n<!-- catalogue:end -->", readme, re.S).group(1)
    assert block.splitlines() == table
