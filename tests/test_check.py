"""check_solution catches one deliberately broken solution per rule family and cost component."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from optimizer import check_solution, load_instance, solve
from optimizer.solution import Solution

from .helpers import DEMO


@pytest.fixture(scope="module")
def demo():
    inst = load_instance(DEMO)
    sol = solve(inst, mip_rel_gap=0)
    return inst, sol


def _rules(inst, sol):
    return {v.rule for v in check_solution(inst, sol)}


def _with(sol: Solution, **tables) -> Solution:
    return dataclasses.replace(sol, **{k: v.reset_index(drop=True) for k, v in tables.items()})


def _flow_row(sol, echelon, **kw):
    base = sol.flows[sol.flows["echelon"] == echelon].iloc[0].to_dict()
    base.update(kw)
    return pd.DataFrame([base])


def test_demo_optimum_passes(demo):
    inst, sol = demo
    assert check_solution(inst, sol) == []
    # the fixture exercises every echelon, so each mutation below has something to break
    assert set(sol.flows["echelon"]) == {"region_spoke", "spoke_hub", "spoke_merchant"}
    assert sol.regions["uncollected_t"].sum() > 0


def _scale_flow(sol, echelon, factor=None, add=None, row=0):
    flows = sol.flows.copy()
    idx = flows.index[flows["echelon"] == echelon][row]
    if factor is not None:
        flows.loc[idx, "flow_t"] *= factor
    if add is not None:
        flows.loc[idx, "flow_t"] += add
    return flows


def _site(sol, site_id, **kw):
    sites = sol.sites.copy()
    for k, v in kw.items():
        sites.loc[sites["site_id"] == site_id, k] = v
    return sites


def _open_spoke(sol, kind="spoke", status="candidate"):
    s = sol.sites
    return s[(s["kind"] == kind) & s["open"] & (s["status"] == status)].iloc[0]


CASES = {
    "supply_balance": lambda inst, sol: (inst, _with(sol, regions=sol.regions.assign(
        uncollected_t=sol.regions["uncollected_t"] + ([10.0] + [0.0] * (len(sol.regions) - 1))))),
    "collection_rate": lambda inst, sol: (inst, _with(sol, flows=_scale_flow(sol, "region_spoke", factor=0.5))),
    "spoke_capacity": lambda inst, sol: (inst, _with(sol, sites=_site(sol, _open_spoke(sol)["site_id"], size="small", capacity_t=5000.0))),
    "spoke_mass_balance": lambda inst, sol: (inst, _with(sol, flows=_scale_flow(sol, "spoke_merchant", add=-100.0))),
    "hub_capacity": lambda inst, sol: (inst, _with(sol, flows=_scale_flow(sol, "spoke_hub", add=500.0))),
    "one_size": lambda inst, sol: (inst, _with(sol, sites=pd.concat([sol.sites, sol.sites[sol.sites["site_id"] == _open_spoke(sol)["site_id"]].assign(size="small", capacity_t=5000.0)]))),
    "unknown_size": lambda inst, sol: (inst, _with(sol, sites=_site(sol, _open_spoke(sol)["site_id"], size="giant"))),
    "existing_open": lambda inst, sol: (inst, _with(sol, sites=_site(sol, "S-KINGSTON", open=False))),
    "excluded_site": lambda inst, sol: (inst, _with(sol, sites=pd.concat([sol.sites, sol.sites.iloc[[0]].assign(site_id="S-LAVAL", open=True, size="small", capacity_t=5000.0, inbound_t=0.0)]))),
    "closed_site_flow": lambda inst, sol: (inst, _with(sol, flows=pd.concat([sol.flows, _flow_row(sol, "region_spoke", origin="US-CHI", destination="S-GARY", flow_t=5.0)]))),
    "hub_acceptance": lambda inst, sol: (inst, _with(sol, flows=pd.concat([sol.flows, _flow_row(sol, "spoke_hub", destination="H-ROCHESTER", chemistry="lfp", flow_t=5.0)]))),
    "service_radius": lambda inst, sol: (inst, _with(sol, flows=pd.concat([sol.flows, _flow_row(sol, "region_spoke", origin="US-CHI", destination="S-KINGSTON", flow_t=1.0)]))),
    "negative_flow": lambda inst, sol: (inst, _with(sol, flows=_scale_flow(sol, "region_spoke", factor=-1.0))),
    "merchant_outlet": lambda inst, sol: (inst.replace(chemistries=tuple(
        dataclasses.replace(c, merchant_price_per_t=None, merchant_cap_t=None) if c.name == "lfp" else c for c in inst.chemistries)), sol),
    "merchant_cap": lambda inst, sol: (inst.replace(chemistries=tuple(
        dataclasses.replace(c, merchant_cap_t=100.0) for c in inst.chemistries)), sol),
    "max_spokes": lambda inst, sol: (inst.replace(params=dataclasses.replace(inst.params, max_spokes=2)), sol),
    "max_hubs": lambda inst, sol: (inst.replace(params=dataclasses.replace(inst.params, max_hubs=0)), sol),
    "capex_budget": lambda inst, sol: (inst.replace(params=dataclasses.replace(inst.params, max_capex=1.0)), sol),
    "single_sourcing": lambda inst, sol: (inst.replace(params=dataclasses.replace(inst.params, single_sourcing=True)),
                                          _with(sol, flows=pd.concat([sol.flows, _flow_row(sol, "region_spoke", destination="S-NEWARK" if _flow_row(sol, "region_spoke")["destination"].iat[0] != "S-NEWARK" else "S-TOLEDO", flow_t=0.5)]))),
    "unknown_id": lambda inst, sol: (inst, _with(sol, flows=pd.concat([sol.flows, _flow_row(sol, "region_spoke", origin="US-NOWHERE", flow_t=1.0)]))),
    "site_report": lambda inst, sol: (inst, _with(sol, sites=_site(sol, _open_spoke(sol)["site_id"], inbound_t=1.0))),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_family_is_caught(demo, rule):
    inst, sol = demo
    inst2, sol2 = CASES[rule](inst, sol)
    rules = _rules(inst2, sol2)
    assert rule in rules, rules


COMPONENTS = ["capex_annualised", "fixed_opex", "spoke_processing", "hub_processing", "transport_pack",
              "transport_black_mass", "uncollected_penalty", "merchant_disposal", "merchant_revenue", "hub_revenue"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_cost_component_is_recomputed(demo, component):
    inst, sol = demo
    costs = sol.costs.copy()
    costs.loc[costs["component"] == component, "value"] += 1000.0
    rules = _rules(inst, _with(sol, costs=costs))
    assert f"cost:{component}" in rules
    assert {r for r in rules if r.startswith("cost:")} == {f"cost:{component}"}


def test_wrong_lane_cost_is_caught(demo):
    """A transport cost computed from a wrong distance (model-side bug) is caught: the checker
    recomputes distances itself rather than trusting the flows table."""
    inst, sol = demo
    flows = sol.flows.copy()
    i = flows.index[flows["echelon"] == "region_spoke"][0]
    flows.loc[i, "cost_per_t"] *= 2
    costs = sol.costs.copy()
    costs.loc[costs["component"] == "transport_pack", "value"] += flows.loc[i, "flow_t"] * sol.flows.loc[i, "cost_per_t"]
    assert "cost:transport_pack" in _rules(inst, _with(sol, flows=flows, costs=costs))


def test_objective_mismatch(demo):
    inst, sol = demo
    assert "objective" in _rules(inst, dataclasses.replace(sol, objective=sol.objective + 1000.0))


def test_json_round_trip_keeps_the_solution_valid(demo):
    inst, sol = demo
    back = Solution.from_json(sol.to_json())
    assert back.objective == sol.objective and back.status == sol.status
    pd.testing.assert_frame_equal(back.flows, sol.flows, check_dtype=False)
    pd.testing.assert_frame_equal(back.sites, sol.sites, check_dtype=False)
    assert check_solution(inst, back) == []


# --- every reported column ------------------------------------------------------------------------


def _edit(df, mask, **kw):
    df = df.copy()
    idx = df.index[mask][0]
    for k, v in kw.items():
        df.loc[idx, k] = v(df.loc[idx, k]) if callable(v) else v
    return df


REPORT_CASES = {
    "flow km": ("flow_report", lambda s: {"flows": _edit(s.flows, s.flows["echelon"] == "region_spoke", km=lambda v: v + 10.0)}),
    "flow transport_cost": ("flow_report", lambda s: {"flows": _edit(s.flows, s.flows["echelon"] == "spoke_hub", transport_cost=lambda v: v + 50.0)}),
    "merchant leg": ("flow_report", lambda s: {"flows": _edit(s.flows, s.flows["echelon"] == "spoke_merchant", km=12.0)}),
    "region supply": ("region_report", lambda s: {"regions": _edit(s.regions, s.regions["supply_t"] > 0, supply_t=lambda v: v + 5.0)}),
    "region required": ("region_report", lambda s: {"regions": _edit(s.regions, s.regions["supply_t"] > 0, required_t=lambda v: v * 0.5)}),
    "region collected": ("region_report", lambda s: {"regions": _edit(s.regions, s.regions["collected_t"] > 0, collected_t=lambda v: v - 5.0)}),
    "site capex_charged": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["open"] & (s.sites["status"] == "candidate"), capex_charged=lambda v: v + 1e5)}),
    "site capex_annualised": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["open"], capex_annualised=lambda v: v * 1.1)}),
    "site fixed_opex": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["open"], fixed_opex_per_yr=lambda v: v + 1000.0)}),
    "site utilisation": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["open"], utilisation=lambda v: v * 0.5)}),
    "site status": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["status"] == "existing", status="candidate")}),
    "site name": ("site_report", lambda s: {"sites": _edit(s.sites, s.sites["open"], name="Elsewhere")}),
    "closed site capacity": ("site_report", lambda s: {"sites": _edit(s.sites, ~s.sites["open"], capacity_t=5000.0)}),
}


@pytest.mark.parametrize("case", sorted(REPORT_CASES))
def test_every_reported_column_is_checked(demo, case):
    inst, sol = demo
    rule, mutate = REPORT_CASES[case]
    assert rule in _rules(inst, _with(sol, **mutate(sol)))


def test_single_sourcing_set_by_the_solve_option_is_checked(demo):
    """The demo does not ask for single sourcing; a solve with the option does, and the checker
    holds that solution to it (read from its provenance), not to the instance's setting."""
    inst, _sol = demo
    sol = solve(inst, mip_rel_gap=0, single_sourcing=True, threads=1)
    assert check_solution(inst, sol) == []
    rs = sol.flows[sol.flows["echelon"] == "region_spoke"]
    first = rs.iloc[[0]]
    other = next(s for s in sol.sites.loc[sol.sites["open"] & (sol.sites["kind"] == "spoke"), "site_id"]
                 if s != first["destination"].iat[0])
    split = pd.concat([sol.flows, first.assign(destination=other, flow_t=0.5)])
    assert "single_sourcing" in _rules(inst, _with(sol, flows=split))


