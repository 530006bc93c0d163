"""Property test: on random tiny instances the MILP equals brute-force enumeration.

Every generated instance (2-4 regions, 2-4 spokes, 0-2 hubs, 1-2 chemistries, 1-2 sizes per
site, random service radius on both legs, statuses, existing sites that may close at a closure
cost, minimum throughputs, per-site processing costs, merchant prices and caps, collection rules,
fewest and most open sites, budgets, profit mode, single sourcing) is solved by spokehub and by ``tests/bruteforce.py``
(every open/size combination, each transport problem solved by scipy, no Pyomo).  The objectives
must agree, ``check_solution`` must pass, and an instance one finds infeasible the other must too.

The generator is tuned to produce interesting cases, and the test asserts it does: at least 25 %
of examples open a strict subset of the sites, at least 10 % are infeasible and at least 20 %
carry a lanes.csv (road km that may fall beyond the radius, quoted costs kept whatever the radius);
each tier rule of issue 16 (minimum throughput, minimum count, second-leg radius, closable existing
sites, a site's own processing cost) is present in at least 10 %, some optimum is shaped by a
minimum throughput (the brute force without minima finds a cheaper network) and in some an
existing site closes.
Hypothesis runs derandomized (a fixed seed) with no deadline, 200 examples per run.

Shown to fail on broken variants: with quoted lanes beyond the radius dropped again
(``optimizer/geo.py``, the rule before issue 14) an instance the brute force solves is called
infeasible; with the capacity-cover rows' right-hand side raised by 30 %
(``add_capacity_cover``), ``test_cover_rows_do_not_change_the_optimum`` finds a different optimum.
Each of these breaks ``test_milp_equals_brute_force`` (measured when the rules were added, about
2 minutes each): the minimum-throughput rows left out (``add_min_throughput``: a solution that the
checker refuses); the one-period closure cost not annualised (``closure_coefficients``); a site's
own processing cost ignored in favour of its tier's (``optimizer/model/network.py``); the
spoke->hub radius taken from the region->spoke one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer import check_solution, solve
from optimizer.instance import Chemistry, Parameters
from optimizer.load import make_instance
from optimizer.solution import SolveStatus

from .bruteforce import brute_force, haversine

SITE_EXTRA = ["closure_cost", "processing_cost_per_t"]
SIZE_COLUMNS = ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr", "min_throughput_t"]
N_EXAMPLES = 200  # examples checked per run (a few more are drawn: see MAX_CONFIGS)
MAX_CONFIGS = 150


@st.composite
def tiny_instances(draw, hubs: tuple[int, int] = (0, 2)):
    n_r = draw(st.integers(2, 4))
    n_s = draw(st.integers(2, 4))
    n_h = draw(st.integers(*hubs))
    chems = ["nmc", "lfp"][: draw(st.integers(1, 2))]
    n_sizes = draw(st.integers(1, 2))
    coord = st.tuples(st.floats(44.0, 47.0), st.floats(2.0, 6.0))
    rnd = lambda x: round(x, 3)  # noqa: E731

    regions = []
    for i in range(n_r):
        la, lo = draw(coord)
        regions.append({"id": f"R{i}", "lat": rnd(la), "lon": rnd(lo),
                        **{f"{c}_t": float(draw(st.sampled_from([0, 300, 800, 1500, 2500, 4000]))) for c in chems}})

    def sites(prefix, n, cap_choices, capex_choices, opex_choices, acceptance=False):
        rows, sizes = [], []
        for i in range(n):
            la, lo = draw(coord)
            status = draw(st.sampled_from(["candidate"] * 6 + ["existing", "excluded"]))
            caps = sorted(draw(st.lists(st.sampled_from(cap_choices), min_size=n_sizes, max_size=n_sizes, unique=True)))
            names = [f"k{j}" for j in range(len(caps))]
            for name, cap in zip(names, caps, strict=True):
                sizes.append({"site_id": f"{prefix}{i}", "size": name, "capacity_t": float(cap),
                              "capex": float(draw(st.sampled_from(capex_choices)) * cap / caps[0]),
                              "fixed_opex_per_yr": float(draw(st.sampled_from(opex_choices))),
                              "min_throughput_t": float(draw(st.sampled_from([0.0] * 5 + [0.1, 0.4, 0.8]))) * cap})
            row = {"id": f"{prefix}{i}", "lat": rnd(la), "lon": rnd(lo), "status": status,
                   "existing_size": names[0] if status == "existing" else "",
                   # an existing site may close at a closure cost (annualised like capex)
                   "closure_cost": draw(st.sampled_from([np.nan, 0.0, 2e6])) if status == "existing" else np.nan,
                   "processing_cost_per_t": draw(st.sampled_from([np.nan, np.nan, 0.0, 400.0]))}
            if acceptance:
                acc = draw(st.lists(st.booleans(), min_size=len(chems), max_size=len(chems)))
                if not any(acc):
                    acc[draw(st.integers(0, len(chems) - 1))] = True
                row.update({f"accepts_{c}": a for c, a in zip(chems, acc, strict=True)})
            rows.append(row)
        return rows, sizes

    spokes, spoke_sizes = sites("S", n_s, [1000, 2500, 5000, 8000, 12000], [2e6, 4e6, 6e6], [0.0, 1e5, 3e5])
    hubs, hub_sizes = sites("H", n_h, [800, 1500, 3000], [3e6, 1e7, 3e7], [0.0, 1e6], acceptance=True)

    profit = draw(st.booleans()) and n_h > 0
    chem_objs = []
    for c in chems:
        has_merchant = draw(st.sampled_from([True, True, False]))
        chem_objs.append(Chemistry(
            c, black_mass_yield=draw(st.sampled_from([0.3, 0.4, 0.5])),
            merchant_price_per_t=float(draw(st.sampled_from([-300.0, 0.0, 500.0, 2000.0]))) if has_merchant else None,
            merchant_cap_t=float(draw(st.sampled_from([200.0, 1000.0]))) if has_merchant and draw(st.booleans()) else None,
            hub_revenue_per_t=float(draw(st.sampled_from([1000.0, 4000.0]))) if profit else None,
        ))
    rule = draw(st.sampled_from(["all", "rate", "penalty", "both", "penalty"]))

    def counts(sites_rows, lo_choices, hi_choices):
        """(fewest, most) open: valid by construction (min <= max, min <= sites that can open,
        max >= existing sites that may not close), as the validation demands."""
        can_open = sum(r["status"] != "excluded" for r in sites_rows)
        stays = sum(r["status"] == "existing" and r["closure_cost"] != r["closure_cost"] for r in sites_rows)
        hi = draw(st.sampled_from(hi_choices))
        hi = None if hi is None else max(hi, stays)
        lo = draw(st.sampled_from(lo_choices))
        lo = None if lo is None else min(lo, can_open, hi if hi is not None else lo)
        return lo, hi

    min_spokes, max_spokes = counts(spokes, [None, None, None, 1, 2], [None, None, 1, 2])
    min_hubs, max_hubs = counts(hubs, [None, None, None, 1], [None, 1]) if n_h else (None, None)
    params = Parameters(
        pack_cost_per_t_km=draw(st.sampled_from([0.2, 1.0, 3.0])),
        black_mass_cost_per_t_km=draw(st.sampled_from([0.1, 0.5])),
        circuity=draw(st.sampled_from([1.0, 1.3])),
        service_radius_km=draw(st.sampled_from([None, None, 150.0, 300.0])),
        spoke_hub_radius_km=draw(st.sampled_from([None, None, 100.0, 250.0])),
        discount_rate=draw(st.sampled_from([0.0, 0.08])),
        lifetime_years=draw(st.sampled_from([10.0, 20.0])),
        spoke_cost_per_t=draw(st.sampled_from([0.0, 150.0])),
        hub_cost_per_t=draw(st.sampled_from([0.0, 900.0])),
        uncollected_penalty_per_t=float(draw(st.sampled_from([300.0, 3000.0]))) if rule in ("penalty", "both") else None,
        min_collection_rate={"all": 1.0, "rate": 0.8, "penalty": 0.0, "both": 0.7}[rule],
        min_spokes=min_spokes, max_spokes=max_spokes, min_hubs=min_hubs, max_hubs=max_hubs,
        max_capex=draw(st.sampled_from([None, None, 8e6, 3e7])),
        single_sourcing=draw(st.sampled_from([False, False, True])),
    )
    # lanes.csv: some region->spoke and spoke->hub lanes get a road km (1 to 1.6 x the straight
    # line: maybe beyond the radius, then dropped) or a quoted cost per tonne (kept whatever the radius)
    lanes = []
    legs = [(r["id"], s["id"]) for r in regions for s in spokes] + [(s["id"], h["id"]) for s in spokes for h in hubs]
    for o, d in draw(st.lists(st.sampled_from(legs), min_size=1, max_size=4, unique=True)) if draw(st.sampled_from([True, True, False])) else []:
        if draw(st.booleans()):
            (la1, lo1), (la2, lo2) = _pos(regions + spokes + hubs, o), _pos(regions + spokes + hubs, d)
            lanes.append({"origin": o, "destination": d, "cost_per_t": np.nan,
                          "km": rnd(haversine(la1, lo1, la2, lo2) * draw(st.sampled_from([1.0, 1.2, 1.6])))})
        else:
            lanes.append({"origin": o, "destination": d, "km": np.nan, "cost_per_t": float(draw(st.sampled_from([5.0, 20.0, 60.0])))})
    chem_cols = [f"{c}_t" for c in chems]
    inst = make_instance(
        "prop", chem_objs, params,
        pd.DataFrame(regions, columns=["id", "lat", "lon", *chem_cols]),
        pd.DataFrame(spokes, columns=["id", "lat", "lon", "status", "existing_size", *SITE_EXTRA]),
        pd.DataFrame(spoke_sizes, columns=SIZE_COLUMNS),
        pd.DataFrame(hubs, columns=["id", "lat", "lon", "status", "existing_size", *SITE_EXTRA,
                                    *[f"accepts_{c}" for c in chems]]) if n_h else None,
        pd.DataFrame(hub_sizes, columns=SIZE_COLUMNS) if n_h else None,
        pd.DataFrame(lanes, columns=["origin", "destination", "km", "cost_per_t"]) if lanes else None,
    )
    return inst


def _pos(rows, ident):
    row = next(r for r in rows if r["id"] == ident)
    return row["lat"], row["lon"]


def _n_configs(inst) -> int:
    total = 1
    for sites, sizes in ((inst.spokes, inst.spoke_sizes), (inst.hubs, inst.hub_sizes)):
        for s in sites.itertuples(index=False):
            k = int((sizes["site_id"] == s.id).sum())
            total *= {"candidate": k + 1, "existing": k, "excluded": 1}[s.status]
    return total


@pytest.mark.slow
def test_milp_equals_brute_force():
    stats: Counter = Counter()

    @settings(max_examples=int(N_EXAMPLES * 1.3), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_instances())
    def check(inst):
        if _n_configs(inst) > MAX_CONFIGS:
            event("skipped: too many configurations")
            stats["skipped"] += 1
            return
        stats["total"] += 1
        configs = brute_force(inst)
        sol = solve(inst, mip_rel_gap=0, threads=1)
        if not configs:
            event("infeasible")
            stats["infeasible"] += 1
            _features(inst, sol, float("nan"), stats, prefix="infeasible: ")
            assert sol.status == SolveStatus.INFEASIBLE, (sol.status, sol.objective)
            assert sol.diagnosis is not None and (sol.diagnosis.shortfall or sol.diagnosis.causes)
            return
        assert sol.status == SolveStatus.OPTIMAL, sol.status
        best = configs[0].objective
        assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-3), (sol.objective, best)
        violations = check_solution(inst, sol)
        assert violations == [], violations
        n_open = int(sol.sites["open"].sum())
        n_sites = int(((inst.spokes["status"] != "excluded").sum()) + ((inst.hubs["status"] != "excluded").sum()))
        if 0 < n_open < n_sites:
            event("opens a strict subset")
            stats["strict"] += 1
        if inst.profit_mode:
            event("profit mode")
        if inst.params.single_sourcing:
            event("single sourcing")
        if (sol.flows["echelon"] == "spoke_hub").any():
            event("uses a hub")
            stats["hub"] += 1
        if len(inst.lanes):
            stats["lanes"] += 1
        _features(inst, sol, best, stats)

    check()
    total = stats["total"]
    assert total >= N_EXAMPLES, stats
    assert stats["strict"] >= 0.25 * total, stats
    assert stats["infeasible"] >= 0.10 * total, stats
    print(f"\nproperty test: {total} examples checked, {stats['strict']} strict subsets, "
          f"{stats['infeasible']} infeasible, {stats['hub']} using hubs, {stats['lanes']} with lanes.csv, {stats['skipped']} skipped; "
          + ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k not in ("total", "strict", "infeasible", "hub", "lanes", "skipped")))
    np.testing.assert_(stats["hub"] > 0)
    assert stats["lanes"] >= 0.2 * total, stats
    # the rules of issue 16 are exercised, and bind in some optimum
    # counted over feasible and infeasible examples alike: which of the two an example is depends on
    # the draw, and hypothesis draws differently from version to version
    for feature in ("min throughput", "min count", "second-leg radius", "closable existing", "own processing cost"):
        assert stats[feature] + stats["infeasible: " + feature] >= 0.1 * total, (feature, stats)
    assert stats["min throughput binds"] > 0 and stats["an existing site closes"] > 0, stats


def _features(inst, sol, best: float, stats: Counter, prefix: str = "") -> None:
    """Count the examples carrying each issue-16 rule (and those where it shapes the optimum:
    the brute force without the minimum throughputs finds a better one)."""
    sizes = pd.concat([inst.spoke_sizes, inst.hub_sizes])
    sites = pd.concat([inst.spokes, inst.hubs])
    if prefix:
        stats[prefix + "min throughput"] += bool((sizes["min_throughput_t"] > 0).any())
        stats[prefix + "min count"] += bool(inst.params.min_spokes or inst.params.min_hubs)
        stats[prefix + "second-leg radius"] += inst.params.spoke_hub_radius_km is not None and len(inst.hubs) > 0
        stats[prefix + "closable existing"] += bool(((sites["status"] == "existing") & sites["closure_cost"].notna()).any())
        stats[prefix + "own processing cost"] += bool(sites["processing_cost_per_t"].notna().any())
        stats[prefix + "radius1"] += inst.params.service_radius_km is not None
        stats[prefix + "full collection"] += inst.params.min_collection_rate > 0.75
        return
    if (sizes["min_throughput_t"] > 0).any():
        stats["min throughput"] += 1
        free = inst.replace(spoke_sizes=inst.spoke_sizes.assign(min_throughput_t=0.0),
                            hub_sizes=inst.hub_sizes.assign(min_throughput_t=0.0))
        if brute_force(free)[0].objective < best - 1e-6 * max(1.0, abs(best)):
            stats["min throughput binds"] += 1
    if inst.params.min_spokes or inst.params.min_hubs:
        stats["min count"] += 1
    if inst.params.spoke_hub_radius_km is not None and len(inst.hubs):
        stats["second-leg radius"] += 1
    closable = sites[(sites["status"] == "existing") & sites["closure_cost"].notna()]
    if len(closable):
        stats["closable existing"] += 1
        still = set(sol.sites.loc[sol.sites["open"].astype(bool), "site_id"])
        if not set(closable["id"]) <= still:
            stats["an existing site closes"] += 1
    if sites["processing_cost_per_t"].notna().any():
        stats["own processing cost"] += 1


@pytest.mark.slow
def test_cover_rows_do_not_change_the_optimum():
    """The capacity-cover rows are implied by the model: on random tiny instances the optimum (or
    the infeasibility) is the same with and without them (and equals the brute force, above)."""
    seen: Counter = Counter()

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_instances())
    def check(inst):
        on = solve(inst, mip_rel_gap=0, threads=1, cover_cuts=True, diagnose=False)
        off = solve(inst, mip_rel_gap=0, threads=1, cover_cuts=False, diagnose=False)
        assert on.status == off.status
        if on.status.has_solution:
            seen["solved"] += 1
            assert on.objective == pytest.approx(off.objective, rel=1e-7, abs=1e-3)

    check()
    assert seen["solved"] >= 40, seen


@pytest.mark.slow
def test_hub_count_split_equals_brute_force():
    """The hub-count split (:mod:`optimizer.split`: one sub-MIP per number of open hubs, parts
    skipped on their LP bound) finds the brute force's optimum on random tiny instances with two or
    three hub sites, calls the infeasible ones infeasible, and at a 2 % gap reports a bound that is
    no better than the true optimum and a network within 2 % of it.  Shown to fail (5 minutes,
    most of it shrinking) with the part "no hub" left out of the split: an optimum that sells all
    black mass at the spokes' gates is then missed."""
    stats: Counter = Counter()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_instances(hubs=(2, 3)))
    def check(inst):
        if _n_configs(inst) > MAX_CONFIGS or (inst.hubs["status"] != "excluded").sum() < 2:
            stats["skipped"] += 1
            return
        stats["total"] += 1
        configs = brute_force(inst)
        sol = solve(inst, mip_rel_gap=0, threads=1, split="on")
        assert "hub-count split" in sol.termination, sol.termination
        if not configs:
            stats["infeasible"] += 1
            assert sol.status == SolveStatus.INFEASIBLE, (sol.status, sol.objective)
            assert sol.diagnosis is not None
            return
        best = configs[0].objective
        assert sol.status == SolveStatus.OPTIMAL, sol.status
        assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-3), (sol.objective, best)
        assert check_solution(inst, sol) == []
        if "skipped on the LP bound" in sol.termination:
            stats["a part skipped"] += 1
        loose = solve(inst, mip_rel_gap=0.02, threads=1, split="on", diagnose=False)
        tol = 1e-6 * max(1.0, abs(best))
        assert loose.best_bound <= best + tol, (loose.best_bound, best)
        assert best - tol <= loose.objective <= best + 0.02 * abs(best) + tol, (loose.objective, best)

    check()
    assert stats["total"] >= 80, stats
    assert stats["infeasible"] >= 5 and stats["a part skipped"] >= 10, stats
    print(f"\nsplit property test: {dict(stats)}")


