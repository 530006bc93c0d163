"""Independent solution checker: recompute every rule, every cost and every reported column.

:func:`check_solution` reads only the :class:`~optimizer.instance.Instance` (its raw tables and
parameters) and the :class:`~optimizer.solution.Solution` (its tables).  It imports nothing of
the model, the network tables, the geometry module or the loader's derived figures: distances
(its own haversine), lane costs, the capital recovery factor, the growth path of a multi-period
instance and the NPV weights are recomputed here.  So a wrong arc set, a wrong coefficient, a
wrong extraction or a wrong report column shows up as a named violation.

Violation families (``Violation.rule``):

* sites -- ``unknown_id``, ``excluded_site``, ``one_size``, ``unknown_size``, ``existing_open``,
  ``forced_open``, ``earliest_year``, ``max_spokes``, ``max_hubs``, ``capex_budget``,
  ``site_report`` (a sites-table column -- capacity, inbound, utilisation, capex charged,
  capex annualised, fixed opex -- that does not match the instance and the flows);
* flows -- ``negative_flow``, ``closed_site_flow``, ``hub_acceptance``, ``merchant_outlet``,
  ``service_radius``, ``single_sourcing`` (set by the instance or by the solve option),
  ``flow_report`` (a flow's ``km``, ``cost_per_t`` or ``transport_cost`` that is not the
  lane's);
* balances -- ``supply_balance``, ``collection_rate``, ``spoke_capacity``,
  ``spoke_mass_balance``, ``hub_capacity``, ``merchant_cap``, ``region_report`` (a
  regions-table column -- supply, required, collected, uncollected -- that is wrong);
* channels -- ``offer_choice`` (a level not in its ladder, or a national ladder at different
  levels in two regions), ``min_capture_share`` (a take-back duty not met), ``channel_report``
  (a channels-table row missing, or a column -- available, price, share, captured, acquisition
  cost -- that does not follow from the instance and the level), ``channel_acceptance`` (a
  site taking some channels only gets more than they captured -- all packs, and the damaged
  and the sound ones apart), ``damaged_packs`` (damaged tonnes off a region leg or above the
  flow, or not what the channels' damaged shares of the capture make them);
* money -- ``cost:<component>`` per component and period, ``objective``;
* multi-period -- ``schedule`` (capacity shrinking, a candidate closing, a closed site
  reopening), ``schedule_report`` (the build schedule does not follow from the sites table),
  ``cost:closure`` and the budgets under ``capex_budget``.

Tolerances scale with the magnitudes involved: a tonnage is trusted to ``ABS_TOL_T`` +
``REL_TOL`` of its size, and a money figure to the price times that (so a 1e-11 t round-off at
100,000 per tonne is not a violation, while 1 t uncollected at any price is).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frames import concat_rows
from .instance import Instance
from .solution import Solution
from .tiers import (
    LEGS,
    REGION,
    TIERS,
    Leg,
    Tier,
    legs_into,
    legs_out_of,
    merchant_echelon,
    processing_component,
    revenue_component,
    tier,
)

ABS_TOL_T = 1e-4  # t/yr: solver round-off on a flow
REL_TOL = 1e-6
R_EARTH_KM = 6371.0088  # mean Earth radius (IUGG)


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str
    amount: float = 0.0

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def _tol_t(tonnes: float) -> float:
    """How far a reported tonnage may be from its recomputation."""
    return ABS_TOL_T + REL_TOL * abs(tonnes)


def _tol_money(value: float, price_scale: float, tonnes_scale: float, n_terms: int = 1) -> float:
    """How far a money figure may be off: its own relative round-off plus ``price_scale`` (the
    largest price per tonne involved) times the tonnage tolerance of ``n_terms`` tonnages that
    add up to ``tonnes_scale``."""
    return REL_TOL * abs(value) + abs(price_scale) * (max(1, n_terms) * ABS_TOL_T + REL_TOL * abs(tonnes_scale)) + 1e-6


# --- figures recomputed here, independently of the model layer --------------------------------


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km) on the mean-radius sphere."""
    la1, la2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dla = la2 - la1
    dlo = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dla / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlo / 2) ** 2
    return 2 * R_EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def annuity_factor(rate: float, years: float) -> float:
    """Capital recovery factor: the yearly payment that repays 1 over ``years`` at ``rate``."""
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def supply_per_period(inst: Instance) -> dict[str, pd.DataFrame]:
    """Supply of each period as ``id``-indexed ``<chem>_t`` columns.  One period: regions.csv.
    Several: supply.csv as given, or each region's base supply times the mean over the period's
    years of (1 + g)^(year - base year), with g from growth.csv, else [periods] growth."""
    chems = list(inst.chem_names)
    base = inst.regions.set_index("id")
    if not inst.multi_period:
        return {"base": base}
    per = inst.periods
    out = {}
    if inst.supply_table is not None:
        table = inst.supply_table
        for y in per.years:
            sel = table[table["period"].astype(int) == int(y)]
            wide = sel.pivot_table(index="region_id", columns="chemistry", values="supply_t", aggfunc="sum")
            frame = base[["name", "lat", "lon", "region"]].copy()
            for c in chems:
                frame[f"{c}_t"] = wide[c].reindex(frame.index, fill_value=0.0).to_numpy() if c in wide.columns else 0.0
            out[str(y)] = frame
        return out
    rates = {}
    if inst.growth_table is not None:
        rates = {(r, c): float(g) for r, c, g in zip(inst.growth_table["region_id"], inst.growth_table["chemistry"],
                                                      inst.growth_table["growth"], strict=True)}
    for y, n in zip(per.years, per.lengths, strict=True):
        frame = base[["name", "lat", "lon", "region"]].copy()
        for c in chems:
            default = per.growth.get(c, per.growth.get("*", 0.0))
            g = np.array([rates.get((rid, c), default) for rid in frame.index], dtype=float)
            years = np.arange(y, y + n) - per.base_year
            factor = ((1.0 + g[:, None]) ** years[None, :]).mean(axis=1)
            frame[f"{c}_t"] = base[f"{c}_t"].to_numpy(float) * factor
        out[str(y)] = frame
    return out


def npv_weights(inst: Instance) -> tuple[dict[str, float], dict[str, float]]:
    """Per period: the sum of its years' discount factors (annual figures) and the factor of
    its first year (one-off figures), counted from the first period; 1 and 1 for one period."""
    if not inst.multi_period:
        return {"base": 1.0}, {"base": 1.0}
    r, y0 = inst.params.discount_rate, inst.periods.years[0]
    annual = {str(y): sum((1 + r) ** -(y + j - y0) for j in range(n)) for y, n in zip(inst.periods.years, inst.periods.lengths, strict=True)}
    once = {str(y): (1 + r) ** -(y - y0) for y in inst.periods.years}
    return annual, once