def test_tolerance_scales_with_the_price(demo):
    """At 100,000 per uncollected tonne a 1e-10 t round-off on a flow is not a violation (the old
    absolute 1e-6 tolerance called it one: "reported 0.0000, recomputed 0.0000"); 1 t is."""
    inst, _sol = demo
    dear = inst.replace(params=dataclasses.replace(inst.params, uncollected_penalty_per_t=1e5))
    sol = solve(dear, mip_rel_gap=0, threads=1)
    assert check_solution(dear, sol) == []
    full = sol.regions[(sol.regions["uncollected_t"] == 0) & (sol.regions["supply_t"] > 0)].iloc[0]
    mask = (sol.flows["echelon"] == "region_spoke") & (sol.flows["origin"] == full["region_id"]) & (sol.flows["chemistry"] == full["chemistry"])
    assert check_solution(dear, _with(sol, flows=_edit(sol.flows, mask, flow_t=lambda v: v - 1e-10))) == []
    assert "cost:uncollected_penalty" in _rules(dear, _with(sol, flows=_edit(sol.flows, mask, flow_t=lambda v: v - 1.0)))


def test_the_checker_computes_for_itself():
    """check.py takes distances, the capital recovery factor and the growth path from nothing
    in the package: its only imports from spokehub are the Instance and Solution types, the tier
    description (data) and a concatenation helper -- nothing of the model, network, geometry or
    loader."""
    import ast

    from .helpers import ROOT

    tree = ast.parse((ROOT / "optimizer" / "check.py").read_text())
    ours = {(n.module, tuple(a.name for a in n.names)) for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.level > 0}
    modules = {m for m, _names in ours}
    assert modules == {"instance", "solution", "tiers", "frames"}
    assert ("instance", ("Instance",)) in ours and ("solution", ("Solution",)) in ours and ("frames", ("concat_rows",)) in ours


