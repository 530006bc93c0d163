"""Collection points: the optional tier before the spokes, each optimum worked out by hand.

The fixture: three regions of 100 t each and one existing spoke (capex sunk, no processing
cost) selling black mass at a price of 0, so the objective is transport plus the collection
point's fixed cost.  Quoted lanes: region -> spoke 50/t, region -> collection point C 5/t
(first mile), C -> spoke 15/t (line haul).  C may run ``own`` (1,000 t, fixed 6,000/yr) or
``partner`` (150 t, fixed 2,000/yr):

* all direct: 300 x 50 = 15,000;
* own: 300 x (5 + 15) + 6,000 = 12,000;
* partner: 150 x 20 + 150 x 50 + 2,000 = 12,500.
"""

from __future__ import annotations

import pytest

from optimizer import check_solution, load_instance, solve
from optimizer.errors import InstanceError
from optimizer.solution import SolveStatus

from .helpers import base_toml, toml_text, write_csv, write_instance

EXACT = {"mip_rel_gap": 0.0}


def _instance(tmp_path, own_fixed=6000.0, partner_fixed=2000.0, modes=None, name="cp"):
    folder = write_instance(
        tmp_path / name, base_toml(),
        regions=[["R1", "R1", 0, 0.0, 100], ["R2", "R2", 0, 0.1, 100], ["R3", "R3", 0, 0.2, 100]],
        spokes=[["S", "", 0, 5, "existing", "std"]], spoke_sizes=[["S", "std", 10000, 1e6, 0]],
        lanes=[[r, "S", None, 50] for r in ("R1", "R2", "R3")] + [[r, "C", None, 5] for r in ("R1", "R2", "R3")]
        + [["C", "S", None, 15]])
    write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status"], [["C", "Consolidation", 0, 0.1, "candidate"]])
    write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
              modes or [["C", "own", 1000, 0, own_fixed], ["C", "partner", 150, 0, partner_fixed]])
    return folder


def _mode(sol) -> str:
    cp = sol.sites[(sol.sites["kind"] == "collection_point") & sol.sites["open"].astype(bool)]
    return cp["size"].iat[0] if len(cp) else ""


@pytest.mark.parametrize(("own_fixed", "partner_fixed", "mode", "objective"), [
    (6000.0, 2000.0, "own", 12_000.0),  # own 12,000 < partner 12,500 < direct 15,000
    (8000.0, 2000.0, "partner", 12_500.0),  # own 14,000 > partner 12,500
    (10000.0, 5000.0, "", 15_000.0),  # own 16,000, partner 15,500: direct 15,000 is cheapest
])
def test_consolidation_pays_for_its_fixed_cost_or_is_skipped(tmp_path, own_fixed, partner_fixed, mode, objective):
    inst = load_instance(_instance(tmp_path, own_fixed, partner_fixed))
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert _mode(sol) == mode
    via = sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "flow_t"].sum()
    assert via == pytest.approx({"own": 300.0, "partner": 150.0, "": 0.0}[mode])
    assert sol.cost("transport_line_haul") == pytest.approx(15.0 * via)
    assert sol.cost("transport_first_mile") == pytest.approx(5.0 * via)
    assert check_solution(inst, sol) == []