@st.composite
def tiny_channel_instances(draw):
    """A tiny instance whose supply sits with one or two channels: the dealer channel has an
    offer ladder (1-3 levels, per region or national, maybe a take-back duty), the fleet channel
    none (free, all captured)."""
    inst = draw(tiny_instances())
    two = draw(st.booleans())
    names = ["dealer", "fleet"] if two else ["dealer"]
    n_levels = draw(st.integers(1, 3))
    prices = sorted(draw(st.lists(st.sampled_from([-300.0, 0.0, 250.0, 700.0, 1500.0, 3000.0]), min_size=n_levels,
                                  max_size=n_levels, unique=True)))
    shares = sorted(draw(st.lists(st.sampled_from([0.2, 0.5, 0.8, 1.0]), min_size=n_levels, max_size=n_levels)))
    # A take-back duty of at most the best level's share (validation refuses more): half the
    # examples carry one, so the duty rows are exercised as often as the free choice.
    duty = min(0.5, shares[-1]) if draw(st.booleans()) else 0.0
    channels = pd.DataFrame({"id": names, "name": "", "owner": "", "price_scope": [draw(st.sampled_from(["region", "national"])), "region"][:len(names)],
                             "min_capture_share": [duty, 0.0][:len(names)], "source": ""})
    dealer = draw(st.sampled_from([0.4, 0.7, 1.0])) if two else 1.0
    channel_shares = pd.DataFrame({"region": "*", "chemistry": "", "channel": names, "share": [dealer, 1.0 - dealer][:len(names)]})
    offers = pd.DataFrame({"channel": "dealer", "region": "", "chemistry": "", "period": np.nan,
                           "level": [f"L{k}" for k in range(n_levels)], "price_per_t": prices, "capture_share": shares})
    return inst.replace(channels=channels, channel_shares=channel_shares, offers=offers)