class _Lanes:
    """Road km and cost per tonne of any origin -> destination pair, from coordinates and lanes.csv."""

    def __init__(self, inst: Instance):
        self.inst = inst
        frames = [inst.regions] + [getattr(inst, t.sites) for t in TIERS if getattr(inst, t.sites) is not None]
        geo = pd.concat([f[["id", "lat", "lon"]] for f in frames])
        self.pos = {i: (float(a), float(b)) for i, a, b in zip(geo["id"], geo["lat"], geo["lon"], strict=True)}
        self.override = {(o, d): (k, c) for o, d, k, c in zip(inst.lanes["origin"], inst.lanes["destination"],
                                                               inst.lanes["km"], inst.lanes["cost_per_t"], strict=True)}

    def known(self, a: str, b: str) -> bool:
        return a in self.pos and b in self.pos

    def km_cost(self, origins, destinations, rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(road km, cost per t, quoted?) for each pair; NaN for unknown ids."""
        o = [self.pos.get(a, (np.nan, np.nan)) for a in origins]
        d = [self.pos.get(b, (np.nan, np.nan)) for b in destinations]
        km = haversine_km([p[0] for p in o], [p[1] for p in o], [p[0] for p in d], [p[1] for p in d]) * self.inst.params.circuity
        km = np.atleast_1d(km).astype(float)
        cost = km * rate
        quoted = np.zeros(len(km), dtype=bool)
        for i, key in enumerate(zip(origins, destinations, strict=True)):
            if key in self.override:
                k, c = self.override[key]
                if not math.isnan(k):
                    km[i] = k
                    cost[i] = k * rate
                if not math.isnan(c):
                    cost[i] = c
                    quoted[i] = True
        return km, cost, quoted


# --- the checker --------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """What every rule of one solution needs (recomputed once)."""

    inst: Instance
    sol: Solution
    periods: list[str]
    supply: dict[str, pd.DataFrame]
    lanes: _Lanes
    crf: float
    single_sourcing: bool
    sites: dict[str, pd.DataFrame]  # tier -> its sites indexed by id
    sizes: dict[str, pd.DataFrame]  # tier -> its size options
    #: period -> (region, chemistry) -> t captured by the offers the solution reports (checked)
    captured: dict[str, dict[tuple[str, str], float]] | None = None
    #: period -> (region, chemistry, channel) -> t captured (checked)
    captured_by_channel: dict[str, dict[tuple[str, str, str], float]] | None = None
    acquisition: dict[str, tuple[float, float, float, int]] | None = None


def check_solution(inst: Instance, sol: Solution) -> list[Violation]:
    """Every violated rule of ``sol`` for ``inst`` (empty list = the solution is valid)."""
    out: list[Violation] = []
    if not sol.status.has_solution:
        return out
    options = sol.provenance.get("options", {}) if isinstance(sol.provenance, dict) else {}
    ctx = _Ctx(
        inst=inst, sol=sol, periods=list(sol.periods) or ["base"], supply=supply_per_period(inst),
        lanes=_Lanes(inst), crf=annuity_factor(inst.params.discount_rate, inst.params.lifetime_years),
        single_sourcing=bool(inst.params.single_sourcing or options.get("single_sourcing")),
        sites={t.name: getattr(inst, t.sites).set_index("id") for t in TIERS},
        sizes={t.name: getattr(inst, t.options) for t in TIERS},
    )
    expected_periods = [str(y) for y in inst.periods.years] if inst.multi_period else ["base"]
    if ctx.periods != expected_periods:
        out.append(Violation("objective", f"the solution's periods {ctx.periods} are not the instance's {expected_periods}"))
        return out
    _check_channels(ctx, out)
    for period in ctx.periods:
        chosen = _check_sites(ctx, period, out)
        flows = _flows_of(sol, period)
        _check_flows(ctx, period, flows, chosen, out)
        _check_accepted_channels(ctx, period, flows, out)
        collected = _check_balances(ctx, period, flows, chosen, out)
        _check_damaged(ctx, period, flows, collected, out)
        _check_site_columns(ctx, period, flows, chosen, out)
        _check_costs(ctx, period, flows, chosen, collected, out)
    if inst.multi_period:
        _check_schedule(ctx, out)
        _check_budgets(ctx, out)
        _check_schedule_report(ctx, out)
    _check_closures(ctx, out)
    _check_objective(ctx, out)
    return out


def _flows_of(sol: Solution, period: str) -> dict[str, pd.DataFrame]:
    """The period's flows by echelon: each leg, and each tier's merchant sales."""
    f = sol.flows[sol.flows["period"] == period] if len(sol.flows) else sol.flows
    names = [leg.name for leg in LEGS] + [merchant_echelon(t) for t in TIERS if t.merchant]
    out = {e: f[f["echelon"] == e] if len(f) else f for e in names}
    out["_unknown"] = f[~f["echelon"].isin(names)] if len(f) else f
    return out


def _sites_of(sol: Solution, period: str) -> pd.DataFrame:
    return sol.sites[sol.sites["period"] == period] if len(sol.sites) else sol.sites


@dataclass(frozen=True)
class _Chosen:
    tier: str
    size: str
    capacity_t: float
    capex_charged: float
    fixed_opex_per_yr: float
    min_throughput_t: float
    processing_cost_per_t: float = float("nan")  # the size's own (NaN: the site's or the tier's)


def _closed_sites(ctx: _Ctx, period: str) -> set[str]:
    s = _sites_of(ctx.sol, period)
    return set(s.loc[s["closed"].astype(bool), "site_id"]) if len(s) and "closed" in s.columns else set()


def _closable(row) -> bool:
    return row["status"] == "existing" and row["closure_cost"] == row["closure_cost"]


def _check_sites(ctx: _Ctx, period: str, out: list[Violation]) -> dict[str, _Chosen]:
    """Sizes, statuses, forced and earliest years, counts and the one-period budget."""
    inst, sites = ctx.inst, _sites_of(ctx.sol, period)
    chosen: dict[str, _Chosen] = {}
    for t in TIERS:
        table, sizes = ctx.sites[t.name], ctx.sizes[t.name]
        rows = sites[sites["kind"] == t.name] if len(sites) else sites
        open_rows = rows[rows["open"].astype(bool)] if len(rows) else rows
        for sid, n in (open_rows["site_id"].value_counts().items() if len(open_rows) else ()):
            if n > 1:
                out.append(Violation("one_size", f"{t.name} {sid} open with {n} sizes in period {period}"))
        for r in open_rows.itertuples(index=False):
            c = _chosen_size(t, table, sizes, r, out)
            if c is not None:
                chosen[r.site_id] = c
        for sid in table.index[table["status"] == "existing"]:
            if sid not in chosen and not _closable(table.loc[sid]):
                out.append(Violation("existing_open", f"existing {t.name} {sid} is not open in period {period}"))
        for sid in inst.forced_open:
            if sid in table.index and sid not in chosen and _may_operate(inst, table, sid, period):
                out.append(Violation("forced_open", f"{t.name} {sid} is forced open but closed in period {period}"))
        if inst.multi_period:
            for sid in (s for s in chosen if s in table.index):
                ey = table.at[sid, "earliest_year"]
                if ey == ey and int(period) < ey:
                    out.append(Violation("earliest_year", f"{t.name} {sid} open in {period}, before its earliest year {ey:g}"))
        n = sum(1 for c in chosen.values() if c.tier == t.name)
        most, least = getattr(inst.params, f"max_{t.plural}"), getattr(inst.params, f"min_{t.plural}")
        if most is not None and n > most:
            out.append(Violation(f"max_{t.plural}", f"{n} {t.plural} open in period {period}, at most {most}"))
        if least is not None and n < least:
            out.append(Violation(f"min_{t.plural}", f"{n} {t.plural} open in period {period}, at least {least}"))
    capex_total = sum(c.capex_charged for c in chosen.values())
    p = inst.params
    if p.max_capex is not None and not inst.multi_period and capex_total > p.max_capex + _tol_money(p.max_capex, 0, 0):
        out.append(Violation("capex_budget", f"capex charged {capex_total:,.2f} over budget {p.max_capex:,.2f}", capex_total - p.max_capex))
    return chosen


def _chosen_size(t: Tier, table: pd.DataFrame, sizes: pd.DataFrame, r, out: list[Violation]) -> _Chosen | None:
    """The size an open site row names, checked against its site, with the capex it charges."""
    if r.site_id not in table.index:
        out.append(Violation("unknown_id", f"open {t.name} {r.site_id} is not in the instance"))
        return None
    status = table.at[r.site_id, "status"]
    if status == "excluded":
        out.append(Violation("excluded_site", f"{t.name} {r.site_id} is excluded but open"))
    opt = sizes[(sizes["site_id"] == r.site_id) & (sizes["size"] == r.size)]
    if opt.empty:
        out.append(Violation("unknown_size", f"{t.name} {r.site_id} open with unknown size '{r.size}'"))
        return None
    cap, capex = float(opt["capacity_t"].iat[0]), float(opt["capex"].iat[0])
    if status == "existing":
        inst_row = sizes[(sizes["site_id"] == r.site_id) & (sizes["size"] == table.at[r.site_id, "existing_size"])]
        if len(inst_row):
            if cap < float(inst_row["capacity_t"].iat[0]):
                out.append(Violation("existing_open", f"existing {t.name} {r.site_id} at size {r.size} below its installed size"))
            capex = max(0.0, capex - float(inst_row["capex"].iat[0]))
    least = float(opt["min_throughput_t"].iat[0]) if "min_throughput_t" in opt.columns else 0.0
    own = float(opt["processing_cost_per_t"].iat[0]) if "processing_cost_per_t" in opt.columns else float("nan")
    return _Chosen(t.name, str(r.size), cap, capex, float(opt["fixed_opex_per_yr"].iat[0]), least if least == least else 0.0, own)


def _may_operate(inst: Instance, table: pd.DataFrame, sid: str, period: str) -> bool:
    if not inst.multi_period:
        return True
    ey = table.at[sid, "earliest_year"]
    return ey != ey or int(period) >= ey


def _ends(ctx: _Ctx, leg: Leg, period: str):
    """(origin table, destination table) of a leg, indexed by id."""
    origin = ctx.supply[period] if leg.origin == REGION else ctx.sites[leg.origin]
    return origin, ctx.sites[leg.destination]


def _check_flows(ctx: _Ctx, period: str, flows: dict, chosen: dict, out: list[Violation]) -> None:
    """Ids, open ends, acceptance, outlets, radii, single sourcing and the reported km / cost per
    tonne / transport cost of every flow."""
    inst = ctx.inst
    chems = set(inst.chem_names)
    everything = concat_rows([f for f in flows.values() if len(f)])
    if len(everything) and (everything["flow_t"].to_numpy(dtype=float) < -ABS_TOL_T).any():
        out.append(Violation("negative_flow", f"negative tonnes in the flows of period {period}"))
    for r in flows["_unknown"].itertuples(index=False):
        out.append(Violation("unknown_id", f"flow {r.origin}->{r.destination} on an unknown echelon '{r.echelon}'"))
    for leg in LEGS:
        df = flows[leg.name]
        origins, dests = _ends(ctx, leg, period)
        dest_t = tier(leg.destination)
        for r in df.itertuples(index=False):
            if r.origin not in origins.index or r.destination not in dests.index or r.chemistry not in chems:
                out.append(Violation("unknown_id", f"{leg.material} flow {r.origin}->{r.destination} ({r.chemistry}) names an unknown id"))
                continue
            if r.destination not in chosen:
                out.append(Violation("closed_site_flow", f"{r.flow_t:.4f} t {leg.material} into closed {leg.destination} {r.destination}", r.flow_t))
            if leg.origin != REGION and r.origin not in chosen:
                out.append(Violation("closed_site_flow", f"{r.flow_t:.4f} t {leg.material} out of closed {leg.origin} {r.origin}", r.flow_t))
            if dest_t.accepts and not bool(dests.at[r.destination, f"accepts_{r.chemistry}"]):
                out.append(Violation(f"{dest_t.name}_acceptance", f"{dest_t.name} {r.destination} receives {r.chemistry}, which it does not accept", r.flow_t))
        _check_lanes(ctx, leg, df, out)
    for t in TIERS:
        if not t.merchant:
            continue
        for r in flows[merchant_echelon(t)].itertuples(index=False):
            if r.chemistry not in chems or inst.chemistry(r.chemistry).merchant_price_per_t is None:
                out.append(Violation("merchant_outlet", f"{t.name} {r.origin} sells {r.chemistry} black mass with no merchant outlet", r.flow_t))
            if r.origin not in chosen:
                out.append(Violation("closed_site_flow", f"{r.flow_t:.4f} t black mass sold by closed {t.name} {r.origin}", r.flow_t))
            if float(r.km) != 0.0 or float(r.cost_per_t) != 0.0 or float(r.transport_cost) != 0.0:
                out.append(Violation("flow_report", f"merchant sale at {r.origin} reports a transport leg (km {r.km}, cost {r.transport_cost})"))
    if ctx.single_sourcing:
        first = concat_rows([flows[leg.name] for leg in LEGS if leg.origin == REGION])
        for rid, n in (first.groupby("origin")["destination"].nunique().items() if len(first) else ()):
            if n > 1:
                out.append(Violation("single_sourcing", f"region {rid} ships to {n} sites in period {period}"))


def _check_lanes(ctx: _Ctx, leg: Leg, df: pd.DataFrame, out: list[Violation]) -> None:
    """A leg's reported km, rate and transport cost against the lane, and its radius."""
    if not len(df):
        return
    p = ctx.inst.params
    km, cost, quoted = ctx.lanes.km_cost(list(df["origin"]), list(df["destination"]), leg.rate(p))
    flow = df["flow_t"].to_numpy(float)
    extra = _damaged_t(df) * np.nan_to_num(km) * _surcharge(ctx)  # damaged packs' surcharge on the lane
    for i, r in enumerate(df.itertuples(index=False)):
        if not math.isfinite(km[i]):
            continue  # an unknown id, reported above
        if abs(float(r.km) - km[i]) > 1e-6 * max(1.0, km[i]) + 1e-6:
            out.append(Violation("flow_report", f"{leg.material} {r.origin}->{r.destination}: km {r.km} but the lane is {km[i]:.6f} km"))
        if abs(float(r.cost_per_t) - cost[i]) > 1e-6 * max(1.0, abs(cost[i])) + 1e-9:
            out.append(Violation("flow_report", f"{leg.material} {r.origin}->{r.destination}: cost_per_t {r.cost_per_t} but the lane costs {cost[i]:.6f}"))
        want = flow[i] * cost[i] + extra[i]
        if abs(float(r.transport_cost) - want) > _tol_money(want, cost[i] + _surcharge(ctx) * km[i], flow[i]):
            out.append(Violation("flow_report", f"{leg.material} {r.origin}->{r.destination}: transport_cost {r.transport_cost} but "
                                                f"{flow[i]:.6f} t x {cost[i]:.6f} + damaged surcharge {extra[i]:.6f} = {want:.6f}"))
    radius = getattr(p, leg.radius_param) if leg.radius_param else None
    if radius is not None:
        for i in np.flatnonzero((km > radius * (1 + 1e-9)) & ~quoted):  # a quoted lane is served whatever its distance
            r = df.iloc[i]
            out.append(Violation("service_radius", f"{leg.origin} {r['origin']}->{leg.destination} {r['destination']} is "
                                                   f"{km[i]:.1f} km, beyond {radius:g} km", float(r["flow_t"])))


def _inbound(flows: dict, t: Tier, by_chem: bool = False) -> dict:
    keys = ["destination", "chemistry"] if by_chem else "destination"
    into = concat_rows([flows[leg.name] for leg in legs_into(t.name)])
    return into.groupby(keys)["flow_t"].sum().to_dict() if len(into) else {}


def _check_balances(ctx: _Ctx, period: str, flows: dict, chosen: dict, out: list[Violation]) -> dict:
    """Supply, collection rate, capacities, minimum throughputs, mass balances, merchant caps
    and the regions table; returns tonnes collected per (region, chemistry)."""
    inst = ctx.inst
    chems = list(inst.chem_names)
    yields = {c.name: c.black_mass_yield for c in inst.chemistries}
    first = concat_rows([flows[leg.name] for leg in LEGS if leg.origin == REGION])
    collected = first.groupby(["origin", "chemistry"])["flow_t"].sum().to_dict() if len(first) else {}
    _check_regions(ctx, period, collected, out)
    for t in TIERS:
        inbound, inbound_c = _inbound(flows, t), _inbound(flows, t, by_chem=True)
        for sid in ctx.sites[t.name].index:
            t_in = float(inbound.get(sid, 0.0))
            c = chosen.get(sid)
            if c is not None and t_in > c.capacity_t + _tol_t(c.capacity_t):
                out.append(Violation(f"{t.name}_capacity", f"{t.name} {sid} in {period}: {t_in:.4f} {t.unit} in, capacity {c.capacity_t:.4f}",
                                     t_in - c.capacity_t))
            if c is not None and t_in < c.min_throughput_t - _tol_t(c.min_throughput_t):
                out.append(Violation(f"{t.name}_min_throughput", f"{t.name} {sid} in {period}: {t_in:.4f} {t.unit} in, minimum "
                                     f"{c.min_throughput_t:.4f} at size {c.size}", c.min_throughput_t - t_in))
        if t.makes is None:
            continue
        sent: dict = {}
        outs = [flows[leg.name] for leg in legs_out_of(t.name)] + ([flows[merchant_echelon(t)]] if t.merchant else [])
        for df in outs:
            for (o, c), v in (df.groupby(["origin", "chemistry"])["flow_t"].sum().items() if len(df) else ()):
                sent[(o, c)] = sent.get((o, c), 0.0) + v
        for sid in ctx.sites[t.name].index:
            for c in chems:
                made = (yields[c] if t.converts else 1.0) * float(inbound_c.get((sid, c), 0.0))
                left = float(sent.get((sid, c), 0.0))
                if abs(made - left) > _tol_t(made):
                    out.append(Violation(f"{t.name}_mass_balance", f"{t.name} {sid} {c} in {period}: {made:.4f} t {t.makes} made, "
                                         f"{left:.4f} t sent on", abs(made - left)))
    sold = concat_rows([flows[merchant_echelon(t)] for t in TIERS if t.merchant])
    for c in inst.chemistries:
        if c.merchant_cap_t is not None and len(sold):
            t_sold = float(sold.loc[sold["chemistry"] == c.name, "flow_t"].sum())
            if t_sold > c.merchant_cap_t + _tol_t(c.merchant_cap_t):
                out.append(Violation("merchant_cap", f"{c.name} in {period}: {t_sold:.4f} t sold, cap {c.merchant_cap_t:g}", t_sold - c.merchant_cap_t))
    return collected


def _check_regions(ctx: _Ctx, period: str, collected: dict, out: list[Violation]) -> None:
    """Supply balance, collection rate and every column of the regions table."""
    chems, rate = list(ctx.inst.chem_names), ctx.inst.params.min_collection_rate
    regions = ctx.supply[period]
    reported = ctx.sol.regions[ctx.sol.regions["period"] == period] if len(ctx.sol.regions) else ctx.sol.regions
    rep = {(r.region_id, r.chemistry): r for r in reported.itertuples(index=False)}
    captured = ctx.captured[period]
    for rid, row in regions.iterrows():
        for c in chems:
            supply = float(row[f"{c}_t"])
            have = captured.get((rid, c), 0.0)
            got = float(collected.get((rid, c), 0.0))
            if got > have + _tol_t(supply):
                out.append(Violation("supply_balance", f"region {rid} {c} in {period}: {got:.4f} t collected of {have:.4f} t captured "
                                     f"({supply:.4f} t supply)", got - have))
            if got < rate * have - _tol_t(supply):
                out.append(Violation("collection_rate", f"region {rid} {c} in {period}: {got:.4f} t collected, {rate * have:.4f} t required",
                                     rate * have - got))
            if supply <= 0:
                continue
            r = rep.get((rid, c))
            if r is None:
                out.append(Violation("region_report", f"region {rid} {c} missing from the regions table in period {period}"))
                continue
            for col, want in (("supply_t", supply), ("captured_t", have), ("required_t", rate * have), ("collected_t", got),
                              ("uncollected_t", max(0.0, have - got))):
                if abs(float(getattr(r, col)) - want) > _tol_t(supply):
                    rule = "supply_balance" if col == "uncollected_t" else "region_report"
                    out.append(Violation(rule, f"region {rid} {c} in {period}: {col} {getattr(r, col)} but {want:.6f}"))
    for r in reported.itertuples(index=False):
        if r.region_id not in regions.index or r.chemistry not in chems:
            out.append(Violation("region_report", f"regions table names unknown region {r.region_id} / {r.chemistry}"))


def _check_site_columns(ctx: _Ctx, period: str, flows: dict, chosen: dict, out: list[Violation]) -> None:
    """Every sites-table column a user reads: inbound, capacity, utilisation, capex, opex."""
    inbound = {k: v for t in TIERS for k, v in _inbound(flows, t).items()}
    closed = _closed_sites(ctx, period)
    for r in _sites_of(ctx.sol, period).itertuples(index=False):
        table = ctx.sites.get(r.kind)
        if table is None or r.site_id not in table.index:
            out.append(Violation("unknown_id", f"sites table names {r.kind} {r.site_id}, not in the instance's {r.kind}s"))
            continue
        meta = table.loc[r.site_id]
        for col in ("status", "name"):
            if str(getattr(r, col)) != str(meta[col]):
                out.append(Violation("site_report", f"{r.kind} {r.site_id}: {col} '{getattr(r, col)}' but the instance says '{meta[col]}'"))
        for col in ("lat", "lon"):
            if abs(float(getattr(r, col)) - float(meta[col])) > 1e-9:
                out.append(Violation("site_report", f"{r.kind} {r.site_id}: {col} {getattr(r, col)} but the instance says {meta[col]}"))
        if r.site_id in closed and (bool(r.open) or not _closable(meta)):
            out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: reported closed but open, or not closable"))
        flow_in = float(inbound.get(r.site_id, 0.0))
        if abs(float(r.inbound_t) - flow_in) > _tol_t(flow_in):
            out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: inbound_t {r.inbound_t} but flows sum to {flow_in}"))
        c = chosen.get(r.site_id) if bool(r.open) else None
        if c is None:
            if not bool(r.open) and (float(r.capacity_t) != 0 or float(r.capex_charged) != 0 or float(r.fixed_opex_per_yr) != 0):
                out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: closed but reports capacity, capex or opex"))
            continue
        want = {"capacity_t": c.capacity_t, "capex_charged": c.capex_charged, "capex_annualised": ctx.crf * c.capex_charged,
                "fixed_opex_per_yr": c.fixed_opex_per_yr}
        for col, value in want.items():
            if abs(float(getattr(r, col)) - value) > REL_TOL * max(1.0, abs(value)):
                out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: {col} {getattr(r, col)} but {value:.6f}"))
        util = flow_in / c.capacity_t if c.capacity_t > 0 else 0.0
        if float(r.utilisation) > 1.0 + 1e-9:
            out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: utilisation {r.utilisation} above 100 %"))
        elif abs(float(r.utilisation) - min(util, 1.0)) > _tol_t(flow_in) / max(c.capacity_t, 1e-9):
            out.append(Violation("site_report", f"{r.kind} {r.site_id} in {period}: utilisation {r.utilisation} but {util:.6f}"))


def _site_cost(ctx: _Ctx, t: Tier) -> dict[str, float]:
    """Each site's variable processing cost: its own, else its tier's."""
    default = float(getattr(ctx.inst.params, t.cost_param))
    own = ctx.sites[t.name].get("processing_cost_per_t", pd.Series(dtype=float))
    return {sid: (float(v) if v == v else default) for sid, v in own.items()}


def _check_costs(ctx: _Ctx, period: str, flows: dict, chosen: dict, collected: dict, out: list[Violation]) -> None:
    """Each cost component of the period recomputed from the flows, sizes and prices."""
    inst, p = ctx.inst, ctx.inst.params
    regions = ctx.supply[period]
    price = {c.name: (c.merchant_price_per_t or 0.0) for c in inst.chemistries}
    rev = {c.name: (c.hub_revenue_per_t or 0.0) for c in inst.chemistries}
    captured = ctx.captured[period]
    uncollected = sum(max(0.0, captured.get((rid, c), 0.0) - float(collected.get((rid, c), 0.0)))
                      for rid in regions.index for c in inst.chem_names)
    supply_total = float(regions[[f"{c}_t" for c in inst.chem_names]].to_numpy().sum())
    capex_total = sum(c.capex_charged for c in chosen.values())
    # (value, largest price per tonne involved, tonnes involved, number of tonnages summed)
    expected: dict[str, tuple[float, float, float, int]] = {
        "capex_annualised": (ctx.crf * capex_total, 0.0, 0.0, 0),
        "fixed_opex": (sum(c.fixed_opex_per_yr for c in chosen.values()), 0.0, 0.0, 0),
    }
    for t in TIERS:
        into = concat_rows([flows[leg.name] for leg in legs_into(t.name)])
        site_cost = _site_cost(ctx, t)
        # the operated size's own cost per t where it has one, else the site's, else the tier's
        rate = np.array([chosen[d].processing_cost_per_t if d in chosen and chosen[d].processing_cost_per_t == chosen[d].processing_cost_per_t
                         else site_cost.get(d, 0.0) for d in into["destination"]]) if len(into) else np.zeros(0)
        tonnes = into["flow_t"].to_numpy(float) if len(into) else np.zeros(0)
        expected[processing_component(t)] = (float(rate @ tonnes), float(rate.max(initial=0.0)), float(tonnes.sum()), len(into))
    for leg in LEGS:
        df = flows[leg.name]
        km, cost, _q = ctx.lanes.km_cost(list(df["origin"]), list(df["destination"]), leg.rate(p)) if len(df) else (np.zeros(0),) * 3
        tonnes = df["flow_t"].to_numpy(float) if len(df) else np.zeros(0)
        surcharge = float(np.nan_to_num(km) @ _damaged_t(df)) * _surcharge(ctx) if len(df) else 0.0
        v, ps, ts, n = expected.get(leg.component, (0.0, 0.0, 0.0, 0))
        scale = float(np.abs(np.nan_to_num(cost) + _surcharge(ctx) * np.nan_to_num(km)).max(initial=0.0))
        expected[leg.component] = (v + float(np.nan_to_num(cost) @ tonnes) + surcharge, max(ps, scale), ts + float(tonnes.sum()), n + len(df))
    expected["uncollected_penalty"] = ((p.uncollected_penalty_per_t or 0.0) * uncollected, p.uncollected_penalty_per_t or 0.0,
                                       supply_total, int(len(regions) * len(inst.chem_names)))
    sold = concat_rows([flows[merchant_echelon(t)] for t in TIERS if t.merchant])
    m_price = np.array([price.get(c, 0.0) for c in sold["chemistry"]]) if len(sold) else np.zeros(0)
    m_t = sold["flow_t"].to_numpy(float) if len(sold) else np.zeros(0)
    scale = float(np.abs(m_price).max(initial=0.0))
    expected["merchant_disposal"] = (-float(np.minimum(m_price, 0.0) @ m_t), scale, float(m_t.sum()), len(sold))
    expected["merchant_revenue"] = (-float(np.maximum(m_price, 0.0) @ m_t), scale, float(m_t.sum()), len(sold))
    for t in TIERS:
        if t.revenue:
            into = concat_rows([flows[leg.name] for leg in legs_into(t.name)])
            r = np.array([rev.get(c, 0.0) for c in into["chemistry"]]) if len(into) else np.zeros(0)
            tonnes = into["flow_t"].to_numpy(float) if len(into) else np.zeros(0)
            expected[revenue_component(t)] = (-float(r @ tonnes), float(np.abs(r).max(initial=0.0)), float(tonnes.sum()), len(into))
    if inst.has_channels and inst.offers is not None and len(inst.offers):
        expected["acquisition"] = ctx.acquisition[period]
    costs = ctx.sol.costs[ctx.sol.costs["period"] == period]
    for name, (value, price_scale, tonnes, n_terms) in expected.items():
        rows = costs[costs["component"] == name]
        got = float(rows["value"].sum())
        if abs(got - value) > _tol_money(value, price_scale, tonnes, n_terms):
            out.append(Violation(f"cost:{name}", f"{period}: reported {got:,.4f}, recomputed {value:,.4f}", got - value))
        kind = "revenue" if name.endswith("_revenue") else "cost"
        if "kind" in rows.columns and len(rows) and (rows["kind"] != kind).any():
            out.append(Violation(f"cost:{name}", f"{period}: reported as a {rows['kind'].iat[0]}, is a {kind}"))


# --- multi-period -------------------------------------------------------------------------------


def _states(ctx: _Ctx) -> dict[str, list[tuple[bool, float, str]]]:
    """Per site, per period: (open, capacity, size)."""
    states: dict[str, list] = {}
    for sid, g in ctx.sol.sites.groupby("site_id"):
        by_p = {r.period: (bool(r.open), float(r.capacity_t) if r.open else 0.0, str(r.size)) for r in g.itertuples(index=False)}
        states[sid] = [by_p.get(t, (False, 0.0, "")) for t in ctx.periods]
    return states


def _site_row(ctx: _Ctx, sid: str):
    for t in TIERS:
        if sid in ctx.sites[t.name].index:
            return t.name, ctx.sites[t.name].loc[sid], ctx.sizes[t.name]
    return None, None, None


def _check_schedule(ctx: _Ctx, out: list[Violation]) -> None:
    """Capacity never shrinks; only closable existing sites close; closed sites never reopen."""
    for sid, seq in _states(ctx).items():
        kind, row, _sizes = _site_row(ctx, sid)
        if row is None:
            continue
        closable = row["status"] == "existing" and row["closure_cost"] == row["closure_cost"]
        for k in range(1, len(seq)):
            (was_open, was_cap, _), (is_open, cap, _) = seq[k - 1], seq[k]
            if was_open and is_open and cap < was_cap - 1e-9:
                out.append(Violation("schedule", f"{kind} {sid} shrinks from {was_cap:g} to {cap:g} t in {ctx.periods[k]}"))
            if was_open and not is_open and not closable:
                out.append(Violation("schedule", f"{kind} {sid} closes in {ctx.periods[k]} but only existing sites with a closure cost may close"))
            if is_open and not was_open and any(o for o, _c, _s in seq[:k]):
                out.append(Violation("schedule", f"{kind} {sid} reopens in {ctx.periods[k]} after closing"))


def _check_budgets(ctx: _Ctx, out: list[Violation]) -> None:
    """Capex spent per period: the largest capex (charged) among the sizes a site has operated so
    far, minus what was spent before -- against the per-period and the horizon-wide budget."""
    inst = ctx.inst
    spent = {t: 0.0 for t in ctx.periods}
    for sid, seq in _states(ctx).items():
        kind, row, sizes = _site_row(ctx, sid)
        if row is None:
            continue
        opts = sizes[sizes["site_id"] == sid].set_index("size")["capex"]
        installed = float(opts.get(row["existing_size"], 0.0)) if row["status"] == "existing" else 0.0
        paid = 0.0
        for k, (is_open, _cap, size) in enumerate(seq):
            if not is_open:
                continue
            charged = max(0.0, float(opts.get(size, 0.0)) - installed)
            spent[ctx.periods[k]] += max(0.0, charged - paid)
            paid = max(paid, charged)
    budget = inst.periods.capex_budget
    if budget is not None:
        for t, b in zip(ctx.periods, budget, strict=True):
            if b is not None and spent[t] > b + _tol_money(b, 0, 0):
                out.append(Violation("capex_budget", f"capex spent in {t} {spent[t]:,.2f} over its budget {b:,.2f}", spent[t] - b))
    total = inst.params.max_capex
    if total is not None and sum(spent.values()) > total + _tol_money(total, 0, 0):
        out.append(Violation("capex_budget", f"capex spent {sum(spent.values()):,.2f} over the budget {total:,.2f}"))


def _check_closures(ctx: _Ctx, out: list[Violation]) -> None:
    """Closure costs: in a horizon one-off, in the period a site closes; in one period the
    closure cost of every closable existing site that does not operate, annualised like capex."""
    states = _states(ctx)
    costs = ctx.sol.costs
    for k, t in enumerate(ctx.periods):
        expected = 0.0
        for sid, seq in states.items():
            _kind, row, _sizes = _site_row(ctx, sid)
            if row is None or not _closable(row):
                continue
            if ctx.inst.multi_period and k > 0 and seq[k - 1][0] and not seq[k][0]:
                expected += float(row["closure_cost"])
            elif not ctx.inst.multi_period and not seq[k][0]:
                expected += ctx.crf * float(row["closure_cost"])
        got = float(costs.loc[(costs["component"] == "closure") & (costs["period"] == t), "value"].sum())
        if abs(got - expected) > _tol_money(expected, 0, 0):
            out.append(Violation("cost:closure", f"{t}: reported {got:,.4f}, recomputed {expected:,.4f}", got - expected))


def _check_schedule_report(ctx: _Ctx, out: list[Violation]) -> None:
    """The build schedule (schedule.csv) follows from the sites table: one event per change."""
    want = []
    for sid, seq in _states(ctx).items():
        kind, row, _sizes = _site_row(ctx, sid)
        existing = row is not None and row["status"] == "existing"
        prev = None
        for k, (is_open, cap, size) in enumerate(seq):
            t = ctx.periods[k]
            if prev is None:
                if is_open:
                    want.append((sid, t, "existing" if existing else "open", size))
            elif is_open and not prev[0]:
                want.append((sid, t, "open", size))
            elif is_open and cap > prev[1] + 1e-9:
                want.append((sid, t, "expand", size))
            elif prev[0] and not is_open:
                want.append((sid, t, "close", ""))
            prev = (is_open, cap)
    sch = ctx.sol.schedule()
    got = sorted((str(r.site_id), str(r.period), str(r.event), str(r.size) if r.event != "close" else "")
                 for r in sch.itertuples(index=False))
    if got != sorted(want):
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        out.append(Violation("schedule_report", f"the build schedule does not follow from the sites table (missing {missing}, extra {extra})"))


def _check_objective(ctx: _Ctx, out: list[Violation]) -> None:
    """One period: the components sum to the objective.  Several: the objective is the NPV --
    each period's annual components weighted by the discount factors of its years, plus one-off
    closure costs discounted to the period's first year (weights recomputed here)."""
    sol = ctx.sol
    annual_w, once_w = npv_weights(ctx.inst)
    total, scale = 0.0, 0.0
    for t in ctx.periods:
        c = sol.costs[sol.costs["period"] == t]
        annual = float(c.loc[c["component"] != "closure", "value"].sum())
        one_off = float(c.loc[c["component"] == "closure", "value"].sum())
        total += annual_w[t] * annual + once_w[t] * one_off
        scale += annual_w[t] * float(c["value"].abs().sum())
    if sol.objective is None:
        out.append(Violation("objective", "a solution without an objective value"))
        return
    if abs(total - sol.objective) > REL_TOL * max(1.0, scale) + 1e-4:
        out.append(Violation("objective", f"objective {sol.objective:,.4f} but the components give {total:,.4f}", sol.objective - total))


# --- collection channels -------------------------------------------------------------------------


def _shares(inst: Instance) -> list[tuple[str, str, str, float]]:
    """(region, chemistry, channel, share) as channel_shares.csv says (recomputed here)."""
    chans = list(inst.channels["id"]) if inst.has_channels else ["all"]
    rows = inst.channel_shares.to_dict("records") if inst.channel_shares is not None else []
    out = []
    for rid, group in zip(inst.regions["id"], inst.regions["region"], strict=True):
        for chem in inst.chem_names:
            if not rows:
                if len(chans) == 1:
                    out.append((rid, chem, chans[0], 1.0))
                continue
            pairs = [(k, c) for k in (rid, group, "*") for c in (chem, "")]
            hit = next(([r for r in rows if (r["region"], r["chemistry"]) == pc] for pc in pairs
                        if any((r["region"], r["chemistry"]) == pc for r in rows)), [])
            for r in hit:
                out.append((rid, chem, r["channel"], float(r["share"])))
    return out


def _ladders(inst: Instance, periods: list[str]) -> dict[tuple[str, str, str, str], dict[str, tuple[float, float]]]:
    """(channel, region or '*', chemistry, period) -> {level: (price, share)} as offers.csv
    says, levels below a channel's take-back duty left out (recomputed here)."""
    if not inst.has_channels or inst.offers is None or not len(inst.offers):
        return {}
    rows = inst.offers.to_dict("records")
    for r in rows:
        r["per"] = "" if r["period"] is None or r["period"] != r["period"] else str(int(r["period"]))
    out = {}
    for c in inst.channels.to_dict("records"):
        least = float(c["min_capture_share"] or 0.0)
        own = [r for r in rows if r["channel"] == c["id"]]
        scopes = [("*", ("",))] if c["price_scope"] == "national" else [
            (rid, (rid, g, "")) for rid, g in zip(inst.regions["id"], inst.regions["region"], strict=True)]
        for scope, keys in scopes:
            for chem in inst.chem_names:
                for per in periods:
                    combos = [(k, c, q) for k in keys for c in (chem, "") for q in dict.fromkeys(("" if per == "base" else per, ""))]
                    lv = next(([r for r in own if (r["region"], r["chemistry"], r["per"]) == x] for x in combos
                               if any((r["region"], r["chemistry"], r["per"]) == x for r in own)), [])
                    if lv:
                        out[(c["id"], scope, chem, per)] = {r["level"]: (float(r["price_per_t"]), float(r["capture_share"]))
                                                            for r in lv if float(r["capture_share"]) >= least - 1e-6}
    return out


def _check_channels(ctx: _Ctx, out: list[Violation]) -> None:
    """The channels table against the instance: every (region, channel, chemistry, period)
    with tonnes present, at a level of its ladder (none, or a channel without offers: free and
    all captured), its take-back duty met, its columns right.  Fills ``ctx.captured`` (what the
    regions' balances are checked against) and ``ctx.acquisition`` (the cost recomputed)."""
    inst = ctx.inst
    ladders = _ladders(inst, ctx.periods)
    duty = {c: float(m or 0.0) > 0 for c, m in zip(inst.channels["id"], inst.channels["min_capture_share"], strict=True)} if inst.has_channels else {}
    national = set(inst.channels.loc[inst.channels["price_scope"] == "national", "id"]) if inst.has_channels else set()
    rep = {(r.region_id, r.channel, r.chemistry, str(r.period)): r for r in ctx.sol.channels.itertuples(index=False)}
    seen = set()
    ctx.captured = {p: {} for p in ctx.periods}
    ctx.captured_by_channel = {p: {} for p in ctx.periods}
    ctx.acquisition = {}
    for period in ctx.periods:
        supply = ctx.supply[period]
        spent, price_scale, tonnes, n = 0.0, 0.0, 0.0, 0
        picked: dict[tuple, str] = {}
        for rid, chem, ch, share in _shares(inst):
            avail = float(supply.at[rid, f"{chem}_t"]) * float(share) if rid in supply.index else 0.0
            if avail <= 0:
                continue
            key = (rid, ch, chem, period)
            seen.add(key)
            r = rep.get(key)
            if r is None:
                out.append(Violation("channel_report", f"region {rid} channel {ch} {chem} in {period} missing from the channels table"))
                continue
            lad = (ch, "*" if ch in national else rid, chem, period)
            level = "" if r.level is None or r.level != r.level else str(r.level)
            if lad not in ladders:  # free and fully available (also the implicit channel)
                price, cap_share = 0.0, 1.0
                if level:
                    out.append(Violation("offer_choice", f"region {rid} channel {ch} {chem} in {period}: level '{level}' but the channel has no offers"))
            elif level == "":
                price, cap_share = 0.0, 0.0
                if duty.get(ch):
                    out.append(Violation("min_capture_share", f"region {rid} channel {ch} {chem} in {period}: no offer made, but the "
                                         "channel has a take-back duty", avail))
            elif level not in ladders[lad]:
                out.append(Violation("offer_choice", f"region {rid} channel {ch} {chem} in {period}: level '{level}' is not in its ladder "
                                     "(or captures less than the channel's min_capture_share)"))
                continue
            else:
                price, cap_share = ladders[lad][level]
                if ch in national and picked.setdefault(lad, level) != level:
                    out.append(Violation("offer_choice", f"channel {ch} {chem} in {period}: national price list at level "
                                         f"'{picked[lad]}' in one region and '{level}' in {rid}"))
            captured = avail * cap_share
            for col, want in (("available_t", avail), ("price_per_t", price), ("capture_share", cap_share),
                              ("captured_t", captured), ("acquisition_cost", captured * price)):
                tol = _tol_money(want, abs(price), avail, 1) if col == "acquisition_cost" else _tol_t(avail)
                if abs(float(getattr(r, col)) - want) > tol:
                    out.append(Violation("channel_report", f"region {rid} channel {ch} {chem} in {period}: {col} {getattr(r, col)} but {want:.6f}"))
            ctx.captured[period][(rid, chem)] = ctx.captured[period].get((rid, chem), 0.0) + captured
            ctx.captured_by_channel[period][(rid, chem, ch)] = captured
            spent += captured * price
            price_scale, tonnes, n = max(price_scale, abs(price)), tonnes + captured, n + 1
        ctx.acquisition[period] = (spent, price_scale, tonnes, n)
    for key in rep:
        if key not in seen:
            out.append(Violation("channel_report", f"channels table names region {key[0]} channel {key[1]} {key[2]} in {key[3]}, "
                                 "which holds no tonnes in the instance"))


#: most sites one region ships to on a leg whose every subset the channel check enumerates
MAX_SUBSET_SITES = 12


def _check_accepted_channels(ctx: _Ctx, period: str, flows: dict, out: list[Violation]) -> None:
    """Sites that take some channels only (collection_points.csv ``channels``) get no more from
    a region than those channels captured there: for every set S of the sites a region ships a
    chemistry to, the flow into S is at most what the channels any site of S takes captured
    (checked over the subsets themselves, not the model's unions)."""
    inst = ctx.inst
    if not inst.has_channels or ctx.captured_by_channel is None:
        return
    captured = ctx.captured_by_channel[period]
    delta = _damaged_shares(inst)
    for leg in LEGS:
        if leg.origin != REGION:
            continue
        table = ctx.sites[leg.destination]
        if "channels" not in table.columns:
            continue
        takes = {sid: {c.strip() for c in str(text or "").split(";") if c.strip()} for sid, text in table["channels"].fillna("").items()}
        if not any(takes.values()):
            continue
        df = flows[leg.name]
        df = df[df["flow_t"] > 1e-9] if len(df) else df
        if not len(df):
            continue
        # each kind of pack apart: all of them, and with damaged packs the damaged and the sound ones
        kinds = [("", df["flow_t"].to_numpy(float), lambda h: 1.0)]
        if any(delta.values()):
            dmg = np.minimum(_damaged_t(df), df["flow_t"].to_numpy(float))
            kinds += [(" damaged", dmg, lambda h: delta.get(h, 0.0)),
                      (" sound", df["flow_t"].to_numpy(float) - dmg, lambda h: 1.0 - delta.get(h, 0.0))]
        by_region = _by_region_chem(captured)
        for kind, tonnes, share in kinds:
            for (rid, chem), g in df.assign(_t=tonnes).groupby(["origin", "chemistry"]):
                held = {h: t * share(h) for h, t in by_region.get((rid, chem), {}).items()}
                sent = g.groupby("destination")["_t"].sum()
                sent = sent[sent > 1e-9]
                ids = list(sent.index)
                if len(ids) > MAX_SUBSET_SITES:
                    ids = sorted(ids, key=lambda i: -sent[i])[:MAX_SUBSET_SITES]  # the largest flows
                for k in range(1, len(ids) + 1):
                    for subset in itertools.combinations(ids, k):
                        union = set().union(*(takes.get(i) or set(held) for i in subset))
                        got, room = float(sent[list(subset)].sum()), sum(held.get(h, 0.0) for h in union)
                        if got > room + _tol_t(room):
                            out.append(Violation("channel_acceptance", f"region {rid} sends {got:.3f} t{kind} {chem} packs in {period} to "
                                                 f"{', '.join(subset)}, which take {', '.join(sorted(union))} only: "
                                                 f"{room:.3f} t captured", got - room))


def _by_region_chem(captured: dict[tuple[str, str, str], float]) -> dict[tuple[str, str], dict[str, float]]:
    """(region, chemistry) -> channel -> t captured."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (r, c, h), t in captured.items():
        out.setdefault((r, c), {})[h] = t
    return out


def _surcharge(ctx: _Ctx) -> float:
    return float(ctx.inst.params.damaged_pack_surcharge_per_t_km or 0.0)


def _damaged_t(df: pd.DataFrame) -> np.ndarray:
    """A flows table's damaged tonnes (0 where the column is missing or blank)."""
    if "damaged_t" not in df.columns or not len(df):
        return np.zeros(len(df))
    return pd.to_numeric(df["damaged_t"], errors="coerce").fillna(0.0).to_numpy(float)


def _damaged_shares(inst: Instance) -> dict[str, float]:
    """channel -> share of its packs that are damaged (channels.csv, recomputed here)."""
    if not inst.has_channels or "damaged_share" not in inst.channels.columns:
        return {}
    return {h: float(v) for h, v in zip(inst.channels["id"], inst.channels["damaged_share"].fillna(0.0), strict=True)}


def _check_damaged(ctx: _Ctx, period: str, flows: dict, collected: dict, out: list[Violation]) -> None:
    """Damaged packs: only among flows out of a region, no more than the flow; per region and
    chemistry the damaged tonnes captured (each channel's damaged share of what it captured) are
    shipped as damaged, but for those left uncollected."""
    delta = _damaged_shares(ctx.inst)
    for leg in LEGS:
        df = flows[leg.name]
        dmg = _damaged_t(df)
        if not len(df):
            continue
        flow = df["flow_t"].to_numpy(float)
        for i in np.flatnonzero((dmg < -ABS_TOL_T) | (dmg > flow + _tol_t_array(flow)) | ((dmg > ABS_TOL_T) & (leg.origin != REGION))):
            r = df.iloc[i]
            out.append(Violation("damaged_packs", f"{leg.material} {r['origin']}->{r['destination']} in {period}: {dmg[i]:.4f} t damaged "
                                 f"of {flow[i]:.4f} t" + ("" if leg.origin == REGION else " on a leg not out of a region"), abs(dmg[i])))
    first = concat_rows([flows[leg.name] for leg in LEGS if leg.origin == REGION])
    shipped = first.assign(_d=_damaged_t(first)).groupby(["origin", "chemistry"])["_d"].sum().to_dict() if len(first) else {}
    captured = ctx.captured[period]
    for (rid, chem), held in _by_region_chem(ctx.captured_by_channel[period]).items():
        want = sum(t * delta.get(h, 0.0) for h, t in held.items()) if _surcharge(ctx) > 0 else 0.0
        left = max(0.0, captured.get((rid, chem), 0.0) - float(collected.get((rid, chem), 0.0)))
        got = float(shipped.get((rid, chem), 0.0))
        tol = _tol_t(captured.get((rid, chem), 0.0))
        if got > want + tol or got < want - left - tol:
            out.append(Violation("damaged_packs", f"region {rid} {chem} in {period}: {got:.4f} t shipped as damaged, but its channels "
                                 f"captured {want:.4f} t damaged packs ({left:.4f} t left uncollected)", got - want))
    for (rid, chem), got in shipped.items():
        if (rid, chem) not in _by_region_chem(ctx.captured_by_channel[period]) and got > ABS_TOL_T:
            out.append(Violation("damaged_packs", f"region {rid} {chem} in {period}: {got:.4f} t shipped as damaged, none captured", got))


def _tol_t_array(tonnes: np.ndarray) -> np.ndarray:
    return ABS_TOL_T + REL_TOL * np.abs(tonnes)
