"""Collection channels and acquisition offers, each optimum worked out by hand.

The fixtures are one or two regions on an existing spoke (capex sunk, no processing cost) that
sells black mass at the gate: a tonne of packs yields 0.5 t of black mass, so at a merchant
price P it is worth P/2 to the network, less its lane cost.  The offer ladder of the issue:
1,000 t available at (0 -> 30 %), (500 -> 60 %), (1,200 -> 90 %).
"""

from __future__ import annotations

import pytest

from optimizer import check_solution, load_instance, solve
from optimizer.errors import InstanceError
from optimizer.model.network import build_network
from optimizer.solution import SolveStatus

from .helpers import base_toml, write_csv, write_instance

EXACT = {"mip_rel_gap": 0.0}
LADDER = [("L0", 0.0, 0.3), ("L1", 500.0, 0.6), ("L2", 1200.0, 0.9)]


def _instance(tmp_path, value_per_t: float, regions=(("R1", 1000, None),), min_capture=None, scope="region",
              shares=None, channels=("dealer",), ladder=LADDER, name="ch"):
    """Regions ``(id, t, lane cost to the spoke or None)``; the ladder is offered to ``dealer``."""
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": 2.0 * value_per_t}})
    folder = write_instance(
        tmp_path / name, toml,
        regions=[[rid, rid, 0, 0.01 * k, t] for k, (rid, t, _) in enumerate(regions)],
        spokes=[["S", "", 0, 0, "existing", "std"]],
        spoke_sizes=[["S", "std", 100000, 1e6, 0]],
        lanes=[[rid, "S", None, cost or 0.0] for rid, _, cost in regions],
    )
    write_csv(folder / "channels.csv", ["id", "price_scope", "min_capture_share"],
              [[c, scope if c == "dealer" else "region", min_capture if c == "dealer" else None] for c in channels])
    if shares:
        write_csv(folder / "channel_shares.csv", ["region", "channel", "share"], shares)
    write_csv(folder / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
              [["dealer", lv, price, share] for lv, price, share in ladder])
    return folder


def _levels(sol) -> dict[tuple[str, str], str]:
    return {(r.region_id, r.channel): r.level for r in sol.channels.itertuples(index=False)}


@pytest.mark.parametrize(("value", "level", "objective"), [
    # value 400/t: L0 300 * 400 = 120,000; L1 600 * -100 < 0; L2 900 * -800 < 0
    (400.0, "L0", -120_000.0),
    # value 1,100/t: L0 330,000; L1 600 * 600 = 360,000; L2 900 * -100 = -90,000
    (1100.0, "L1", -360_000.0),
    # value 3,000/t: L0 900,000; L1 600 * 2,500 = 1,500,000; L2 900 * 1,800 = 1,620,000
    (3000.0, "L2", -1_620_000.0),
])
def test_the_best_offer_level_by_hand(tmp_path, value, level, objective):
    inst = load_instance(_instance(tmp_path, value))
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): level}
    price, share = {lv: (p, s) for lv, p, s in LADDER}[level]
    row = sol.channels.iloc[0]
    assert row["captured_t"] == pytest.approx(1000 * share)
    assert sol.cost("acquisition") == pytest.approx(1000 * share * price)
    assert sol.regions["captured_t"].sum() == pytest.approx(1000 * share)
    assert sol.regions["collected_t"].sum() == pytest.approx(1000 * share)  # a tonne bought is treated
    assert check_solution(inst, sol) == []


def test_a_take_back_duty_forces_a_dearer_offer(tmp_path):
    """At 400/t L0 pays best (-120,000); a 50 % minimum capture share rules L0 out and leaves
    L1 (600 * (400 - 500) = -60,000, a cost of 60,000) over L2 (900 * -800)."""
    inst = load_instance(_instance(tmp_path, 400.0, min_capture=0.5))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(60_000.0, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): "L1"}
    assert check_solution(inst, sol) == []