def _n_worlds(inst) -> int:
    from .bruteforce import offer_worlds

    return len(offer_worlds(inst))


def _milp_equals_brute_force(inst, n_cases: int, stats: Counter, limit: int = 400):
    """The MILP against the brute force on one example (``n_cases`` combinations of sites and
    offer levels; more than ``limit`` are skipped): the same optimum, or both infeasible, and the
    checker passing.  Returns the solution when there is one to look at."""
    if n_cases > limit:
        stats["skipped"] += 1
        return None
    stats["total"] += 1
    configs = brute_force(inst)
    sol = solve(inst, mip_rel_gap=0, threads=1, marginal_values=False)
    if not configs:
        stats["infeasible"] += 1
        assert sol.status == SolveStatus.INFEASIBLE, (sol.status, sol.objective)
        return None
    assert sol.status == SolveStatus.OPTIMAL, sol.status
    assert sol.objective == pytest.approx(configs[0].objective, rel=1e-6, abs=1e-3), (sol.objective, configs[0].objective)
    assert check_solution(inst, sol) == []
    return sol


@pytest.mark.slow
def test_offers_milp_equals_brute_force():
    """Offer ladders, national price lists, take-back duties and free channels: the MILP equals
    the brute force over every combination of levels and sites (and the checker passes)."""
    stats: Counter = Counter()

    @settings(max_examples=160, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_channel_instances())
    def check(inst):
        sol = _milp_equals_brute_force(inst, _n_configs(inst) * _n_worlds(inst), stats)
        if sol is None:
            return
        levels = set(sol.channels.loc[sol.channels["channel"] == "dealer", "level"])
        stats["some dealer tonnes bought"] += bool(levels - {""})
        stats["no offer made"] += "" in levels
        stats["national"] += bool((inst.channels["price_scope"] == "national").any())
        stats["duty"] += bool((inst.channels["min_capture_share"] > 0).any())
        stats["free channel"] += len(inst.channels) > 1

    check()
    print(f"\noffers property test: {dict(stats)}")
    total = stats["total"]
    assert total >= 60, stats
    for feature in ("some dealer tonnes bought", "no offer made", "national", "duty", "free channel"):
        assert stats[feature] >= 0.1 * total, (feature, stats)


