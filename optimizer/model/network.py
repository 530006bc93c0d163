"""Sparse index sets and coefficients of the model, computed from an instance with numpy/pandas.

Nothing here imports Pyomo: the model builder only turns these tables into components.  Each
table row is one index of a Pyomo set, in the same order, so a solved column block maps back to
table rows by position (:meth:`Network.families` says which table each variable family is
indexed by).

Per tier (:data:`optimizer.tiers.TIERS`), a :class:`TierTables`:

``sites``
    every non-excluded site: ``id, status, existing_size, earliest_year, closure_cost, closable,
    max_capacity_t, cost_per_t`` (its variable processing cost: the site's own, else the tier's).
``options``
    (site, size, period) for every size a site may operate (``open_<tier>``); an existing site
    only at or above its installed size, charged the capex difference (the installed capex is
    sunk): ``capacity_t, capex, capex_charged, fixed_opex_per_yr, min_throughput_t, installed``.

Per leg (:data:`optimizer.tiers.LEGS`), ``arcs[leg]`` (``flow_<leg>_t``): (origin, destination,
chemistry, period) for every lane within the leg's radius (or quoted in lanes.csv) that can carry
the chemistry -- from regions that supply it, into sites that accept it -- with ``km``,
``cost_per_t``, ``quoted`` and ``ub_t``: the most the arc can carry (the supply, or the tier's
conversion of what can reach the origin site, capped by the origin's largest size).

``supply`` (``SUPPLY``): (region, chemistry, period) with positive supply (``supply_t``: every
channel's tonnes available); ``fixed_t``: the tonnes of channels without offers (captured
whatever the plan); ``captured_min_t``: the least the plan captures (``fixed_t`` plus every
take-back duty's least share); ``captured_max_t``: the most it can capture (``fixed_t`` plus
every ladder's best share of its channel's tonnes -- the big-M of every arc out of the region);
``required_t`` = collection rate x ``captured_min_t``.  Without channels, ``fixed_t =
captured_min_t = captured_max_t = supply_t``.

``channel_supply``: (region, channel, chemistry, period) with tonnes available and the offer
ladder deciding their capture (:func:`optimizer.channels.channel_supply`); ``offers``
(``offer_level``): one row per level of every ladder (:func:`optimizer.channels.offer_levels`)
with ``available_t``, the tonnes the ladder decides (summed over its regions).  ``damaged``:
(region, chemistry, period) where some channel has damaged packs (``damaged_share`` with a
surcharge), with ``fixed_t`` their damaged tonnes without offers; the arcs out of them on the
legs from the regions carry the damaged-packs family (:meth:`Network.damaged_arcs`).  ``merchant`` (``MERCHANT``): (site, chemistry, period) where a tier
selling at its gate makes a chemistry with a merchant price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import channels as channel_tables
from ..frames import concat_rows
from ..geo import lanes_between
from ..instance import Instance
from ..tiers import LEGS, REGION, TIERS, Tier
from ..validate import accepted_channels

SINGLE_PERIOD = "base"
ARC_COLUMNS = ["origin", "destination", "chemistry", "period", "km", "cost_per_t", "quoted", "ub_t"]
CHANNEL_SUPPLY_COLUMNS = channel_tables.SUPPLY_COLUMNS
OFFER_COLUMNS = [*channel_tables.LEVEL_COLUMNS, "available_t"]


@dataclass
class TierTables:
    """The sites and size options of one tier (see module docstring)."""

    sites: pd.DataFrame
    options: pd.DataFrame
    #: some size option has a processing cost of its own (``cost_per_t`` of the options differs
    #: from the site's): the model then splits each site's throughput by option
    option_costs: bool = False


@dataclass
class Network:
    """Index tables and coefficients for one instance (see module docstring)."""

    periods: list[str]
    period_weight: dict[str, float]  # multiplies a period's annual cost (1 for one period)
    chems: list[str]
    black_mass_yield: dict[str, float]
    crf: float
    collection_rate: float  # rho: share of the tonnes captured that must be collected
    tiers: dict[str, TierTables]
    supply: pd.DataFrame  # region_id, chemistry, period, supply_t, required_t
    arcs: dict[str, pd.DataFrame]  # per leg: ARC_COLUMNS
    merchant: pd.DataFrame  # site_id, chemistry, period, price_per_t, ub_t
    closable: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["site_id", "period"]))
    channel_supply: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANNEL_SUPPLY_COLUMNS))
    offers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OFFER_COLUMNS))
    #: channel acceptance (Gale's condition, :func:`acceptance_rows`): per leg from the regions
    #: into sites that take some channels only, ``rows`` (region_id, chemistry, period, union),
    #: ``arcs`` (the row's union, destination: sites whose channels lie in the union; matched to
    #: the arcs by key, so a sub-network keeps them) and ``channels`` (the row's union, channel:
    #: the channels in it)
    acceptance: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    #: (region_id, chemistry, period) where some channel has damaged packs, with ``fixed_t``: the
    #: damaged tonnes of channels without offers (captured whatever the plan)
    damaged: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["region_id", "chemistry", "period", "fixed_t"]))
    #: currency per t km damaged packs pay on top of a region leg's lane
    damaged_surcharge: float = 0.0

    @property
    def single_period(self) -> bool:
        """Whether the network has one period."""
        return len(self.periods) == 1

    def uncollectable(self) -> pd.DataFrame:
        """Supply rows with an ``uncollected_t`` variable (collection rate below 1)."""
        return self.supply[self.supply["supply_t"] > self.supply["required_t"]]

    def damaged_arcs(self, leg) -> pd.DataFrame:
        """The arcs of a leg from the regions that may carry damaged packs (``damaged_<leg>_t``):
        those out of a (region, chemistry, period) where some channel has them; none on other legs."""
        a = self.arcs[leg.name]
        if leg.origin != REGION or self.damaged.empty:
            return a.iloc[:0]
        keys = pd.MultiIndex.from_frame(self.damaged[["region_id", "chemistry", "period"]])
        return a[pd.MultiIndex.from_frame(a[["origin", "chemistry", "period"]]).isin(keys)]

    def families(self) -> dict[str, tuple[pd.DataFrame, list[str]]]:
        """Each variable family (by Pyomo name) with the table it is indexed by and its key
        columns, in the model's declaration order."""
        out: dict[str, tuple[pd.DataFrame, list[str]]] = {}
        for t in TIERS:
            out[t.open_var] = (self.tiers[t.name].options, ["site_id", "size", "period"])
        for leg in LEGS:
            out[leg.flow_var] = (self.arcs[leg.name], ["origin", "destination", "chemistry", "period"])
        for t in TIERS:
            tt = self.tiers[t.name]
            out[throughput_var(t)] = (tt.options if tt.option_costs else tt.options.iloc[:0], ["site_id", "size", "period"])
        out["merchant_t"] = (self.merchant, ["site_id", "chemistry", "period"])
        out["uncollected_t"] = (self.uncollectable(), ["region_id", "chemistry", "period"])
        out["closed_site"] = (self.closable, ["site_id", "period"])
        out["offer_level"] = (self.offers, ["ladder", "level"])
        for leg in LEGS:
            if leg.origin == REGION:
                out[damaged_var(leg)] = (self.damaged_arcs(leg), ["origin", "destination", "chemistry", "period"])
        return out

    def with_tables(self, **changes) -> Network:
        """A copy with some tables replaced (``tiers``/``arcs`` dicts are merged, not replaced)."""
        import dataclasses

        tiers = {**self.tiers, **changes.pop("tiers", {})}
        arcs = {**self.arcs, **changes.pop("arcs", {})}
        return dataclasses.replace(self, tiers=tiers, arcs=arcs, **changes)


