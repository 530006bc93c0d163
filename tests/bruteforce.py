"""Brute-force reference optimum, independent of spokehub's model layer.

Enumerates every open/size combination of the candidate sites (existing sites open at a size at
least as large as installed, or closed if they have a closure cost), skips those breaking the
site counts (fewest and most per tier) or the capex budget, and solves the remaining transport
problem of each with scipy (``linprog``; ``milp`` when single sourcing makes it integer) with
each open size's minimum throughput, each site's own processing cost and both legs' radii --
for every combination of offer levels (:func:`offer_worlds`), adding what they cost.  Distances are recomputed here with their own haversine.  Only the instance's plain
tables are read -- never the Pyomo model, the network tables or the checker.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

R_EARTH = 6371.0088


def haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R_EARTH * math.asin(math.sqrt(min(1.0, max(0.0, a))))


@dataclass
class Config:
    sizes: dict  # site_id -> (size, cap, capex_charged, opex, min_throughput)
    fixed: float
    objective: float


def _min_t(r) -> float:
    v = getattr(r, "min_throughput_t", 0.0)
    return 0.0 if v is None or v != v else float(v)


def _closable(site) -> bool:
    cc = getattr(site, "closure_cost", float("nan"))
    return site.status == "existing" and cc == cc


def _own_cost(r) -> float:
    v = getattr(r, "processing_cost_per_t", float("nan"))
    return float("nan") if v is None else float(v)


def _options(sites, sizes):
    """Per site: list of (size, cap, capex_charged, opex, min_throughput, the size's own
    processing cost or NaN) or None (not operating: a candidate left closed, or an existing site
    with a closure cost closed)."""
    out = {}
    for s in sites.itertuples(index=False):
        if s.status == "excluded":
            continue
        rows = sizes[sizes["site_id"] == s.id]
        opts = []
        if s.status == "existing":
            inst = rows[rows["size"] == s.existing_size].iloc[0]
            for r in rows.itertuples(index=False):
                if r.capacity_t >= inst.capacity_t:
                    opts.append((r.size, r.capacity_t, max(0.0, r.capex - inst.capex), r.fixed_opex_per_yr, _min_t(r), _own_cost(r)))
            if _closable(s):
                opts.append(None)
        else:
            opts.append(None)
            for r in rows.itertuples(index=False):
                opts.append((r.size, r.capacity_t, r.capex, r.fixed_opex_per_yr, _min_t(r), _own_cost(r)))
        out[s.id] = opts
    return out


def _processing(site, tier_cost: float) -> float:
    own = getattr(site, "processing_cost_per_t", float("nan"))
    return tier_cost if own is None or own != own else float(own)


def _lane(inst, o_id, o_lat, o_lon, d_id, d_lat, d_lon, rate, with_quoted=False):
    """(road km, cost per t) of a lane -- and whether its cost is quoted (lanes.csv), which keeps
    it whatever the service radius."""
    km = haversine(o_lat, o_lon, d_lat, d_lon) * inst.params.circuity
    cost = None
    for ln in inst.lanes.itertuples(index=False):
        if ln.origin == o_id and ln.destination == d_id:
            if not math.isnan(ln.km):
                km = ln.km
            if not math.isnan(ln.cost_per_t):
                cost = ln.cost_per_t
    out = (km, km * rate if cost is None else cost)
    return (*out, cost is not None) if with_quoted else out


def _rate(value, fallback: float) -> float:
    return fallback if value is None else float(value)


def transport_value(inst, open_spokes: dict, open_hubs: dict, single_sourcing: bool = False, open_cps: dict | None = None,
                    by_channel: dict | None = None):
    """Optimal variable cost for fixed open sites, or None if infeasible.  ``open_cps``: open
    collection points (first mile region -> point, line haul point -> spoke).  ``by_channel``:
    (region, chemistry, channel) -> t captured; with it, first-mile flows are indexed by channel
    and a point takes only the channels its ``channels`` column lists (every channel if blank),
    each channel's flows into points at most what it captured.  With damaged packs (a channel's
    ``damaged_share`` and the surcharge), every flow out of a region is indexed by (channel,
    damaged or sound), each group's tonnes collected or left uncollected, damaged ones paying the
    surcharge per road km of their haul from the region."""
    p = inst.params
    open_cps = open_cps or {}
    chems = list(inst.chem_names)
    yields = {c.name: c.black_mass_yield for c in inst.chemistries}
    spokes = inst.spokes.set_index("id")
    hubs = inst.hubs.set_index("id")
    cps = inst.collection_points.set_index("id") if inst.collection_points is not None else None
    first_rate = _rate(p.first_mile_cost_per_t_km, p.pack_cost_per_t_km)
    haul_rate = _rate(p.line_haul_cost_per_t_km, p.pack_cost_per_t_km)
    cols = []  # (kind, key, cost, ub)
    x_idx, z_idx, w_idx, u_idx = {}, {}, {}, {}
    q_idx, y_idx = {}, {}  # region -> collection point (per channel, "*" without), collection point -> spoke
    takes = {}
    if cps is not None and "channels" in cps.columns:
        takes = {i: {c.strip() for c in str(t or "").split(";") if c.strip()} for i, t in cps["channels"].fillna("").items()}
    surcharge = float(p.damaged_pack_surcharge_per_t_km or 0.0)
    delta = {}
    if surcharge > 0 and inst.channels is not None and "damaged_share" in inst.channels.columns:
        delta = {h: float(v) for h, v in zip(inst.channels["id"], inst.channels["damaged_share"].fillna(0.0), strict=True) if float(v) > 0}
    damaged = by_channel is not None and bool(delta)
    per_channel = by_channel is not None and (any(takes.get(cp) for cp in open_cps) or damaged)

    def groups(rid, c, supply):
        """The region's packs of chemistry c as (channel, damaged?, t): each channel's damaged and
        sound tonnes apart (one group "*" without channel-indexed flows)."""
        if not per_channel:
            return [("*", False, supply)]
        out = []
        for (rr, cc, h), t in by_channel.items():
            if rr == rid and cc == c and t > 0:
                d = delta.get(h, 0.0) if damaged else 0.0
                out += [(h, True, t * d)] if d > 0 else []
                out += [(h, False, t * (1 - d))] if d < 1 else []
        return out

    group_t = {}  # (region, chemistry, channel, damaged?) -> t
    u_rows = []  # (region, chemistry, slack): the uncollected groups share the region's allowance
    for r in inst.regions.itertuples(index=False):
        for c in chems:
            supply = getattr(r, f"{c}_t")
            if supply <= 0:
                continue
            gs = groups(r.id, c, supply)
            for h, dmg, t in gs:
                group_t[(r.id, c, h, dmg)] = t
            for cp in open_cps:
                pt = cps.loc[cp]
                km, cost, quoted = _lane(inst, r.id, r.lat, r.lon, cp, pt.lat, pt.lon, first_rate, with_quoted=True)
                if p.first_mile_radius_km is not None and km > p.first_mile_radius_km and not quoted:
                    continue
                mode_cost = open_cps[cp][5]  # the operated mode's own handling cost, else the point's or the tier's
                unit = cost + (mode_cost if mode_cost == mode_cost else _processing(pt, p.collection_point_cost_per_t))
                for h, dmg, _t in gs:
                    if h == "*" or not takes.get(cp) or h in takes[cp]:
                        q_idx[(r.id, cp, c, (h, dmg))] = len(cols)
                        cols.append(unit + (surcharge * km if dmg else 0.0))
            for s in open_spokes:
                sp = spokes.loc[s]
                km, cost, quoted = _lane(inst, r.id, r.lat, r.lon, s, sp.lat, sp.lon, p.pack_cost_per_t_km, with_quoted=True)
                if p.service_radius_km is not None and km > p.service_radius_km and not quoted:
                    continue
                for h, dmg, _t in gs:
                    x_idx[(r.id, s, c, (h, dmg))] = len(cols)
                    cols.append(cost + _processing(sp, p.spoke_cost_per_t) + (surcharge * km if dmg else 0.0))
            slack = supply * (1 - p.min_collection_rate)
            if slack > 0:
                for h, dmg, _t in gs:
                    u_idx[(r.id, c, (h, dmg))] = len(cols)
                    cols.append(p.uncollected_penalty_per_t or 0.0)
                u_rows.append((r.id, c, slack))
    for cp in open_cps:
        pt = cps.loc[cp]
        for s in open_spokes:
            sp = spokes.loc[s]
            km, cost, quoted = _lane(inst, cp, pt.lat, pt.lon, s, sp.lat, sp.lon, haul_rate, with_quoted=True)
            if p.line_haul_radius_km is not None and km > p.line_haul_radius_km and not quoted:
                continue
            for c in chems:
                y_idx[(cp, s, c)] = len(cols)
                cols.append(cost + _processing(sp, p.spoke_cost_per_t))
    for s in open_spokes:
        sp = spokes.loc[s]
        for c in chems:
            chem = inst.chemistry(c)
            for h in open_hubs:
                hb = hubs.loc[h]
                if not bool(hb[f"accepts_{c}"]):
                    continue
                km, cost, quoted = _lane(inst, s, sp.lat, sp.lon, h, hb.lat, hb.lon, p.black_mass_cost_per_t_km, with_quoted=True)
                if p.spoke_hub_radius_km is not None and km > p.spoke_hub_radius_km and not quoted:
                    continue
                z_idx[(s, h, c)] = len(cols)
                cols.append(cost + _processing(hb, p.hub_cost_per_t) - (chem.hub_revenue_per_t or 0.0))
            if chem.merchant_price_per_t is not None:
                w_idx[(s, c)] = len(cols)
                cols.append(-chem.merchant_price_per_t)
    n = len(cols)
    # single sourcing: one contract per region, with a spoke or a collection point
    pairs = sorted({(r, s) for (r, s, _c, _g) in x_idx} | {(r, cp) for (r, cp, _c, _g) in q_idx})
    a_idx = {}
    if single_sourcing:
        for pr in pairs:
            a_idx[pr] = n + len(a_idx)
    N = n + len(a_idx)
    cost = np.array(cols + [0.0] * len(a_idx), dtype=float)
    lb = np.zeros(N)
    ub = np.full(N, np.inf)
    for j in a_idx.values():
        ub[j] = 1.0
    A_eq_rows, b_eq, A_ub_rows, b_ub = [], [], [], []

    def row(entries):
        v = np.zeros(N)
        for j, a in entries:
            v[j] += a
        return v

    regions = inst.regions.set_index("id")
    for (rid, c, h, dmg), t in group_t.items():  # every group of packs is collected or left uncollected
        g = (h, dmg)
        ent = [(j, 1.0) for (rr, _s, cc, gg), j in [*x_idx.items(), *q_idx.items()] if (rr, cc, gg) == (rid, c, g)]
        if (rid, c, g) in u_idx:
            ent.append((u_idx[(rid, c, g)], 1.0))
        A_eq_rows.append(row(ent))
        b_eq.append(t)
    for rid, c, slack in u_rows:  # the uncollected tonnes of a region: within its allowance
        A_ub_rows.append(row([(j, 1.0) for (rr, cc, _g), j in u_idx.items() if (rr, cc) == (rid, c)]))
        b_ub.append(slack)
    for cp, opt in open_cps.items():
        inflow = [(j, 1.0) for (r, pp, c, _h), j in q_idx.items() if pp == cp]
        A_ub_rows.append(row(inflow))
        b_ub.append(opt[1])
        if opt[4] > 0:
            A_ub_rows.append(row([(j, -1.0) for j, _ in inflow]))
            b_ub.append(-opt[4])
        for c in chems:  # what a point gathers it sends on, chemistry by chemistry
            ent = [(j, 1.0) for (r, pp, cc, _h), j in q_idx.items() if pp == cp and cc == c]
            ent += [(j, -1.0) for (pp, s, cc), j in y_idx.items() if pp == cp and cc == c]
            A_eq_rows.append(row(ent))
            b_eq.append(0.0)
    for s, opt in open_spokes.items():
        inflow = [(j, 1.0) for (r, ss, c, _g), j in x_idx.items() if ss == s] + [(j, 1.0) for (pp, ss, c), j in y_idx.items() if ss == s]
        A_ub_rows.append(row(inflow))
        b_ub.append(opt[1])
        if opt[4] > 0:  # minimum throughput: -inflow <= -min
            A_ub_rows.append(row([(j, -1.0) for j, _ in inflow]))
            b_ub.append(-opt[4])
        for c in chems:
            ent = [(j, yields[c]) for (r, ss, cc, _g), j in x_idx.items() if ss == s and cc == c]
            ent += [(j, yields[c]) for (pp, ss, cc), j in y_idx.items() if ss == s and cc == c]
            ent += [(j, -1.0) for (ss, h, cc), j in z_idx.items() if ss == s and cc == c]
            if (s, c) in w_idx:
                ent.append((w_idx[(s, c)], -1.0))
            A_eq_rows.append(row(ent))
            b_eq.append(0.0)
    for h, opt in open_hubs.items():
        A_ub_rows.append(row([(j, 1.0) for (s, hh, c), j in z_idx.items() if hh == h]))
        b_ub.append(opt[1])
        if opt[4] > 0:
            A_ub_rows.append(row([(j, -1.0) for (s, hh, c), j in z_idx.items() if hh == h]))
            b_ub.append(-opt[4])
    for chem in inst.chemistries:
        if chem.merchant_cap_t is not None and chem.merchant_price_per_t is not None:
            A_ub_rows.append(row([(j, 1.0) for (s, c), j in w_idx.items() if c == chem.name]))
            b_ub.append(chem.merchant_cap_t)
    if single_sourcing:
        for rid in regions.index:
            ent = [(j, 1.0) for (r, s), j in a_idx.items() if r == rid]
            if ent:
                A_ub_rows.append(row(ent))
                b_ub.append(1.0)
        for (r, s, c, *_h), j in [*x_idx.items(), *q_idx.items()]:
            supply = float(regions.at[r, f"{c}_t"])
            A_ub_rows.append(row([(j, 1.0), (a_idx[(r, s)], -supply)]))
            b_ub.append(0.0)
    if N == 0:  # nothing can move: feasible only if nothing has to
        ok = all(abs(b) < 1e-9 for b in b_eq) and all(b >= -1e-9 for b in b_ub)
        return 0.0 if ok else None
    A_eq = np.array(A_eq_rows) if A_eq_rows else None
    A_ub = np.array(A_ub_rows) if A_ub_rows else None
    if single_sourcing and a_idx:
        cons = []
        if A_eq is not None:
            cons.append(LinearConstraint(A_eq, b_eq, b_eq))
        if A_ub is not None:
            cons.append(LinearConstraint(A_ub, -np.inf, b_ub))
        integrality = np.zeros(N)
        integrality[list(a_idx.values())] = 1
        res = milp(cost, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub),
                   options={"mip_rel_gap": 0})
        return float(res.fun) if res.status == 0 else None
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub if A_ub is not None else None, A_eq=A_eq,
                  b_eq=b_eq if A_eq is not None else None, bounds=list(zip(lb, ub, strict=True)), method="highs")
    return float(res.fun) if res.status == 0 else None


def offer_worlds(inst) -> list[tuple[object, float, dict]]:
    """Every combination of offer levels (none, or one per ladder; one under a take-back duty):
    (the instance with each region's supply replaced by the tonnes captured, the acquisition
    cost, the levels chosen, the tonnes captured per (region, chemistry, channel) -- None without
    channels).  Reads the channel tables in their simple forms only (shares for
    every region, ``*``; offers for every region or national; blank chemistry and period):
    one ladder per (channel, region or '*', chemistry)."""
    if inst.channels is None or not len(inst.channels):
        return [(inst, 0.0, {}, None)]
    chans = inst.channels.set_index("id")
    if inst.channel_shares is not None and len(inst.channel_shares):
        sh = inst.channel_shares
        assert (sh["region"] == "*").all() and (sh["chemistry"] == "").all(), "brute force reads shares for '*' only"
        share = dict(zip(sh["channel"], sh["share"], strict=True))
    else:
        share = {chans.index[0]: 1.0}
    offers = inst.offers if inst.offers is not None else inst.channels.iloc[0:0]
    assert not len(offers) or ((offers["region"] == "") & (offers["chemistry"] == "")).all()
    ladders = {}  # (channel, scope, chem) -> [(level, price, share)] choices incl. None
    for ch in chans.index:
        own = offers[offers["channel"] == ch] if len(offers) else offers
        if not len(own):
            continue
        duty = float(chans.at[ch, "min_capture_share"] or 0.0)
        levels = [(r.level, float(r.price_per_t), float(r.capture_share)) for r in own.itertuples(index=False)
                  if float(r.capture_share) >= duty - 1e-9]
        scopes = ["*"] if chans.at[ch, "price_scope"] == "national" else list(inst.regions["id"])
        for scope in scopes:
            for c in inst.chem_names:
                ladders[(ch, scope, c)] = levels if duty > 0 else [None, *levels]
    keys = list(ladders)
    worlds = []
    for pick in itertools.product(*(ladders[k] for k in keys)):
        chosen = dict(zip(keys, pick, strict=True))
        regions = inst.regions.copy()
        cost = 0.0
        by_channel = {}
        for c in inst.chem_names:
            captured = []
            for rid, supply in zip(inst.regions["id"], inst.regions[f"{c}_t"], strict=True):
                t = 0.0
                for ch, sh_ in share.items():
                    avail = float(supply) * float(sh_)
                    key = (ch, "*" if chans.at[ch, "price_scope"] == "national" else rid, c)
                    got = 0.0
                    if key not in ladders:  # no offers: free, all captured
                        got = avail
                    elif chosen[key] is not None:
                        got = avail * chosen[key][2]
                        cost += got * chosen[key][1]
                    t += got
                    by_channel[(rid, c, ch)] = got
                captured.append(t)
            regions[f"{c}_t"] = captured
        worlds.append((inst.replace(regions=regions), cost, {k: (v[0] if v else "") for k, v in chosen.items()}, by_channel))
    return worlds


def brute_force(inst, single_sourcing: bool | None = None) -> list[Config]:
    """Every feasible configuration with its total objective, best first."""
    p = inst.params
    single = p.single_sourcing if single_sourcing is None else single_sourcing
    crf = p.discount_rate * (1 + p.discount_rate) ** p.lifetime_years / ((1 + p.discount_rate) ** p.lifetime_years - 1) \
        if p.discount_rate > 0 else 1.0 / p.lifetime_years
    s_opts = _options(inst.spokes, inst.spoke_sizes)
    h_opts = _options(inst.hubs, inst.hub_sizes)
    cps = inst.collection_points if inst.collection_points is not None else inst.spokes.iloc[:0]
    c_opts = _options(cps, inst.collection_point_modes) if len(cps) else {}
    s_ids, h_ids, c_ids = list(s_opts), list(h_opts), list(c_opts)
    closure = {site.id: float(site.closure_cost) for df in (inst.spokes, inst.hubs, cps) for site in df.itertuples(index=False)
               if _closable(site)}

    worlds = offer_worlds(inst)

    def counts_ok(n: int, lo, hi) -> bool:
        return (lo is None or n >= lo) and (hi is None or n <= hi)

    results = []
    for c_choice in itertools.product(*(c_opts[c] for c in c_ids)):
        open_c = {c: o for c, o in zip(c_ids, c_choice, strict=True) if o is not None}
        if not counts_ok(len(open_c), p.min_collection_points, p.max_collection_points):
            continue
        for s_choice in itertools.product(*(s_opts[s] for s in s_ids)):
            open_s = {s: o for s, o in zip(s_ids, s_choice, strict=True) if o is not None}
            if not counts_ok(len(open_s), p.min_spokes, p.max_spokes):
                continue
            for h_choice in itertools.product(*(h_opts[h] for h in h_ids)):
                open_h = {h: o for h, o in zip(h_ids, h_choice, strict=True) if o is not None}
                if not counts_ok(len(open_h), p.min_hubs, p.max_hubs):
                    continue
                sites = [*open_c.values(), *open_s.values(), *open_h.values()]
                capex = sum(o[2] for o in sites)
                if p.max_capex is not None and capex > p.max_capex + 1e-9:
                    continue
                closed = sum(cost for sid, cost in closure.items() if sid not in open_s and sid not in open_h and sid not in open_c)
                fixed = crf * (capex + closed) + sum(o[3] for o in sites)
                for world, acquisition, _levels, by_channel in worlds:
                    var = transport_value(world, open_s, open_h, single, open_cps=open_c, by_channel=by_channel)
                    if var is None:
                        continue
                    results.append(Config({**open_c, **open_s, **open_h}, fixed, fixed + var + acquisition))
    results.sort(key=lambda c: c.objective)
    return results


def _sequences(site, sizes, periods, multi_years):
    """Every allowed state sequence of one site over the periods: None = not operating, else the
    (size, cap, capex_charged, opex) option; capacity never shrinks, candidates never close,
    closable existing sites may close for good from the second period on."""
    opts = _options_one(site, sizes)
    by_cap = sorted(opts, key=lambda o: o[1])
    earliest = site.earliest_year if site.earliest_year == site.earliest_year else None
    closable = _closable(site)
    out = []

    def extend(seq, k):
        if k == len(periods):
            out.append(tuple(seq))
            return
        prev = seq[-1] if seq else None
        closed_before = site.status == "existing" and any(s is None for s in seq)
        choices = []
        if site.status == "existing":
            if closed_before:
                choices = [None]
            else:
                choices = [o for o in by_cap if prev is None or o[1] >= prev[1]]
                if closable and k > 0:
                    choices.append(None)
        else:
            if earliest is not None and multi_years[k] < earliest:
                choices = [None]
            elif prev is None:
                choices = [None] + by_cap
            else:
                choices = [o for o in by_cap if o[1] >= prev[1]]
        for c in choices:
            extend(seq + [c], k + 1)

    extend([], 0)
    return out


def _options_one(site, sizes):
    rows = sizes[sizes["site_id"] == site.id]
    if site.status == "existing":
        inst_row = rows[rows["size"] == site.existing_size].iloc[0]
        return [(r.size, r.capacity_t, max(0.0, r.capex - inst_row.capex), r.fixed_opex_per_yr, _min_t(r))
                for r in rows.itertuples(index=False) if r.capacity_t >= inst_row.capacity_t]
    return [(r.size, r.capacity_t, r.capex, r.fixed_opex_per_yr, _min_t(r)) for r in rows.itertuples(index=False)]


def brute_force_schedules(inst) -> list[tuple[float, dict]]:
    """Every feasible build schedule of a multi-period instance with its NPV, best first."""
    p = inst.params
    per = inst.periods
    r = p.discount_rate
    crf = r * (1 + r) ** p.lifetime_years / ((1 + r) ** p.lifetime_years - 1) if r > 0 else 1.0 / p.lifetime_years
    y0 = per.years[0]
    weight = [sum((1 + r) ** -(y + j - y0) for j in range(n)) for y, n in zip(per.years, per.lengths, strict=True)]
    start = [(1 + r) ** -(y - y0) for y in per.years]
    sites = [(s, "spoke") for s in inst.spokes.itertuples(index=False) if s.status != "excluded"]
    sites += [(h, "hub") for h in inst.hubs.itertuples(index=False) if h.status != "excluded"]
    seqs = [_sequences(s, inst.spoke_sizes if kind == "spoke" else inst.hub_sizes, per.labels, per.years)
            for s, kind in sites]
    sup = inst.supply_by_period
    views = []
    for label in per.labels:
        regions = inst.regions.copy()
        for c in inst.chem_names:
            vals = sup[(sup["period"] == label) & (sup["chemistry"] == c)].set_index("region_id")["supply_t"]
            regions[f"{c}_t"] = regions["id"].map(vals).to_numpy(dtype=float)
        views.append(inst.replace(regions=regions, periods=None, supply_by_period=None))
    cache: dict = {}
    results = []
    for combo in itertools.product(*seqs):
        total = 0.0
        spent = [0.0] * len(per.labels)
        ok = True
        for (site, _kind), seq in zip(sites, combo, strict=True):
            prev_capex = 0.0  # capex charged is already relative to an existing site's installed size
            for k, state in enumerate(seq):
                if state is None:
                    if k > 0 and seq[k - 1] is not None and site.status == "existing":
                        total += start[k] * float(site.closure_cost)
                    continue
                spent[k] += max(0.0, state[2] - prev_capex)
                prev_capex = max(prev_capex, state[2])
                total += weight[k] * (crf * state[2] + state[3])
        if per.capex_budget is not None and any(s > b + 1e-6 for s, b in zip(spent, per.capex_budget, strict=True)):
            continue
        if p.max_capex is not None and sum(spent) > p.max_capex + 1e-6:
            continue
        for k in range(len(per.labels)):
            open_s = {s.id: seq[k] for (s, kind), seq in zip(sites, combo, strict=True) if kind == "spoke" and seq[k] is not None}
            open_h = {s.id: seq[k] for (s, kind), seq in zip(sites, combo, strict=True) if kind == "hub" and seq[k] is not None}
            if not all(lo is None or len(o) >= lo for o, lo in ((open_s, p.min_spokes), (open_h, p.min_hubs))) or \
                    not all(hi is None or len(o) <= hi for o, hi in ((open_s, p.max_spokes), (open_h, p.max_hubs))):
                ok = False
                break
            key = (k, tuple(sorted((a, b[0]) for a, b in open_s.items())), tuple(sorted((a, b[0]) for a, b in open_h.items())))
            if key not in cache:
                cache[key] = transport_value(views[k], open_s, open_h, p.single_sourcing)
            var = cache[key]
            if var is None:
                ok = False
                break
            total += weight[k] * var
        if ok:
            results.append((total, {s.id: tuple(None if x is None else x[0] for x in seq)
                                    for (s, _k), seq in zip(sites, combo, strict=True)}))
    results.sort(key=lambda t: t[0])
    return results