# --- collection points --------------------------------------------------------------------------

@st.composite
def tiny_cp_instances(draw, single_sourcing: bool = False):
    """A tiny instance with one or two collection points (modes own/partner, maybe existing, maybe
    a handling cost of their own) and first-mile and line-haul rates and radii of their own --
    or following the pack rate.  ``single_sourcing``: one contract per region, with a spoke or a
    point (modes then large enough to take a region's whole supply now and then)."""
    import dataclasses

    inst = draw(tiny_instances())
    coord = st.tuples(st.floats(44.0, 47.0), st.floats(2.0, 6.0))
    rows, modes = [], []
    for i in range(draw(st.integers(1, 2))):
        la, lo = draw(coord)
        status = draw(st.sampled_from(["candidate"] * 4 + ["existing"]))
        names = ["own", "partner"][: draw(st.integers(1, 2))]
        for name in names:
            sizes = [500, 1500, 4000] if not single_sourcing else [4000, 20000]
            modes.append({"site_id": f"C{i}", "size": name, "capacity_t": float(draw(st.sampled_from(sizes))),
                          "capex": float(draw(st.sampled_from([0.0, 1e6]))) if name == "own" else 0.0,
                          "fixed_opex_per_yr": float(draw(st.sampled_from([0.0, 5e4, 2e5]))),
                          "min_throughput_t": float(draw(st.sampled_from([0.0, 0.0, 200.0]))),
                          "processing_cost_per_t": draw(st.sampled_from([np.nan, np.nan, 10.0, 60.0]))})
        rows.append({"id": f"C{i}", "lat": round(la, 3), "lon": round(lo, 3), "status": status,
                     "existing_size": names[0] if status == "existing" else "",
                     "closure_cost": draw(st.sampled_from([np.nan, 1e5])) if status == "existing" else np.nan,
                     "processing_cost_per_t": draw(st.sampled_from([np.nan, np.nan, 30.0]))})
    for m in modes:  # a minimum above the capacity is refused by validation
        m["min_throughput_t"] = min(m["min_throughput_t"], m["capacity_t"])
    p = dataclasses.replace(
        inst.params, single_sourcing=single_sourcing,
        first_mile_cost_per_t_km=draw(st.sampled_from([None, 0.5, 3.0])),
        line_haul_cost_per_t_km=draw(st.sampled_from([None, 0.05, 0.3])),
        first_mile_radius_km=draw(st.sampled_from([None, None, 120.0])),
        line_haul_radius_km=draw(st.sampled_from([None, None, 250.0])),
        collection_point_cost_per_t=draw(st.sampled_from([0.0, 20.0])),
        # never below the existing points that may not close (no closure cost): refused by validation
        max_collection_points=_at_least(draw(st.sampled_from([None, None, 1])),
                                        sum(r["status"] == "existing" and np.isnan(r["closure_cost"]) for r in rows)))
    return make_instance(
        "prop-cp", inst.chemistries, p, inst.regions, inst.spokes, inst.spoke_sizes,
        inst.hubs if len(inst.hubs) else None, inst.hub_sizes if len(inst.hub_sizes) else None,
        inst.lanes if len(inst.lanes) else None,
        collection_points=pd.DataFrame(rows), collection_point_modes=pd.DataFrame(modes))


