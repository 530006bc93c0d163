"""Phased build-out: hand-computed schedules, closure rules, growth paths, brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer import check_solution, load_instance, solve
from optimizer.instance import Chemistry, Parameters, Periods
from optimizer.load import make_instance

from .bruteforce import brute_force_schedules
from .helpers import base_toml, start_solution, write_csv, write_instance

EXACT = {"mip_rel_gap": 0.0}


def _hub_timing(tmp_path, budget=None):
    """Two 5-year periods (2025, 2030), no discounting, CRF 1/10.  One region: 100 t/yr of nmc
    packs in 2025, 1,000 t/yr in 2030 (supply.csv); yield 0.5.  An existing spoke (sunk, free).
    Black mass goes to the merchant at a disposal cost of 1,000/t, or to a candidate hub
    (2,000 t, capex 1 M -> 100,000/yr of annuity while installed), all lanes free.
      no hub:        5*50*1,000 + 5*500*1,000        = 2,750,000
      hub from 2030: 5*50*1,000 + 5*100,000          =   750,000  <- optimum (defer the hub)
      hub from 2025: 5*100,000 + 5*100,000           = 1,000,000
    With capex_budget = [2 M, 0] the hub can only be built in 2025: optimum 1,000,000."""
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": -1000.0}})
    toml["periods"] = {"years": [2025, 2030], "end_year": 2035}
    if budget is not None:
        toml["periods"]["capex_budget"] = budget
    folder = write_instance(
        tmp_path / "timing", toml, regions=[["R", "R", 0, 0, 100]],
        spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", 5000, 0, 0]],
        hubs=[["H", "", 0, 1, "candidate", "", "true"]], hub_sizes=[["H", "one", 2000, 1e6, 0]],
        lanes=[["R", "S", None, 0], ["S", "H", None, 0]])
    write_csv(folder / "supply.csv", ["region_id", "period", "chemistry", "supply_t"],
              [["R", 2025, "nmc", 100], ["R", 2030, "nmc", 1000]])
    return load_instance(folder)


def _hub_events(sol):
    sch = sol.schedule()
    return sch[sch["site_id"] == "H"][["period", "event"]].values.tolist()


def test_deferring_the_hub_is_optimal(tmp_path):
    inst = _hub_timing(tmp_path)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(750_000, rel=1e-9)
    assert _hub_events(sol) == [["2030", "open"]]
    assert check_solution(inst, sol) == []
    assert brute_force_schedules(inst)[0][0] == pytest.approx(750_000)


def test_budget_in_the_later_period_makes_opening_early_optimal(tmp_path):
    inst = _hub_timing(tmp_path, budget=[2e6, 0.0])
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(1_000_000, rel=1e-9)
    assert _hub_events(sol) == [["2025", "open"]]
    assert check_solution(inst, sol) == []
    assert brute_force_schedules(inst)[0][0] == pytest.approx(1_000_000)


def _closure(tmp_path, supplies, years, end):
    """An existing hub (opex 100,000/yr, closure cost 150,000, capex sunk) that must take all
    black mass (no merchant outlet); a candidate hub H2 (capex 2 M -> 200,000/yr) as the only
    alternative.  Supply per period as given; no discounting."""
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5}})
    toml["periods"] = {"years": years, "end_year": end}
    folder = write_instance(
        tmp_path / f"closure{len(years)}", toml, regions=[["R", "R", 0, 0, supplies[0]]],
        spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", 5000, 0, 0]],
        hubs=[["H", "", 0, 1, "existing", "one", "true"], ["H2", "", 1, 1, "candidate", "", "true"]],
        hub_sizes=[["H", "one", 2000, 1e6, 100_000], ["H2", "one", 2000, 2e6, 0]],
        lanes=[["R", "S", None, 0], ["S", "H", None, 0], ["S", "H2", None, 0]])
    df = pd.read_csv(folder / "hubs.csv", dtype=str, keep_default_na=False)
    df["closure_cost"] = ["150000", ""]
    df.to_csv(folder / "hubs.csv", index=False)
    write_csv(folder / "supply.csv", ["region_id", "period", "chemistry", "supply_t"],
              [["R", y, "nmc", v] for y, v in zip(years, supplies, strict=True)])
    return load_instance(folder)


def test_idle_existing_site_closes(tmp_path):
    """Supply 1,000 t in 2025, none from 2030: keeping H open costs 5 x 100,000 = 500,000 more;
    closing costs 150,000.  Optimum 5 x 100,000 (2025 opex) + 150,000 = 650,000, H closes 2030."""
    inst = _closure(tmp_path, [1000, 0], [2025, 2030], 2035)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(650_000, rel=1e-9)
    assert _hub_events(sol) == [["2025", "existing"], ["2030", "close"]]
    assert sol.cost("closure") == pytest.approx(150_000)
    assert check_solution(inst, sol) == []
    assert brute_force_schedules(inst)[0][0] == pytest.approx(650_000)


def test_closed_sites_do_not_reopen(tmp_path):
    """Supply 1,000 t, 0, 1,000 t in 2025/2030/2035.  Closing H in 2030 and reopening it in 2035
    would cost 500,000 + 150,000 + 500,000 = 1,150,000, but a closed site may not reopen: after a
    closure 2035 needs H2 (5 x 200,000 annuity) -> 1,650,000.  Keeping H open: 15 x 100,000 =
    1,500,000 is optimal."""
    inst = _closure(tmp_path, [1000, 0, 1000], [2025, 2030, 2035], 2040)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(1_500_000, rel=1e-9)
    assert sol.sites[sol.sites["site_id"] == "H"]["open"].all()
    assert check_solution(inst, sol) == []
    assert brute_force_schedules(inst)[0][0] == pytest.approx(1_500_000)


def test_growth_path_supply(tmp_path):
    """Base 100 t in 2025, +40 %/yr, 2-year periods from 2025: a period's supply is the mean of its
    years -- 2025: (1 + 1.4)/2 = 1.2 -> 120 t; 2027: (1.4^2 + 1.4^3)/2 = 2.352 -> 235.2 t."""
    toml = base_toml()
    toml["periods"] = {"years": [2025, 2027], "end_year": 2029, "growth": 0.4}
    folder = write_instance(tmp_path / "g", toml, regions=[["R", "R", 0, 0, 100]],
                            spokes=[["S", "", 0, 0, "candidate", ""]], spoke_sizes=[["S", "one", 1000, 0, 0]])
    sup = load_instance(folder).supply_by_period.set_index("period")["supply_t"]
    assert sup["2025"] == pytest.approx(120.0)
    assert sup["2027"] == pytest.approx(235.2)


def test_weights_are_discounted_years():
    per = Periods((2025, 2027), (2, 3), 2025)
    w = per.weights(0.1)
    assert w["2025"] == pytest.approx(1 + 1 / 1.1)
    assert w["2027"] == pytest.approx(1.1 ** -2 + 1.1 ** -3 + 1.1 ** -4)
    assert per.start_discount(0.1)["2027"] == pytest.approx(1.1 ** -2)


def _tiny(seed: int, nonmonotone: bool = False, max_capex: float | None = None, budget=None):
    """2 spokes, 1 hub, 3 periods, growing supply; random costs; one variant per seed exercises
    a budget, a closable existing site or an earliest year.  ``nonmonotone``: S2's large size
    costs less capex than its small one; ``max_capex``: a horizon-wide capex budget."""
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame({"id": ["R0", "R1", "R2"], "lat": [45.0, 45.5, 46.0], "lon": [3.0, 4.0, 3.5],
                            "nmc_t": rng.integers(300, 1200, 3).astype(float), "lfp_t": rng.integers(100, 400, 3).astype(float)})
    s1_status = "existing" if seed % 3 == 1 else "candidate"
    spokes = pd.DataFrame({"id": ["S1", "S2"], "lat": [45.2, 45.9], "lon": [3.4, 3.6], "status": [s1_status, "candidate"],
                           "existing_size": ["small" if s1_status == "existing" else "", ""],
                           "closure_cost": [float(rng.integers(1, 5)) * 1e5 if s1_status == "existing" else np.nan, np.nan],
                           "earliest_year": [np.nan, 2028.0 if seed % 3 == 2 else np.nan]})
    spoke_sizes = pd.DataFrame([(s, n, cap, cap * float(rng.integers(600, 1200)), float(rng.integers(1, 4)) * 1e5)
                                for s in ("S1", "S2") for n, cap in (("small", 3000.0), ("large", 9000.0))],
                               columns=["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"])
    if nonmonotone:  # S2 large: cheaper to build than S2 small, dearer to run
        small = spoke_sizes.index[(spoke_sizes["site_id"] == "S2") & (spoke_sizes["size"] == "small")][0]
        large = spoke_sizes.index[(spoke_sizes["site_id"] == "S2") & (spoke_sizes["size"] == "large")][0]
        spoke_sizes.loc[large, "capex"] = 0.6 * spoke_sizes.at[small, "capex"]
        spoke_sizes.loc[large, "fixed_opex_per_yr"] = 9e5
    hubs = pd.DataFrame({"id": ["H"], "lat": [45.6], "lon": [3.3], "status": ["candidate"], "existing_size": [""],
                         "accepts_nmc": [True], "accepts_lfp": [True]})
    hub_sizes = pd.DataFrame({"site_id": ["H"], "size": ["one"], "capacity_t": [6000.0], "capex": [float(rng.integers(20, 60)) * 1e6],
                              "fixed_opex_per_yr": [5e5]})
    chems = (Chemistry("nmc", 0.4, merchant_price_per_t=-float(rng.integers(500, 4000))),
             Chemistry("lfp", 0.3, merchant_price_per_t=-300.0))
    params = Parameters(pack_cost_per_t_km=0.5, black_mass_cost_per_t_km=0.2, circuity=1.2, discount_rate=0.06,
                        lifetime_years=12, spoke_cost_per_t=100.0, hub_cost_per_t=500.0,
                        uncollected_penalty_per_t=3000.0, min_collection_rate=0.5, max_capex=max_capex)
    if budget is None:
        budget = (2e7, 5e6, 5e6) if seed % 3 == 0 else None
    periods = Periods((2025, 2028, 2031), (3, 3, 3), 2025, {"*": 0.15}, budget)
    return make_instance(f"tiny{seed}", chems, params, regions, spokes, spoke_sizes, hubs, hub_sizes, periods=periods)


@pytest.mark.parametrize("seed,variant", [
    (0, {}), (1, {}), (2, {}), (3, {"nonmonotone": True}),
    (7, {"nonmonotone": True, "budget": (3e6, 3e6, 3e6)}),  # the size-step spend called this infeasible
    (1, {"max_capex": 2e7}), (4, {"max_capex": 1.2e7}),
], ids=["budget", "closable", "earliest", "nonmonotone", "nonmonotone-budget", "max-capex-closable", "max-capex-existing"])
def test_milp_equals_brute_force_over_all_schedules(seed, variant):
    """Every schedule enumerated (tests/bruteforce.py, its own spend rule: the largest capex paid
    so far is what has been spent) against the MILP, including per-period budgets with a size
    table whose capex falls as capacity grows, and the horizon-wide max_capex (which binds in both
    of its cases: the unbudgeted optimum differs).  Shown to fail on broken variants: without the
    horizon-wide ``capex_budget`` row both max-capex cases fail; with the size-step spend applied
    to every site (before issue 14) the non-monotone budget case is called infeasible."""
    inst = _tiny(seed, **variant)
    results = brute_force_schedules(inst)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(results[0][0], rel=1e-7)
    assert check_solution(inst, sol) == []
    # the schedule is not trivial: several schedules are feasible
    assert len(results) > 5
    if "max_capex" in variant:
        assert brute_force_schedules(_tiny(seed))[0][0] < results[0][0] - 1.0


def test_nonmonotone_capex_budget_spends_what_is_built():
    """tests/cases/nonmonotone-capex-budget: one spoke, small (1,000 t) for 5 M and large (2,000 t)
    for 3 M; 1,500 t/yr; 4 M per period.  Building large in 2025 spends 3 M (under budget): two
    5-year periods, no discounting, CRF 1/10: 10 years x 0.3 M = 3,000,000.  The size-step
    spend counted 5 M + 0 for it and called the instance infeasible."""
    from .helpers import ROOT

    inst = load_instance(ROOT / "tests" / "cases" / "nonmonotone-capex-budget")
    sol = solve(inst, **EXACT)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(3_000_000, rel=1e-9)
    assert sol.schedule()[["period", "event", "size"]].values.tolist() == [["2025", "open", "large"]]
    assert check_solution(inst, sol) == []
    assert brute_force_schedules(inst)[0][0] == pytest.approx(3_000_000, rel=1e-9)


def test_one_period_instances_unchanged(tmp_path):
    """No [periods]: weights 1, the period label 'base', no schedule rows or closure variables."""
    from optimizer import build_model

    from .helpers import DEMO

    built = build_model(load_instance(DEMO))
    assert built.net.periods == ["base"] and built.net.period_weight == {"base": 1.0}
    assert not hasattr(built.model, "closed_site") and not hasattr(built.model, "spoke_grow_only")


def _rolling_start_solution(inst):
    """The period-by-period MIP start as a Solution, to hand to the independent checker."""
    from optimizer.heuristic import rolling_start
    from optimizer.model.network import build_network
    from optimizer.solver import SolveOptions

    net = build_network(inst)
    opts = SolveOptions(mip_rel_gap=0.0)
    start = rolling_start(inst, net, opts.model_options(), opts, budget_s=60.0)
    return None if start is None else start_solution(inst, net, start)


def test_rolling_start_on_the_deferral_instance_is_the_hand_optimum(tmp_path):
    """Period by period: 2025 alone (50 t black mass) pays the merchant, 5*50*1,000 = 250,000;
    2030 alone (500 t) builds the hub, 5*100,000 = 500,000: the 750,000 optimum worked out in
    `_hub_timing`, as a schedule the checker accepts."""
    inst = _hub_timing(tmp_path)
    sol = _rolling_start_solution(inst)
    assert sol.objective == pytest.approx(750_000, rel=1e-9)
    assert _hub_events(sol) == [["2030", "open"]]
    assert check_solution(inst, sol) == []
    # a capex budget is not modelled by the period-by-period start: none is offered
    assert _rolling_start_solution(_hub_timing(tmp_path / "b", budget=[2e6, 0.0])) is None


@pytest.mark.parametrize("seed", [1, 2, 4, 5])
def test_rolling_start_is_a_feasible_schedule_no_better_than_the_optimum(seed):
    """On random tiny horizons (closable existing site, earliest year): the start passes the
    checker, its objective is the checker's own recomputation, it is never below the brute-force
    optimum, and a full solve started from it still reaches that optimum."""
    inst = _tiny(seed)
    best = brute_force_schedules(inst)[0][0]
    start = _rolling_start_solution(inst)
    assert check_solution(inst, start) == []
    assert start.objective >= best - 1e-6 * abs(best)
    sol = solve(inst, warm_start="on", **EXACT)
    assert sol.objective == pytest.approx(best, rel=1e-7)
    assert check_solution(inst, sol) == []
