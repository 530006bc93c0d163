"""Turn solved column values into the plain tables of a :class:`~optimizer.solution.Solution`.

Input is the :class:`~optimizer.model.network.Network` the model was built from and one numpy
array of values per variable family, in the family's index order (the network table's row
order).  No Pyomo object is touched, so this works the same for every hand-off route.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import concat_rows
from .instance import Instance
from .model.network import Network
from .solution import (
    COST_COLUMNS,
    FLOW_COLUMNS,
    FLOW_TOL_T,
    REGION_COLUMNS,
    SITE_COLUMNS,
    component_kind,
)


def clean_flows(values: np.ndarray) -> np.ndarray:
    """Zero out round-off: negative noise and flows below the reporting tolerance."""
    v = np.asarray(values, dtype=float).copy()
    v[np.abs(v) < FLOW_TOL_T] = 0.0
    return np.maximum(v, 0.0)


def extract_tables(inst: Instance, net: Network, values: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """Sites, flows, regions and costs tables from variable values."""
    y_s = np.asarray(values.get("open_spoke", np.zeros(len(net.spoke_options)))) > 0.5
    y_h = np.asarray(values.get("open_hub", np.zeros(len(net.hub_options)))) > 0.5
    x = clean_flows(values.get("flow_pack_t", np.zeros(len(net.arcs_rs))))
    z = clean_flows(values.get("flow_black_mass_t", np.zeros(len(net.arcs_sh))))
    w = clean_flows(values.get("merchant_t", np.zeros(len(net.merchant))))

    flows = _flows(net, x, z, w)
    closed = {}
    if "closed_site" in values and len(values["closed_site"]):
        from .model.build import closable_periods

        cp = closable_periods(net)
        closed = {key: v > 0.5 for key, v in zip(zip(cp["site_id"], cp["period"], strict=True), values["closed_site"], strict=True)}
    sites = concat_rows([
        _sites(inst, net, "spoke", net.spoke_sites, net.spoke_options, y_s, inst.spokes,
               net.arcs_rs.assign(flow_t=x).groupby(["spoke_id", "period"])["flow_t"].sum()),
        _sites(inst, net, "hub", net.hub_sites, net.hub_options, y_h, inst.hubs,
               net.arcs_sh.assign(flow_t=z).groupby(["hub_id", "period"])["flow_t"].sum()),
    ], SITE_COLUMNS)
    sites["closed"] = [closed.get(k, False) for k in zip(sites["site_id"], sites["period"], strict=True)]
    sites = sites[SITE_COLUMNS]

    collected = net.arcs_rs.assign(flow_t=x).groupby(["region_id", "chemistry", "period"])["flow_t"].sum()
    reg = net.supply[["region_id", "chemistry", "period", "supply_t", "required_t"]].copy()
    key = pd.MultiIndex.from_frame(reg[["region_id", "chemistry", "period"]])
    reg["collected_t"] = np.minimum(collected.reindex(key).fillna(0.0).to_numpy(), reg["supply_t"].to_numpy())
    reg["uncollected_t"] = clean_flows(reg["supply_t"].to_numpy() - reg["collected_t"].to_numpy())
    regions = reg[REGION_COLUMNS].reset_index(drop=True)

    costs = cost_table(inst, net, y_s, y_h, x, z, w, regions, closed)
    return {"sites": sites, "flows": flows, "regions": regions, "costs": costs}


def _flows(net: Network, x, z, w) -> pd.DataFrame:
    rs = net.arcs_rs.assign(flow_t=x)
    rs = rs[rs["flow_t"] > 0]
    part_rs = pd.DataFrame({
        "echelon": "region_spoke", "origin": rs["region_id"], "destination": rs["spoke_id"],
        "chemistry": rs["chemistry"], "period": rs["period"], "material": "packs", "flow_t": rs["flow_t"],
        "km": rs["km"], "cost_per_t": rs["cost_per_t"], "transport_cost": rs["flow_t"] * rs["cost_per_t"],
    })
    sh = net.arcs_sh.assign(flow_t=z)
    sh = sh[sh["flow_t"] > 0]
    part_sh = pd.DataFrame({
        "echelon": "spoke_hub", "origin": sh["spoke_id"], "destination": sh["hub_id"],
        "chemistry": sh["chemistry"], "period": sh["period"], "material": "black_mass", "flow_t": sh["flow_t"],
        "km": sh["km"], "cost_per_t": sh["cost_per_t"], "transport_cost": sh["flow_t"] * sh["cost_per_t"],
    })
    mw = net.merchant.assign(flow_t=w)
    mw = mw[mw["flow_t"] > 0]
    part_w = pd.DataFrame({
        "echelon": "spoke_merchant", "origin": mw["spoke_id"], "destination": "merchant",
        "chemistry": mw["chemistry"], "period": mw["period"], "material": "black_mass", "flow_t": mw["flow_t"],
        "km": 0.0, "cost_per_t": 0.0, "transport_cost": 0.0,
    })
    parts = [p for p in (part_rs, part_sh, part_w) if len(p)]
    if not parts:
        return pd.DataFrame(columns=FLOW_COLUMNS)
    out = concat_rows(parts)
    return out.sort_values(["period", "echelon", "origin", "destination", "chemistry"], kind="stable").reset_index(drop=True)[FLOW_COLUMNS]


def _sites(inst, net, kind, sites, options, chosen, raw_sites, inbound) -> pd.DataFrame:
    """One row per site and period: the size chosen (if any), inbound tonnes, utilisation."""
    if sites.empty:
        return pd.DataFrame(columns=SITE_COLUMNS)
    # Sites number in the hundreds at most: plain dictionaries beat pandas joins here.
    opt = options[chosen]
    picked = {(sid, per): (size, cap, capex, opex) for sid, per, size, cap, capex, opex in zip(
        opt["site_id"], opt["period"], opt["size"], opt["capacity_t"], opt["capex_charged"], opt["fixed_opex_per_yr"],
        strict=True)}
    inb = inbound.to_dict()
    meta = {sid: (name, lat, lon) for sid, name, lat, lon in zip(
        raw_sites["id"], raw_sites["name"], raw_sites["lat"], raw_sites["lon"], strict=True)}
    rows = []
    for period in net.periods:
        for sid, status in zip(sites["id"], sites["status"], strict=True):
            name, lat, lon = meta[sid]
            t_in = float(inb.get((sid, period), 0.0))
            p = picked.get((sid, period))
            if p is None:
                rows.append((sid, kind, name, status, period, False, "", 0.0, t_in, 0.0, 0.0, 0.0, 0.0, False, lat, lon))
                continue
            size, cap, capex, opex = p
            util = t_in / cap if cap > 0 else 0.0
            if 1.0 < util <= 1.0 + 1e-6:  # full up to round-off shows as 100 %, never above
                util = 1.0
            rows.append((sid, kind, name, status, period, True, str(size), float(cap), t_in, util, float(capex),
                         float(capex) * net.crf, float(opex), False, lat, lon))
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def cost_table(inst: Instance, net: Network, y_s, y_h, x, z, w, regions: pd.DataFrame,
               closed: dict | None = None) -> pd.DataFrame:
    """Cost components per period (currency/yr; revenues negative), from the model's tables.

    Multi-period instances add ``closure``: the one-off cost of sites closing in that period
    (not per year).
    """
    closed = closed or {}
    closure_cost = dict(zip(concat_rows([inst.spokes, inst.hubs])["id"], concat_rows([inst.spokes, inst.hubs])["closure_cost"], strict=True))
    p = inst.params
    rev = {c.name: c.hub_revenue_per_t or 0.0 for c in inst.chemistries}
    rows = []
    price = net.merchant["price_per_t"].to_numpy(float)
    for period in net.periods:
        so = net.spoke_options["period"].to_numpy() == period
        ho = net.hub_options["period"].to_numpy() == period
        rs = net.arcs_rs["period"].to_numpy() == period
        sh = net.arcs_sh["period"].to_numpy() == period
        mw = net.merchant["period"].to_numpy() == period
        rg = regions["period"].to_numpy() == period
        capex = (net.spoke_options["capex_charged"].to_numpy(float)[so] @ y_s[so]
                 + net.hub_options["capex_charged"].to_numpy(float)[ho] @ y_h[ho]) * net.crf
        opex = (net.spoke_options["fixed_opex_per_yr"].to_numpy(float)[so] @ y_s[so]
                + net.hub_options["fixed_opex_per_yr"].to_numpy(float)[ho] @ y_h[ho])
        values = {
            "capex_annualised": capex,
            "fixed_opex": opex,
            "spoke_processing": p.spoke_cost_per_t * x[rs].sum(),
            "hub_processing": p.hub_cost_per_t * z[sh].sum(),
            "transport_pack": net.arcs_rs["cost_per_t"].to_numpy(float)[rs] @ x[rs],
            "transport_black_mass": net.arcs_sh["cost_per_t"].to_numpy(float)[sh] @ z[sh],
            "uncollected_penalty": (p.uncollected_penalty_per_t or 0.0) * regions["uncollected_t"].to_numpy(float)[rg].sum(),
            "merchant_disposal": -(np.minimum(price[mw], 0.0) @ w[mw]),
            "merchant_revenue": -(np.maximum(price[mw], 0.0) @ w[mw]),
            "hub_revenue": -(net.arcs_sh["chemistry"].map(rev).to_numpy(float)[sh] @ z[sh]),
        }
        if not net.single_period:
            k = net.periods.index(period)
            prev = net.periods[k - 1] if k > 0 else None
            values["closure"] = sum(closure_cost[sid] for (sid, t), c in closed.items()
                                    if t == period and c and not closed.get((sid, prev), False))
        for name, value in values.items():
            rows.append((name, component_kind(name), period, float(value)))
    return pd.DataFrame(rows, columns=COST_COLUMNS)