def _at_least(limit: int | None, floor: int) -> int | None:
    return None if limit is None else max(limit, floor)


def _n_cp_configs(inst) -> int:
    total = _n_configs(inst)
    for s in inst.collection_points.itertuples(index=False):
        k = int((inst.collection_point_modes["site_id"] == s.id).sum())
        total *= {"candidate": k + 1, "existing": k, "excluded": 1}[s.status]
    return total


@pytest.mark.slow
def test_collection_points_milp_equals_brute_force():
    """With collection points (own and partner modes, first mile and line haul, radii, existing
    and closable points, handling costs, counts): the MILP equals the brute force over every
    combination of modes and sites, and the checker passes."""
    stats: Counter = Counter()

    @settings(max_examples=140, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_cp_instances())
    def check(inst):
        if _n_cp_configs(inst) > MAX_CONFIGS:
            stats["skipped"] += 1
            return
        stats["total"] += 1
        stats["existing point"] += bool((inst.collection_points["status"] == "existing").any())
        configs = brute_force(inst)
        sol = solve(inst, mip_rel_gap=0, threads=1)
        if not configs:
            stats["infeasible"] += 1
            assert sol.status == SolveStatus.INFEASIBLE, (sol.status, sol.objective)
            return
        assert sol.status == SolveStatus.OPTIMAL, sol.status
        best = configs[0].objective
        assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-3), (sol.objective, best)
        assert check_solution(inst, sol) == []
        stats["feasible with an existing point"] += bool((inst.collection_points["status"] == "existing").any())
        via = sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "flow_t"].sum()
        stats["packs through a collection point"] += bool(via > 1e-6)
        stats["no collection point used"] += bool(via <= 1e-6)
        stats["own rate on a leg"] += inst.params.first_mile_cost_per_t_km is not None or inst.params.line_haul_cost_per_t_km is not None
        stats["mode with its own handling cost"] += bool(inst.collection_point_modes["processing_cost_per_t"].notna().any())

    check()
    print(f"\ncollection-point property test: {dict(stats)}")
    total = stats["total"]
    assert total >= 50, stats
    for feature in ("packs through a collection point", "no collection point used", "own rate on a leg", "existing point",
                    "mode with its own handling cost"):
        assert stats[feature] >= 0.1 * total, (feature, stats)