@pytest.mark.parametrize(("single", "objective", "via_point_t"), [
    # own 9,000/yr: 300 x 20 + 9,000 = 15,000 = direct; the partner (150 t) fills up from any
    # regions: 150 x 20 + 150 x 50 + 2,000 = 12,500
    (False, 12_500.0, 150.0),
    # one contract per region: the partner can take one whole region (100 t <= 150 t), the other
    # two ship direct: 100 x 20 + 200 x 50 + 2,000 = 14,000 (own 15,000, direct 15,000)
    (True, 14_000.0, 100.0),
])
def test_single_sourcing_contracts_a_region_to_a_point_or_a_spoke(tmp_path, single, objective, via_point_t):
    inst = load_instance(_instance(tmp_path, own_fixed=9000.0))
    sol = solve(inst, single_sourcing=single, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert _mode(sol) == "partner"
    first = sol.flows[(sol.flows["echelon"] == "region_collection_point") & (sol.flows["flow_t"] > 1e-6)]
    assert first["flow_t"].sum() == pytest.approx(via_point_t)
    if single:
        direct = sol.flows[(sol.flows["echelon"] == "region_spoke") & (sol.flows["flow_t"] > 1e-6)]
        assert first["origin"].nunique() == 1 and set(first["origin"]).isdisjoint(direct["origin"])
    assert check_solution(inst, sol) == []


@pytest.mark.parametrize(("partner_cost", "mode", "objective"), [
    # own: 300 x (20 + 5) + 6,000 = 13,500; partner (1,000 t): 300 x (20 + 25) + 2,000 = 15,500;
    # direct 15,000 -- own wins on its lower handling cost, though its fixed cost is higher
    (25.0, "own", 13_500.0),
    # partner at 15/t: 300 x 35 + 2,000 = 12,500 < own 13,500
    (15.0, "partner", 12_500.0),
])
def test_each_mode_charges_its_own_handling_cost(tmp_path, partner_cost, mode, objective):
    folder = _instance(tmp_path)
    write_csv(folder / "collection_point_modes.csv",
              ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr", "processing_cost_per_t"],
              [["C", "own", 1000, 0, 6000, 5.0], ["C", "partner", 1000, 0, 2000, partner_cost]])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert _mode(sol) == mode
    assert sol.cost("collection_point_processing") == pytest.approx(300 * {"own": 5.0, "partner": partner_cost}[mode])
    assert check_solution(inst, sol) == []
    costs = sol.costs.copy()  # a report charging the other mode's rate is caught
    costs.loc[costs["component"] == "collection_point_processing", "value"] = 300 * 20.0
    import dataclasses

    rules = {v.rule for v in check_solution(inst, dataclasses.replace(sol, costs=costs))}
    assert "cost:collection_point_processing" in rules


def test_the_checker_catches_a_collection_point_that_loses_packs(tmp_path):
    inst = load_instance(_instance(tmp_path))
    sol = solve(inst, **EXACT)
    flows = sol.flows.copy()
    out = flows["echelon"] == "collection_point_spoke"
    flows.loc[out, "flow_t"] -= 10.0  # 10 t gathered at C never reach the spoke
    flows.loc[out, "transport_cost"] = flows.loc[out, "flow_t"] * 15.0
    import dataclasses

    broken = dataclasses.replace(sol, flows=flows)
    rules = {v.rule for v in check_solution(inst, broken)}
    assert any("mass_balance" in r or "balance" in r for r in rules), rules


def test_first_mile_and_line_haul_rates_apply_per_km(tmp_path):
    """Without quoted lanes: first mile at 2.0/t-km over R->C, line haul at 0.1/t-km over C->S;
    the checker recomputes every lane's km and cost itself."""
    toml = base_toml(transport={"first_mile_cost_per_t_km": 2.0, "line_haul_cost_per_t_km": 0.1, "pack_cost_per_t_km": 1.0})
    folder = write_instance(tmp_path / "km", toml, regions=[["R1", "R1", 0, 0.0, 100], ["R2", "R2", 0, 0.2, 100]],
                            spokes=[["S", "", 0, 5, "existing", "std"]], spoke_sizes=[["S", "std", 10000, 1e6, 0]])
    write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status"], [["C", "", 0, 0.1, "candidate"]])
    write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
              [["C", "own", 1000, 0, 100]])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    # ~11.1 km first mile at 2.0 (22.2/t) + ~545 km line haul at 0.1 (54.5/t) = ~76.7/t, vs ~545 km
    # direct at 1.0 (545/t): consolidation wins by far
    assert _mode(sol) == "own"
    fl = sol.flows.set_index(["echelon", "origin"])
    assert fl.loc[("region_collection_point", "R1"), "cost_per_t"] == pytest.approx(2.0 * fl.loc[("region_collection_point", "R1"), "km"])
    assert fl.loc[("collection_point_spoke", "C"), "cost_per_t"] == pytest.approx(0.1 * fl.loc[("collection_point_spoke", "C"), "km"])
    assert check_solution(inst, sol) == []