def test_a_national_price_list_is_one_choice_for_every_region(tmp_path):
    """R1 ships free (worth 3,000/t), R2 pays a 2,600/t lane (worth 400/t).  Per region: R1 at L2
    (1,620,000) and R2 at L0 (120,000), -1,740,000.  One national level: L0 300 * 3,400 =
    1,020,000; L1 600 * 2,500 + 600 * -100 = 1,440,000; L2 900 * 1,800 + 900 * -800 = 900,000."""
    regions = (("R1", 1000, None), ("R2", 1000, 2600.0))
    regional = solve(load_instance(_instance(tmp_path, 3000.0, regions=regions, name="regional")), **EXACT)
    assert regional.objective == pytest.approx(-1_740_000.0, rel=1e-9)
    assert _levels(regional) == {("R1", "dealer"): "L2", ("R2", "dealer"): "L0"}
    inst = load_instance(_instance(tmp_path, 3000.0, regions=regions, scope="national", name="national"))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(-1_440_000.0, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): "L1", ("R2", "dealer"): "L1"}
    assert check_solution(inst, sol) == []


def test_a_channel_without_offers_is_captured_whatever_it_costs(tmp_path):
    """60 % of the 1,000 t sit with dealers (the ladder), 40 % with fleets (no offers: free and
    all captured, so collected even at a loss).  Worth -100/t (black mass sold at -200/t):
    the fleets' 400 t cost 40,000; no dealer level pays (L0: 180 t * -100)."""
    folder = _instance(tmp_path, -100.0, channels=("dealer", "fleet"),
                       shares=[["*", "dealer", 0.6], ["*", "fleet", 0.4]])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(40_000.0, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): "", ("R1", "fleet"): ""}
    ch = sol.channels.set_index("channel")
    assert ch.at["fleet", "captured_t"] == pytest.approx(400.0) and ch.at["dealer", "captured_t"] == 0.0
    assert check_solution(inst, sol) == []


def test_an_instance_without_channels_has_one_free_channel(tmp_path):
    """No channels.csv: every region's supply is the implicit channel 'all', captured in full."""
    folder = write_instance(tmp_path / "plain", base_toml(), regions=[["A", "A", 0, 0, 700]],
                            spokes=[["S", "", 0, 0, "candidate", ""]], spoke_sizes=[["S", "std", 1000, 1e6, 0]])
    sol = solve(load_instance(folder), **EXACT)
    assert sol.objective == pytest.approx(100_000.0, rel=1e-9)  # capex 1 M at CRF 1/10
    row = sol.channels.iloc[0]
    assert (row["channel"], row["available_t"], row["captured_t"], row["price_per_t"]) == ("all", 700.0, 700.0, 0.0)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda f: write_csv(f / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
                         [["dealer", "a", 0, 0.5], ["dealer", "b", 100, 0.4]]), "offers.csv, row 3, field 'capture_share'"),
    (lambda f: write_csv(f / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
                         [["dealers", "a", 0, 0.5]]), "offers.csv, row 2, field 'channel'"),
    (lambda f: write_csv(f / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
                         [["dealer", "a", 0, 1.5]]), "offers.csv, row 2, field 'capture_share'"),
    (lambda f: write_csv(f / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
                         [["dealer", "a", 0, 0.2], ["dealer", "A", 10, 0.3]]), "offers.csv, row 3, field 'level'"),
    (lambda f: write_csv(f / "channels.csv", ["id", "min_capture_share"], [["dealer", 0.95]]),
     "channels.csv, row 2, field 'min_capture_share'"),
    (lambda f: write_csv(f / "channel_shares.csv", ["region", "channel", "share"], [["*", "dealer", 0.7]]),
     "channel_shares.csv, row 2, field 'share'"),
])
def test_bad_channel_input_is_located(tmp_path, change, expected):
    folder = _instance(tmp_path, 1000.0)
    change(folder)
    with pytest.raises(InstanceError) as e:
        load_instance(folder)
    assert expected in str(e.value), str(e.value)


# --- business-model levers ---------------------------------------------------------------------

