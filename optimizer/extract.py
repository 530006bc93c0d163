"""Turn solved column values into the plain tables of a :class:`~optimizer.solution.Solution`.

Input is the :class:`~optimizer.model.network.Network` the model was built from and one numpy
array of values per variable family, in the family's index order (the network table's row
order).  No Pyomo object is touched, so this works the same for every hand-off route.  Tiers
and legs come from :mod:`optimizer.tiers`: each tier's sites are rows of ``sites`` (``kind`` =
the tier), each leg's arcs rows of ``flows`` (``echelon`` = the leg).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import concat_rows
from .instance import Instance
from .model.joins import positions
from .model.network import Network, damaged_var, throughput_var
from .solution import (
    CHANNEL_COLUMNS,
    COST_COLUMNS,
    FLOW_COLUMNS,
    FLOW_TOL_T,
    REGION_COLUMNS,
    SITE_COLUMNS,
    component_kind,
)
from .tiers import (
    LEGS,
    REGION,
    TIERS,
    Tier,
    legs_into,
    merchant_echelon,
    processing_component,
    revenue_component,
)


def clean_flows(values: np.ndarray) -> np.ndarray:
    """Zero out round-off: negative noise and flows below the reporting tolerance."""
    v = np.asarray(values, dtype=float).copy()
    v[np.abs(v) < FLOW_TOL_T] = 0.0
    return np.maximum(v, 0.0)


def _values(net: Network, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every family's values (zeros where a family is absent), flows cleaned, binaries as bools."""
    out = {}
    for name, (table, _keys) in net.families().items():
        v = np.asarray(values.get(name, np.zeros(len(table))), dtype=float)
        out[name] = v > 0.5 if name.startswith("open_") or name in ("closed_site", "offer_level") else clean_flows(v)
    return out