def test_collection_point_levers_scale_only_their_tier(tmp_path):
    from optimizer.scenarios.overrides import apply, parse_scenario

    base = load_instance(_instance(tmp_path))
    inst = apply(base, parse_scenario({"collection_point_opex": 0.5, "collection_point_capacity": 2.0}, base))
    assert inst.collection_point_modes["fixed_opex_per_yr"].tolist() == [3000.0, 1000.0]
    assert inst.collection_point_modes["capacity_t"].tolist() == [2000.0, 300.0]
    assert inst.spoke_sizes["fixed_opex_per_yr"].tolist() == base.spoke_sizes["fixed_opex_per_yr"].tolist()
    # own now costs 300 x 20 + 3,000 = 9,000; partner, now 300 t, takes everything: 6,000 + 1,000
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(7_000.0, rel=1e-9) and _mode(sol) == "partner"


@pytest.mark.parametrize(("modes", "field", "expected"), [
    ([["C", "own", 1000, 0, 1], ["C", "OWN", 500, 0, 1]], "size", "size names unique per site"),
    ([["X", "own", 1000, 0, 1]], "site_id", "an id from collection_points.csv"),
])
def test_bad_collection_point_input_is_located(tmp_path, modes, field, expected):
    with pytest.raises(InstanceError) as exc:
        load_instance(_instance(tmp_path, modes=modes))
    hits = [i for i in exc.value.issues if i.file == "collection_point_modes.csv" and i.field == field]
    assert hits and expected in hits[0].expected, exc.value.issues


def test_a_collection_point_without_modes_is_located(tmp_path):
    folder = _instance(tmp_path)
    write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"], [])
    with pytest.raises(InstanceError) as exc:
        load_instance(folder)
    assert any(i.file == "collection_points.csv" and "at least one size option" in i.expected for i in exc.value.issues)


def test_the_map_draws_collection_points_and_both_legs(tmp_path):
    from optimizer.report.maps import MapOptions, map_html

    inst = load_instance(_instance(tmp_path))
    html = map_html(inst, solve(inst, **EXACT), MapOptions(offline=True))
    assert "Open collection points" in html and "sh-cp" in html
    assert "sh-flow-first-mile" in html and "sh-flow-line-haul" in html
    demo_like = load_instance(_instance(tmp_path, own_fixed=1e9, partner_fixed=1e9, name="never"))
    assert "sh-flow-line-haul" not in map_html(demo_like, solve(demo_like, **EXACT), MapOptions(offline=True))


#: every collection-point tier lever, and where its factor lands (tests/test_overrides.py counts these)
CP_LEVERS = {
    "collection_point_capacity": ("modes", "capacity_t"),
    "collection_point_capex": ("modes", "capex"),
    "collection_point_opex": ("modes", "fixed_opex_per_yr"),
    "collection_point_min_throughput": ("modes", "min_throughput_t"),
    "collection_point_processing_cost": ("sites", "processing_cost_per_t"),
    "collection_point_closure_cost": ("sites", "closure_cost"),
}


@pytest.mark.parametrize("key", sorted(CP_LEVERS))
def test_each_collection_point_lever_doubles_its_number_only(tmp_path, key):
    from optimizer.scenarios.overrides import apply, parse_scenario

    folder = _instance(tmp_path, modes=[["C", "own", 1000, 4000, 600], ["C", "partner", 150, 0, 2000]])
    write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status", "existing_size", "closure_cost",
                                                 "processing_cost_per_t"], [["C", "", 0, 0.1, "existing", "own", 500, 4]])
    text = (folder / "collection_point_modes.csv").read_text().splitlines()
    rows = [text[0] + ",min_throughput_t"] + [line + ",10" for line in text[1:]]
    (folder / "collection_point_modes.csv").write_text("\n".join(rows) + "\n")
    base = load_instance(folder)
    inst = apply(base, parse_scenario({key: 2.0}, base))
    table, col = CP_LEVERS[key]
    attr = "collection_point_modes" if table == "modes" else "collection_points"
    before, after = getattr(base, attr)[col].to_numpy(float), getattr(inst, attr)[col].to_numpy(float)
    assert after.tolist() == pytest.approx((2.0 * before).tolist())
    for other in ("spoke_sizes", "spokes"):
        assert getattr(inst, other).equals(getattr(base, other)) or getattr(inst, other).fillna(-1).equals(getattr(base, other).fillna(-1))