@pytest.mark.slow
def test_single_sourcing_through_collection_points_milp_equals_brute_force():
    """Single sourcing with collection points: each region contracts one site, a spoke or a
    point, for all its packs; the MILP equals the brute force (an integer program per
    configuration) and the checker passes."""
    stats: Counter = Counter()

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_cp_instances(single_sourcing=True))
    def check(inst):
        if _n_cp_configs(inst) > MAX_CONFIGS:
            stats["skipped"] += 1
            return
        stats["total"] += 1
        configs = brute_force(inst)
        sol = solve(inst, mip_rel_gap=0, threads=1)
        if not configs:
            stats["infeasible"] += 1
            assert sol.status == SolveStatus.INFEASIBLE, (sol.status, sol.objective)
            return
        assert sol.status == SolveStatus.OPTIMAL, sol.status
        assert sol.objective == pytest.approx(configs[0].objective, rel=1e-6, abs=1e-3), (sol.objective, configs[0].objective)
        assert check_solution(inst, sol) == []
        first = sol.flows[sol.flows["echelon"].isin(["region_spoke", "region_collection_point"]) & (sol.flows["flow_t"] > 1e-6)]
        assert (first.groupby("origin")["destination"].nunique() <= 1).all(), first  # one contract per region
        stats["feasible"] += 1
        stats["a region contracts a point"] += bool((first["echelon"] == "region_collection_point").any())

    check()
    print(f"\nsingle-sourcing collection-point property test: {dict(stats)}")
    assert stats["total"] >= 40, stats
    assert stats["feasible"] >= 0.2 * stats["total"], stats
    assert stats["a region contracts a point"] >= 0.1 * stats["feasible"], stats