def damaged_var(leg) -> str:
    """The variable family of the damaged packs among a region leg's flows (t/yr)."""
    return f"damaged_{leg.name}_t"


def throughput_var(t: Tier) -> str:
    """The variable family splitting a site's throughput by size option (tiers with option costs)."""
    return f"throughput_{t.name}_t"


def site_options(t: Tier, inst: Instance, periods: list[str]) -> TierTables:
    """Open-able sites of a tier with their size options; existing sites only at or above the
    installed size, charged the capex difference."""
    sites, sizes = getattr(inst, t.sites), getattr(inst, t.options)
    cols = ["id", "status", "existing_size", "earliest_year", "closure_cost", "processing_cost_per_t"]
    open_sites = sites[sites["status"] != "excluded"][cols].reset_index(drop=True)
    open_sites["closable"] = (open_sites["status"] == "existing") & open_sites["closure_cost"].notna()
    default_cost = float(getattr(inst.params, t.cost_param))
    open_sites["cost_per_t"] = open_sites["processing_cost_per_t"].fillna(default_cost).astype(float)
    sizes = sizes.rename(columns={"processing_cost_per_t": "option_cost_per_t"})
    opts = sizes.merge(open_sites, left_on="site_id", right_on="id", how="inner", validate="many_to_one")
    own = opts["option_cost_per_t"] if "option_cost_per_t" in opts.columns else pd.Series(np.nan, index=opts.index)
    option_costs = bool(own.notna().any())
    opts["cost_per_t"] = own.fillna(opts["cost_per_t"]).astype(float)  # the option's, else the site's, else the tier's
    installed = opts[(opts["status"] == "existing") & (opts["size"] == opts["existing_size"])]
    inst_cap = dict(zip(installed["site_id"], installed["capacity_t"], strict=True))
    inst_capex = dict(zip(installed["site_id"], installed["capex"], strict=True))
    is_existing = opts["status"] == "existing"
    opts = opts[~is_existing | (opts["capacity_t"] >= opts["site_id"].map(inst_cap))].copy()
    is_existing = (opts["status"] == "existing").to_numpy()
    opts["installed"] = is_existing & (opts["size"] == opts["existing_size"]).to_numpy()
    charged = opts["capex"].to_numpy(dtype=float).copy()
    charged[is_existing] = np.maximum(0.0, charged[is_existing] - opts.loc[is_existing, "site_id"].map(inst_capex).to_numpy(dtype=float))
    opts["capex_charged"] = charged
    if "min_throughput_t" not in opts.columns:
        opts["min_throughput_t"] = 0.0
    opts["min_throughput_t"] = opts["min_throughput_t"].fillna(0.0).astype(float)
    open_sites["max_capacity_t"] = open_sites["id"].map(opts.groupby("site_id", sort=False)["capacity_t"].max()).fillna(0.0)
    keep = ["site_id", "size", "capacity_t", "capex", "capex_charged", "fixed_opex_per_yr", "min_throughput_t", "installed", "cost_per_t"]
    per = _by_period(opts[keep].reset_index(drop=True), periods)
    if len(periods) > 1:
        earliest = per["site_id"].map(dict(zip(open_sites["id"], open_sites["earliest_year"], strict=True)))
        per = per[earliest.isna() | (per["period"].astype(int) >= earliest)].reset_index(drop=True)
    if t.accepts:
        acc = sites.set_index("id")
        for c in inst.chem_names:
            open_sites[f"accepts_{c}"] = open_sites["id"].map(acc[f"accepts_{c}"]).astype(bool)
    if "channels" in sites.columns:  # the channels a site takes in from the regions; () = every channel
        listed = dict(zip(sites["id"], sites["channels"].fillna("").astype(str), strict=True))
        open_sites["channels"] = [accepted_channels(listed[i]) for i in open_sites["id"]]
    return TierTables(open_sites, per, option_costs)


