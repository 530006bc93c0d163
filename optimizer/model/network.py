"""Sparse index sets and coefficients of the model, computed from an instance with numpy/pandas.

Nothing here imports Pyomo: the model builder only turns these tables into components.  Each
table row is one index of a Pyomo set, in the same order, so a solved column block maps back to
table rows by position.

Sets (one table each):

``spoke_options`` / ``hub_options`` (``SPOKE_SIZES``, ``HUB_SIZES``)
    (site, size, period) for every non-excluded site; an existing site only offers sizes at least
    as large as the installed one, charged the capex difference (the installed capex is sunk).
``supply`` (``SUPPLY``)
    (region, chemistry, period) with positive supply; ``required_t`` = collection rate x supply.
``arcs_rs`` (``ARCS_REGION_SPOKE``)
    (region, spoke, chemistry, period) for every region->spoke lane within the service radius and
    every chemistry the region supplies.  ``ub_t`` = min(supply, largest spoke size).
``arcs_sh`` (``ARCS_SPOKE_HUB``)
    (spoke, hub, chemistry, period) where the hub accepts the chemistry and the spoke can receive
    it.  ``ub_t`` = yield x min(largest spoke size, supply that can reach the spoke).
``merchant`` (``MERCHANT``)
    (spoke, chemistry, period) for chemistries with a merchant price, same ``ub_t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..frames import concat_rows
from ..geo import lanes_between
from ..instance import Instance

SINGLE_PERIOD = "base"


@dataclass
class Network:
    """Index tables and coefficients for one instance (see module docstring)."""

    periods: list[str]
    period_weight: dict[str, float]  # multiplies a period's annual cost (1 for one period)
    chems: list[str]
    black_mass_yield: dict[str, float]
    crf: float
    spoke_sites: pd.DataFrame  # id, status, existing_size, max_capacity_t
    hub_sites: pd.DataFrame
    spoke_options: pd.DataFrame  # site_id, size, period, capacity_t, capex_charged, fixed_opex_per_yr, installed
    hub_options: pd.DataFrame
    supply: pd.DataFrame  # region_id, chemistry, period, supply_t, required_t
    arcs_rs: pd.DataFrame  # region_id, spoke_id, chemistry, period, km, cost_per_t, quoted, ub_t
    arcs_sh: pd.DataFrame  # spoke_id, hub_id, chemistry, period, km, cost_per_t, quoted, ub_t
    merchant: pd.DataFrame  # spoke_id, chemistry, period, price_per_t, ub_t

    @property
    def single_period(self) -> bool:
        return len(self.periods) == 1


def site_options(sites: pd.DataFrame, sizes: pd.DataFrame, periods: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open sites with their size options; existing sites only at or above the installed size."""
    open_sites = sites[sites["status"] != "excluded"][["id", "status", "existing_size", "earliest_year", "closure_cost"]].reset_index(drop=True)
    open_sites["closable"] = (open_sites["status"] == "existing") & open_sites["closure_cost"].notna()
    opts = sizes.merge(open_sites, left_on="site_id", right_on="id", how="inner", validate="many_to_one")
    installed = opts[(opts["status"] == "existing") & (opts["size"] == opts["existing_size"])]
    inst_cap = dict(zip(installed["site_id"], installed["capacity_t"], strict=True))
    inst_capex = dict(zip(installed["site_id"], installed["capex"], strict=True))
    is_existing = opts["status"] == "existing"
    base_cap = opts["site_id"].map(inst_cap)
    base_capex = opts["site_id"].map(inst_capex)
    keep = ~is_existing | (opts["capacity_t"] >= base_cap)
    opts = opts[keep].copy()
    is_existing = opts["status"] == "existing"
    opts["installed"] = is_existing & (opts["size"] == opts["existing_size"])
    charged = opts["capex"].to_numpy(dtype=float).copy()
    ex = is_existing.to_numpy()
    charged[ex] = np.maximum(0.0, charged[ex] - opts.loc[is_existing, "site_id"].map(inst_capex).to_numpy(dtype=float))
    opts["capex_charged"] = charged
    max_cap = opts.groupby("site_id", sort=False)["capacity_t"].max()
    open_sites["max_capacity_t"] = open_sites["id"].map(max_cap).fillna(0.0)
    del base_cap, base_capex
    cols = ["site_id", "size", "capacity_t", "capex", "capex_charged", "fixed_opex_per_yr", "installed"]
    opts = opts[cols].reset_index(drop=True)
    per = _by_period(opts, periods)
    if len(periods) > 1:
        earliest = per["site_id"].map(dict(zip(open_sites["id"], open_sites["earliest_year"], strict=True)))
        year = per["period"].astype(int)
        per = per[earliest.isna() | (year >= earliest)].reset_index(drop=True)
    return open_sites, per