# --- the channels a point accepts ------------------------------------------------------------------
#
# The fixture's 300 t split 60 % dealer (180 t) / 40 % fleet (120 t), both free (no ladder, all
# captured).  A point taking some channels only gets no more than those channels hold; the rest
# goes direct at 50/t.  Fixed cost 2,000/yr (own mode only):
#
# * every channel: 300 x 20 + 2,000 = 8,000;
# * dealers only: 180 x 20 + 2,000 + 120 x 50 = 11,600;
# * fleets only: 120 x 20 + 2,000 + 180 x 50 = 13,400 (below all direct, 15,000).


def _channel_instance(tmp_path, accepts: dict[str, str], fixed: float = 2000.0, name="cpch"):
    folder = _instance(tmp_path, name=name, modes=[[c, "own", 1000, 0, fixed] for c in accepts])
    points = [[c, c, 0, 0.1, "candidate", ch] for c, ch in accepts.items()]
    write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status", "channels"], points)
    lanes = [[r, "S", None, 50] for r in ("R1", "R2", "R3")]
    for c in accepts:
        lanes += [[r, c, None, 5] for r in ("R1", "R2", "R3")] + [[c, "S", None, 15]]
    write_csv(folder / "lanes.csv", ["origin", "destination", "km", "cost_per_t"], lanes)
    write_csv(folder / "channels.csv", ["id", "price_scope"], [["dealer", "region"], ["fleet", "region"]])
    write_csv(folder / "channel_shares.csv", ["region", "channel", "share"], [["*", "dealer", 0.6], ["*", "fleet", 0.4]])
    return folder


@pytest.mark.parametrize(("accepts", "objective", "via"), [
    ("", 8_000.0, 300.0),
    ("dealer", 11_600.0, 180.0),
    ("fleet", 13_400.0, 120.0),
    ("dealer;fleet", 8_000.0, 300.0),
])
def test_a_point_takes_only_the_channels_it_accepts(tmp_path, accepts, objective, via):
    inst = load_instance(_channel_instance(tmp_path, {"C": accepts}))
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "flow_t"].sum() == pytest.approx(via)
    assert check_solution(inst, sol) == []


@pytest.mark.parametrize(("accepts", "objective", "via"), [
    # two free points both taking dealers only: together they get the 180 dealer t, not 180 each
    # (a bound per point would let 300 t through, 6,000): 180 x 20 + 120 x 50 = 9,600
    ({"C": "dealer", "D": "dealer"}, 9_600.0, 180.0),
    # one takes dealers, the other fleets: everything goes through them, 300 x 20 = 6,000
    ({"C": "dealer", "D": "fleet"}, 6_000.0, 300.0),
])
def test_points_share_the_channels_they_accept(tmp_path, accepts, objective, via):
    inst = load_instance(_channel_instance(tmp_path, accepts, fixed=0.0))
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    assert sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "flow_t"].sum() == pytest.approx(via)
    assert check_solution(inst, sol) == []


@pytest.mark.parametrize(("text", "got"), [("dealers", "dealers"), (";", "accepting no channel")])
def test_a_point_naming_an_unknown_channel_or_none_is_refused(tmp_path, text, got):
    folder = _channel_instance(tmp_path, {"C": text})
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    msg = str(err.value)
    assert "collection_points.csv" in msg and "row 2" in msg and "channels" in msg and got in msg, msg


def test_the_checker_catches_a_point_taking_a_channel_it_does_not_accept(tmp_path):
    """The every-channel optimum (300 t through C) checked against the dealers-only instance:
    C got 300 t from three regions holding 60 t of dealer packs each, 180 t in all."""
    every = load_instance(_channel_instance(tmp_path, {"C": ""}, name="every"))
    dealers = load_instance(_channel_instance(tmp_path, {"C": "dealer"}, name="dealers"))
    sol = solve(every, **EXACT)
    assert check_solution(every, sol) == []
    found = [v for v in check_solution(dealers, sol) if v.rule == "channel_acceptance"]
    assert len(found) == 3, found  # one per region: 100 t sent, 60 t of dealer packs
    assert all(v.amount == pytest.approx(40.0) for v in found), found


