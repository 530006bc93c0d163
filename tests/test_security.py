"""Safe to open, safe to share: no formula runs in a spreadsheet, nothing is written outside the
folder the user named, no script from the data runs in a map, hostile files are refused."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from optimizer import InstanceError, load_instance, solve
from optimizer.cli import main
from optimizer.scenarios.overrides import Scenario, safe_folder_name
from optimizer.scenarios.sweep import SweepPlan, load_grid, sweep

from .helpers import DEMO, copy_demo, set_cell

FORMULA = '=HYPERLINK("http://example.invalid","click")'


# --- formulas -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory):
    """The demo with a site, a region and a hub named like formulas, solved and exported."""
    tmp = tmp_path_factory.mktemp("formula")
    folder = copy_demo(tmp)
    set_cell(folder / "spokes.csv", 2, "name", FORMULA)
    set_cell(folder / "regions.csv", 2, "name", "+cmd|' /C calc'!A0")
    set_cell(folder / "hubs.csv", 2, "name", "@SUM(1+1)*cmd|' /C calc'!A0")
    out = tmp / "res"
    assert main(["solve", str(folder), "--out", str(out), "--quiet"]) == 0
    assert main(["export", str(out), "--xlsx", str(tmp / "r.xlsx")]) == 0
    return folder, out, tmp / "r.xlsx"


def test_a_formula_name_is_text_in_the_workbook(formula_run):
    from openpyxl import load_workbook

    _folder, _out, xlsx = formula_run
    wb = load_workbook(xlsx)
    ws = wb["sites"]
    header = [c.value for c in ws[1]]
    col = header.index("name") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    hit = [c for c in cells if c.value == FORMULA]
    assert hit and all(c.data_type == "s" for c in hit)
    for sheet in wb.worksheets:  # no formula anywhere in the workbook
        assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row), sheet.title


def test_a_formula_name_is_neutralised_in_every_csv(formula_run):
    """A leading ' keeps a spreadsheet from evaluating the cell (the usual rule for CSV)."""
    _folder, out, _xlsx = formula_run
    sites = pd.read_csv(out / "sites.csv", dtype=str, keep_default_na=False)
    assert "'" + FORMULA in set(sites["name"]) and FORMULA not in set(sites["name"])
    for path in out.glob("*.csv"):
        for cell in pd.read_csv(path, dtype=str, keep_default_na=False).to_numpy().ravel():
            assert not cell.startswith(("=", "+", "@")), (path.name, cell)
            assert not (cell.startswith("-") and not _number(cell)), (path.name, cell)


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_a_neutralised_input_reads_back_as_written(formula_run, tmp_path):
    """save_instance writes the same rule; the reader drops the apostrophe, so it round-trips."""
    from optimizer import save_instance
    from optimizer.load import instances_equal

    folder, _out, _xlsx = formula_run
    inst = load_instance(folder)
    assert FORMULA in set(inst.spokes["name"])
    saved = save_instance(inst, tmp_path / "saved")
    assert "'" + FORMULA in set(pd.read_csv(saved / "spokes.csv", dtype=str)["name"])
    assert instances_equal(inst, load_instance(saved)) == []


def test_a_formula_id_is_refused(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    set_cell(folder / "spokes.csv", 3, "id", "=1+1")
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "spokes.csv, row 3, field 'id': expected an id not beginning with =, +, -, @" in err


# --- writes outside the output folder --------------------------------------------------------------


def test_a_traversal_scenario_name_stays_inside_out(tmp_path):
    base = load_instance(DEMO)
    grid = tmp_path / "grid.toml"
    grid.write_text('[[scenarios]]\nname = "../../escaped"\nsupply = 0.9\n\n[[scenarios]]\nname = "/etc/passwd"\nsupply = 1.1\n'
                    '\n[[scenarios]]\nname = "ESCAPED"\nsupply = 1.0\n')
    plan = load_grid(grid, base)
    assert [s.dir_name for s in plan.scenarios] == ["escaped", "etc-passwd", "ESCAPED-2"]
    out = tmp_path / "a" / "b" / "sweep"
    before = {p for p in tmp_path.rglob("*")}
    res = sweep(base, plan, out, quiet=True)
    assert res.failed == []
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(out in p.parents or p == out or p in out.parents for p in written)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "a" / "escaped").exists()
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"escaped", "etc-passwd", "ESCAPED-2"}
    comp = pd.read_csv(out / "comparison.csv")
    assert list(comp["scenario"]) == ["../../escaped", "/etc/passwd", "ESCAPED"]
    assert list(comp["folder"]) == ["escaped", "etc-passwd", "ESCAPED-2"]


