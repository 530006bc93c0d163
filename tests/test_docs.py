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


def test_readme_formulation_names_every_family():
    """Every ``add_<family>`` of the model is in the README's formulation, by its function name or
    by the component name it creates (``<tier>_capacity`` for ``add_capacity``), and every tier's
    and leg's components the README names exist in a built model."""
    import ast
    import re

    import pyomo.environ as pyo

    from optimizer import load_instance
    from optimizer.model.build import build_model
    from optimizer.tiers import LEGS, TIERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\_", "_")
    section = readme[readme.index("## Formulation"):readme.index("## Results")]
    tree = ast.parse((ROOT / "optimizer" / "model" / "build.py").read_text(encoding="utf-8"))
    families = [f.name for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("add_")]
    missing = [f for f in families if f not in ("add_variables", "add_objective")
               and f not in section and re.search(rf"<(tier|leg)>_{f[4:]}\b|\b{f[4:]}_<(tier|leg)>", section) is None
               and not ("_" in f[4:] and re.search(rf"\b{f[4:]}\b", section))]
    assert not missing, missing
    demo = load_instance(ROOT / "instances" / "demo")
    model = build_model(demo).model
    names = {c.name for c in model.component_objects((pyo.Constraint, pyo.Var))}
    for t in TIERS:
        if t.optional and not len(getattr(demo, t.sites)):
            continue  # the demo has no collection points: that tier builds no rows
        for fam in ("one_size", "capacity"):
            assert f"{t.name}_{fam}" in names
    absent = {t.name for t in TIERS if t.optional and not len(getattr(demo, t.sites))}
    for leg in LEGS:
        assert leg.flow_var in names and leg.flow_var in section, leg.name
        assert f"link_{leg.name}" in names or {leg.origin, leg.destination} & absent, leg.name