# --- multi-period rules ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def horizon():
    """tests/test_multiperiod.py's tiny horizon, seed 1: S1 existing (small, closable), S2 opens
    small in 2025, the hub H opens in 2031 and S1 expands to large in 2031."""
    from .test_multiperiod import _tiny

    inst = _tiny(1)
    sol = solve(inst, mip_rel_gap=0, threads=1)
    assert sol.schedule()[["site_id", "period", "event"]].values.tolist() == [
        ["S1", "2025", "existing"], ["S2", "2025", "open"], ["H", "2031", "open"], ["S1", "2031", "expand"]]
    return inst, sol


def _at(sol, site, period, **kw):
    return _with(sol, sites=_edit(sol.sites, (sol.sites["site_id"] == site) & (sol.sites["period"] == period), **kw))


MULTI_CASES = {
    "capacity shrinks": ("schedule", lambda i, s: (i, _at(_at(s, "S1", "2028", size="large", capacity_t=9000.0), "S1", "2031", size="small", capacity_t=3000.0))),
    "candidate closes": ("schedule", lambda i, s: (i, _at(s, "S2", "2031", open=False, size="", capacity_t=0.0))),
    "closed site reopens": ("schedule", lambda i, s: (i, _at(s, "S1", "2028", open=False, size="", capacity_t=0.0))),
    "earliest year": ("earliest_year", lambda i, s: (i.replace(spokes=i.spokes.assign(earliest_year=[np.nan, 2028.0])), s)),
    "forced open": ("forced_open", lambda i, s: (i.replace(forced_open=("H",)), s)),
    "per-period budget": ("capex_budget", lambda i, s: (i.replace(periods=dataclasses.replace(i.periods, capex_budget=(1e6, 1e6, 1e6))), s)),
    "horizon budget": ("capex_budget", lambda i, s: (i.replace(params=dataclasses.replace(i.params, max_capex=1e6)), s)),
    "closure cost": ("cost:closure", lambda i, s: (i, _with(s, costs=_edit(s.costs, (s.costs["component"] == "closure") & (s.costs["period"] == "2028"), value=5e5)))),
}