def _by_period(df: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Repeat ``df`` once per period (period-major), adding a ``period`` column."""
    if len(periods) == 1:
        out = df.copy()
        out["period"] = periods[0]
        return out
    parts = []
    for p in periods:
        part = df.copy()
        part["period"] = p
        parts.append(part)
    return concat_rows(parts)


def build_network(inst: Instance) -> Network:
    """Compute every index table of the model for ``inst``."""
    p = inst.params
    if inst.periods is not None:
        periods = list(inst.periods.labels)
        weight = inst.periods.weights(p.discount_rate)
    else:
        periods = [SINGLE_PERIOD]
        weight = {SINGLE_PERIOD: 1.0}
    chems = list(inst.chem_names)
    yields = {c.name: c.black_mass_yield for c in inst.chemistries}

    spoke_sites, spoke_options = site_options(inst.spokes, inst.spoke_sizes, periods)
    hub_sites, hub_options = site_options(inst.hubs, inst.hub_sizes, periods)

    if inst.periods is not None:
        sup = inst.supply_by_period
        sup = sup[sup["supply_t"] > 0][["region_id", "chemistry", "period", "supply_t"]].copy()
        sup = sup.sort_values(["period"], kind="stable").reset_index(drop=True)
    else:
        sup = inst.supply_long()
        sup["period"] = SINGLE_PERIOD
    sup["required_t"] = sup["supply_t"] * p.min_collection_rate

    # Region -> spoke lanes within the service radius.
    region_idx = inst.regions.reset_index(drop=True)
    lanes_rs = lanes_between(region_idx, spoke_sites.merge(inst.spokes[["id", "lat", "lon"]], on="id"),
                             p.circuity, p.pack_cost_per_t_km, inst.lanes, p.service_radius_km)
    pair_rs = pd.DataFrame({
        "region_id": region_idx["id"].to_numpy()[lanes_rs.origin],
        "spoke_id": spoke_sites["id"].to_numpy()[lanes_rs.destination],
        "km": lanes_rs.km, "cost_per_t": lanes_rs.cost_per_t, "quoted": lanes_rs.quoted,
    })
    arcs_rs = pair_rs.merge(sup[["region_id", "chemistry", "period", "supply_t"]], on="region_id", how="inner")
    arcs_rs = arcs_rs.merge(spoke_sites[["id", "max_capacity_t"]], left_on="spoke_id", right_on="id").drop(columns="id")
    if len(periods) > 1:  # a spoke carries flow only in periods it may operate
        avail = spoke_options[["site_id", "period"]].drop_duplicates().rename(columns={"site_id": "spoke_id"})
        arcs_rs = arcs_rs.merge(avail, on=["spoke_id", "period"])
    arcs_rs["ub_t"] = np.minimum(arcs_rs["supply_t"], arcs_rs["max_capacity_t"])
    arcs_rs = arcs_rs.sort_values(["period", "region_id", "chemistry", "spoke_id"], kind="stable").reset_index(drop=True)
    arcs_rs = arcs_rs[["region_id", "spoke_id", "chemistry", "period", "km", "cost_per_t", "quoted", "ub_t"]]

    # Black mass each spoke can receive per chemistry and period: the tightest bound we know.
    reach = arcs_rs.groupby(["spoke_id", "chemistry", "period"], sort=False)["ub_t"].sum().rename("reach_t").reset_index()
    reach = reach.merge(spoke_sites[["id", "max_capacity_t"]], left_on="spoke_id", right_on="id").drop(columns="id")
    reach["ub_t"] = np.minimum(reach["reach_t"], reach["max_capacity_t"]) * reach["chemistry"].map(yields)

    # Spoke -> hub lanes for accepted chemistries (no radius on this echelon).
    hub_geo = hub_sites[["id"]].merge(inst.hubs, on="id")
    lanes_sh = lanes_between(spoke_sites.merge(inst.spokes[["id", "lat", "lon"]], on="id"), hub_geo,
                             p.circuity, p.black_mass_cost_per_t_km, inst.lanes, None)
    pair_sh = pd.DataFrame({
        "spoke_id": spoke_sites["id"].to_numpy()[lanes_sh.origin],
        "hub_id": hub_sites["id"].to_numpy()[lanes_sh.destination],
        "km": lanes_sh.km, "cost_per_t": lanes_sh.cost_per_t, "quoted": lanes_sh.quoted,
    })
    accepts = hub_geo.melt(id_vars=["id"], value_vars=[f"accepts_{c}" for c in chems],
                           var_name="chemistry", value_name="accepts")
    accepts["chemistry"] = accepts["chemistry"].str.removeprefix("accepts_")
    accepts = accepts[accepts["accepts"].astype(bool)][["id", "chemistry"]].rename(columns={"id": "hub_id"})
    arcs_sh = pair_sh.merge(accepts, on="hub_id").merge(reach[["spoke_id", "chemistry", "period", "ub_t"]],
                                                       on=["spoke_id", "chemistry"])
    if len(periods) > 1:
        avail = hub_options[["site_id", "period"]].drop_duplicates().rename(columns={"site_id": "hub_id"})
        arcs_sh = arcs_sh.merge(avail, on=["hub_id", "period"])
    arcs_sh = arcs_sh.sort_values(["period", "spoke_id", "chemistry", "hub_id"], kind="stable").reset_index(drop=True)
    arcs_sh = arcs_sh[["spoke_id", "hub_id", "chemistry", "period", "km", "cost_per_t", "quoted", "ub_t"]]

    price = {c.name: c.merchant_price_per_t for c in inst.chemistries if c.merchant_price_per_t is not None}
    merchant = reach[reach["chemistry"].isin(list(price))][["spoke_id", "chemistry", "period", "ub_t"]].copy()
    merchant["price_per_t"] = merchant["chemistry"].map(price).astype(float)
    merchant = merchant.sort_values(["period", "spoke_id", "chemistry"], kind="stable").reset_index(drop=True)

    return Network(
        periods=periods, period_weight=weight, chems=chems, black_mass_yield=yields,
        crf=p.capital_recovery_factor,
        spoke_sites=spoke_sites, hub_sites=hub_sites,
        spoke_options=spoke_options, hub_options=hub_options,
        supply=sup.reset_index(drop=True), arcs_rs=arcs_rs, arcs_sh=arcs_sh,
        merchant=merchant[["spoke_id", "chemistry", "period", "price_per_t", "ub_t"]],
    )