def test_a_sub_network_keeps_each_points_accepted_channels(tmp_path):
    """The warm start solves the model on a sub-network (:func:`restrict_to_sites`), whose arcs
    are renumbered.  Three free points: C takes every channel (the full optimum, 300 t through C:
    6,000), D and E dealers only.  Without C, D and E together get the 60 dealer t of each region
    (Gale's row over the pair; each arc alone is bounded by 60 t, which would let 100 t through):
    180 x 20 + 120 x 50 = 9,600.  Rows placed by arc position rather than by point (the defect
    the key matching fixed) or left out both let more through."""
    from optimizer.heuristic import WarmStart, _to_full, restrict_to_sites
    from optimizer.highs import run_highs
    from optimizer.model.build import build_model
    from optimizer.options import SolveOptions

    from .helpers import start_solution

    inst = load_instance(_channel_instance(tmp_path, {"C": "", "D": "dealer", "E": "dealer"}, fixed=0.0))
    net = build_model(inst).net
    part = restrict_to_sites(net, {"D", "E"})
    assert set(part.tiers["collection_point"].options["site_id"]) == {"D", "E"}
    opts = SolveOptions(threads=1, mip_rel_gap=0.0)
    run = run_highs(build_model(inst, opts.model_options(), net=part), opts)
    assert run.status == SolveStatus.OPTIMAL
    assert run.objective == pytest.approx(9_600.0, rel=1e-9)
    sol = start_solution(inst, net, WarmStart(_to_full(net, part, run.values), run.objective, 0.0, 0, 0))
    assert check_solution(inst, sol) == []
    via = sol.flows[sol.flows["echelon"] == "collection_point_spoke"]
    assert set(via.loc[via["flow_t"] > 1e-6, "origin"]) <= {"D", "E"}
    assert via["flow_t"].sum() == pytest.approx(180.0)


# --- damaged packs ---------------------------------------------------------------------------------
#
# The channel fixture again, with road km on every lane (R -> S 100 km, R -> C 10 km, C -> S 150 km)
# and half the dealer packs damaged (damaged_share 0.5: 30 t per region, 90 t in all; fleet packs
# sound).  Damaged packs pay 0.2/t km more on their haul from the region: 20/t straight to the
# spoke, 2/t to the point (the line haul on from the point is not surcharged).  Fixed cost 2,000.
#
# * every channel: all 300 t via C, 300 x 20 + 2,000 + 90 x 2 = 8,180;
# * dealers only: dealers via C, fleets direct: 180 x 20 + 2,000 + 120 x 50 + 90 x 2 = 11,780;
# * fleets only: fleets via C, dealers direct -- their 90 damaged t among them, 20/t:
#   120 x 20 + 2,000 + 180 x 50 + 90 x 20 = 15,200 (all direct: 15,000 + 1,800 = 16,800).  A
#   model that let the damaged tonnes ride on the fleet flows into C would report 13,580.


