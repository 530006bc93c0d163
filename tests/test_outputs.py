"""Deliverables other than the interactive map: workbook, slide figure, map sizes, maps/ folder."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from optimizer import load_instance, solve
from optimizer.cli import main
from optimizer.report.figures import DPI, SLIDE_IN, write_figure
from optimizer.report.maps import MapOptions, map_content, map_html, normalise_ids, plan_layers
from optimizer.report.workbook import read_workbook, write_workbook
from optimizer.solution import Solution

from .helpers import DEMO, ROOT


@pytest.fixture(scope="module")
def demo():
    inst = load_instance(DEMO)
    return inst, solve(inst, mip_rel_gap=0)


def test_workbook_round_trips(demo, tmp_path):
    inst, sol = demo
    path = write_workbook(sol, tmp_path / "results.xlsx", inst)
    back = read_workbook(path)
    for name in ("sites", "flows", "costs"):
        mine = getattr(sol, name)
        got = back[name][list(mine.columns)]
        pd.testing.assert_frame_equal(got.reset_index(drop=True), mine.reset_index(drop=True), check_dtype=False,
                                      check_exact=False, rtol=1e-12)
    regions = back["regions"]
    pd.testing.assert_frame_equal(regions[list(sol.regions.columns)], sol.regions, check_dtype=False)
    assert "ships_to" in regions.columns and (regions["ships_to"] != "").any()
    sheets = pd.ExcelFile(path).sheet_names
    assert sheets == ["summary", "sites", "flows", "costs", "regions", "parameters"]
    header = pd.read_excel(path, sheet_name="flows", nrows=0).columns
    assert "flow [t/yr]" in header and "transport cost [USD/yr]" in header


def test_export_command(demo, tmp_path):
    out = tmp_path / "sol"
    assert main(["solve", str(DEMO), "--out", str(out), "--quiet", "--no-map"]) == 0
    assert main(["export", str(out), "--xlsx", str(tmp_path / "r.xlsx")]) == 0
    assert main(["export", str(out), "--xlsx", str(tmp_path / "r.xlsx")]) == 2  # exists, no --force
    assert main(["figure", str(out), "--out", str(tmp_path / "n.svg")]) == 0
    assert (tmp_path / "n.svg").read_text().lstrip().startswith("<?xml")
    assert main(["map", str(out), "--out", str(tmp_path / "m.html"), "--offline"]) == 0
    assert "<script>" in (tmp_path / "m.html").read_text()


def test_figure_png_has_slide_size_and_content(demo, tmp_path):
    inst, sol = demo
    path = write_figure(inst, sol, tmp_path / "network.png")
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape[:2] == (round(SLIDE_IN[1] * DPI), round(SLIDE_IN[0] * DPI))
    assert len(np.unique(img.reshape(-1, 3)[::5], axis=0)) > 50  # not a uniform image
    assert img.std() > 10


def _fake_solution(inst, net_sites=None):
    """A cheap feasible-looking solution for size tests: each region to its nearest spoke."""
    from optimizer.extract import extract_tables
    from optimizer.model.network import build_network

    net = build_network(inst)
    rs = net.arcs["region_spoke"].assign(i=np.arange(len(net.arcs["region_spoke"])))
    best = rs.sort_values("km").groupby(["origin", "chemistry"]).head(1)
    x = np.zeros(len(rs))
    x[best["i"].to_numpy()] = best["ub_t"].to_numpy()
    opts = net.tiers["spoke"].options
    y = np.zeros(len(opts))
    first = opts.groupby("site_id").head(1)
    y[first.index[first["site_id"].isin(set(best["destination"]))].to_numpy()] = 1
    values = {"open_spoke": y, "flow_region_spoke_t": x}
    tables = extract_tables(inst, net, values)
    from optimizer.solution import SolveStatus

    return Solution(inst.name, inst.currency, SolveStatus.FEASIBLE, 1.0, 0.0, 1.0, "synthetic", periods=("base",), **tables)


def test_offline_html_size_for_2000_regions():
    """Documented aggregation keeps a 2,000-region map under 20 MB."""
    from optimizer.bench.synthetic import synthetic_instance

    inst = synthetic_instance(2000, 300, 20, 2)
    sol = _fake_solution(inst)
    html = map_html(inst, sol, MapOptions(offline=True))
    assert len(html.encode()) < 20e6
    plan = plan_layers(inst, sol, MapOptions(offline=True))
    assert len(plan["lines"]["region_spoke"]) <= len(sol.flows)


def test_aggregation_kicks_in_above_the_line_limit(demo):
    inst, sol = demo
    plan = plan_layers(inst, sol, MapOptions(max_pack_lines=3))
    assert bool(plan["aggregated"]["aggregated"].iat[0])
    assert plan["lines"]["region_spoke"]["flow_t"].sum() == pytest.approx(
        sol.flows.loc[sol.flows["echelon"] == "region_spoke", "flow_t"].sum())


MAPS = ROOT / "maps"


def rendered_with(package: str) -> bool:
    """Whether ``package`` here is the version that drew maps/ (maps/rendered_with.txt)."""
    import importlib.metadata

    recorded = dict(line.split(" ", 1) for line in (MAPS / "rendered_with.txt").read_text().splitlines() if line)
    return recorded.get(package) == importlib.metadata.version(package)


def assert_same_map(html: str, committed: str, fix: str) -> None:
    """Same content on any Folium version (coordinates, texts, styles, layers); the same HTML
    on the version that drew the committed file.  (No ``==`` on the strings themselves: pytest's
    diff of two multi-megabyte strings takes many minutes.)"""
    same_content = map_content(html) == map_content(committed)
    assert same_content, f"the map's content differs; run: {fix}"
    if rendered_with("folium"):
        same_html = normalise_ids(html) == normalise_ids(committed)
        assert same_html, f"the map's HTML differs; run: {fix}"


@pytest.mark.parametrize("name", sorted(p.stem for p in (MAPS / "solutions").glob("*.json")) if (MAPS / "solutions").exists() else [])
def test_maps_folder_matches_code(name, tmp_path):
    """maps/<name>.html and .png are what the current code draws from maps/solutions/<name>.json."""
    inst = load_instance(ROOT / "instances" / name)
    sol = Solution.load(MAPS / "solutions" / f"{name}.json")
    html = map_html(inst, sol, MapOptions(offline=True))
    committed = (MAPS / f"{name}.html").read_text(encoding="utf-8")
    assert_same_map(html, committed, f"python scripts/render_maps.py --from-solutions {name}")
    size_mb = len(committed.encode()) / 1e6
    assert size_mb < 5.0, size_mb
    write_figure(inst, sol, tmp_path / "f.png")
    a = np.asarray(Image.open(tmp_path / "f.png").convert("RGB"), dtype=float)
    b = np.asarray(Image.open(io.BytesIO((MAPS / f"{name}.png").read_bytes())).convert("RGB"), dtype=float)
    assert a.shape == b.shape
    if rendered_with("matplotlib"):  # other versions rasterise text and lines differently
        assert np.abs(a - b).mean() < 1.0  # same drawing (font rasterisation may differ by a few pixels)


def test_map_content_sees_what_a_map_shows():
    """map_content is blind to Folium's random ids but not to a moved site, a changed tooltip or
    a changed colour."""
    html = (MAPS / "demo.html").read_text(encoding="utf-8")
    base = map_content(html)
    assert len(base["coordinates"]) > 100 and len(base["texts"]) >= 5 and base["styles"] and base["layers"]
    assert map_content(normalise_ids(html)) == base
    assert map_content(html.replace("Toledo, OH", "Toledo, Ohio")) != base
    assert map_content(html.replace("#2e9e44", "#2e9e45")) != base
    import re

    first = re.search(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", html)
    moved = html[:first.start()] + f"[{float(first.group(1)) + 1.0}, {first.group(2)}]" + html[first.end():]
    assert map_content(moved) != base


def test_robustness_map_in_maps_folder_matches_code(tmp_path):
    """maps/robustness-north-america.html is what the current code draws from the committed
    64-scenario robustness table (benchmarks/sweep_backends.py wrote both)."""
    from optimizer.scenarios.sweep import load_grid, read_robustness, robustness_map

    base = load_instance(ROOT / "instances" / "north-america")
    plan = load_grid(ROOT / "benchmarks" / "sweeps" / "north-america-64.toml", base)
    table = read_robustness(ROOT / "benchmarks" / "results" / "sweep-north-america-64-robustness.csv")
    assert int(table["scenarios_solved"].max()) == len(plan.scenarios) == 64
    robustness_map(base, table, plan.factors, tmp_path / "r.html")
    committed = (MAPS / "robustness-north-america.html").read_text(encoding="utf-8")
    assert_same_map((tmp_path / "r.html").read_text(encoding="utf-8"), committed,
                    "python benchmarks/sweep_backends.py --redraw")


def test_demo_solution_in_maps_folder_is_current():
    """The stored demo solution is what solving the demo gives today."""
    stored = MAPS / "solutions" / "demo.json"
    if not stored.exists():
        pytest.skip("maps/ not rendered yet")
    sol = Solution.load(stored)
    fresh = solve(load_instance(DEMO), threads=1, seed=0)
    assert fresh.objective == pytest.approx(sol.objective, rel=1e-9)
    assert list(fresh.sites.loc[fresh.sites["open"], "site_id"]) == list(sol.sites.loc[sol.sites["open"].astype(bool), "site_id"])


def test_merchant_sales_at_a_negative_price_are_a_cost(tmp_path, capsys):
    """One region of 1,000 t nmc (yield 0.4, merchant price 3,500) and 1,000 t lfp (yield 0.3,
    price -250), one free existing spoke, no hubs, everything else free.  By hand: nmc black mass
    400 t sold for 1,400,000 (a revenue, reported -1,400,000); lfp 300 t at -250 is a disposal
    cost of 75,000 (reported +75,000); net cost -1,325,000."""
    from .helpers import base_toml, write_instance

    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.4, "merchant_price_per_t": 3500.0},
                                  "lfp": {"black_mass_yield": 0.3, "merchant_price_per_t": -250.0}})
    folder = write_instance(tmp_path / "m", toml, regions=[["R", "R", 0, 0, 1000, 1000]],
                            spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", 5000, 0, 0]],
                            chems=("nmc", "lfp"))
    out = tmp_path / "o"
    assert main(["solve", str(folder), "--out", str(out), "--gap", "0"]) == 0
    costs = pd.read_csv(out / "costs.csv").set_index("component")
    assert costs.loc["merchant_revenue", "value"] == pytest.approx(-1_400_000)
    assert costs.loc["merchant_revenue", "kind"] == "revenue"
    assert costs.loc["merchant_disposal", "value"] == pytest.approx(75_000)
    assert costs.loc["merchant_disposal", "kind"] == "cost"
    assert costs["value"].sum() == pytest.approx(-1_325_000)
    assert (costs.loc[costs["kind"] == "cost", "value"] >= 0).all() and (costs.loc[costs["kind"] == "revenue", "value"] <= 0).all()
    text = capsys.readouterr().out
    assert re.search(r"merchant disposal \(negative price\)\s+cost\s+75,000", text)
    assert re.search(r"merchant sales\s+revenue\s+-1,400,000", text)
    sheets = read_workbook_costs(tmp_path, out)
    assert sheets.set_index("component").loc["merchant_disposal", "kind"] == "cost"


def read_workbook_costs(tmp_path, out):
    xlsx = tmp_path / "r.xlsx"
    assert main(["export", str(out), "--xlsx", str(xlsx)]) == 0
    return read_workbook(xlsx)["costs"]