def test_a_plan_writing_outside_out_is_refused_before_any_solve(tmp_path, capsys):
    base = load_instance(DEMO)
    plan = SweepPlan([Scenario("x", {"supply": 1.0}, folder="../x")], ["supply"], "list")
    from optimizer.errors import UsageError

    with pytest.raises(UsageError, match="outside the sweep's folder"):
        sweep(base, plan, tmp_path / "out", quiet=True)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name,slug", [("..", "scenario"), ("a/b\\c", "a-b-c"), ("CON", "CON_"), ("Zürich high", "Zurich-high"),
                                       (".hidden", "hidden"), ("x" * 200, "x" * 80)])
def test_safe_folder_names(name, slug):
    assert safe_folder_name(name) == slug


# --- HTML stays inert ------------------------------------------------------------------------------

PAYLOADS = {
    "script": '<script>window.__pwned="script"</script>',
    "img": "<img src=x onerror=\"window.__pwned='img'\">",
    "backtick": "`;window.__pwned='backtick';`",
    "dollar": "${window.__pwned='dollar'}",
    "close": "</script><script>window.__pwned='close'</script>",
}


def hostile_instance(tmp_path: Path) -> Path:
    """The demo with markup in every text field that reaches a map: the instance name, region
    names and region groups, site names, the currency, and region outlines' names."""
    folder = copy_demo(tmp_path)
    names = list(PAYLOADS.values())
    text = (folder / "instance.toml").read_text()
    text = text.replace('name = "demo"', f'name = {json.dumps("demo " + PAYLOADS["img"])}', 1)
    text = text.replace('currency = "USD"', f'currency = {json.dumps("USD" + PAYLOADS["dollar"])}', 1)
    (folder / "instance.toml").write_text(text)
    regions = pd.read_csv(folder / "regions.csv", dtype=str)
    for k in range(len(regions)):
        set_cell(folder / "regions.csv", k + 2, "name", names[k % len(names)])
    for file in ("spokes.csv", "hubs.csv"):
        n = len(pd.read_csv(folder / file))
        for k in range(n):
            set_cell(folder / file, k + 2, "name", names[(k + 2) % len(names)])
    feats = []
    for k, r in enumerate(regions.itertuples(index=False)):
        y, x = float(r.lat), float(r.lon)
        ring = [[x - .2, y - .2], [x + .2, y - .2], [x + .2, y + .2], [x - .2, y + .2], [x - .2, y - .2]]
        feats.append({"type": "Feature", "properties": {"id": r.id, "name": names[(k + 1) % len(names)], "note": PAYLOADS["close"]},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (folder / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return folder


def hostile_maps(tmp_path: Path) -> dict[str, Path]:
    """map.html of a solve and robustness_map.html of a sweep of the hostile instance."""
    folder = hostile_instance(tmp_path)
    out = tmp_path / "res"
    assert main(["solve", str(folder), "--out", str(out), "--quiet"]) == 0
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [0.9, 1.0]\n")
    assert main(["sweep", str(folder), "--grid", str(grid), "--out", str(tmp_path / "sw"), "--quiet"]) == 0
    return {"map": out / "map.html", "robustness": tmp_path / "sw" / "robustness_map.html"}


def test_markup_in_every_name_is_escaped_in_every_html_output(tmp_path):
    maps = hostile_maps(tmp_path)
    for what, path in maps.items():
        html = path.read_text(encoding="utf-8")
        for key, payload in PAYLOADS.items():
            assert payload not in html, (what, key)
        assert "<img src=x" not in html and "<script>window" not in html, what
        assert "${window" not in html and "`;window" not in html, what
        assert "&lt;img src=x onerror" in html or what == "robustness", what  # the name is shown, as text


# --- hostile or broken input files -----------------------------------------------------------------


def _refused_quickly(folder: Path, file: str, text: str, budget_mb: float = 60.0) -> None:
    """Loading ``folder`` raises an InstanceError naming ``file`` and containing ``text``, with
    Python's peak allocation while doing so under ``budget_mb``."""
    tracemalloc.start()
    try:
        with pytest.raises(InstanceError) as exc:
            load_instance(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert any(i.file == file and text in str(i) for i in exc.value.issues), [str(i) for i in exc.value.issues]
    assert peak < budget_mb * 1e6, peak


def _sparse(path: Path, mb: float) -> None:
    with open(path, "wb") as fh:  # a hole: no disk space, no time
        fh.truncate(int(mb * 1e6))


def test_an_oversized_csv_is_refused_unread(tmp_path):
    folder = copy_demo(tmp_path)
    _sparse(folder / "lanes.csv", 150)
    _refused_quickly(folder, "lanes.csv", "a file of at most 100 MB (150.0 MB; if the file is right, set SPOKEHUB_MAX_INPUT_MB")


def test_the_limit_can_be_raised(tmp_path, monkeypatch):
    folder = copy_demo(tmp_path)
    text = (folder / "regions.csv").read_text()
    (folder / "regions.csv").write_text(text + "\n" * 3000)  # 3 kB of blank rows, over a 0.001 MB limit
    monkeypatch.setenv("SPOKEHUB_MAX_INPUT_MB", "0.001")
    _refused_quickly(folder, "regions.csv", "at most 0.001 MB")
    monkeypatch.setenv("SPOKEHUB_MAX_INPUT_MB", "1")
    assert len(load_instance(folder).regions) == 12


def test_an_oversized_or_deeply_nested_geojson_is_refused(tmp_path):
    folder = copy_demo(tmp_path)
    _sparse(folder / "regions.geojson", 120)
    _refused_quickly(folder, "regions.geojson", "a file of at most 100 MB")
    (folder / "regions.geojson").write_text("[" * 200_000 + "]" * 200_000)
    _refused_quickly(folder, "regions.geojson", "nested too deeply")


def test_a_deeply_nested_or_oversized_toml_is_refused(tmp_path):
    folder = copy_demo(tmp_path)
    text = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(text + "\n[extra]\ndeep = " + "[" * 100_000 + "]" * 100_000 + "\n")
    _refused_quickly(folder, "instance.toml", "")
    _sparse(folder / "instance.toml", 6)
    _refused_quickly(folder, "instance.toml", "a file of at most 5 MB")


def test_a_runaway_quote_is_a_located_error(tmp_path):
    folder = copy_demo(tmp_path)
    text = (folder / "regions.csv").read_text().replace("Boston", '"Boston', 1) + ("x" * 200_000) + "\n"
    (folder / "regions.csv").write_text(text)
    _refused_quickly(folder, "regions.csv", "a missing closing quote?")


def test_a_grid_that_would_explode_is_refused_before_expanding(tmp_path):
    base = load_instance(DEMO)
    grid = tmp_path / "grid.toml"
    values = ", ".join(str(1 + k / 1000) for k in range(100))
    grid.write_text(f"[grid]\nsupply = [{values}]\ntransport = [{values}]\nopex = [{values}]\n")  # a million scenarios
    tracemalloc.start()
    try:
        with pytest.raises(InstanceError) as exc:
            load_grid(grid, base)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "at most 10000 scenarios" in str(exc.value) and "1,000,000 (the product of the lists)" in str(exc.value)
    assert peak < 20e6, peak


# --- distributed runs over TLS --------------------------------------------------------------------


def _certificates(folder: Path) -> dict[str, Path]:
    """A throw-away certificate authority and a localhost certificate it signed (openssl CLI)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    run = lambda *a: subprocess.run(a, cwd=folder, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=spokehub-test-ca")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=localhost")
    (folder / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "node.pem", "-days", "2", "-extfile", "ext.cnf")
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


@pytest.mark.slow
def test_a_sweep_on_a_tls_scheduler(tmp_path, capsys):
    """A real Dask scheduler that requires TLS: with the certificates the sweep runs and gives the
    in-process objectives; without them it is refused before any scenario is sent."""
    import logging

    from distributed import LocalCluster
    from distributed.security import Security

    certs = _certificates(tmp_path)
    sec = Security(tls_ca_file=str(certs["ca"]), tls_scheduler_cert=str(certs["cert"]), tls_scheduler_key=str(certs["key"]),
                   tls_worker_cert=str(certs["cert"]), tls_worker_key=str(certs["key"]),
                   tls_client_cert=str(certs["cert"]), tls_client_key=str(certs["key"]), require_encryption=True)
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [0.9, 1.1]\n")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tls://", security=sec,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster:
        addr = cluster.scheduler_address
        assert addr.startswith("tls://")
        assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "plain"), "--scheduler", addr,
                     "--tls-cert", str(certs["cert"])]) == 2
        assert "needs all three of --tls-ca-file, --tls-cert and --tls-key" in capsys.readouterr().err
        assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "none"), "--scheduler", addr]) == 2
        assert "a tls:// scheduler needs certificates" in capsys.readouterr().err
        assert not (tmp_path / "plain").exists() and not (tmp_path / "none").exists()
        assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "tls"), "--scheduler", addr,
                     "--tls-ca-file", str(certs["ca"]), "--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"]),
                     "--quiet"]) == 0
    comp = pd.read_csv(tmp_path / "tls" / "comparison.csv")
    base = load_instance(DEMO)
    for sc in load_grid(grid, base).scenarios:
        from optimizer.scenarios.overrides import apply

        want = solve(apply(base, sc), threads=1).objective
        got = float(comp.loc[comp["scenario"] == sc.name, "objective"].iat[0])
        assert got == pytest.approx(want, rel=1e-6)


def test_tls_flags_need_a_tls_address(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [1.0]\n")
    assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:1",
                 "--tls-ca-file", str(grid)]) == 2
    assert "secure a tls:// scheduler address" in capsys.readouterr().err