@st.composite
def tiny_cp_channel_instances(draw):
    """A tiny instance with collection points and one or two channels (a dealer ladder, maybe a
    free fleet channel), each point taking every channel or some only."""
    inst = draw(tiny_cp_instances())
    names = ["dealer", "fleet"] if draw(st.booleans()) else ["dealer"]
    n_levels = draw(st.integers(1, 2))
    prices = sorted(draw(st.lists(st.sampled_from([0.0, 250.0, 1500.0]), min_size=n_levels, max_size=n_levels, unique=True)))
    shares = sorted(draw(st.lists(st.sampled_from([0.5, 1.0]), min_size=n_levels, max_size=n_levels)))
    # national price lists keep the brute force's offer worlds few (one ladder per chemistry)
    channels = pd.DataFrame({"id": names, "name": "", "owner": "", "price_scope": "national", "min_capture_share": 0.0,
                             "source": ""})
    dealer = draw(st.sampled_from([0.4, 0.7])) if len(names) == 2 else 1.0
    channel_shares = pd.DataFrame({"region": "*", "chemistry": "", "channel": names, "share": [dealer, 1.0 - dealer][:len(names)]})
    offers = pd.DataFrame({"channel": "dealer", "region": "", "chemistry": "", "period": np.nan,
                           "level": [f"L{k}" for k in range(n_levels)], "price_per_t": prices, "capture_share": shares})
    options = ["", "dealer", "fleet", "dealer;fleet"] if len(names) == 2 else ["", "dealer"]
    takes = [draw(st.sampled_from(options[1:] * 2 + options[:1])) for _ in range(len(inst.collection_points))]
    return inst.replace(channels=channels, channel_shares=channel_shares, offers=offers,
                        collection_points=inst.collection_points.assign(channels=takes))


