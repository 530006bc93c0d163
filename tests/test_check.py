"""check_solution catches one deliberately broken solution per rule family and cost component."""

from __future__ import annotations

import dataclasses

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
              "transport_black_mass", "uncollected_penalty", "merchant_revenue", "hub_revenue"]


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
