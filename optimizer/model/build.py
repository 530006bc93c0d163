r"""The spokehub MILP in Pyomo: one ``add_<family>`` per constraint family, written once over
the network's tiers and legs (:mod:`optimizer.tiers`).

Notation (sets are the tables of :mod:`optimizer.model.network`; :math:`t` a period; :math:`T` a
tier -- spokes, hubs --, :math:`\ell` a leg -- region->spoke, spoke->hub):

* :math:`y^T_{i,k,t} \in \{0,1\}` -- site :math:`i` of tier :math:`T` operates size :math:`k`
  (``open_<tier>``);
* :math:`x^\ell_{a,c,t} \ge 0` -- t/yr of chemistry :math:`c` on arc :math:`a = (o, d)` of leg
  :math:`\ell` (``flow_<leg>_t``: packs region->spoke, black mass spoke->hub);
* :math:`w_{i,c,t} \ge 0` -- t black mass/yr sold at the gate of site :math:`i` (``merchant_t``);
* :math:`u_{r,c,t} \ge 0` -- t packs/yr left uncollected (``uncollected_t``);
* :math:`\text{closed}_{i,t} \in \{0,1\}` -- an existing site closed (``closed_site``).

:math:`\text{in}_{i,c,t} = \sum_{\ell \to T} \sum_{a \to i} x^\ell_{a,c,t}` is what site :math:`i`
takes in and :math:`\text{out}_{i,c,t} = \sum_{\ell \leftarrow T} \sum_{a \leftarrow i} x^\ell_{a,c,t}`
what it sends on.  Every family carries its formula in its docstring; the README's formulation
section is the same text.  Index sets hold only arcs that exist (within the leg's radius or
quoted, accepted chemistry), so no row or column is created for a pair that cannot carry flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from ..frames import concat_rows
from ..instance import Instance
from ..tiers import LEGS, REGION, TIERS, Tier, legs_into, legs_out_of, processing_component
from .joins import index_tuples, pairs, positions, size_ranks
from .linear import Terms, add_linear_expression, add_rows, var_array
from .network import Network, build_network, damaged_var, throughput_var


@dataclass
class ModelOptions:
    """Switches that change the model (not the solver)."""

    single_sourcing: bool | None = None  # None: take the instance's setting
    elastic: bool = False  # diagnosis mode: minimise unmet required collection instead of cost
    linking: str = "per-arc"  # "per-arc" (strong) | "aggregated" (capacity rows only)
    cover_cuts: bool = True  # open capacity >= required collection at each tier that all flow passes


@dataclass
class BuiltModel:
    """A Pyomo model with the plain index tables its components were built from."""

    model: pyo.ConcreteModel
    net: Network
    instance: Instance
    options: ModelOptions


def build_model(inst: Instance, options: ModelOptions | None = None, net: Network | None = None) -> BuiltModel:
    """Build the MILP for ``inst``; every family in the order the README lists them."""
    options = options or ModelOptions()
    if options.linking not in ("per-arc", "aggregated"):
        raise ValueError(f"linking must be 'per-arc' or 'aggregated', got {options.linking!r}")
    net = net or build_network(inst)
    with PauseGC():
        m = pyo.ConcreteModel(name=f"spokehub[{inst.name}]")
        add_variables(m, net, options)
        add_supply_balance(m, net, options)
        add_collection_rate(m, inst, net)
        add_offer_choice(m, net)
        for leg in LEGS:
            add_channel_acceptance(m, net, leg)
        add_damaged_packs(m, net)
        for t in TIERS:
            add_one_size(m, net, t)
            add_capacity(m, net, t)
            add_min_throughput(m, net, t)
            add_option_throughput(m, net, t)
            if t.makes is not None:
                add_mass_balance(m, net, t)
        if options.linking == "per-arc":
            for leg in LEGS:
                add_link(m, net, leg)
        if options.cover_cuts and not options.elastic:
            for t in TIERS:
                if t.cover:
                    add_capacity_cover(m, inst, net, t)
        if _single_sourcing(inst, options):
            add_single_sourcing(m, net)
        add_merchant_cap(m, inst, net)
        for t in TIERS:
            add_site_counts(m, inst, net, t)
            if inst.forced_open:
                add_forced_open(m, inst, net, t)
        if net.single_period:
            add_capex_budget(m, inst, net)
        else:
            for t in TIERS:
                add_build_schedule(m, net, t)
            add_closed_for_good(m, net)
            add_capex_budgets(m, inst, net)
        add_objective(m, inst, net, options)
    return BuiltModel(m, net, inst, options)


def _single_sourcing(inst: Instance, options: ModelOptions) -> bool:
    return inst.params.single_sourcing if options.single_sourcing is None else options.single_sourcing


def _var(m: pyo.ConcreteModel, name: str) -> pyo.Var:
    return m.component(name)


# --- variables -----------------------------------------------------------------------------------


def add_variables(m: pyo.ConcreteModel, net: Network, options: ModelOptions) -> None:
    """Declare every variable family over its sparse table (:meth:`Network.families`), with
    upper bounds from real capacities and supplies (the big-M of the linking rows)."""
    bounds = {leg.flow_var: net.arcs[leg.name]["ub_t"] for leg in LEGS}
    bounds.update({damaged_var(leg): net.damaged_arcs(leg)["ub_t"] for leg in LEGS if leg.origin == REGION})
    bounds["merchant_t"] = net.merchant["ub_t"]
    bounds.update({throughput_var(t): net.tiers[t.name].options["capacity_t"] for t in TIERS if net.tiers[t.name].option_costs})
    unc = net.uncollectable()
    bounds["uncollected_t"] = np.maximum(unc["captured_max_t"] - unc["required_t"], 0.0)
    docs = {**{t.open_var: f"{t.name} i operates size k in period t" for t in TIERS},
            **{leg.flow_var: f"t/yr of {leg.material} on {leg.origin}->{leg.destination} arcs" for leg in LEGS},
            "merchant_t": "t black mass/yr sold at a site's gate", "uncollected_t": "t packs/yr not collected",
            "closed_site": "existing site i is closed (from period t on)",
            "offer_level": "level l of offer ladder L is the offer made",
            **{damaged_var(leg): f"t/yr of damaged packs among the {leg.origin}->{leg.destination} flows" for leg in LEGS},
            **{throughput_var(t): f"t/yr a {t.name} takes in while operating size k" for t in TIERS}}
    set_names = {**{t.open_var: f"{t.name.upper()}_SIZES" for t in TIERS}, **{leg.flow_var: f"ARCS_{leg.name.upper()}" for leg in LEGS},
                 "merchant_t": "MERCHANT", "uncollected_t": "UNCOLLECTABLE", "closed_site": "CLOSABLE",
                 "offer_level": "OFFER_LEVELS", **{damaged_var(leg): f"DAMAGED_{leg.name.upper()}" for leg in LEGS},
                 **{throughput_var(t): f"{t.name.upper()}_THROUGHPUT" for t in TIERS}}
    for name, (table, keys) in net.families().items():
        if name == "closed_site" and not len(table) and net.single_period:
            continue  # one period without closable sites: no closure variables at all
        if name == "offer_level" and not len(table):
            continue  # no offer ladders: every tonne is captured, no offer variables
        if name.startswith(("throughput_", "damaged_")) and not len(table):
            continue  # no size option with a cost of its own / no damaged packs: no such family
        index = pyo.Set(initialize=index_tuples(table, keys), ordered=True, dimen=len(keys))
        m.add_component(set_names[name], index)
        binary = name.startswith("open_") or name in ("closed_site", "offer_level")
        var = pyo.Var(index, within=pyo.Binary if binary else pyo.NonNegativeReals, doc=docs[name])
        m.add_component(name, var)
        if name in bounds:
            for v, u in zip(var_array(var).tolist(), bounds[name].tolist(), strict=True):
                v.setub(u)
    if options.elastic:
        m.SUPPLY = pyo.Set(initialize=index_tuples(net.supply, ["region_id", "chemistry", "period"]), ordered=True, dimen=3)
        m.shortfall_t = pyo.Var(m.SUPPLY, within=pyo.NonNegativeReals,
                                doc="t packs/yr of required collection not met (diagnosis only)")


# --- constraints ---------------------------------------------------------------------------------


def _inflow_terms(m, net: Network, t: Tier, rows: pd.DataFrame, keys: list[str], coef=None) -> list[Terms]:
    """Terms of what the sites of tier ``t`` take in, into ``rows`` matched on ``keys``
    (``site_id`` matched to the arcs' destination)."""
    parts = []
    for leg in legs_into(t.name):
        arcs = net.arcs[leg.name].rename(columns={"destination": "site_id"})
        c = 1.0 if coef is None else coef(arcs)
        parts.append(Terms.of(positions(arcs, rows, keys), _var(m, leg.flow_var), coef=c))
    return parts


def add_supply_balance(m: pyo.ConcreteModel, net: Network, options: ModelOptions) -> None:
    r"""Every tonne captured is collected by some site or left uncollected.

    .. math:: \sum_{\ell \text{ from regions}} \sum_{d} x^\ell_{(r,d),c,t} + u_{r,c,t}
       = F_{r,c,t} + \sum_{h} A_{r,h,c,t} \sum_{l \in L(r,h,c,t)} s_l\, z_l
       \qquad u_{r,c,t} \le (1-\rho)\,\text{supply}_{r,c,t} \ \text{(no offers)}

    with :math:`F` the tonnes of channels without offers (all supply, without channels),
    :math:`A_{r,h,c,t}` the tonnes channel :math:`h` holds, :math:`z_l` the offer levels of its
    ladder :math:`L` and :math:`s_l` their capture shares, and :math:`\rho` the required collection
    rate (without offers the bound on :math:`u` is the collection requirement; when
    :math:`\rho = 1` there is no :math:`u`; with offers :func:`add_collection_rate` states it).
    """
    sup = net.supply
    keys = ["region_id", "chemistry", "period"]
    parts = [Terms.of(positions(net.arcs[leg.name].rename(columns={"origin": "region_id"}), sup, keys), _var(m, leg.flow_var))
             for leg in LEGS if leg.origin == REGION]
    unc = net.uncollectable()
    if len(unc):
        parts.append(Terms.of(positions(unc, sup, keys), m.uncollected_t))
    if options.elastic:
        parts.append(Terms.of(np.arange(len(sup)), m.shortfall_t))
    parts += _captured_terms(m, net, sup, sign=-1.0)
    add_rows(m, "supply_balance", index_tuples(sup, keys), parts, "==", sup["fixed_t"].to_numpy(),
             doc="supply collected + uncollected = supply captured")


def _captured_terms(m, net: Network, rows: pd.DataFrame, sign: float) -> list[Terms]:
    """``sign * A * s_l * z_l`` for every offer level deciding tonnes of ``rows``' (region,
    chemistry, period): what the chosen offers capture there."""
    if not hasattr(m, "offer_level"):
        return []
    cs = net.channel_supply[net.channel_supply["ladder"] != ""]
    terms = cs[["region_id", "chemistry", "period", "ladder", "available_t"]].merge(
        net.offers[["ladder", "level", "capture_share"]].reset_index().rename(columns={"index": "pos"}), on="ladder")
    keys = ["region_id", "chemistry", "period"]
    terms = terms.merge(rows[keys].drop_duplicates(), on=keys)  # only the rows asked for
    coef = sign * terms["available_t"].to_numpy(float) * terms["capture_share"].to_numpy(float)
    return [Terms.of(positions(terms, rows, keys), m.offer_level, pos=terms["pos"].to_numpy(), coef=coef)]


def add_collection_rate(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""With offers: the collection rate applies to the tonnes captured (a tonne bought is treated).

    .. math:: u_{r,c,t} - (1-\rho) \sum_h A_{r,h,c,t} \sum_l s_l\, z_l \le (1-\rho)\, F_{r,c,t}

    on every (region, chemistry, period) some offer decides (elsewhere the bound of :math:`u`
    states it).
    """
    rho = inst.params.min_collection_rate
    if not hasattr(m, "offer_level") or rho <= 0:
        return
    keys = ["region_id", "chemistry", "period"]
    decided = net.channel_supply.loc[net.channel_supply["ladder"] != "", keys].drop_duplicates()
    unc = net.uncollectable().reset_index(drop=True)
    rows = unc.merge(decided, on=keys).reset_index(drop=True)
    if rows.empty:
        return
    parts = [Terms.of(np.arange(len(rows)), m.uncollected_t, pos=positions(rows, unc, keys))]
    parts += [Terms.of(t.row, t.var, pos=t.pos, coef=t.coef * (1.0 - rho)) for t in _captured_terms(m, net, rows, sign=-1.0)]
    add_rows(m, "collection_rate", index_tuples(rows, keys), parts, "<=", (1.0 - rho) * rows["fixed_t"].to_numpy(float),
             doc="uncollected <= (1 - rate) x captured")


def add_offer_choice(m: pyo.ConcreteModel, net: Network) -> None:
    r"""One offer per ladder, or none (nothing captured); exactly one under a take-back duty.

    .. math:: \sum_{l \in L} z_l \le 1, \qquad \sum_{l \in L} z_l = 1 \ \text{(channels with a min\_capture\_share)}

    Levels capturing less than the duty are not in the ladder (:mod:`optimizer.channels`).
    """
    if not hasattr(m, "offer_level"):
        return
    for forced, sense, name in ((False, "<=", "offer_choice"), (True, "==", "offer_duty")):
        mine = np.flatnonzero(net.offers["forced"].to_numpy(bool) == forced)
        if not len(mine):
            continue
        off = net.offers.iloc[mine]
        ladders = off[["ladder"]].drop_duplicates().reset_index(drop=True)
        add_rows(m, name, index_tuples(ladders, ["ladder"]), [Terms.of(positions(off, ladders, ["ladder"]), m.offer_level, pos=mine)],
                 sense, 1.0, doc="one offer level per ladder")


def add_channel_acceptance(m: pyo.ConcreteModel, net: Network, leg) -> None:
    r"""A site taking some channels only gets no more than those channels capture (Gale's condition).

    .. math:: \sum_{d:\, H_d \subseteq U} x_{(r,d),c,t}
       - \sum_{h \in U} A_{r,h,c,t} \sum_{l \in L(r,h,c,t)} s_l\, z_l \;\le\; \sum_{h \in U} F_{r,h,c,t}

    for every union :math:`U` of the channel sets :math:`H_d` the sites region :math:`r` reaches
    take (:func:`optimizer.model.network.acceptance_rows`), with :math:`F` the tonnes of
    channels without offers; no rows where every site takes every channel.

    With damaged packs (:func:`add_damaged_packs`) the condition holds for the damaged and the
    sound packs apart -- :math:`\tilde x` in place of :math:`x` and :math:`\delta_h A`, :math:`\delta_h F`
    in place of :math:`A`, :math:`F`; :math:`x - \tilde x` and :math:`(1-\delta_h)` -- so that each
    kind can be drawn from the channels a site takes (the sum of the two is the row above).
    """
    acc = net.acceptance.get(leg.name)
    if acc is None or acc["rows"].empty:
        return
    keys = ["region_id", "chemistry", "period"]
    damaged = net.damaged_arcs(leg)
    has = pd.MultiIndex.from_frame(acc["rows"][keys]).isin(pd.MultiIndex.from_frame(net.damaged[keys])) if len(damaged) \
        else np.zeros(len(acc["rows"]), dtype=bool)
    plain, split = acc["rows"][~has], acc["rows"][has]
    _acceptance_rows(m, net, leg, acc, plain, "", None)
    if len(split):
        _acceptance_rows(m, net, leg, acc, split, "_damaged", +1.0)
        _acceptance_rows(m, net, leg, acc, split, "_sound", -1.0)


def _acceptance_rows(m, net: Network, leg, acc: dict, rows: pd.DataFrame, suffix: str, damaged_sign: float | None) -> None:
    """Gale's rows ``rows`` of one kind: all packs (``damaged_sign`` None), the damaged (+1)
    or the sound ones (-1: x minus the damaged), each against its channels' share of the capture."""
    if rows.empty:
        return
    keys = ["region_id", "chemistry", "period"]
    rows = rows.reset_index(drop=True).reset_index().rename(columns={"index": "row"})
    members = acc["arcs"].merge(rows, on="union").rename(columns={"region_id": "origin"})
    arcs = net.arcs[leg.name]
    mem, arc = pairs(members, arcs, ["origin", "destination", "chemistry", "period"])  # arcs a sub-network dropped: none
    row = members["row"].to_numpy()[mem]
    held = acc["channels"].merge(rows, on="union").merge(net.channel_supply, on=[*keys, "channel"])

    def share(d: pd.DataFrame) -> np.ndarray:
        delta = d["damaged_share"].to_numpy(float)
        return np.ones(len(d)) if damaged_sign is None else (delta if damaged_sign > 0 else 1.0 - delta)

    parts = [] if damaged_sign is not None and damaged_sign > 0 else [Terms.of(row, _var(m, leg.flow_var), pos=arc)]
    if damaged_sign is not None:
        k, d_pos = pairs(arcs.iloc[arc], net.damaged_arcs(leg), ["origin", "destination", "chemistry", "period"])
        parts.append(Terms.of(row[k], _var(m, damaged_var(leg)), pos=d_pos, coef=damaged_sign))
    fixed = held[held["ladder"] == ""]
    rhs = np.bincount(fixed["row"].to_numpy(int), weights=fixed["available_t"].to_numpy(float) * share(fixed), minlength=len(rows))
    if hasattr(m, "offer_level"):
        offered = held[held["ladder"] != ""].merge(
            net.offers[["ladder", "capture_share"]].reset_index().rename(columns={"index": "pos"}), on="ladder")
        parts.append(Terms.of(offered["row"].to_numpy(), m.offer_level, pos=offered["pos"].to_numpy(),
                              coef=-offered["available_t"].to_numpy(float) * offered["capture_share"].to_numpy(float) * share(offered)))
    add_rows(m, f"channel_acceptance{suffix}_{leg.name}", index_tuples(rows, [*keys, "union"]), parts, "<=", rhs,
             doc="what sites taking some channels only get <= what those channels capture")


def add_damaged_packs(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Damaged packs: a share :math:`\delta_h` of what each channel captures travels as
    dangerous goods, at a surcharge per t km on its haul from the region (in the objective).

    .. math:: \tilde x^\ell_{a,c,t} \le x^\ell_{a,c,t} \qquad
       D_{r,c,t} - u_{r,c,t} \;\le\; \sum_{\ell \text{ from regions}} \sum_d \tilde x^\ell_{(r,d),c,t} \;\le\; D_{r,c,t},
       \quad D_{r,c,t} = \sum_h \delta_h \Big(F_{r,h,c,t} + A_{r,h,c,t} \sum_{l} s_l z_l\Big)

    with :math:`\tilde x` the damaged packs among an arc's flow (``damaged_<leg>_t``) and :math:`D` the
    damaged tonnes captured: they are shipped, or left uncollected among the :math:`u` tonnes
    (without :math:`u` the two bounds make it an equality).
    """
    if net.damaged.empty:
        return
    keys = ["region_id", "chemistry", "period"]
    rows = net.damaged.merge(net.supply[keys], on=keys).reset_index(drop=True)  # a sub-network's periods only
    parts = []
    for leg in LEGS:
        if leg.origin != REGION:
            continue
        dam = net.damaged_arcs(leg)
        if dam.empty:
            continue
        add_rows(m, f"damaged_within_{leg.name}", index_tuples(dam, ["origin", "destination", "chemistry", "period"]),
                 [Terms.of(np.arange(len(dam)), _var(m, damaged_var(leg))),
                  Terms.of(np.arange(len(dam)), _var(m, leg.flow_var), pos=positions(dam, net.arcs[leg.name], ["origin", "destination", "chemistry", "period"]), coef=-1.0)],
                 "<=", 0.0, doc="damaged packs are part of an arc's flow")
        parts.append(Terms.of(positions(dam.rename(columns={"origin": "region_id"}), rows, keys), _var(m, damaged_var(leg))))
    if hasattr(m, "offer_level"):
        cs = net.channel_supply[(net.channel_supply["ladder"] != "") & (net.channel_supply["damaged_share"] > 0)]
        terms = cs.merge(rows[keys], on=keys).merge(net.offers[["ladder", "capture_share"]].reset_index().rename(columns={"index": "pos"}), on="ladder")
        parts.append(Terms.of(positions(terms, rows, keys), m.offer_level, pos=terms["pos"].to_numpy(),
                              coef=-terms["available_t"].to_numpy(float) * terms["capture_share"].to_numpy(float) * terms["damaged_share"].to_numpy(float)))
    fixed = rows["fixed_t"].to_numpy(float)
    add_rows(m, "damaged_shipped_max", index_tuples(rows, keys), parts, "<=", fixed, doc="damaged packs shipped <= damaged captured")
    unc = net.uncollectable()
    low = list(parts)
    if len(unc):
        both = rows.reset_index().merge(unc.reset_index(drop=True).reset_index().rename(columns={"index": "u"}), on=keys)
        low.append(Terms.of(both["index"].to_numpy(), m.uncollected_t, pos=both["u"].to_numpy()))
    add_rows(m, "damaged_shipped_min", index_tuples(rows, keys), low, ">=", fixed,
             doc="damaged packs shipped + uncollected >= damaged captured")


def _site_period_rows(opts: pd.DataFrame) -> pd.DataFrame:
    return opts[["site_id", "period"]].drop_duplicates().reset_index(drop=True)


def add_one_size(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""At most one size per site; existing sites stay open unless closed.

    .. math:: \sum_k y^T_{i,k,t} \le 1, \qquad \sum_k y^T_{i,k,t} + \text{closed}_{i,t} = 1
       \text{ for existing sites}

    (:math:`\text{closed}` exists only for existing sites with a closure cost: from the second
    period on in a horizon, in the one period of a one-period instance; it is 0 otherwise).
    """
    tt = net.tiers[t.name]
    opts, var = tt.options, _var(m, t.open_var)
    rows = _site_period_rows(opts)
    pos = positions(opts, rows, ["site_id", "period"])
    status = rows["site_id"].map(dict(zip(tt.sites["id"], tt.sites["status"], strict=True)))
    is_existing = (status == "existing").to_numpy()
    for existing, name, sense, doc in ((False, f"{t.name}_one_size", "<=", f"at most one size per {t.name}"),
                                       (True, f"{t.name}_existing_open", "==",
                                        f"existing {t.plural} operate one size at least as large as installed, unless closed")):
        keep = np.flatnonzero(is_existing == existing)
        if not len(keep):
            continue
        remap = -np.ones(len(rows), dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        sel = remap[pos] >= 0
        these = rows.iloc[keep].reset_index(drop=True)
        parts = [Terms.of(remap[pos][sel], var, pos=np.flatnonzero(sel))]
        if existing and len(net.closable):
            mine = net.closable.reset_index()
            mine = mine[mine["site_id"].isin(set(these["site_id"]))]
            if len(mine):
                parts.append(Terms.of(positions(mine, these, ["site_id", "period"]), m.closed_site, pos=mine["index"].to_numpy()))
        add_rows(m, name, index_tuples(these, ["site_id", "period"]), parts, sense, 1.0, doc=doc)


def add_capacity(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""What a site takes in, within the size it operates.

    .. math:: \sum_c \text{in}_{i,c,t} \le \sum_k \text{cap}_{i,k}\, y^T_{i,k,t}
    """
    opts = net.tiers[t.name].options
    rows = _site_period_rows(opts)
    sizes = Terms.of(positions(opts, rows, ["site_id", "period"]), _var(m, t.open_var), coef=-opts["capacity_t"].to_numpy(dtype=float))
    add_rows(m, f"{t.name}_capacity", index_tuples(rows, ["site_id", "period"]),
             _inflow_terms(m, net, t, rows, ["site_id", "period"]) + [sizes], "<=", 0.0,
             doc=f"{t.unit} in <= capacity of the size operated")


def add_min_throughput(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""A site that operates runs at least its size's minimum throughput (where one is given).

    .. math:: \sum_c \text{in}_{i,c,t} \ge \sum_k \text{min}_{i,k}\, y^T_{i,k,t}
    """
    opts = net.tiers[t.name].options
    has_min = opts["min_throughput_t"].to_numpy(dtype=float) > 0
    if not has_min.any():
        return
    rows = opts.loc[has_min, ["site_id", "period"]].drop_duplicates().reset_index(drop=True)
    sel = np.flatnonzero(opts[["site_id", "period"]].merge(rows.assign(_r=1), how="left")["_r"].notna().to_numpy())
    sizes = Terms.of(positions(opts.iloc[sel], rows, ["site_id", "period"]), _var(m, t.open_var), pos=sel,
                     coef=-opts["min_throughput_t"].to_numpy(dtype=float)[sel])
    inflow = []
    for leg in legs_into(t.name):
        arcs = net.arcs[leg.name].rename(columns={"destination": "site_id"})
        hit = np.flatnonzero(arcs[["site_id", "period"]].merge(rows.assign(_r=1), how="left")["_r"].notna().to_numpy())
        inflow.append(Terms.of(positions(arcs.iloc[hit], rows, ["site_id", "period"]), _var(m, leg.flow_var), pos=hit))
    add_rows(m, f"{t.name}_min_throughput", index_tuples(rows, ["site_id", "period"]), inflow + [sizes], ">=", 0.0,
             doc=f"{t.unit} in >= the minimum throughput of the size operated")


def add_option_throughput(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""Where a tier's size options have processing costs of their own, each site's throughput is
    split by option, and only the operated option takes any.

    .. math:: \sum_k q_{i,k,t} = \sum_c \text{in}_{i,c,t}, \qquad q_{i,k,t} \le \text{cap}_{i,k}\, y^T_{i,k,t}

    and the tier's processing cost is :math:`\sum_{i,k} v_{i,k}\, q_{i,k,t}` (:math:`v_{i,k}` the
    option's cost, else the site's, else the tier's).  With at most one option per site open this
    is the operated option's cost times the site's throughput.
    """
    tt = net.tiers[t.name]
    if not tt.option_costs:
        return
    opts = tt.options
    q = _var(m, throughput_var(t))
    rows = _site_period_rows(opts)
    keys = ["site_id", "period"]
    split = Terms.of(positions(opts, rows, keys), q, coef=-1.0)
    add_rows(m, f"{t.name}_throughput", index_tuples(rows, keys), _inflow_terms(m, net, t, rows, keys) + [split], "==", 0.0,
             doc=f"{t.unit} in = the throughput split over the size options")
    n = np.arange(len(opts))
    add_rows(m, f"{t.name}_throughput_size", q.index_set(),
             [Terms.of(n, q), Terms.of(n, _var(m, t.open_var), coef=-opts["capacity_t"].to_numpy(float))], "<=", 0.0,
             doc="throughput only through the size operated")


def add_mass_balance(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""What a site makes leaves it: to the next tier or to the merchant market at its gate.

    .. math:: \eta_c\, \text{in}_{i,c,t} = \text{out}_{i,c,t} + w_{i,c,t}

    with :math:`\eta_c` the black-mass yield for a tier that converts packs (1 otherwise).
    """
    keys = ["site_id", "chemistry", "period"]
    into = concat_rows(net.arcs[leg.name].rename(columns={"destination": "site_id"})[keys] for leg in legs_into(t.name))
    rows = into.drop_duplicates().reset_index(drop=True)

    def yield_of(arcs):
        return arcs["chemistry"].map(net.black_mass_yield).to_numpy(dtype=float) if t.converts else 1.0

    parts = _inflow_terms(m, net, t, rows, keys, coef=yield_of)
    for leg in legs_out_of(t.name):
        parts.append(Terms.of(positions(net.arcs[leg.name].rename(columns={"origin": "site_id"}), rows, keys),
                              _var(m, leg.flow_var), coef=-1.0))
    if t.merchant:
        mine = net.merchant[net.merchant["site_id"].isin(set(net.tiers[t.name].sites["id"]))]
        parts.append(Terms.of(positions(mine, rows, keys), m.merchant_t, pos=mine.index.to_numpy(), coef=-1.0))
    add_rows(m, f"{t.name}_mass_balance", index_tuples(rows, keys), parts, "==", 0.0,
             doc=f"what a {t.name} makes of what it takes = what it sends on")


def add_link(m: pyo.ConcreteModel, net: Network, leg) -> None:
    r"""Strong linking: no flow into a site that is not open, big-M from real capacities.

    .. math:: x^\ell_{(o,d),c,t} \le \sum_k \min(\bar x^\ell_{(o,d),c,t}, \text{cap}_{d,k})\, y^{T(d)}_{d,k,t}

    with :math:`\bar x` the arc's upper bound: for an arc from a region the most its offers can capture
    (every channel without offers plus each ladder's best share of its channel; the supply without
    channels), else what can reach the origin site converted to what it sends on, capped by its
    largest size.
    """
    arcs = net.arcs[leg.name]
    if arcs.empty:
        return
    opts = net.tiers[leg.destination].options
    arc, opt = pairs(arcs.rename(columns={"destination": "site_id"}), opts, ["site_id", "period"])
    coef = -np.minimum(arcs["ub_t"].to_numpy(dtype=float)[arc], opts["capacity_t"].to_numpy(dtype=float)[opt])
    flow = _var(m, leg.flow_var)
    add_rows(m, f"link_{leg.name}", flow.index_set(),
             [Terms.of(np.arange(len(arcs)), flow), Terms.of(arc, _var(m, f"open_{leg.destination}"), pos=opt, coef=coef)],
             "<=", 0.0, doc=f"{leg.material} only into an open {leg.destination}")


def add_single_sourcing(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Each region ships all its collected packs to one site (one collection contract).

    .. math:: \sum_d a_{r,d,t} \le 1, \qquad x_{(r,d),c,t} \le \text{supply}_{r,c,t}\, a_{r,d,t},
       \qquad a_{r,d,t} \le \sum_k y_{d,k,t}
    """
    region_legs = [leg for leg in LEGS if leg.origin == REGION]
    all_arcs = concat_rows(net.arcs[leg.name][["origin", "destination", "period"]] for leg in region_legs)
    keys = ["origin", "destination", "period"]
    pairs_ = all_arcs.drop_duplicates().reset_index(drop=True)
    m.ASSIGN = pyo.Set(initialize=index_tuples(pairs_, keys), ordered=True, dimen=3)
    m.assign = pyo.Var(m.ASSIGN, within=pyo.Binary, doc="region r contracts site d in period t")
    regions = pairs_[["origin", "period"]].drop_duplicates().reset_index(drop=True)
    add_rows(m, "assign_one", index_tuples(regions, ["origin", "period"]),
             [Terms.of(positions(pairs_, regions, ["origin", "period"]), m.assign)], "<=", 1.0, doc="at most one site per region")
    for leg in region_legs:
        arcs = net.arcs[leg.name]
        n = len(arcs)
        flow = _var(m, leg.flow_var)
        add_rows(m, f"assign_flow_{leg.name}", flow.index_set(),
                 [Terms.of(np.arange(n), flow),
                  Terms.of(np.arange(n), m.assign, pos=positions(arcs, pairs_, keys), coef=-arcs["ub_t"].to_numpy(dtype=float))],
                 "<=", 0.0, doc="flow only to the contracted site")
    parts = [Terms.of(np.arange(len(pairs_)), m.assign)]
    for leg in region_legs:
        opts = net.tiers[leg.destination].options
        mine = pairs_.reset_index()
        mine = mine[mine["destination"].isin(set(opts["site_id"]))]
        row, opt = pairs(mine.rename(columns={"destination": "site_id"}), opts, ["site_id", "period"])
        parts.append(Terms.of(mine["index"].to_numpy()[row], _var(m, f"open_{leg.destination}"), pos=opt, coef=-1.0))
    add_rows(m, "assign_open", m.ASSIGN, parts, "<=", 0.0, doc="contract only an open site")


def _cover_needs(inst: Instance, net: Network) -> dict[str, pd.Series]:
    """Per tier, per (period, chemistry): the tonnes of its material that must reach it -- the
    required collection, converted by the tiers upstream, less what merchant markets upstream
    can take (negative: nothing is certain to arrive)."""
    req = net.supply.groupby(["period", "chemistry"])["required_t"].sum()
    caps = {c.name: (c.merchant_cap_t if c.merchant_cap_t is not None else np.inf) if c.merchant_price_per_t is not None
            else 0.0 for c in inst.chemistries}
    need, out = req.astype(float), {}
    for t in TIERS:  # upstream first
        out[t.name] = need
        if t.converts:
            need = need * need.index.get_level_values("chemistry").map(net.black_mass_yield).to_numpy()
        if t.merchant:
            need = need - need.index.get_level_values("chemistry").map(caps).to_numpy()
    return out


def add_capacity_cover(m: pyo.ConcreteModel, inst: Instance, net: Network, t: Tier) -> None:
    r"""Capacity-cover cuts: the sizes opened must be able to take what has to reach the tier.

    .. math:: \sum_{i,k} \text{cap}_{i,k}\, y^T_{i,k,t} \ge \sum_c N^T_{c,t}
    .. math:: \sum_{i \ni c,k} \text{cap}_{i,k}\, y^T_{i,k,t} \ge N^T_{c,t} \quad \text{(tiers whose sites accept chemistries)}

    where :math:`N^T_{c,t}` is the required collection converted by the tiers upstream, less the
    merchant caps upstream (for hubs: :math:`\eta_c \sum_r \rho\,\text{supply}_{r,c,t} -
    \text{mcap}_c`), counting only positive needs.  Implied by the model, so the optimum is
    unchanged; they give the LP relaxation and HiGHS's cover separators a knapsack over the
    binaries that the flow rows only state indirectly.
    """
    need = _cover_needs(inst, net)[t.name]
    tt = net.tiers[t.name]
    ho = tt.options
    if ho.empty:
        return
    idx, t_row, t_pos, t_coef, rhs = [], [], [], [], []
    accepts = {c: set(tt.sites.loc[tt.sites[f"accepts_{c}"].astype(bool), "id"]) for c in net.chems} if t.accepts else {}
    cap = ho["capacity_t"].to_numpy(float)
    for period in net.periods:
        sel = np.flatnonzero(ho["period"].to_numpy() == period)
        needs = {c: float(need.get((period, c), 0.0)) for c in net.chems}
        if not t.accepts:
            total = sum(v for v in needs.values())
            if total > 0:
                idx.append(period)
                t_row.append(np.full(len(sel), len(idx) - 1))
                t_pos.append(sel)
                t_coef.append(cap[sel])
                rhs.append(total)
            continue
        total = 0.0
        for c in net.chems:
            if needs[c] <= 1e-9:
                continue
            total += needs[c]
            hit = np.array([i for i in sel if ho["site_id"].iat[i] in accepts[c]], dtype=np.int64)
            idx.append((c, period))
            t_row.append(np.full(len(hit), len(idx) - 1))
            t_pos.append(hit)
            t_coef.append(cap[hit])
            rhs.append(needs[c])
        if total > 1e-9 and len(net.chems) > 1:
            idx.append(("all", period))
            t_row.append(np.full(len(sel), len(idx) - 1))
            t_pos.append(sel)
            t_coef.append(cap[sel])
            rhs.append(total)
    if idx:
        add_rows(m, f"cover_{t.name}", idx,
                 [Terms.of(np.concatenate(t_row), _var(m, t.open_var), pos=np.concatenate(t_pos), coef=np.concatenate(t_coef))],
                 ">=", np.asarray(rhs), doc=f"{t.name} capacity opened covers what has to reach it")


def add_merchant_cap(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Network-wide merchant market size per chemistry, where one is given.

    .. math:: \sum_i w_{i,c,t} \le \text{mcap}_c
    """
    caps = {c.name: c.merchant_cap_t for c in inst.chemistries if c.merchant_cap_t is not None}
    sel = net.merchant[net.merchant["chemistry"].isin(list(caps))]
    if sel.empty:
        return
    rows = sel[["chemistry", "period"]].drop_duplicates().reset_index(drop=True)
    add_rows(m, "merchant_cap", index_tuples(rows, ["chemistry", "period"]),
             [Terms.of(positions(sel, rows, ["chemistry", "period"]), m.merchant_t, pos=sel.index.to_numpy())], "<=",
             rows["chemistry"].map(caps).to_numpy(dtype=float), doc="merchant sales within the market cap")


def add_forced_open(m: pyo.ConcreteModel, inst: Instance, net: Network, t: Tier) -> None:
    r"""Scenario overrides: the forced sites operate some size in every period they may.

    .. math:: \sum_k y^T_{i,k,t} \ge 1 \quad i \in \text{forced}
    """
    opts = net.tiers[t.name].options
    sel = np.flatnonzero(opts["site_id"].isin(set(inst.forced_open)).to_numpy())
    if not len(sel):
        return
    rows = opts.iloc[sel][["site_id", "period"]].drop_duplicates().reset_index(drop=True)
    add_rows(m, f"{t.name}_forced_open", index_tuples(rows, ["site_id", "period"]),
             [Terms.of(positions(opts.iloc[sel], rows, ["site_id", "period"]), _var(m, t.open_var), pos=sel)], ">=", 1.0,
             doc=f"forced {t.plural} operate")


def add_site_counts(m: pyo.ConcreteModel, inst: Instance, net: Network, t: Tier) -> None:
    r"""Optional fewest and most open sites of a tier, in every period.

    .. math:: N^T_{\min} \le \sum_{i,k} y^T_{i,k,t} \le N^T_{\max}
    """
    opts = net.tiers[t.name].options
    rows = pd.DataFrame({"period": net.periods})
    for bound, sense in (("max", "<="), ("min", ">=")):
        n = getattr(inst.params, f"{bound}_{t.plural}")
        if n is None or (opts.empty and sense == "<="):
            continue
        add_rows(m, f"{bound}_{t.plural}", net.periods, [Terms.of(positions(opts, rows, ["period"]), _var(m, t.open_var))],
                 sense, float(n), doc=f"at {'most' if bound == 'max' else 'least'} {n} {t.plural} open")


def add_capex_budget(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Optional budget on up-front capex charged (sunk capex of existing sizes is not charged).

    .. math:: \sum_T \sum_{i,k} \text{capex}_{i,k}\, y^T_{i,k} \le B
    """
    budget = inst.params.max_capex
    if budget is None:
        return
    parts = [Terms.of(np.zeros(len(net.tiers[t.name].options), dtype=np.int64), _var(m, t.open_var),
                      coef=net.tiers[t.name].options["capex_charged"].to_numpy(dtype=float)) for t in TIERS]
    add_rows(m, "capex_budget", ["total"], parts, "<=", float(budget), doc="capex charged within the budget")


def _threshold_terms(opts: pd.DataFrame, rows: pd.DataFrame, period_col: str) -> tuple[np.ndarray, np.ndarray]:
    """(row, option) pairs with the option at the row's site, in ``rows[period_col]``, and of
    rank >= the row's threshold ``q`` -- the terms of the cumulative size indicator Y(q)."""
    o = opts[["site_id", "period"]].assign(rank=size_ranks(opts), _opt=np.arange(len(opts)))
    r = rows[["site_id", period_col, "q"]].rename(columns={period_col: "period"}).assign(_row=np.arange(len(rows)))
    i, j = pairs(r, o, ["site_id", "period"])
    keep = o["rank"].to_numpy()[j] >= r["q"].to_numpy()[i]
    return r["_row"].to_numpy()[i][keep], o["_opt"].to_numpy()[j][keep]


def _schedule_rows(opts: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """(site, q, period, prev) for every size threshold q of a site and every period it may
    operate in (``prev`` = the period before, NaN in its first one)."""
    ranks = size_ranks(opts)
    n_sizes = pd.Series(ranks).groupby(opts["site_id"].to_numpy()).max() + 1
    order = {p: k for k, p in enumerate(periods)}
    sp = opts[["site_id", "period"]].drop_duplicates()
    sp = sp.assign(k=sp["period"].map(order)).sort_values(["site_id", "k"])
    sp["prev"] = sp.groupby("site_id")["period"].shift(1)
    out = [sp[sp["site_id"] == site].assign(q=q) for site, n in n_sizes.items() for q in range(int(n))]
    return concat_rows(out, None)[["site_id", "period", "prev", "q"]] if out else pd.DataFrame(columns=["site_id", "period", "prev", "q"])


def add_build_schedule(m: pyo.ConcreteModel, net: Network, t: Tier) -> None:
    r"""Multi-period: sites only grow, candidates never close, closed sites never reopen.

    With :math:`Y_{i,q,t} = \sum_{k:\,\text{rank}(k) \ge q} y_{i,k,t}` (site :math:`i` runs a size
    of rank :math:`q` or larger; :math:`Y_{i,0,t}` = open):

    .. math:: Y_{i,q,t} - Y_{i,q,t-1} + \text{closed}_{i,t} \ge 0

    for every size threshold :math:`q` and consecutive periods the site may operate in (before its
    earliest year it has no variables).  Cumulative indicators give these rows the tightest LP
    relaxation of "capacity never shrinks".
    """
    opts, var = net.tiers[t.name].options, _var(m, t.open_var)
    rows = _schedule_rows(opts, net.periods)
    rows = rows[rows["prev"].notna()].reset_index(drop=True)
    if not rows.empty:
        r_now, o_now = _threshold_terms(opts, rows, "period")
        r_prev, o_prev = _threshold_terms(opts, rows, "prev")
        parts = [Terms.of(r_now, var, pos=o_now, coef=1.0), Terms.of(r_prev, var, pos=o_prev, coef=-1.0)]
        if hasattr(m, "closed_site"):
            hit = rows.reset_index().merge(net.closable.reset_index(), on=["site_id", "period"], suffixes=("", "_c"))
            if len(hit):
                parts.append(Terms.of(hit["index"].to_numpy(), m.closed_site, pos=hit["index_c"].to_numpy()))
        add_rows(m, f"{t.name}_grow_only", index_tuples(rows, ["site_id", "q", "period"]), parts, ">=", 0.0,
                 doc=f"{t.name} capacity never shrinks, except by closing for good")


def add_closed_for_good(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Multi-period: a site that closed stays closed.

    .. math:: \text{closed}_{i,t} \ge \text{closed}_{i,t-1}
    """
    if not hasattr(m, "closed_site"):
        return
    closable = net.closable
    prev = closable.assign(_pos=np.arange(len(closable))).groupby("site_id")["_pos"].shift(1)
    sel = prev.notna().to_numpy()
    if sel.any():
        n = int(sel.sum())
        add_rows(m, "closed_for_good", index_tuples(closable[sel], ["site_id", "period"]),
                 [Terms.of(np.arange(n), m.closed_site, pos=np.flatnonzero(sel)),
                  Terms.of(np.arange(n), m.closed_site, pos=prev[sel].to_numpy().astype(np.int64), coef=-1.0)],
                 ">=", 0.0, doc="closed sites do not reopen")


def _monotone_capex(opts: pd.DataFrame) -> set[str]:
    """Sites whose capex charged never falls as the size grows (ranked by capacity)."""
    ranked = opts.assign(rank=size_ranks(opts)).drop_duplicates(["site_id", "rank"]).sort_values(["site_id", "rank"])
    falls = ranked.groupby("site_id")["capex_charged"].apply(lambda c: bool((np.diff(c.to_numpy(float)) < 0).any()))
    return set(falls.index[~falls.to_numpy(dtype=bool)])


def _step_spend(net: Network, t: Tier, opts: pd.DataFrame, var) -> tuple[pd.DataFrame, list[Terms], np.ndarray, np.ndarray]:
    """The size-step rows of sites with monotone capex, inc >= Y(q, now) - Y(q, before): their
    index, the Y terms, the right-hand side (the installed size counts as reached before the first
    period) and each step's capex."""
    rows = _schedule_rows(opts, net.periods).reset_index(drop=True)
    pos_of = opts["index"].to_numpy()
    r_now, o_now = _threshold_terms(opts, rows, "period")
    has_prev = rows["prev"].notna().to_numpy()
    r_prev, o_prev = _threshold_terms(opts, rows[has_prev].reset_index(drop=True), "prev")
    r_prev = np.flatnonzero(has_prev)[r_prev]
    status = rows["site_id"].map(dict(zip(net.tiers[t.name].sites["id"], net.tiers[t.name].sites["status"], strict=True)))
    installed = ((~has_prev) & (status.to_numpy() == "existing") & (rows["q"].to_numpy() == 0)).astype(float)
    parts = [Terms.of(r_now, var, pos=pos_of[o_now], coef=-1.0), Terms.of(r_prev, var, pos=pos_of[o_prev], coef=1.0)]
    ranked = opts.assign(rank=size_ranks(opts))[["site_id", "rank", "capex_charged"]].drop_duplicates(["site_id", "rank"])
    cap = dict(zip(zip(ranked["site_id"], ranked["rank"], strict=True), ranked["capex_charged"], strict=True))
    delta = np.array([cap[(s, q)] - (cap[(s, q - 1)] if q > 0 else 0.0) for s, q in zip(rows["site_id"], rows["q"], strict=True)])
    return rows, parts, -installed, delta


def add_capex_budgets(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Multi-period capex budgets on what is *spent*: building a size or expanding to a larger one.

    The capex spent at a site up to period :math:`t` is the largest capex charged among the sizes
    it has operated so far (an expansion pays the difference to the largest one paid for; nothing
    is refunded).  Sites whose capex grows with capacity (the usual case) state this with the
    tight size-step form, the others with a running maximum:

    .. math:: \text{inc}_{i,q,t} \ge Y_{i,q,t} - Y_{i,q,t-1}, \qquad
       \text{spend}_{i,t} = \sum_q \Delta\text{capex}_{i,q}\, \text{inc}_{i,q,t}
       \quad \text{(capex non-decreasing in size)}

    .. math:: M_{i,t} \ge \sum_k \text{capex}_{i,k}\, y_{i,k,t}, \qquad M_{i,t} \ge M_{i,t-1},
       \qquad \text{spend}_{i,t} = M_{i,t} - M_{i,t-1} \quad \text{(otherwise)}

    .. math:: \sum_i \text{spend}_{i,t} \le B_t, \qquad \sum_t \sum_i \text{spend}_{i,t} \le B

    with :math:`\Delta\text{capex}_{i,q}` the capex charged of size rank :math:`q` minus that of rank
    :math:`q-1`, :math:`Y_{i,q,t_0-1}` = 1 for the installed size of an existing site and 0
    otherwise, and :math:`M_{i,t_0-1} = 0` (capex charged is already net of an installed size).
    Budget rows only constrain, so the model is free to keep :math:`M` at the running maximum and
    the spend is exact.
    """
    budget = inst.periods.capex_budget if inst.periods is not None else None
    total = inst.params.max_capex
    if budget is None and total is None:
        return
    step, running = [], []
    for t in TIERS:
        opts = net.tiers[t.name].options
        if opts.empty:
            continue
        monotone = _monotone_capex(opts)
        for subset, into in ((opts[opts["site_id"].isin(monotone)].reset_index(), step),
                             (opts[~opts["site_id"].isin(monotone)].reset_index(), running)):
            if len(subset):
                into.append((t, subset, _var(m, t.open_var)))
    spend: list[tuple[np.ndarray, object, np.ndarray, np.ndarray]] = []  # (period of row, var, pos, coef)
    if step:
        built = [(t, *_step_spend(net, t, opts, var)) for t, opts, var in step]
        index = concat_rows(rows for _t, rows, *_x in built)
        m.CAPEX_STEPS = pyo.Set(initialize=index_tuples(index, ["site_id", "q", "period"]), ordered=True, dimen=3)
        m.capex_step = pyo.Var(m.CAPEX_STEPS, within=pyo.NonNegativeReals, doc="size threshold q newly reached in period t")
        offset = 0
        for t, rows, parts, rhs, delta in built:
            n = len(rows)
            add_rows(m, f"{t.name}_capex_step", index_tuples(rows, ["site_id", "q", "period"]),
                     [Terms.of(np.arange(n), m.capex_step, pos=offset + np.arange(n)), *parts], ">=", rhs,
                     doc="a size threshold reached in a period is a capex step")
            spend.append((rows["period"].to_numpy(), m.capex_step, offset + np.arange(n), delta))
            offset += n
    if running:
        spend += _running_spend(m, net, running)
    if not spend:
        return

    def terms(select_row) -> list[Terms]:
        return [Terms.of(select_row(periods), var, pos=pos, coef=coef) for periods, var, pos, coef in spend]

    if budget is not None:
        order = {p: k for k, p in enumerate(net.periods)}
        add_rows(m, "capex_budget_period", list(net.periods),
                 terms(lambda periods: np.array([order[p] for p in periods], dtype=np.int64)),
                 "<=", np.asarray(budget, dtype=float), doc="capex spent per period within its budget")
    if total is not None:
        add_rows(m, "capex_budget", ["total"], terms(lambda periods: np.zeros(len(periods), dtype=np.int64)),
                 "<=", float(total), doc="capex spent over the horizon within the budget")


def _running_spend(m, net: Network, running: list) -> list:
    """The running-maximum rows of sites whose capex falls somewhere as the size grows."""
    rows_of = []
    for t, opts, var in running:
        rows = _schedule_rows(opts, net.periods)
        rows_of.append((t, opts, var, rows[rows["q"] == 0].drop(columns="q").reset_index(drop=True)))
    index = concat_rows(r for *_x, r in rows_of)
    m.CAPEX_REACHED = pyo.Set(initialize=index_tuples(index, ["site_id", "period"]), ordered=True, dimen=2)
    m.capex_reached = pyo.Var(m.CAPEX_REACHED, within=pyo.NonNegativeReals,
                              doc="largest capex charged among the sizes site i has operated up to period t")
    spend, offset = [], 0
    for t, opts, var, rows in rows_of:
        n, own = len(rows), np.arange(len(rows))
        add_rows(m, f"{t.name}_capex_reached_covers", index_tuples(rows, ["site_id", "period"]),
                 [Terms.of(own, m.capex_reached, pos=offset + own),
                  Terms.of(positions(opts, rows, ["site_id", "period"]), var, pos=opts["index"].to_numpy(),
                           coef=-opts["capex_charged"].to_numpy(float))],
                 ">=", 0.0, doc="capex reached covers the size operated")
        prev = rows.reset_index().merge(rows.reset_index()[["index", "site_id", "period"]], left_on=["site_id", "prev"],
                                        right_on=["site_id", "period"], suffixes=("", "_prev"))
        if len(prev):
            k = len(prev)
            add_rows(m, f"{t.name}_capex_reached_grows", index_tuples(prev, ["site_id", "period"]),
                     [Terms.of(np.arange(k), m.capex_reached, pos=offset + prev["index"].to_numpy()),
                      Terms.of(np.arange(k), m.capex_reached, pos=offset + prev["index_prev"].to_numpy(), coef=-1.0)],
                     ">=", 0.0, doc="capex reached never falls")
            spend.append((prev["period"].to_numpy(), m.capex_reached, offset + prev["index_prev"].to_numpy(), np.full(k, -1.0)))
        spend.append((rows["period"].to_numpy(), m.capex_reached, offset + own, np.ones(n)))
        offset += n
    return spend


# --- objective -----------------------------------------------------------------------------------


def closure_coefficients(inst: Instance, net: Network) -> np.ndarray:
    """Objective coefficient of each ``closed_site`` variable: in a horizon the one-off closure
    cost discounted to the start of the period it happens in (``closed`` jumps from 0 to 1 there),
    in one period the closure cost annualised with the capital recovery factor."""
    closable = net.closable
    sites = concat_rows(getattr(inst, t.sites)[["id", "closure_cost"]] for t in TIERS)
    cost = closable["site_id"].map(dict(zip(sites["id"], sites["closure_cost"], strict=True))).to_numpy(float)
    if net.single_period:
        return cost * net.crf
    start = inst.periods.start_discount(inst.params.discount_rate)
    nxt = {t: (start[net.periods[k + 1]] if k + 1 < len(net.periods) else 0.0) for k, t in enumerate(net.periods)}
    return cost * (closable["period"].map(start) - closable["period"].map(nxt)).to_numpy(float)


def add_objective(m: pyo.ConcreteModel, inst: Instance, net: Network, options: ModelOptions) -> None:
    r"""Minimise net cost (a net present value over a horizon), or in diagnosis mode the unmet
    required collection.

    .. math::
       \min \sum_t \omega_t \Big[ \sum_T \sum_{i,k} (\text{crf}\,\text{capex}_{i,k} + \text{opex}_{i,k}) y^T_{i,k,t}
       + \sum_T \sum_i v_i\, \text{in}_{i,t} + \sum_\ell \sum_a \tau^\ell_a x^\ell_{a,t} + \pi \sum u
       - \sum_{i,c} p_c w_{i,c,t} - \sum_{T \text{ refining}} \sum_i \text{rev}_c\, \text{in}_{i,c,t} \Big]
       + \sum_{i,t} \kappa_{i,t}\, \text{closed}_{i,t}

    with :math:`\omega_t` the period weight (1 for a single period), :math:`v_i` the site's
    variable processing cost (its own, else its tier's), :math:`\tau` the lane cost per tonne and
    :math:`\kappa` the closure coefficient (:func:`closure_coefficients`).
    """
    p = inst.params

    def weight(df: pd.DataFrame) -> np.ndarray:
        return df["period"].map(net.period_weight).to_numpy(dtype=float)

    def per_t(df: pd.DataFrame, var, coef) -> Terms:
        c = np.broadcast_to(weight(df) * coef, (len(df),))
        keep = np.flatnonzero(c != 0)  # a zero price adds no term
        return Terms.of(np.zeros(len(keep), dtype=np.int64), var, pos=keep, coef=c[keep])

    rev = {c.name: c.hub_revenue_per_t or 0.0 for c in inst.chemistries}
    components: list[tuple[int, str, list[Terms]]] = [
        (+1, "cost_capex_annualised", [per_t(net.tiers[t.name].options, _var(m, t.open_var),
                                             net.crf * net.tiers[t.name].options["capex_charged"].to_numpy(float)) for t in TIERS]),
        (+1, "cost_fixed_opex", [per_t(net.tiers[t.name].options, _var(m, t.open_var),
                                       net.tiers[t.name].options["fixed_opex_per_yr"].to_numpy(float)) for t in TIERS]),
    ]
    for t in TIERS:
        tt = net.tiers[t.name]
        if tt.option_costs:  # per size option: its own cost on the throughput it takes
            components.append((+1, f"cost_{processing_component(t)}",
                               [per_t(tt.options, _var(m, throughput_var(t)), tt.options["cost_per_t"].to_numpy(float))]))
            continue
        cost_of = dict(zip(tt.sites["id"], tt.sites["cost_per_t"], strict=True))
        components.append((+1, f"cost_{processing_component(t)}",
                           [per_t(net.arcs[leg.name], _var(m, leg.flow_var), net.arcs[leg.name]["destination"].map(cost_of).to_numpy(float))
                            for leg in legs_into(t.name)]))
    for component in dict.fromkeys(leg.component for leg in LEGS):
        parts = [per_t(net.arcs[leg.name], _var(m, leg.flow_var), net.arcs[leg.name]["cost_per_t"].to_numpy(float))
                 for leg in LEGS if leg.component == component]
        parts += [per_t(d, _var(m, damaged_var(leg)), net.damaged_surcharge * d["km"].to_numpy(float))
                  for leg in LEGS if leg.component == component for d in [net.damaged_arcs(leg)] if len(d)]
        components.append((+1, f"cost_{component}", parts))
    unc = net.uncollectable()
    components.append((+1, "cost_uncollected_penalty", [per_t(unc, m.uncollected_t, p.uncollected_penalty_per_t or 0.0)]))
    if hasattr(m, "closed_site"):
        components.append((+1, "cost_closure", [Terms.of(np.zeros(len(net.closable), dtype=np.int64), m.closed_site,
                                                         coef=closure_coefficients(inst, net))]))
    if hasattr(m, "offer_level"):
        off = net.offers
        components.append((+1, "cost_acquisition", [per_t(off, m.offer_level, off["price_per_t"].to_numpy(float)
                                                          * off["capture_share"].to_numpy(float) * off["available_t"].to_numpy(float))]))
    components.append((-1, "revenue_merchant", [per_t(net.merchant, m.merchant_t, net.merchant["price_per_t"].to_numpy(float))]))
    for t in TIERS:
        if t.revenue:
            components.append((-1, f"revenue_{t.name}",
                               [per_t(net.arcs[leg.name], _var(m, leg.flow_var), net.arcs[leg.name]["chemistry"].map(rev).to_numpy(float))
                                for leg in legs_into(t.name)]))
    for _sign, name, parts in components:
        add_linear_expression(m, name, parts)

    if options.elastic:
        shortfall = add_linear_expression(m, "total_shortfall", [Terms.of(np.zeros(len(net.supply), dtype=np.int64), m.shortfall_t)])
        m.objective = pyo.Objective(expr=shortfall, sense=pyo.minimize)
        m.objective._spokehub_terms = (m.objective.expr, [(+1, shortfall)])
        return
    total = 0
    for sign, name, _parts in components:
        comp = m.component(name)
        total = total + comp if sign > 0 else total - comp
    m.objective = pyo.Objective(expr=total, sense=pyo.minimize)
    m.objective._spokehub_terms = (m.objective.expr, [(sign, m.component(name)) for sign, name, _ in components])