@st.composite
def tiny_damaged_instances(draw):
    """:func:`tiny_cp_channel_instances` with damaged packs: each channel's damaged share (at
    least one positive) and a surcharge per t km on the haul from the region.  The dealer channel
    carries a take-back duty at its ladder's lowest share, so packs are captured (a cost-minimising
    plan without one often buys nothing) and damaged ones travel."""
    inst = draw(tiny_cp_channel_instances())
    names = list(inst.channels["id"])
    shares = [draw(st.sampled_from([0.3, 0.6, 1.0]))] + [draw(st.sampled_from([0.0, 0.3, 1.0])) for _ in names[1:]]
    params = dataclasses.replace(inst.params, damaged_pack_surcharge_per_t_km=draw(st.sampled_from([0.5, 3.0])))
    duty = [float(inst.offers["capture_share"].min())] + [0.0] * (len(names) - 1)
    return inst.replace(channels=inst.channels.assign(damaged_share=shares, min_capture_share=duty), params=params)


@pytest.mark.slow
def test_points_taking_some_channels_milp_equals_brute_force():
    """Collection points that take some channels only (Gale's condition in the model; first-mile
    flows indexed by channel in the brute force): the MILP equals the brute force over every
    combination of offer levels, modes and sites, and the checker passes."""
    stats: Counter = Counter()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_cp_channel_instances())
    def check(inst):
        sol = _milp_equals_brute_force(inst, _n_cp_configs(inst) * _n_worlds(inst), stats)
        if sol is None:
            return
        first = sol.flows[(sol.flows["echelon"] == "region_collection_point") & (sol.flows["flow_t"] > 1e-6)]
        restricted = set(inst.collection_points.loc[inst.collection_points["channels"] != "", "id"])
        stats["some point takes some channels only"] += bool(restricted)
        stats["packs through a point taking some channels"] += bool(first["destination"].isin(restricted).any())
        stats["two points, both restricted"] += len(restricted) == 2

    check()
    print(f"\nchannel-acceptance property test: {dict(stats)}")
    total = stats["total"]
    assert total >= 50, stats
    assert stats["some point takes some channels only"] >= 0.1 * total, stats
    # two restricted points (Gale's rows over a union) are rarer on some Hypothesis versions'
    # draws (7 of 108 on the oldest pins, against 10 % and more on the tested set): some, not a share
    assert stats["two points, both restricted"] >= 5, stats
    # "packs through a point taking some channels" is counted, not required: how often a point
    # pays for itself depends on the Hypothesis version's draws (9 of 100 on the tested set, 1 of
    # 80 on the oldest pins); the hand-worked cases in tests/test_collection_points.py are where the
    # restriction binds by construction (and fail when the acceptance rows are left out)


@pytest.mark.slow
def test_damaged_packs_milp_equals_brute_force():
    """Damaged packs (a share per channel, a surcharge per t km on the haul from the region; in
    the model the damaged tonnes among each arc's flow, with Gale's condition for the damaged and
    the sound apart where points take some channels only; in the brute force every flow out of a
    region indexed by channel and damaged-or-sound): the MILP equals the brute force over every
    combination of offer levels, modes and sites, and the checker passes."""
    stats: Counter = Counter()

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(tiny_damaged_instances())
    def check(inst):
        sol = _milp_equals_brute_force(inst, _n_cp_configs(inst) * _n_worlds(inst), stats)
        if sol is None:
            return
        first = sol.flows[sol.flows["echelon"].isin(["region_spoke", "region_collection_point"])]
        restricted = set(inst.collection_points.loc[inst.collection_points["channels"] != "", "id"])
        stats["some point takes some channels only"] += bool(restricted)
        stats["damaged packs shipped"] += bool((first["damaged_t"] > 1e-6).any())
        stats["damaged packs through a point"] += bool((first.loc[first["echelon"] == "region_collection_point", "damaged_t"] > 1e-6).any())
        stats["sound and damaged packs of one channel"] += bool((inst.channels["damaged_share"].between(0.01, 0.99)).any())

    check()
    print(f"\ndamaged-packs property test: {dict(stats)}")
    total = stats["total"]
    assert total >= 40, stats
    for feature in ("some point takes some channels only", "sound and damaged packs of one channel"):
        assert stats[feature] >= 0.1 * total, (feature, stats)
    # "damaged packs shipped" / "through a point" are counted, not required: they depend on the
    # draws of the Hypothesis version (the hand-worked cases in tests/test_collection_points.py
    # route damaged packs through a point by construction)
