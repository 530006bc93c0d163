"""The package's shape: layers import one way, no circles, public functions documented, no giant
functions, one version.

Read from the source with :mod:`ast` (no imports run), so a function-level import counts like a
top-level one: a lazy import that runs back up is still a circle a reader has to hold.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "optimizer"

#: layer -> modules (dotted, without the ``optimizer.`` prefix); data flows down this list
LAYERS = {
    "base": {"errors", "limits", "frames", "tiers", "status", "version", "geo", "schema", "csvread", "files"},
    "instance": {"instance", "channels", "validate", "load", "workbook_instance", "workbook_template"},
    "solution": {"solution", "check"},
    "model": {"model", "model.joins", "model.network", "model.build", "model.linear", "model.compile"},
    "solve": {"options", "highs", "highs_worker", "heuristic", "diagnose", "extract", "explain", "split", "solver"},
    "report": {"report", "report.tables", "report.maps", "report.figures", "report.workbook"},
    "shell": {"", "__main__", "cli", "scenarios", "scenarios.overrides", "scenarios.sweep", "bench",
              "bench.importers", "bench.runner", "bench.synthetic"},
}
#: what each layer may import (besides itself)
ALLOWED = {
    "base": set(),
    "instance": {"base"},
    "solution": {"base", "instance"},
    "model": {"base", "instance"},
    "solve": {"base", "instance", "model", "solution"},
    "report": {"base", "instance", "solution"},
    "shell": set(LAYERS),
}
NO_PYOMO = {"base", "instance", "solution", "report"}
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = p.relative_to(PKG).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(spokehub modules, top-level third-party packages) that ``name`` imports anywhere."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "optimizer":
                mod = node.module.partition(".")[2]
            else:
                theirs.add((node.module or "").split(".")[0])
                continue
            for alias in node.names:
                sub = f"{mod}.{alias.name}" if mod else alias.name
                ours.add(sub if sub in modules else mod)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "optimizer":
                    ours.add(alias.name.partition(".")[2])
                else:
                    theirs.add(top)
    ours.discard(name)
    return ours, theirs


def _graph():
    modules = _modules()
    return modules, {m: _imports(m, p, modules) for m, p in modules.items()}


def _layer(module: str) -> str:
    for layer, members in LAYERS.items():
        if module in members:
            return layer
    raise AssertionError(f"optimizer.{module} is in no layer: add it to tests/test_structure.py LAYERS")


def test_every_module_has_a_layer_and_imports_only_earlier_layers():
    modules, graph = _graph()
    wrong = []
    for m, (ours, theirs) in graph.items():
        layer = _layer(m)
        for dep in ours:
            if dep not in modules:
                wrong.append(f"optimizer.{m} imports optimizer.{dep}, which does not exist")
            elif _layer(dep) != layer and _layer(dep) not in ALLOWED[layer]:
                wrong.append(f"optimizer.{m} ({layer}) imports optimizer.{dep} ({_layer(dep)})")
        if layer in NO_PYOMO and "pyomo" in theirs:
            wrong.append(f"optimizer.{m} ({layer}) imports pyomo")
    assert wrong == []


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components; any with two or more modules is a circle."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return circles


def test_no_import_circles():
    _modules_, graph = _graph()
    assert _circles({m: ours for m, (ours, _t) in graph.items()}) == []


def test_the_circle_finder_finds_a_circle(tmp_path):
    """The graph reader sees function-level and relative imports (else the test above cannot fail)."""
    (tmp_path / "a.py").write_text("def f():\n    from .b import g\n")
    (tmp_path / "b.py").write_text("from . import a\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    assert _imports("a", modules["a"], modules)[0] == {"b"}
    assert _imports("b", modules["b"], modules)[0] == {"a"}
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_the_worker_imports_nothing_of_spokehub():
    """It runs in a fresh interpreter that loads only HiGHS: importing the package would cost
    seconds per worker and run Pyomo's start-up there."""
    modules, graph = _graph()
    assert graph["highs_worker"][0] == set()


def _public_functions():
    """(module, qualified name, node) of module-level functions and methods of public classes
    whose names do not start with an underscore."""
    for m, p in _modules().items():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield m, node.name, node
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_"):
                        yield m, f"{node.name}.{sub.name}", sub


def test_every_public_function_and_family_has_a_docstring():
    missing = [f"optimizer.{m}.{q}" for m, q, node in _public_functions() if ast.get_docstring(node) is None]
    assert missing == []
    families = [q for m, q, _n in _public_functions() if m == "model.build" and q.startswith("add_")]
    assert len(families) >= 12  # the constraint families are public and were found


def test_no_function_is_longer_than_a_screenful_and_a_half():
    long = []
    for m, p in _modules().items():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"optimizer.{m}.{node.name}: {n} lines")
    assert long == []


def test_one_version():
    import optimizer
    from optimizer.version import __version__

    assert optimizer.__version__ == __version__
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == __version__