def test_an_owned_channel_is_captured_free(tmp_path):
    """Owning the dealer channel (``own_channels``): all 1,000 t captured at no price, worth
    1,000 x 400 = 400,000 (vs 120,000 at the best offer, L0)."""
    from optimizer.scenarios.overrides import apply, parse_scenario

    base = load_instance(_instance(tmp_path, 400.0))
    sol = solve(apply(base, parse_scenario({"own_channels": ["dealer"]}, base)), **EXACT)
    assert sol.objective == pytest.approx(-400_000.0, rel=1e-9)
    assert sol.channels["captured_t"].sum() == pytest.approx(1000.0)
    assert sol.cost("acquisition") == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InstanceError, match="unknown channel 'dealr'; did you mean 'dealer'"):
        parse_scenario({"own_channels": ["dealr"]}, base)


def test_a_zero_price_factor_keeps_the_ladder_and_takes_its_best_share(tmp_path):
    """``offer_price_by_channel = {dealer = 0}``: every level at price 0, so the best share (90 %)
    is taken: 900 x 400 = 360,000."""
    from optimizer.scenarios.overrides import apply, parse_scenario

    base = load_instance(_instance(tmp_path, 400.0))
    inst = apply(base, parse_scenario({"offer_price_by_channel": {"dealer": 0.0}}, base))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(-360_000.0, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): "L2"}
    assert check_solution(inst, sol) == []


def test_a_grid_runs_scenario_files_beside_it(tmp_path):
    """``[[scenarios]] file = ...`` reads the scenario file (name = its stem, table keys override
    it); a path leaving the grid's folder is refused."""
    from optimizer.scenarios.sweep import load_grid

    base = load_instance(_instance(tmp_path, 400.0))
    (tmp_path / "own.toml").write_text('description = "x"\nown_channels = ["dealer"]\n', encoding="utf-8")
    (tmp_path / "grid.toml").write_text('[[scenarios]]\nfile = "own.toml"\n\n[[scenarios]]\nfile = "own.toml"\n'
                                        'name = "cheap"\noffer_price = 0.5\n', encoding="utf-8")
    plan = load_grid(tmp_path / "grid.toml", base)
    assert [s.name for s in plan.scenarios] == ["own", "cheap"]
    assert plan.scenarios[0].overrides == {"own_channels": ["dealer"]}
    assert plan.scenarios[1].overrides == {"own_channels": ["dealer"], "offer_price": 0.5}
    (tmp_path / "bad.toml").write_text('[[scenarios]]\nfile = "../own.toml"\n', encoding="utf-8")
    with pytest.raises(InstanceError, match="in the grid file's folder"):
        load_grid(tmp_path / "bad.toml", base)


def test_the_results_workbook_has_the_channels_sheet(tmp_path):
    """The channels table as a sheet with units and number formats, read back unchanged."""
    import openpyxl

    from optimizer.report.workbook import read_workbook, write_workbook

    inst = load_instance(_instance(tmp_path, 1100.0))
    sol = solve(inst, **EXACT)
    path = write_workbook(sol, tmp_path / "results.xlsx", inst)
    ws = openpyxl.load_workbook(path)["channels"]
    header = [c.value for c in ws[1]]
    assert "acquisition cost [USD/yr]" in header and "capture share [-]" in header
    for cell in ws[2]:
        if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            assert cell.number_format != "General", header[cell.column - 1]
    back = read_workbook(path)["channels"]
    assert back["level"].tolist() == ["L1"]
    assert back["acquisition_cost"].iloc[0] == pytest.approx(600 * 500.0)