def _damaged_instance(tmp_path, accepts: str, capacity: float = 1000.0, name="dmg", surcharge: float | None = 0.2):
    folder = _channel_instance(tmp_path, {"C": accepts}, name=name)
    write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
              [["C", "own", capacity, 0, 2000.0]])
    # road km quoted, rates per t km: 100 x 0.5 = 50, 10 x 0.5 = 5, 150 x 0.1 = 15
    lanes = [[r, "S", 100, None] for r in ("R1", "R2", "R3")] + [[r, "C", 10, None] for r in ("R1", "R2", "R3")] + [["C", "S", 150, None]]
    write_csv(folder / "lanes.csv", ["origin", "destination", "km", "cost_per_t"], lanes)
    write_csv(folder / "channels.csv", ["id", "price_scope", "damaged_share"], [["dealer", "region", 0.5], ["fleet", "region", 0.0]])
    transport = {"pack_cost_per_t_km": 0.5, "first_mile_cost_per_t_km": 0.5, "line_haul_cost_per_t_km": 0.1}
    if surcharge is not None:
        transport["damaged_pack_surcharge_per_t_km"] = surcharge
    (folder / "instance.toml").write_text(toml_text(base_toml(transport=transport)), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("accepts", "objective", "damaged_via_point"), [
    ("", 8_180.0, 90.0),
    ("dealer", 11_780.0, 90.0),
    ("fleet", 15_200.0, 0.0),
])
def test_damaged_packs_pay_their_surcharge_on_the_haul_from_the_region(tmp_path, accepts, objective, damaged_via_point):
    inst = load_instance(_damaged_instance(tmp_path, accepts))
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(objective, rel=1e-9)
    first = sol.flows[sol.flows["echelon"].isin(["region_spoke", "region_collection_point"])]
    assert first["damaged_t"].sum() == pytest.approx(90.0)
    assert first.loc[first["echelon"] == "region_collection_point", "damaged_t"].sum() == pytest.approx(damaged_via_point)
    assert (sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "damaged_t"] == 0).all()
    assert check_solution(inst, sol) == []


def test_a_full_point_takes_the_damaged_packs_first(tmp_path):
    """C holds 150 t.  Any tonne through C saves 50 - 20 = 30/t; a damaged one saves 20 - 2 = 18/t
    more, so C fills with the 90 damaged t and 60 sound ones: 150 x 20 + 150 x 50 + 2,000 + 90 x 2
    = 12,680 (a proportional split -- 45 damaged t through C -- would cost 45 x 18 more)."""
    inst = load_instance(_damaged_instance(tmp_path, "", capacity=150.0))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(12_680.0, rel=1e-9)
    via = sol.flows[sol.flows["echelon"] == "region_collection_point"]
    assert via["flow_t"].sum() == pytest.approx(150.0) and via["damaged_t"].sum() == pytest.approx(90.0)
    assert check_solution(inst, sol) == []


def test_damaged_packs_may_be_the_ones_left_uncollected(tmp_path):
    """No point; R -> S costs 25/t over 100 km, damaged packs 25 + 0.2 x 100 = 45/t, against an
    uncollected penalty of 30/t (collection rate 0): the sound 210 t are collected (25 < 30), the
    90 damaged t left (45 > 30): 210 x 25 + 90 x 30 = 7,950."""
    folder = _damaged_instance(tmp_path, "", name="unc")
    (folder / "collection_points.csv").unlink()
    (folder / "collection_point_modes.csv").unlink()
    write_csv(folder / "lanes.csv", ["origin", "destination", "km", "cost_per_t"], [[r, "S", 100, None] for r in ("R1", "R2", "R3")])
    toml = base_toml(transport={"pack_cost_per_t_km": 0.25, "damaged_pack_surcharge_per_t_km": 0.2},
                     collection={"uncollected_penalty_per_t": 30.0, "min_collection_rate": 0.0})
    (folder / "instance.toml").write_text(toml_text(toml), encoding="utf-8")
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(7_950.0, rel=1e-9)
    packs = sol.flows[sol.flows["echelon"] == "region_spoke"]
    assert packs["flow_t"].sum() == pytest.approx(210.0) and packs["damaged_t"].sum() == pytest.approx(0.0)
    assert sol.regions["uncollected_t"].sum() == pytest.approx(90.0)
    assert check_solution(inst, sol) == []