@pytest.mark.parametrize("case", sorted(MULTI_CASES))
def test_each_multi_period_rule_is_caught(horizon, case):
    inst, sol = horizon
    assert check_solution(inst, sol) == []
    rule, mutate = MULTI_CASES[case]
    assert rule in _rules(*mutate(inst, sol))


def test_schedule_report_follows_the_sites_table(horizon, monkeypatch):
    inst, sol = horizon
    real = Solution.schedule
    monkeypatch.setattr(Solution, "schedule", lambda self: real(self).iloc[1:].reset_index(drop=True))
    assert "schedule_report" in _rules(inst, sol)


# --- the tier rules of issue 16: one broken solution each ----------------------------------------

def _open_site_ids(sol, kind):
    s = sol.sites
    return list(s.loc[(s["kind"] == kind) & s["open"].astype(bool), "site_id"])


def _min_throughput_above_inbound(inst, sol):
    """The open spoke's size needs 1,000 t more than the solution sends it."""
    row = _open_spoke(sol)
    sizes = inst.spoke_sizes.copy()
    at = (sizes["site_id"] == row["site_id"]) & (sizes["size"] == row["size"])
    sizes.loc[at, "min_throughput_t"] = float(row["inbound_t"]) + 1000.0
    return inst.replace(spoke_sizes=sizes), sol


def _unquoted_spoke_hub_km(sol, inst):
    quoted = set(zip(inst.lanes["origin"], inst.lanes["destination"], strict=True))
    f = sol.flows[(sol.flows["echelon"] == "spoke_hub") & (sol.flows["flow_t"] > 0)]
    return [km for o, d, km in zip(f["origin"], f["destination"], f["km"], strict=True) if (o, d) not in quoted]


def _closed_without_closure_cost(inst, sol):
    """S-KINGSTON (existing) may close at 4 M; the solution reports it closed but charges nothing."""
    spokes = inst.spokes.assign(closure_cost=np.where(inst.spokes["id"] == "S-KINGSTON", 4e6, np.nan))
    return inst.replace(spokes=spokes), _with(sol, sites=_site(sol, "S-KINGSTON", open=False))


TIER_RULES = {
    "spoke_min_throughput": _min_throughput_above_inbound,
    "min_spokes": lambda inst, sol: (inst.replace(params=dataclasses.replace(
        inst.params, min_spokes=len(_open_site_ids(sol, "spoke")) + 1)), sol),
    "min_hubs": lambda inst, sol: (inst.replace(params=dataclasses.replace(
        inst.params, min_hubs=len(_open_site_ids(sol, "hub")) + 1)), sol),
    # a spoke->hub radius just below the longest unquoted black-mass haul the solution uses
    "service_radius": lambda inst, sol: (inst.replace(params=dataclasses.replace(
        inst.params, spoke_hub_radius_km=max(_unquoted_spoke_hub_km(sol, inst)) - 1.0)), sol),
    # the open spoke's own processing cost (its tier's is 250) is not what the solution charged
    "cost:spoke_processing": lambda inst, sol: (inst.replace(spokes=inst.spokes.assign(
        processing_cost_per_t=np.where(inst.spokes["id"] == _open_spoke(sol)["site_id"], 400.0, np.nan))), sol),
    "cost:closure": _closed_without_closure_cost,
}


@pytest.mark.parametrize("rule", sorted(TIER_RULES))
def test_each_tier_rule_is_caught(demo, rule):
    """Minimum throughput, minimum counts, the second leg's radius, a site's own processing cost
    and the closure cost of an existing site: each instance change makes the optimum break
    exactly the rule it sets (the unchanged optimum passes: test_demo_optimum_passes)."""
    inst, sol = demo
    inst2, sol2 = TIER_RULES[rule](inst, sol)
    rules = _rules(inst2, sol2)
    assert rule in rules, rules
    if rule == "cost:closure":
        assert "existing_open" not in rules  # a closable existing site may close