def _by_period(df: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Repeat ``df`` once per period (period-major), adding a ``period`` column."""
    return concat_rows(df.assign(period=p) for p in periods)


def _supply(inst: Instance, cs: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Supply rows with the tonnes captured whatever the plan and the least the plan captures."""
    sup = channel_tables.supply_by_period(inst).reset_index(drop=True)
    keys = ["region_id", "chemistry", "period"]
    free = cs[cs["ladder"] == ""].groupby(keys)["available_t"].sum()
    least = levels.groupby("ladder")["capture_share"].min().where(levels.groupby("ladder")["forced"].any(), 0.0)
    duty = cs[cs["ladder"] != ""].assign(t=lambda d: d["available_t"] * d["ladder"].map(least).fillna(0.0).to_numpy(float))
    duty = duty.groupby(keys)["t"].sum()
    most = _capturable(cs, levels).groupby(keys)["most_t"].sum()
    idx = pd.MultiIndex.from_frame(sup[keys])
    if not inst.has_channels:  # exactly the model without channels
        sup["fixed_t"] = sup["supply_t"]
        sup["captured_max_t"] = sup["supply_t"]
    else:
        sup["fixed_t"] = free.reindex(idx, fill_value=0.0).to_numpy(float)
        # what the best offers can win: the arcs' big-M (tighter than supply_t when shares < 1)
        sup["captured_max_t"] = np.minimum(most.reindex(idx, fill_value=0.0).to_numpy(float), sup["supply_t"].to_numpy(float))
    sup["captured_min_t"] = sup["fixed_t"] + duty.reindex(idx, fill_value=0.0).to_numpy(float)
    sup["required_t"] = sup["captured_min_t"] * inst.params.min_collection_rate
    return sup.reset_index(drop=True)


def _offers(cs: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """The offer levels with the tonnes their ladder decides, in ladder then price order."""
    avail = cs[cs["ladder"] != ""].groupby("ladder")["available_t"].sum()
    out = levels[levels["ladder"].isin(avail.index)].copy()
    out["available_t"] = out["ladder"].map(avail).to_numpy(float)
    return out.reset_index(drop=True)[OFFER_COLUMNS]


def _lanes(inst: Instance, leg, origins: pd.DataFrame, destinations: pd.DataFrame) -> pd.DataFrame:
    """(origin, destination, km, cost_per_t, quoted) of a leg's lanes within its radius."""
    p = inst.params
    radius = getattr(p, leg.radius_param) if leg.radius_param else None
    lanes = lanes_between(origins, destinations, p.circuity, leg.rate(p), inst.lanes, radius)
    return pd.DataFrame({"origin": origins["id"].to_numpy()[lanes.origin], "destination": destinations["id"].to_numpy()[lanes.destination],
                         "km": lanes.km, "cost_per_t": lanes.cost_per_t, "quoted": lanes.quoted})


def _geo(inst: Instance, t: Tier, tables: TierTables) -> pd.DataFrame:
    return tables.sites[["id"]].merge(getattr(inst, t.sites)[["id", "lat", "lon"]], on="id")


def build_network(inst: Instance) -> Network:
    """Compute every index table of the model for ``inst``."""
    p = inst.params
    if inst.periods is not None:
        periods = list(inst.periods.labels)
        weight = inst.periods.weights(p.discount_rate)
    else:
        periods, weight = [SINGLE_PERIOD], {SINGLE_PERIOD: 1.0}
    chems = list(inst.chem_names)
    yields = {c.name: c.black_mass_yield for c in inst.chemistries}
    tiers = {t.name: site_options(t, inst, periods) for t in TIERS}
    levels = channel_tables.offer_levels(inst, periods)
    cs = channel_tables.channel_supply(inst, levels)
    sup = _supply(inst, cs, levels)

    arcs: dict[str, pd.DataFrame] = {}
    acceptance: dict[str, dict[str, pd.DataFrame]] = {}
    reach: dict[str, pd.DataFrame] = {}  # tier -> what can reach each site: site_id, chemistry, period, ub_t (t it sends on)
    for leg in LEGS:
        dest_t = next(t for t in TIERS if t.name == leg.destination)
        dest = tiers[leg.destination]
        if leg.origin == REGION:
            pairs = _lanes(inst, leg, inst.regions.reset_index(drop=True), _geo(inst, dest_t, dest))
            a = pairs.merge(sup[["region_id", "chemistry", "period", "supply_t", "captured_max_t"]].rename(columns={"region_id": "origin"}),
                            on="origin", how="inner")
            a = a.merge(dest.sites[["id", "max_capacity_t"]], left_on="destination", right_on="id").drop(columns="id")
            a["ub_t"] = np.minimum(a["captured_max_t"], a["max_capacity_t"])
            if "channels" in dest.sites.columns and inst.has_channels:
                a = _accepted_arcs(a, dest.sites, cs, levels)
        else:
            org_t = next(t for t in TIERS if t.name == leg.origin)
            pairs = _lanes(inst, leg, _geo(inst, org_t, tiers[leg.origin]), _geo(inst, dest_t, dest))
            origin_reach = reach.get(leg.origin, pd.DataFrame(columns=["site_id", "chemistry", "period", "ub_t"]))
            a = pairs.merge(origin_reach.rename(columns={"site_id": "origin"}), on="origin")
        if dest_t.accepts:
            acc = dest.sites.melt(id_vars=["id"], value_vars=[f"accepts_{c}" for c in chems], var_name="chemistry", value_name="ok")
            acc["chemistry"] = acc["chemistry"].str.removeprefix("accepts_")
            a = a.merge(acc[acc["ok"].astype(bool)][["id", "chemistry"]].rename(columns={"id": "destination"}),
                        on=["destination", "chemistry"])
        if len(periods) > 1:  # a site carries flow only in periods it may operate
            avail = dest.options[["site_id", "period"]].drop_duplicates().rename(columns={"site_id": "destination"})
            a = a.merge(avail, on=["destination", "period"])
        keys = ["period", "origin", "chemistry", "destination"]
        a = a.sort_values(keys, kind="stable").reset_index(drop=True)
        arcs[leg.name] = a[ARC_COLUMNS]
        if leg.origin == REGION and "channels" in dest.sites.columns and inst.has_channels:
            acceptance[leg.name] = acceptance_rows(arcs[leg.name], dest.sites, cs)
        if dest_t.makes is not None:  # what the tier's sites can send on: capped by their largest size
            # (every leg into a tier comes before the legs out of it, so the sum over them is complete)
            into = [arcs[other.name] for other in LEGS if other.destination == leg.destination and other.name in arcs]
            both = concat_rows(into, ARC_COLUMNS)
            r = both.groupby(["destination", "chemistry", "period"], sort=False)["ub_t"].sum().rename("reach_t").reset_index()
            r = r.rename(columns={"destination": "site_id"}).merge(dest.sites[["id", "max_capacity_t"]], left_on="site_id", right_on="id")
            factor = r["chemistry"].map(yields) if dest_t.converts else 1.0
            r["ub_t"] = np.minimum(r["reach_t"], r["max_capacity_t"]) * factor
            reach[leg.destination] = r[["site_id", "chemistry", "period", "ub_t"]]

    price = {c.name: c.merchant_price_per_t for c in inst.chemistries if c.merchant_price_per_t is not None}
    merchant = concat_rows([reach[t.name] for t in TIERS if t.merchant and t.name in reach], ["site_id", "chemistry", "period", "ub_t"])
    merchant = merchant[merchant["chemistry"].isin(list(price))].copy()
    merchant["price_per_t"] = merchant["chemistry"].map(price).astype(float)
    merchant = merchant.sort_values(["period", "site_id", "chemistry"], kind="stable").reset_index(drop=True)

    damaged = cs[cs["damaged_share"] > 0]
    keys = ["region_id", "chemistry", "period"]
    damaged = damaged[keys].drop_duplicates().merge(
        damaged[damaged["ladder"] == ""].assign(fixed_t=lambda d: d["available_t"] * d["damaged_share"])
        .groupby(keys, as_index=False)["fixed_t"].sum(), on=keys, how="left").fillna({"fixed_t": 0.0}).reset_index(drop=True)

    return Network(
        damaged=damaged, damaged_surcharge=float(p.damaged_pack_surcharge_per_t_km or 0.0),
        periods=periods, period_weight=weight, chems=chems, black_mass_yield=yields, crf=p.capital_recovery_factor,
        collection_rate=p.min_collection_rate,
        tiers=tiers, supply=sup, arcs=arcs, merchant=merchant[["site_id", "chemistry", "period", "price_per_t", "ub_t"]],
        closable=closable_periods(tiers, periods), channel_supply=cs, offers=_offers(cs, levels), acceptance=acceptance,
    )


def _capturable(cs: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """(region, chemistry, period, channel) with the most the plan can capture there (t): all of a
    free channel, the best level's share of a laddered one."""
    most = levels.groupby("ladder")["capture_share"].max()
    share = np.where(cs["ladder"] == "", 1.0, cs["ladder"].map(most).fillna(0.0).to_numpy(float))
    out = cs[["region_id", "chemistry", "period", "channel"]].assign(most_t=cs["available_t"].to_numpy(float) * share)
    return out[out["most_t"] > 0]


def _accepted_arcs(a: pd.DataFrame, sites: pd.DataFrame, cs: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Arcs into sites taking some channels only: dropped where the region holds none of them,
    else bounded by what those channels can capture there."""
    restricted = sites[sites["channels"].map(len) > 0]
    if restricted.empty:
        return a
    pairs = restricted[["id", "channels"]].explode("channels").rename(columns={"id": "destination", "channels": "channel"})
    cap = _capturable(cs, levels).rename(columns={"region_id": "origin"})
    took = pairs.merge(cap, on="channel").groupby(["origin", "destination", "chemistry", "period"])["most_t"].sum()
    keys = ["origin", "destination", "chemistry", "period"]
    is_r = a["destination"].isin(restricted["id"]).to_numpy()
    most = pd.MultiIndex.from_frame(a[keys]).map(took.to_dict().get).to_numpy(dtype=float, na_value=0.0)
    a = a.assign(ub_t=np.where(is_r, np.minimum(a["ub_t"].to_numpy(float), most), a["ub_t"].to_numpy(float)))
    return a[~is_r | (most > 0)].reset_index(drop=True)


def acceptance_rows(arcs: pd.DataFrame, sites: pd.DataFrame, cs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    r"""Gale's condition for splitting a region's flows into sites among its channels.

    Region :math:`r` sends :math:`x_{r,c}` to sites :math:`c` that take the channels
    :math:`H_c` only; its channels capture :math:`K_{r,h}`.  The flows can be drawn from the
    channels each site takes exactly when, for every set :math:`S` of sites,
    :math:`\sum_{c \in S} x_{r,c} \le \sum_{h \in \cup_{c \in S} H_c} K_{r,h}` (Gale's
    supply-demand theorem on the bipartite graph channel -> site).  For a given union :math:`U`
    the tightest set holds every site with :math:`H_c \subseteq U`, so one row per union of the
    accepted sets suffices (the union of every channel is the supply balance itself).  Sites
    taking every channel count with the channels the region holds.
    """
    held = cs.groupby(["region_id", "chemistry", "period"], sort=False)["channel"].agg(lambda c: frozenset(c)).to_dict()
    took = dict(zip(sites["id"], sites["channels"], strict=True))
    rows, members, chans = [], [], []
    keys = ["origin", "chemistry", "period"]
    for (r, chem, per), g in arcs.reset_index(drop=True).groupby(keys, sort=False):
        every = held.get((r, chem, per), frozenset())
        dest = dict(zip(g.index, g["destination"], strict=True))
        sets = {i: (frozenset(took[d]) & every if took[d] else every) for i, d in dest.items()}
        if all(v == every for v in sets.values()):
            continue  # every site here takes every channel the region holds: the supply balance says it all
        unions: set[frozenset] = set()
        for v in set(sets.values()):
            unions |= {v} | {v | u for u in unions}
        for u in sorted(unions - {every}, key=lambda x: sorted(x)):
            k = len(rows)
            rows.append((r, chem, per, k))
            members += [(k, dest[i]) for i, v in sets.items() if v <= u]
            chans += [(k, h) for h in sorted(u)]
    return {"rows": pd.DataFrame(rows, columns=["region_id", "chemistry", "period", "union"]),
            "arcs": pd.DataFrame(members, columns=["union", "destination"]),
            "channels": pd.DataFrame(chans, columns=["union", "channel"])}


def closable_periods(tiers: dict[str, TierTables], periods: list[str]) -> pd.DataFrame:
    """(site, period) pairs where a closable existing site may be closed: every period but the
    first of a horizon (a site closes for good), or the one period of a one-period instance."""
    ids = [i for t in TIERS for i in tiers[t.name].sites.loc[tiers[t.name].sites["closable"].astype(bool), "id"]]
    when = periods if len(periods) == 1 else periods[1:]
    return pd.DataFrame([(i, p) for i in ids for p in when], columns=["site_id", "period"])