def test_an_infeasible_take_back_duty_is_diagnosed_by_channel(tmp_path):
    """1,000 t held by the dealer channel with a 50 % duty: the cheapest level meeting it is L1
    (60 %), so 600 t are captured and, at min_collection_rate 1, must be collected; the one spoke
    takes 500 t: 100 t short, and the diagnosis names the channel and its 600 t."""
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": 800.0}},
                     collection={"min_collection_rate": 1.0})
    folder = write_instance(tmp_path / "duty", toml, regions=[["R1", "R1", 0, 0, 1000]],
                            spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", 500, 1e6, 0]])
    write_csv(folder / "channels.csv", ["id", "price_scope", "min_capture_share"], [["dealer", "region", 0.5]])
    write_csv(folder / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
              [["dealer", lv, price, share] for lv, price, share in LADDER])
    sol = solve(load_instance(folder), **EXACT)
    assert sol.status == SolveStatus.INFEASIBLE
    d = sol.diagnosis
    assert d.total_shortfall_t == pytest.approx(100.0, abs=1e-6)
    text = str(d)
    assert "channel 'dealer'" in text and "at least 60 %" in text and "600.0 t/yr captured" in text, text


def test_arcs_out_of_a_region_are_bounded_by_what_its_best_offers_capture(tmp_path):
    """The big-M of a region's arcs (and of its uncollected tonnes) is what the best offers can
    win, not the whole supply: 1,000 t, 70 % with the dealer (best share 0.9 -> 630 t), 30 % with a
    free channel (300 t): 930 t.  The optimum is the one worked out by hand (value 3,000/t: the
    free 300 t plus L2's 630 t, 930 x 3,000 - 630 x 1,200 = 2,034,000)."""
    inst = load_instance(_instance(tmp_path, 3000.0, channels=("dealer", "free"),
                                   shares=[["*", "dealer", 0.7], ["*", "free", 0.3]]))
    net = build_network(inst)
    sup = net.supply.set_index("region_id")
    assert sup.at["R1", "supply_t"] == pytest.approx(1000.0)
    assert sup.at["R1", "captured_max_t"] == pytest.approx(930.0)
    assert net.arcs["region_spoke"]["ub_t"].tolist() == pytest.approx([930.0])
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(-2_034_000.0, rel=1e-9)
    assert _levels(sol) == {("R1", "dealer"): "L2", ("R1", "free"): ""}


def test_summary_shows_each_chemistry_of_a_channel_with_its_own_figures(tmp_path):
    """One region, 1,000 t NMC and 1,000 t LFP on the dealer channel; black-mass yield 0.5, no
    processing or lane cost.  NMC black mass sells at 2,200/t (a tonne of packs is worth 1,100);
    LFP black mass costs 200/t to get rid of (a tonne of packs is worth -100, still better than the
    1,000/t uncollected penalty).  NMC ladder as above: L1 pays best (600 x 600 = 360,000).  LFP has
    one level, a gate fee of 300/t earned on 50 % captured: 500 x (300 - 100) = 100,000.  So the
    summary has two dealer rows:

    * nmc: 1,000 available, 600 captured (60 %), acquisition 600 x 500 = 300,000, mean price 500,
      marginal value 1,100 (the tonne's worth; the offer is fixed with the network);
    * lfp: 1,000 available, 500 captured (50 %), acquisition 500 x -300 = -150,000, mean price
      -300, marginal value -100.
    """
    from optimizer.report.tables import summary_text

    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": 2200.0},
                                  "lfp": {"black_mass_yield": 0.5, "merchant_price_per_t": -200.0}},
                     collection={"uncollected_penalty_per_t": 1000.0, "min_collection_rate": 0.0})
    folder = write_instance(tmp_path / "two", toml, regions=[["R1", "R1", 0, 0, 1000, 1000]],
                            spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", 100000, 1e6, 0]],
                            chems=("nmc", "lfp"))
    write_csv(folder / "channels.csv", ["id", "price_scope"], [["dealer", "region"]])
    write_csv(folder / "offers.csv", ["channel", "chemistry", "level", "price_per_t", "capture_share"],
              [["dealer", "nmc", lv, price, share] for lv, price, share in LADDER] + [["dealer", "lfp", "G", -300.0, 0.5]])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(-460_000.0, rel=1e-9)
    assert check_solution(inst, sol) == []
    rows = {}
    for line in summary_text(sol, inst).splitlines():
        parts = line.split()
        if parts[:1] == ["dealer"] or (rows and len(parts) == 8 and parts[0] in ("nmc", "lfp")):
            parts = parts[1:] if parts[0] == "dealer" else parts  # pandas prints the channel once
            rows[parts[0]] = parts[1:]
    assert rows == {
        "nmc": ["1,000", "600", "60", "%", "300,000", "500", "1,100"],
        "lfp": ["1,000", "500", "50", "%", "-150,000", "-300", "-100"],
    }
