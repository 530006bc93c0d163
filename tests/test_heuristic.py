"""The one-period MIP start: LP on a sparsified network -> its sites -> MILP on those sites.

A MIP start is only worth having if it is a real solution: each test hands it to the
independent checker, compares it with the proven optimum, and checks that the full solve
started from it still proves that optimum.
"""

from __future__ import annotations

import pytest

from optimizer import check_solution, solve
from optimizer.bench.synthetic import synthetic_instance
from optimizer.heuristic import restrict_to_sites, warm_start
from optimizer.model.network import build_network
from optimizer.solver import SolveOptions

from .helpers import start_solution


@pytest.fixture(scope="module")
def case():
    """60 regions x 25 spokes x 3 hubs, two chemistries: the LP opens under 80 % of the sites."""
    inst = synthetic_instance(60, 25, 3, seed=2, min_spokes_per_region=25)
    net = build_network(inst)
    opts = SolveOptions(threads=1, mip_rel_gap=0.0)
    start = warm_start(inst, net, opts.model_options(), opts, budget_s=120.0)
    optimum = solve(inst, threads=1, mip_rel_gap=0.0, warm_start="off")
    return inst, net, start, optimum


@pytest.mark.slow
def test_start_is_a_checked_solution_no_better_than_the_optimum(case):
    inst, net, start, optimum = case
    assert start is not None
    assert optimum.status.value == "optimal"
    sol = start_solution(inst, net, start)
    assert check_solution(inst, sol) == []  # feasible, and its objective is the checker's own sum
    assert start.objective >= optimum.objective - 1e-9 * abs(optimum.objective)
    # the start leaves sites out: it solved a smaller model
    used = set(sol.sites.loc[sol.sites["open"].astype(bool), "site_id"])
    assert start.arcs_kept < len(net.arcs["region_spoke"])
    assert used < set(net.tiers["spoke"].options["site_id"]) | set(net.tiers["hub"].options["site_id"])


@pytest.mark.slow
def test_full_solve_from_the_start_proves_the_same_optimum(case):
    inst, _net, _start, optimum = case
    sol = solve(inst, threads=1, mip_rel_gap=0.0, warm_start="on")
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(optimum.objective, rel=1e-9)
    assert check_solution(inst, sol) == []


def test_restrict_to_sites_keeps_exactly_the_lanes_among_them(case):
    _inst, net, _start, _opt = case
    existing = {i for tt in net.tiers.values() for i in tt.sites.loc[tt.sites["status"] == "existing", "id"]}
    keep = set(net.tiers["spoke"].options["site_id"].iloc[::3]) | set(net.tiers["hub"].options["site_id"].iloc[:1])
    part = restrict_to_sites(net, keep)
    keep = keep | existing  # existing sites always stay candidates
    assert set(part.tiers["spoke"].options["site_id"]) | set(part.tiers["hub"].options["site_id"]) <= keep
    rs, sh = net.arcs["region_spoke"], net.arcs["spoke_hub"]
    assert len(part.arcs["region_spoke"]) == int(rs["destination"].isin(keep).sum())
    assert len(part.arcs["spoke_hub"]) == int((sh["origin"].isin(keep) & sh["destination"].isin(keep)).sum())
    assert set(part.arcs["spoke_hub"]["destination"]) <= keep and set(part.merchant["site_id"]) <= keep