def test_the_checker_catches_damaged_packs_lost_misplaced_or_not_charged(tmp_path):
    import dataclasses

    inst = load_instance(_damaged_instance(tmp_path, "fleet"))
    sol = solve(inst, **EXACT)
    assert check_solution(inst, sol) == []
    flows = sol.flows.copy()
    lost = flows.assign(damaged_t=0.0, transport_cost=flows["flow_t"] * flows["cost_per_t"])  # surcharge dropped with them
    rules = {v.rule for v in check_solution(inst, dataclasses.replace(sol, flows=lost))}
    assert "damaged_packs" in rules, rules
    # the damaged tonnes moved onto the fleet flows into C (a fleets-only point), costs made to match
    moved = flows.copy()
    into_c = moved["echelon"] == "region_collection_point"
    direct = moved["echelon"] == "region_spoke"
    moved.loc[into_c, "damaged_t"] = 30.0
    moved.loc[direct, "damaged_t"] = 0.0
    moved["transport_cost"] = moved["flow_t"] * moved["cost_per_t"] + moved["damaged_t"] * moved["km"] * 0.2
    broken = dataclasses.replace(sol, flows=moved)
    found = [v for v in check_solution(inst, broken) if v.rule == "channel_acceptance"]
    assert len(found) == 3 and all(v.amount == pytest.approx(30.0) for v in found), found  # no damaged fleet packs
    # the surcharge left out of the transport costs
    costs = sol.costs.copy()
    costs.loc[costs["component"] == "transport_pack", "value"] -= 1800.0
    rules = {v.rule for v in check_solution(inst, dataclasses.replace(sol, costs=costs))}
    assert "cost:transport_pack" in rules, rules


def test_damaged_packs_without_their_surcharge_are_refused(tmp_path):
    folder = _damaged_instance(tmp_path, "", surcharge=None)
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    msg = str(err.value)
    assert "instance.toml" in msg and "damaged_pack_surcharge_per_t_km" in msg and "dealer" in msg, msg


def _one_more_tonne(folder, channel: str, base_shares: dict[str, float]):
    """The instance with one more tonne of ``channel`` in R1 (R1's supply 101 t, its shares
    re-weighted so the other channels keep their tonnes): the +1 t re-solve, independent of
    optimizer.explain."""
    import csv

    rows = list(csv.reader(open(folder / "regions.csv", encoding="utf-8")))
    rows[1][-1] = "101"  # R1's nmc_t
    write_csv(folder / "regions.csv", rows[0], rows[1:])
    tonnes = {h: 100.0 * s + (1.0 if h == channel else 0.0) for h, s in base_shares.items()}
    shares = [["*", h, s] for h, s in base_shares.items()] + [["R1", h, t / 101.0] for h, t in tonnes.items()]
    write_csv(folder / "channel_shares.csv", ["region", "channel", "share"], shares)
    return load_instance(folder)


@pytest.mark.parametrize(("accepts", "damaged", "dealer_value", "fleet_value"), [
    # dealers only at C: one more dealer tonne goes via C (5 + 15 = 20/t), a fleet tonne direct (50/t)
    ("dealer", None, -20.0, -50.0),
    # fleets only at C, half the dealer packs damaged: a dealer tonne goes direct at 50 + 0.5 x 20
    # (the damaged half's surcharge) = 60/t, a fleet tonne via C at 20/t
    ("fleet", 0.2, -60.0, -20.0),
    # every channel at C: a dealer tonne via C at 20 + 0.5 x 2 = 21/t, a fleet tonne 20/t
    ("", 0.2, -21.0, -20.0),
])
def test_each_channel_has_its_own_marginal_value(tmp_path, accepts, damaged, dealer_value, fleet_value):
    """Where a point takes some channels only, or a channel's packs are partly damaged, one more
    tonne is worth a different amount in each channel: by hand, and by the +1 t re-solve."""
    folder = _damaged_instance(tmp_path, accepts, surcharge=damaged) if damaged else _channel_instance(tmp_path, {"C": accepts})
    if damaged is None:
        write_csv(folder / "channels.csv", ["id", "price_scope"], [["dealer", "region"], ["fleet", "region"]])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert check_solution(inst, sol) == []
    mv = sol.channels[sol.channels["region_id"] == "R1"].set_index("channel")["marginal_value_per_t"]
    assert mv["dealer"] == pytest.approx(dealer_value, rel=1e-9)
    assert mv["fleet"] == pytest.approx(fleet_value, rel=1e-9)
    shares = {"dealer": 0.6, "fleet": 0.4}
    for channel, value in (("dealer", dealer_value), ("fleet", fleet_value)):
        more = solve(_one_more_tonne(_copy(folder, tmp_path / f"more-{channel}"), channel, shares), **EXACT)
        assert -(more.objective - sol.objective) == pytest.approx(value, rel=1e-6), channel


def _copy(folder, dest):
    import shutil

    shutil.copytree(folder, dest)
    return dest
