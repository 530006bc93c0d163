"""Independent solution checker: recompute every rule and every cost from the instance.

:func:`check_solution` reads only the :class:`~optimizer.instance.Instance` (its raw tables) and
the :class:`~optimizer.solution.Solution` (its tables); it never imports Pyomo or the model
layer, and it recomputes distances, lane costs, capacities and prices itself.  So a wrong arc
set, a wrong coefficient in the model or a wrong extraction shows up as a named violation.

Violation families (``Violation.rule``): ``unknown_id``, ``excluded_site``, ``service_radius``,
``hub_acceptance``, ``closed_site_flow``, ``negative_flow``, ``supply_balance``,
``collection_rate``, ``spoke_capacity``, ``spoke_mass_balance``, ``hub_capacity``, ``one_size``,
``unknown_size``, ``existing_open``, ``merchant_outlet``, ``merchant_cap``, ``max_spokes``,
``max_hubs``, ``capex_budget``, ``single_sourcing``, ``site_report`` (a sites-table figure that
does not match the flows), ``cost:<component>`` and ``objective``; multi-period adds
``schedule`` (capacity shrinking, a candidate closing, a closed site reopening) and
``earliest_year``, and checks the objective as a net present value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frames import concat_rows
from .geo import great_circle_km
from .instance import Instance, capital_recovery_factor
from .solution import Solution

ABS_TOL_T = 1e-4  # t/yr
REL_TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str
    amount: float = 0.0

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def _tol(scale: float) -> float:
    return ABS_TOL_T + REL_TOL * abs(scale)


def check_solution(inst: Instance, sol: Solution) -> list[Violation]:
    """Every violated rule of ``sol`` for ``inst`` (empty list = the solution is valid)."""
    out: list[Violation] = []
    if not sol.status.has_solution:
        return out
    periods = list(sol.periods) or ["base"]
    for period in periods:
        out += _check_period(inst, sol, period)
    if inst.multi_period:
        _check_schedule(inst, sol, periods, out)
    _check_objective(inst, sol, out)
    return out


def _site_states(inst: Instance, sol: Solution, periods: list[str]) -> dict[str, list[tuple[bool, float, str]]]:
    """Per site, per period: (open, capacity, size)."""
    states: dict[str, list] = {}
    s = sol.sites
    for sid, g in s.groupby("site_id"):
        by_p = {r.period: (bool(r.open), float(r.capacity_t) if r.open else 0.0, str(r.size)) for r in g.itertuples(index=False)}
        states[sid] = [by_p.get(t, (False, 0.0, "")) for t in periods]
    return states


def _check_schedule(inst: Instance, sol: Solution, periods: list[str], out: list[Violation]) -> None:
    """Capacity never shrinks; candidates never close; closed sites never reopen; budgets."""
    sites = concat_rows([inst.spokes.assign(kind="spoke"), inst.hubs.assign(kind="hub")]).set_index("id")
    sizes = concat_rows([inst.spoke_sizes, inst.hub_sizes])
    for sid, seq in _site_states(inst, sol, periods).items():
        if sid not in sites.index:
            continue
        status, cc = sites.at[sid, "status"], sites.at[sid, "closure_cost"]
        for k in range(1, len(seq)):
            (was_open, was_cap, _), (is_open, cap, _) = seq[k - 1], seq[k]
            if was_open and is_open and cap < was_cap - 1e-9:
                out.append(Violation("schedule", f"{sid} shrinks from {was_cap:g} to {cap:g} t in {periods[k]}"))
            if was_open and not is_open and not (status == "existing" and cc == cc):
                out.append(Violation("schedule", f"{sid} closes in {periods[k]} but only existing sites with a closure cost may close"))
            if is_open and not was_open and any(o for o, _c, _s in seq[:k]):
                out.append(Violation("schedule", f"{sid} reopens in {periods[k]} after closing"))
    # capex spent: building a size, or the capex difference when expanding
    budget = inst.periods.capex_budget
    spent = {t: 0.0 for t in periods}
    for sid, seq in _site_states(inst, sol, periods).items():
        if sid not in sites.index:
            continue
        opts = sizes[sizes["site_id"] == sid].set_index("size")["capex"]
        base = 0.0
        if sites.at[sid, "status"] == "existing":
            base = float(opts.get(sites.at[sid, "existing_size"], 0.0))
        prev = base
        for k, (is_open, _cap, size) in enumerate(seq):
            now = float(opts.get(size, 0.0)) if is_open else prev  # a closure refunds nothing
            spent[periods[k]] += max(0.0, now - prev)
            prev = max(prev, now) if is_open else prev
    if budget is not None:
        for t, b in zip(periods, budget, strict=True):
            if b is not None and spent[t] > b + _tol(b):
                out.append(Violation("capex_budget", f"capex spent in {t} {spent[t]:,.2f} over its budget {b:,.2f}", spent[t] - b))
    total = inst.params.max_capex
    if total is not None and sum(spent.values()) > total + _tol(total):
        out.append(Violation("capex_budget", f"capex spent {sum(spent.values()):,.2f} over the budget {total:,.2f}"))
    # closure costs, one-off in the period a site closes
    costs = sol.costs
    for k, t in enumerate(periods):
        expected = 0.0
        for sid, seq in _site_states(inst, sol, periods).items():
            if k > 0 and seq[k - 1][0] and not seq[k][0] and sid in sites.index:
                cc = sites.at[sid, "closure_cost"]
                expected += float(cc) if cc == cc else 0.0
        got = float(costs.loc[(costs["component"] == "closure") & (costs["period"] == t), "value"].sum())
        if abs(got - expected) > 1e-6 * max(1.0, expected) + 1e-6:
            out.append(Violation("cost:closure", f"{t}: reported {got:,.4f}, recomputed {expected:,.4f}", got - expected))


def _check_period(inst: Instance, sol: Solution, period: str) -> list[Violation]:
    out: list[Violation] = []
    p = inst.params
    chems = list(inst.chem_names)
    yields = {c.name: c.black_mass_yield for c in inst.chemistries}
    flows = sol.flows[sol.flows["period"] == period] if len(sol.flows) else sol.flows
    sites = sol.sites[sol.sites["period"] == period] if len(sol.sites) else sol.sites

    spokes = inst.spokes.set_index("id")
    hubs = inst.hubs.set_index("id")
    regions = _supply_table(inst, period)

    # --- chosen sizes -------------------------------------------------------------------------
    chosen: dict[str, tuple[str, float, float, float]] = {}  # site -> (size, cap, capex_charged, opex)
    for kind, table, sizes in (("spoke", spokes, inst.spoke_sizes), ("hub", hubs, inst.hub_sizes)):
        rows = sites[(sites["kind"] == kind)] if len(sites) else sites
        open_rows = rows[rows["open"].astype(bool)] if len(rows) else rows
        counts = open_rows["site_id"].value_counts() if len(open_rows) else pd.Series(dtype=int)
        for sid, n in counts.items():
            if n > 1:
                out.append(Violation("one_size", f"{kind} {sid} open with {n} sizes in period {period}"))
        for r in open_rows.itertuples(index=False):
            if r.site_id not in table.index:
                out.append(Violation("unknown_id", f"open {kind} {r.site_id} is not in the instance"))
                continue
            status = table.at[r.site_id, "status"]
            if status == "excluded":
                out.append(Violation("excluded_site", f"{kind} {r.site_id} is excluded but open"))
            opts = sizes[(sizes["site_id"] == r.site_id) & (sizes["size"] == r.size)]
            if opts.empty:
                out.append(Violation("unknown_size", f"{kind} {r.site_id} open with unknown size '{r.size}'"))
                continue
            cap = float(opts["capacity_t"].iloc[0])
            capex = float(opts["capex"].iloc[0])
            if status == "existing":
                inst_row = sizes[(sizes["site_id"] == r.site_id) & (sizes["size"] == table.at[r.site_id, "existing_size"])]
                inst_cap = float(inst_row["capacity_t"].iloc[0])
                inst_capex = float(inst_row["capex"].iloc[0])
                if cap < inst_cap:
                    out.append(Violation("existing_open", f"existing {kind} {r.site_id} at size {r.size} below its installed size"))
                capex = max(0.0, capex - inst_capex)
            chosen[r.site_id] = (r.size, cap, capex, float(opts["fixed_opex_per_yr"].iloc[0]))
        for sid in table.index[table["status"] == "existing"]:
            closable = inst.multi_period and table.at[sid, "closure_cost"] == table.at[sid, "closure_cost"]
            if sid not in chosen and not closable:
                out.append(Violation("existing_open", f"existing {kind} {sid} is not open in period {period}"))
        for sid in inst.forced_open:
            if sid in table.index and sid not in chosen and (not inst.multi_period or table.at[sid, "earliest_year"] != table.at[sid, "earliest_year"] or int(period) >= table.at[sid, "earliest_year"]):
                out.append(Violation("forced_open", f"{kind} {sid} is forced open but closed in period {period}"))
        if inst.multi_period:
            early = open_rows[open_rows["site_id"].map(table["earliest_year"]).fillna(-1).to_numpy() > int(period)] if len(open_rows) else open_rows
            for sid in early["site_id"] if len(early) else ():
                out.append(Violation("earliest_year", f"{kind} {sid} open in {period}, before its earliest year {table.at[sid, 'earliest_year']:g}"))

    # --- flows --------------------------------------------------------------------------------
    if len(flows) and (flows["flow_t"].to_numpy(dtype=float) < -ABS_TOL_T).any():
        out.append(Violation("negative_flow", "negative tonnes in flows"))
    rs = flows[flows["echelon"] == "region_spoke"] if len(flows) else flows
    sh = flows[flows["echelon"] == "spoke_hub"] if len(flows) else flows
    mw = flows[flows["echelon"] == "spoke_merchant"] if len(flows) else flows

    for r in rs.itertuples(index=False):
        if r.origin not in regions.index or r.destination not in spokes.index or r.chemistry not in chems:
            out.append(Violation("unknown_id", f"pack flow {r.origin}->{r.destination} ({r.chemistry}) names an unknown id"))
        elif r.destination not in chosen:
            out.append(Violation("closed_site_flow", f"{r.flow_t:.4f} t packs into closed spoke {r.destination}", r.flow_t))
    for r in sh.itertuples(index=False):
        if r.origin not in spokes.index or r.destination not in hubs.index or r.chemistry not in chems:
            out.append(Violation("unknown_id", f"black-mass flow {r.origin}->{r.destination} names an unknown id"))
            continue
        if r.destination not in chosen:
            out.append(Violation("closed_site_flow", f"{r.flow_t:.4f} t black mass into closed hub {r.destination}", r.flow_t))
        if not bool(hubs.at[r.destination, f"accepts_{r.chemistry}"]):
            out.append(Violation("hub_acceptance", f"hub {r.destination} receives {r.chemistry}, which it does not accept", r.flow_t))
    for r in mw.itertuples(index=False):
        if inst.chemistry(r.chemistry).merchant_price_per_t is None:
            out.append(Violation("merchant_outlet", f"spoke {r.origin} sells {r.chemistry} black mass with no merchant outlet", r.flow_t))

    # Distances and lane costs recomputed here.
    pack_cost, pack_km = _lane_costs(inst, rs, regions, spokes, p.pack_cost_per_t_km)
    bm_cost, _ = _lane_costs(inst, sh, spokes, hubs, p.black_mass_cost_per_t_km)
    if p.service_radius_km is not None and len(rs):
        far = pack_km > p.service_radius_km * (1 + 1e-9)
        for i in np.flatnonzero(far):
            r = rs.iloc[i]
            out.append(Violation("service_radius", f"{r.origin}->{r.destination} is {pack_km[i]:.1f} km, beyond {p.service_radius_km:g} km", float(r.flow_t)))

    # --- balances and capacities ----------------------------------------------------------------
    collected = rs.groupby(["origin", "chemistry"])["flow_t"].sum() if len(rs) else pd.Series(dtype=float)
    rate = p.min_collection_rate
    reported = sol.regions[sol.regions["period"] == period].set_index(["region_id", "chemistry"]) if len(sol.regions) else None
    for rid, row in regions.iterrows():
        for c in chems:
            supply = float(row[f"{c}_t"])
            got = float(collected.get((rid, c), 0.0))
            if got > supply + _tol(supply):
                out.append(Violation("supply_balance", f"region {rid} {c}: {got:.4f} t collected of {supply:.4f} t supply", got - supply))
            if got < rate * supply - _tol(supply):
                out.append(Violation("collection_rate", f"region {rid} {c}: {got:.4f} t collected, {rate * supply:.4f} t required", rate * supply - got))
            if reported is not None and supply > 0:
                if (rid, c) not in reported.index:
                    out.append(Violation("supply_balance", f"region {rid} {c} missing from the regions table"))
                else:
                    unc = float(reported.at[(rid, c), "uncollected_t"])
                    if abs(got + unc - supply) > _tol(supply):
                        out.append(Violation("supply_balance", f"region {rid} {c}: collected {got:.4f} + uncollected {unc:.4f} != supply {supply:.4f}", abs(got + unc - supply)))

    inbound = rs.groupby("destination")["flow_t"].sum() if len(rs) else pd.Series(dtype=float)
    inbound_c = rs.groupby(["destination", "chemistry"])["flow_t"].sum() if len(rs) else pd.Series(dtype=float)
    out_bm = concat_rows([sh, mw]).groupby(["origin", "chemistry"])["flow_t"].sum() if len(sh) + len(mw) else pd.Series(dtype=float)
    hub_in = sh.groupby("destination")["flow_t"].sum() if len(sh) else pd.Series(dtype=float)
    for sid in spokes.index:
        t_in = float(inbound.get(sid, 0.0))
        if sid in chosen and t_in > chosen[sid][1] + _tol(chosen[sid][1]):
            out.append(Violation("spoke_capacity", f"spoke {sid}: {t_in:.4f} t packs in, capacity {chosen[sid][1]:.4f}", t_in - chosen[sid][1]))
        for c in chems:
            made = yields[c] * float(inbound_c.get((sid, c), 0.0))
            left = float(out_bm.get((sid, c), 0.0))
            if abs(made - left) > _tol(made):
                out.append(Violation("spoke_mass_balance", f"spoke {sid} {c}: {made:.4f} t black mass made, {left:.4f} t shipped", abs(made - left)))
    for hid in hubs.index:
        t_in = float(hub_in.get(hid, 0.0))
        if hid in chosen and t_in > chosen[hid][1] + _tol(chosen[hid][1]):
            out.append(Violation("hub_capacity", f"hub {hid}: {t_in:.4f} t black mass in, capacity {chosen[hid][1]:.4f}", t_in - chosen[hid][1]))

    for c in inst.chemistries:
        if c.merchant_cap_t is not None and len(mw):
            sold = float(mw.loc[mw["chemistry"] == c.name, "flow_t"].sum())
            if sold > c.merchant_cap_t + _tol(c.merchant_cap_t):
                out.append(Violation("merchant_cap", f"{c.name}: {sold:.4f} t sold, cap {c.merchant_cap_t:g}", sold - c.merchant_cap_t))

    n_spokes = sum(1 for s in chosen if s in spokes.index)
    n_hubs = sum(1 for s in chosen if s in hubs.index)
    if p.max_spokes is not None and n_spokes > p.max_spokes:
        out.append(Violation("max_spokes", f"{n_spokes} spokes open, at most {p.max_spokes}"))
    if p.max_hubs is not None and n_hubs > p.max_hubs:
        out.append(Violation("max_hubs", f"{n_hubs} hubs open, at most {p.max_hubs}"))
    capex_total = sum(v[2] for v in chosen.values())
    if p.max_capex is not None and not inst.multi_period and capex_total > p.max_capex + _tol(p.max_capex):
        out.append(Violation("capex_budget", f"capex charged {capex_total:,.2f} over budget {p.max_capex:,.2f}", capex_total - p.max_capex))
    if p.single_sourcing and len(rs):
        n_dest = rs.groupby("origin")["destination"].nunique()
        for rid, n in n_dest.items():
            if n > 1:
                out.append(Violation("single_sourcing", f"region {rid} ships to {n} spokes"))

    # --- the sites table agrees with the flows ------------------------------------------------------
    for r in sites.itertuples(index=False) if len(sites) else ():
        flow_in = float(inbound.get(r.site_id, 0.0)) if r.kind == "spoke" else float(hub_in.get(r.site_id, 0.0))
        if abs(float(r.inbound_t) - flow_in) > _tol(flow_in):
            out.append(Violation("site_report", f"{r.kind} {r.site_id}: inbound_t {r.inbound_t} but flows sum to {flow_in}"))
        if bool(r.open) and r.site_id in chosen and abs(float(r.capacity_t) - chosen[r.site_id][1]) > _tol(chosen[r.site_id][1]):
            out.append(Violation("site_report", f"{r.kind} {r.site_id}: capacity_t {r.capacity_t} but size {r.size} has {chosen[r.site_id][1]}"))
        if float(r.utilisation) > 1.0 + 1e-9 and bool(r.open):
            out.append(Violation("site_report", f"{r.kind} {r.site_id}: utilisation {r.utilisation} above 100 %"))

    # --- cost components -----------------------------------------------------------------------------
    crf = capital_recovery_factor(p.discount_rate, p.lifetime_years)
    rev = {c.name: (c.hub_revenue_per_t or 0.0) for c in inst.chemistries}
    price = {c.name: (c.merchant_price_per_t or 0.0) for c in inst.chemistries}
    uncollected = 0.0
    for rid, row in regions.iterrows():
        for c in chems:
            uncollected += max(0.0, float(row[f"{c}_t"]) - float(collected.get((rid, c), 0.0)))
    expected = {
        "capex_annualised": crf * capex_total,
        "fixed_opex": sum(v[3] for v in chosen.values()),
        "spoke_processing": p.spoke_cost_per_t * float(rs["flow_t"].sum()) if len(rs) else 0.0,
        "hub_processing": p.hub_cost_per_t * float(sh["flow_t"].sum()) if len(sh) else 0.0,
        "transport_pack": float(pack_cost @ rs["flow_t"].to_numpy(dtype=float)) if len(rs) else 0.0,
        "transport_black_mass": float(bm_cost @ sh["flow_t"].to_numpy(dtype=float)) if len(sh) else 0.0,
        "uncollected_penalty": (p.uncollected_penalty_per_t or 0.0) * uncollected,
        "merchant_revenue": -sum(price[c] * t for c, t in zip(mw["chemistry"], mw["flow_t"], strict=True)) if len(mw) else 0.0,
        "hub_revenue": -sum(rev[c] * t for c, t in zip(sh["chemistry"], sh["flow_t"], strict=True)) if len(sh) else 0.0,
    }
    costs = sol.costs[sol.costs["period"] == period]
    for name, value in expected.items():
        got = float(costs.loc[costs["component"] == name, "value"].sum())
        if abs(got - value) > 1e-6 * max(1.0, abs(value)) + 1e-6:
            out.append(Violation(f"cost:{name}", f"reported {got:,.4f}, recomputed {value:,.4f}", got - value))
    return out


def _supply_table(inst: Instance, period: str) -> pd.DataFrame:
    """Supply of ``period`` as regions.csv-shaped rows (id index, ``<chem>_t`` columns)."""
    if not inst.multi_period:
        return inst.regions.set_index("id")
    sup = inst.supply_by_period
    wide = sup[sup["period"] == period].pivot(index="region_id", columns="chemistry", values="supply_t")
    out = inst.regions.set_index("id")[["name", "lat", "lon", "region"]].copy()
    for c in inst.chem_names:
        out[f"{c}_t"] = wide[c].reindex(out.index).to_numpy() if c in wide.columns else 0.0
    return out


def _lane_costs(inst: Instance, flows: pd.DataFrame, origins: pd.DataFrame, dests: pd.DataFrame, rate: float):
    """Cost per tonne and road km of each flow row, from coordinates and lanes.csv."""
    if not len(flows):
        return np.zeros(0), np.zeros(0)
    ok = flows["origin"].isin(origins.index) & flows["destination"].isin(dests.index)
    km = np.full(len(flows), np.nan)
    o = origins.reindex(flows["origin"])
    d = dests.reindex(flows["destination"])
    km[ok.to_numpy()] = (great_circle_km(o["lat"], o["lon"], d["lat"], d["lon"]) * inst.params.circuity)[ok.to_numpy()]
    cost = km * rate
    if len(inst.lanes):
        lanes = {(a, b): (k, c) for a, b, k, c in zip(inst.lanes["origin"], inst.lanes["destination"],
                                                    inst.lanes["km"], inst.lanes["cost_per_t"], strict=True)}
        for i, (a, b) in enumerate(zip(flows["origin"], flows["destination"], strict=True)):
            if (a, b) in lanes:
                k, c = lanes[(a, b)]
                if not np.isnan(k):
                    km[i] = k
                    cost[i] = k * rate
                if not np.isnan(c):
                    cost[i] = c
    return np.nan_to_num(cost), np.nan_to_num(km)


def _check_objective(inst: Instance, sol: Solution, out: list[Violation]) -> None:
    """Single period: the components sum to the objective.  Multi-period: the objective is the
    NPV -- each period's annual components weighted by the discount factors of its years, plus
    one-off closure costs discounted to the period's first year (weights recomputed here)."""
    total = float(sol.costs["value"].sum()) if len(sol.costs) else 0.0
    if inst.multi_period:
        rate = inst.params.discount_rate
        y0 = inst.periods.years[0]
        total = 0.0
        for y, n in zip(inst.periods.years, inst.periods.lengths, strict=True):
            weight = sum((1 + rate) ** -(y + j - y0) for j in range(n))
            c = sol.costs[sol.costs["period"] == str(y)]
            annual = float(c.loc[c["component"] != "closure", "value"].sum())
            one_off = float(c.loc[c["component"] == "closure", "value"].sum())
            total += weight * annual + (1 + rate) ** -(y - y0) * one_off
    if sol.objective is None:
        out.append(Violation("objective", "a solution without an objective value"))
        return
    if abs(total - sol.objective) > 1e-6 * max(1.0, abs(total)) + 1e-4:
        out.append(Violation("objective", f"objective {sol.objective:,.4f} but cost components sum to {total:,.4f}", sol.objective - total))