def extract_tables(inst: Instance, net: Network, values: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """Sites, flows, regions and costs tables from variable values."""
    v = _values(net, values)
    flows = _flows(net, v)
    closed = {(s, p): bool(c) for s, p, c in zip(net.closable["site_id"], net.closable["period"], v["closed_site"], strict=True)}
    sites = concat_rows([_sites(inst, net, t, v, closed) for t in TIERS], SITE_COLUMNS)
    channels = _channels(net, v)
    regions = _regions(net, v, channels)
    costs = cost_table(inst, net, v, regions, closed)
    return {"sites": sites, "flows": flows, "regions": regions, "costs": costs, "channels": channels}


def _channels(net: Network, v: dict) -> pd.DataFrame:
    """Each (region, channel, chemistry, period): the offer chosen, tonnes captured, their cost.
    Marginal values are filled in by :mod:`optimizer.explain` (NaN until then)."""
    cs = net.channel_supply.reset_index(drop=True)
    chosen = net.offers[v["offer_level"]] if len(net.offers) else net.offers
    pick = {lad: (lvl, price, share) for lad, lvl, price, share in zip(
        chosen["ladder"], chosen["level"], chosen["price_per_t"], chosen["capture_share"], strict=True)}
    free = cs["ladder"].to_numpy() == ""
    got = [pick.get(lad, ("", 0.0, 0.0)) for lad in cs["ladder"]]
    out = cs[["region_id", "channel", "chemistry", "period", "available_t"]].copy()
    out["level"] = ["" if f else g[0] for f, g in zip(free, got, strict=True)]
    out["price_per_t"] = np.where(free, 0.0, [g[1] for g in got])
    out["capture_share"] = np.where(free, 1.0, [g[2] for g in got])
    out["captured_t"] = out["available_t"].to_numpy(float) * out["capture_share"].to_numpy(float)
    out["acquisition_cost"] = out["captured_t"].to_numpy(float) * out["price_per_t"].to_numpy(float)
    out["marginal_value_per_t"] = np.nan
    out["at_breakpoint"] = False
    return out[CHANNEL_COLUMNS]


def damaged_on_arcs(net: Network, leg, v: dict) -> np.ndarray:
    """The damaged packs among each arc's flow of ``leg`` (t/yr; 0 where none may travel)."""
    out = np.zeros(len(net.arcs[leg.name]))
    d = net.damaged_arcs(leg)
    if len(d) and damaged_var(leg) in v:
        keys = ["origin", "destination", "chemistry", "period"]
        out[positions(d, net.arcs[leg.name], keys)] = v[damaged_var(leg)]
    return out


def _flows(net: Network, v: dict) -> pd.DataFrame:
    parts = []
    for leg in LEGS:
        a = net.arcs[leg.name].assign(flow_t=v[leg.flow_var], damaged_t=damaged_on_arcs(net, leg, v))
        a = a[a["flow_t"] > 0]
        damaged = np.minimum(a["damaged_t"], a["flow_t"])  # round-off: never more damaged than flow
        parts.append(pd.DataFrame({
            "echelon": leg.name, "origin": a["origin"], "destination": a["destination"], "chemistry": a["chemistry"],
            "period": a["period"], "material": leg.material, "flow_t": a["flow_t"], "damaged_t": damaged, "km": a["km"],
            "cost_per_t": a["cost_per_t"], "transport_cost": a["flow_t"] * a["cost_per_t"] + damaged * a["km"] * net.damaged_surcharge}))
    mw = net.merchant.assign(flow_t=v["merchant_t"])
    mw = mw[mw["flow_t"] > 0]
    tier_of = {sid: t for t in TIERS for sid in net.tiers[t.name].sites["id"]}
    parts.append(pd.DataFrame({
        "echelon": [merchant_echelon(tier_of[s]) for s in mw["site_id"]], "origin": mw["site_id"], "destination": "merchant",
        "chemistry": mw["chemistry"], "period": mw["period"], "material": "black_mass", "flow_t": mw["flow_t"], "damaged_t": 0.0,
        "km": 0.0, "cost_per_t": 0.0, "transport_cost": 0.0}))
    out = concat_rows([p for p in parts if len(p)], FLOW_COLUMNS)
    if not len(out):
        return out
    return out.sort_values(["period", "echelon", "origin", "destination", "chemistry"], kind="stable").reset_index(drop=True)[FLOW_COLUMNS]


def _inbound(net: Network, t: Tier, v: dict) -> dict:
    """(site, period) -> tonnes the site takes in."""
    parts = [net.arcs[leg.name].assign(flow_t=v[leg.flow_var]) for leg in legs_into(t.name)]
    a = concat_rows(parts, ["destination", "period", "flow_t"])
    return a.groupby(["destination", "period"])["flow_t"].sum().to_dict() if len(a) else {}


def _sites(inst: Instance, net: Network, t: Tier, v: dict, closed: dict) -> pd.DataFrame:
    """One row per site and period: the size chosen (if any), inbound tonnes, utilisation."""
    tt = net.tiers[t.name]
    if tt.sites.empty:
        return pd.DataFrame(columns=SITE_COLUMNS)
    # Sites number in the hundreds at most: plain dictionaries beat pandas joins here.
    opt = tt.options[v[t.open_var]]
    picked = {(sid, per): (size, cap, capex, opex) for sid, per, size, cap, capex, opex in zip(
        opt["site_id"], opt["period"], opt["size"], opt["capacity_t"], opt["capex_charged"], opt["fixed_opex_per_yr"],
        strict=True)}
    inb = _inbound(net, t, v)
    raw = getattr(inst, t.sites)
    meta = {sid: (name, lat, lon) for sid, name, lat, lon in zip(raw["id"], raw["name"], raw["lat"], raw["lon"], strict=True)}
    rows = []
    for period in net.periods:
        for sid, status in zip(tt.sites["id"], tt.sites["status"], strict=True):
            name, lat, lon = meta[sid]
            t_in = float(inb.get((sid, period), 0.0))
            is_closed = closed.get((sid, period), False)
            p = picked.get((sid, period))
            if p is None:
                rows.append((sid, t.name, name, status, period, False, "", 0.0, t_in, 0.0, 0.0, 0.0, 0.0, is_closed, lat, lon))
                continue
            size, cap, capex, opex = p
            util = t_in / cap if cap > 0 else 0.0
            if 1.0 < util <= 1.0 + 1e-6:  # full up to round-off shows as 100 %, never above
                util = 1.0
            rows.append((sid, t.name, name, status, period, True, str(size), float(cap), t_in, util, float(capex),
                         float(capex) * net.crf, float(opex), is_closed, lat, lon))
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def _regions(net: Network, v: dict, channels: pd.DataFrame) -> pd.DataFrame:
    a = concat_rows([net.arcs[leg.name].assign(flow_t=v[leg.flow_var]) for leg in LEGS if leg.origin == REGION],
                    ["origin", "chemistry", "period", "flow_t"])
    collected = a.groupby(["origin", "chemistry", "period"])["flow_t"].sum()
    reg = net.supply[["region_id", "chemistry", "period", "supply_t"]].copy()
    key = pd.MultiIndex.from_frame(reg[["region_id", "chemistry", "period"]])
    captured = channels.groupby(["region_id", "chemistry", "period"])["captured_t"].sum()
    reg["captured_t"] = np.minimum(captured.astype(float).reindex(key, fill_value=0.0).to_numpy(float), reg["supply_t"].to_numpy(float))
    reg["required_t"] = reg["captured_t"] * net.collection_rate
    reg["collected_t"] = np.minimum(collected.astype(float).reindex(key, fill_value=0.0).to_numpy(float), reg["captured_t"].to_numpy())
    reg["uncollected_t"] = clean_flows(reg["captured_t"].to_numpy() - reg["collected_t"].to_numpy())
    return reg[REGION_COLUMNS].reset_index(drop=True)


def cost_table(inst: Instance, net: Network, v: dict, regions: pd.DataFrame, closed: dict | None = None) -> pd.DataFrame:
    """Cost components per period (currency/yr; revenues negative), from the model's tables.

    ``closure`` is the one-off cost of sites closing in a period of a horizon, or in a one-period
    instance the closure cost annualised like capex.
    """
    from .model.build import closure_coefficients

    closed = closed or {}
    p = inst.params
    rev = {c.name: c.hub_revenue_per_t or 0.0 for c in inst.chemistries}
    price = net.merchant["price_per_t"].to_numpy(float)
    closure_cost = dict(zip(zip(net.closable["site_id"], net.closable["period"], strict=True), closure_coefficients(inst, net) if len(net.closable)
                            else [], strict=True))
    rows = []
    for period in net.periods:
        values: dict[str, float] = {"capex_annualised": 0.0, "fixed_opex": 0.0}
        for t in TIERS:
            o = net.tiers[t.name].options
            sel = (o["period"].to_numpy() == period) & v[t.open_var]
            values["capex_annualised"] += float(o["capex_charged"].to_numpy(float)[sel].sum()) * net.crf
            values["fixed_opex"] += float(o["fixed_opex_per_yr"].to_numpy(float)[sel].sum())
        for t in TIERS:
            tt = net.tiers[t.name]
            if tt.option_costs:
                sel = tt.options["period"].to_numpy() == period
                values[processing_component(t)] = float(tt.options["cost_per_t"].to_numpy(float)[sel] @ v[throughput_var(t)][sel])
                continue
            cost_of = dict(zip(tt.sites["id"], tt.sites["cost_per_t"], strict=True))
            values[processing_component(t)] = sum(
                float(net.arcs[leg.name]["destination"].map(cost_of).to_numpy(float)[_in(net, leg, period)] @ v[leg.flow_var][_in(net, leg, period)])
                for leg in legs_into(t.name))
        for leg in LEGS:
            sel = _in(net, leg, period)
            values[leg.component] = values.get(leg.component, 0.0) + float(net.arcs[leg.name]["cost_per_t"].to_numpy(float)[sel] @ v[leg.flow_var][sel]) \
                + net.damaged_surcharge * float(net.arcs[leg.name]["km"].to_numpy(float)[sel] @ damaged_on_arcs(net, leg, v)[sel])
        rg = regions["period"].to_numpy() == period
        values["uncollected_penalty"] = (p.uncollected_penalty_per_t or 0.0) * regions["uncollected_t"].to_numpy(float)[rg].sum()
        mw = net.merchant["period"].to_numpy() == period
        values["merchant_disposal"] = -(np.minimum(price[mw], 0.0) @ v["merchant_t"][mw])
        values["merchant_revenue"] = -(np.maximum(price[mw], 0.0) @ v["merchant_t"][mw])
        for t in TIERS:
            if t.revenue:
                values[revenue_component(t)] = -sum(
                    float(net.arcs[leg.name]["chemistry"].map(rev).to_numpy(float)[_in(net, leg, period)] @ v[leg.flow_var][_in(net, leg, period)])
                    for leg in legs_into(t.name))
        if not net.single_period or len(net.closable):
            values["closure"] = _closures(net, period, closed, closure_cost)
        if len(net.offers):
            off = net.offers
            sel = (off["period"].to_numpy() == period) & v["offer_level"]
            values["acquisition"] = float((off["price_per_t"].to_numpy(float) * off["capture_share"].to_numpy(float)
                                           * off["available_t"].to_numpy(float))[sel].sum())
        for name, value in values.items():
            rows.append((name, component_kind(name), period, float(value)))
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def _in(net: Network, leg, period: str) -> np.ndarray:
    return net.arcs[leg.name]["period"].to_numpy() == period


def _closures(net: Network, period: str, closed: dict, coefficient: dict) -> float:
    """Cost of the sites closing in ``period`` (a one-off in a horizon, annualised in one period)."""
    if net.single_period:
        return sum(coefficient[(s, t)] for (s, t), c in closed.items() if c and t == period)
    k = net.periods.index(period)
    prev = net.periods[k - 1] if k > 0 else None
    # the objective's coefficient is the discounted difference; the table reports the plain cost
    return sum(_plain_closure(net, s) for (s, t), c in closed.items() if t == period and c and not closed.get((s, prev), False))


def _plain_closure(net: Network, site: str) -> float:
    for t in TIERS:
        sites = net.tiers[t.name].sites
        hit = sites.loc[sites["id"] == site, "closure_cost"]
        if len(hit):
            return float(hit.iat[0])
    return 0.0
