r"""The spokehub MILP in Pyomo: one ``add_<family>`` function per constraint family.

Notation (sets are the tables of :mod:`optimizer.model.network`; :math:`t` a period):

* :math:`y^S_{s,k,t}, y^H_{h,k,t} \in \{0,1\}` -- site :math:`s`/:math:`h` operates size
  :math:`k` (``open_spoke``, ``open_hub``);
* :math:`x_{r,s,c,t} \ge 0` -- t packs/yr of chemistry :math:`c` from region :math:`r` to spoke
  :math:`s` (``flow_pack_t``);
* :math:`z_{s,h,c,t} \ge 0` -- t black mass/yr from spoke to hub (``flow_black_mass_t``);
* :math:`w_{s,c,t} \ge 0` -- t black mass/yr sold at the spoke gate (``merchant_t``);
* :math:`u_{r,c,t} \ge 0` -- t packs/yr left uncollected (``uncollected_t``).

Every constraint family carries its formula in its docstring; the README's formulation section is
the same text.  Index sets hold only arcs that exist (within the service radius, accepted
chemistry), so no row or column is created for a pair that cannot carry flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from ..frames import concat_rows
from ..instance import Instance
from .linear import Terms, add_linear_expression, add_rows, var_array
from .network import Network, build_network


@dataclass
class ModelOptions:
    """Switches that change the model (not the solver)."""

    single_sourcing: bool | None = None  # None: take the instance's setting
    elastic: bool = False  # diagnosis mode: minimise unmet required collection instead of cost
    linking: str = "per-arc"  # "per-arc" (strong) | "aggregated" (capacity rows only)
    cover_cuts: bool = True  # open capacity >= required collection at each echelon


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
    net = net or build_network(inst)
    with PauseGC():
        m = pyo.ConcreteModel(name=f"spokehub[{inst.name}]")
        add_variables(m, inst, net, options)
        add_supply_balance(m, net, options)
        add_one_size(m, net)
        add_spoke_capacity(m, net)
        add_spoke_mass_balance(m, net)
        add_hub_capacity(m, net)
        if options.linking == "per-arc":
            add_link_region_spoke(m, net)
            add_link_spoke_hub(m, net)
        elif options.linking != "aggregated":
            raise ValueError(f"linking must be 'per-arc' or 'aggregated', got {options.linking!r}")
        if options.cover_cuts and not options.elastic:
            add_capacity_cover(m, inst, net)
        if _single_sourcing(inst, options):
            add_single_sourcing(m, net)
        add_merchant_cap(m, inst, net)
        add_site_count_caps(m, inst, net)
        if inst.forced_open:
            add_forced_open(m, inst, net)
        if net.single_period:
            add_capex_budget(m, inst, net)
        else:
            add_build_schedule(m, net)
            add_capex_budgets(m, inst, net)
        add_objective(m, inst, net, options)
    return BuiltModel(m, net, inst, options)


def _single_sourcing(inst: Instance, options: ModelOptions) -> bool:
    return inst.params.single_sourcing if options.single_sourcing is None else options.single_sourcing


def _index(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    return list(zip(*(df[c].tolist() for c in cols), strict=True))


def _codes(frames: list[pd.DataFrame], cols: list[str]) -> list[np.ndarray]:
    """One compact int64 code per row of each frame, equal exactly when the ``cols`` values are."""
    sizes = [len(f) for f in frames]
    code = np.zeros(sum(sizes), dtype=np.int64)
    for c in cols:
        col, uniques = pd.factorize(np.concatenate([f[c].to_numpy() for f in frames]))
        code, _ = pd.factorize(code * len(uniques) + col)
    return np.split(code, np.cumsum(sizes)[:-1])


def _positions(keys: pd.DataFrame, table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row position in ``table`` of each row of ``keys`` (joined on ``cols``; all must exist)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    k, t = _codes([keys, table], cols)
    lookup = np.full(int(max(k.max(), t.max())) + 1, -1, dtype=np.int64)
    lookup[t] = np.arange(len(t))
    pos = lookup[k]
    if (pos < 0).any():
        raise AssertionError(f"index join on {cols} left rows unmatched")
    return pos


# --- variables -----------------------------------------------------------------------------------


def add_variables(m: pyo.ConcreteModel, inst: Instance, net: Network, options: ModelOptions) -> None:
    """Declare variables over the sparse sets, with bounds from real capacities."""
    so, ho = net.spoke_options, net.hub_options
    m.SPOKE_SIZES = pyo.Set(initialize=_index(so, ["site_id", "size", "period"]), ordered=True, dimen=3)
    m.HUB_SIZES = pyo.Set(initialize=_index(ho, ["site_id", "size", "period"]), ordered=True, dimen=3)
    m.ARCS_REGION_SPOKE = pyo.Set(initialize=_index(net.arcs_rs, ["region_id", "spoke_id", "chemistry", "period"]), ordered=True, dimen=4)
    m.ARCS_SPOKE_HUB = pyo.Set(initialize=_index(net.arcs_sh, ["spoke_id", "hub_id", "chemistry", "period"]), ordered=True, dimen=4)
    m.MERCHANT = pyo.Set(initialize=_index(net.merchant, ["spoke_id", "chemistry", "period"]), ordered=True, dimen=3)
    unc = net.supply[net.supply["supply_t"] > net.supply["required_t"]]
    m.UNCOLLECTABLE = pyo.Set(initialize=_index(unc, ["region_id", "chemistry", "period"]), ordered=True, dimen=3)

    m.open_spoke = pyo.Var(m.SPOKE_SIZES, within=pyo.Binary, doc="spoke s operates size k in period t")
    m.open_hub = pyo.Var(m.HUB_SIZES, within=pyo.Binary, doc="hub h operates size k in period t")
    m.flow_pack_t = pyo.Var(m.ARCS_REGION_SPOKE, within=pyo.NonNegativeReals, doc="t packs/yr region->spoke")
    m.flow_black_mass_t = pyo.Var(m.ARCS_SPOKE_HUB, within=pyo.NonNegativeReals, doc="t black mass/yr spoke->hub")
    m.merchant_t = pyo.Var(m.MERCHANT, within=pyo.NonNegativeReals, doc="t black mass/yr sold at the spoke gate")
    m.uncollected_t = pyo.Var(m.UNCOLLECTABLE, within=pyo.NonNegativeReals, doc="t packs/yr not collected")
    # Upper bounds from real capacities and supplies (the big-M of the linking rows).
    for var, ub in ((m.flow_pack_t, net.arcs_rs["ub_t"]), (m.flow_black_mass_t, net.arcs_sh["ub_t"]),
                    (m.merchant_t, net.merchant["ub_t"]), (m.uncollected_t, unc["supply_t"] - unc["required_t"])):
        for v, u in zip(var_array(var).tolist(), ub.tolist(), strict=True):
            v.setub(u)
    if not net.single_period:
        closable = closable_periods(net)
        m.CLOSABLE = pyo.Set(initialize=_index(closable, ["site_id", "period"]), ordered=True, dimen=2)
        m.closed_site = pyo.Var(m.CLOSABLE, within=pyo.Binary, doc="existing site i is closed from period t on")
    if options.elastic:
        m.SUPPLY = pyo.Set(initialize=_index(net.supply, ["region_id", "chemistry", "period"]), ordered=True, dimen=3)
        m.shortfall_t = pyo.Var(m.SUPPLY, within=pyo.NonNegativeReals,
                                doc="t packs/yr of required collection not met (diagnosis only)")


# --- constraints ---------------------------------------------------------------------------------


def add_supply_balance(m: pyo.ConcreteModel, net: Network, options: ModelOptions) -> None:
    r"""Every tonne of supply is collected by some spoke or left uncollected.

    .. math:: \sum_{s} x_{r,s,c,t} + u_{r,c,t} = \text{supply}_{r,c,t}
       \qquad u_{r,c,t} \le (1-\rho)\,\text{supply}_{r,c,t}

    with :math:`\rho` the required collection rate (the bound on :math:`u` is the collection
    requirement; when :math:`\rho = 1` there is no :math:`u`).
    """
    sup = net.supply
    keys = ["region_id", "chemistry", "period"]
    parts = [Terms.of(_positions(net.arcs_rs, sup, keys), m.flow_pack_t)]
    unc = sup[sup["supply_t"] > sup["required_t"]]
    if len(unc):
        parts.append(Terms.of(_positions(unc, sup, keys), m.uncollected_t))
    if options.elastic:
        parts.append(Terms.of(np.arange(len(sup)), m.shortfall_t))
    add_rows(m, "supply_balance", _index(sup, keys), parts, "==", sup["supply_t"].to_numpy(),
             doc="supply collected + uncollected = supply")


def closable_periods(net: Network) -> pd.DataFrame:
    """(site, period) pairs where a closable existing site may be closed: every period but the first."""
    sites = concat_rows([net.spoke_sites, net.hub_sites])
    ids = sites.loc[sites["closable"].astype(bool), "id"].tolist()
    rows = [(i, t) for i in ids for t in net.periods[1:]]
    return pd.DataFrame(rows, columns=["site_id", "period"])


def add_one_size(m: pyo.ConcreteModel, net: Network) -> None:
    r"""At most one size per site; existing sites stay open (unless closed, multi-period).

    .. math:: \sum_k y_{s,k,t} \le 1, \qquad \sum_k y_{s,k,t} + \text{closed}_{s,t} = 1
       \text{ for existing sites}

    (:math:`\text{closed}` exists only for existing sites with a closure cost, from the second
    period on; it is 0 otherwise).
    """
    closable = closable_periods(net) if not net.single_period else pd.DataFrame(columns=["site_id", "period"])
    for kind, opts, sites, var in (("spoke", net.spoke_options, net.spoke_sites, m.open_spoke),
                                   ("hub", net.hub_options, net.hub_sites, m.open_hub)):
        rows = opts[["site_id", "period"]].drop_duplicates().reset_index(drop=True)
        pos = _positions(opts, rows, ["site_id", "period"])
        status = rows["site_id"].map(dict(zip(sites["id"], sites["status"], strict=True)))
        is_existing = (status == "existing").to_numpy()
        if (~is_existing).any():
            keep = np.flatnonzero(~is_existing)
            remap = -np.ones(len(rows), dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            sel = remap[pos] >= 0
            add_rows(m, f"{kind}_one_size", _index(rows.iloc[keep], ["site_id", "period"]),
                     [Terms.of(remap[pos][sel], var, pos=np.flatnonzero(sel))], "<=", 1.0,
                     doc=f"at most one size per {kind}")
        if is_existing.any():
            keep = np.flatnonzero(is_existing)
            remap = -np.ones(len(rows), dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            sel = remap[pos] >= 0
            parts = [Terms.of(remap[pos][sel], var, pos=np.flatnonzero(sel))]
            ex_rows = rows.iloc[keep].reset_index(drop=True)
            if len(closable):
                mine = closable[closable["site_id"].isin(set(ex_rows["site_id"]))].reset_index()
                if len(mine):
                    parts.append(Terms.of(_positions(mine, ex_rows, ["site_id", "period"]), m.closed_site,
                                          pos=mine["index"].to_numpy()))
            add_rows(m, f"{kind}_existing_open", _index(ex_rows, ["site_id", "period"]), parts, "==", 1.0,
                     doc=f"existing {kind}s operate one size at least as large as installed, unless closed")


def _size_ranks(opts: pd.DataFrame) -> np.ndarray:
    """Rank of each option's size within its site, by capacity (0 = smallest offered)."""
    sizes = opts[["site_id", "size", "capacity_t"]].drop_duplicates(["site_id", "size"])
    sizes = sizes.sort_values(["site_id", "capacity_t", "size"], kind="stable")
    sizes["rank"] = sizes.groupby("site_id").cumcount()
    return opts.merge(sizes[["site_id", "size", "rank"]], on=["site_id", "size"], how="left")["rank"].to_numpy()


def _threshold_terms(opts: pd.DataFrame, rows: pd.DataFrame, period_col: str) -> tuple[np.ndarray, np.ndarray]:
    """(row, option) pairs with the option at the row's site, in ``rows[period_col]``, and of
    rank >= the row's threshold ``q`` -- the terms of the cumulative size indicator Y(q)."""
    o = opts[["site_id", "period"]].assign(rank=_size_ranks(opts), _opt=np.arange(len(opts)))
    r = rows[["site_id", period_col, "q"]].rename(columns={period_col: "period"}).assign(_row=np.arange(len(rows)))
    i, j = _pairs(r, o, ["site_id", "period"])
    keep = o["rank"].to_numpy()[j] >= r["q"].to_numpy()[i]
    return r["_row"].to_numpy()[i][keep], o["_opt"].to_numpy()[j][keep]


def _schedule_rows(opts: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """(site, q, period, prev) for every size threshold q of a site and every period it may
    operate in after its first one (``prev`` = the period before)."""
    ranks = _size_ranks(opts)
    n_sizes = pd.Series(ranks).groupby(opts["site_id"].to_numpy()).max() + 1
    site_periods = opts[["site_id", "period"]].drop_duplicates()
    order = {p: k for k, p in enumerate(periods)}
    site_periods = site_periods.assign(k=site_periods["period"].map(order)).sort_values(["site_id", "k"])
    site_periods["prev"] = site_periods.groupby("site_id")["period"].shift(1)
    out = []
    for site, n in n_sizes.items():
        sp = site_periods[site_periods["site_id"] == site]
        for q in range(int(n)):
            out.append(sp.assign(q=q))
    if not out:
        return pd.DataFrame(columns=["site_id", "period", "prev", "q"])
    return concat_rows(out)[["site_id", "period", "prev", "q"]]


def add_build_schedule(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Multi-period: sites only grow, candidates never close, closed sites never reopen.

    With :math:`Y_{i,q,t} = \sum_{k:\,\text{rank}(k) \ge q} y_{i,k,t}` (site :math:`i` runs a size
    of rank :math:`q` or larger; :math:`Y_{i,0,t}` = open):

    .. math:: Y_{i,q,t} - Y_{i,q,t-1} + \text{closed}_{i,t} \ge 0, \qquad
       \text{closed}_{i,t} \ge \text{closed}_{i,t-1}

    for every size threshold :math:`q` and consecutive periods the site may operate in (before its
    earliest year it has no variables).  Cumulative indicators give these rows the tightest LP
    relaxation of "capacity never shrinks".
    """
    for kind, opts, var in (("spoke", net.spoke_options, m.open_spoke), ("hub", net.hub_options, m.open_hub)):
        rows = _schedule_rows(opts, net.periods)
        rows = rows[rows["prev"].notna()].reset_index(drop=True)
        if rows.empty:
            continue
        r_now, o_now = _threshold_terms(opts, rows, "period")
        r_prev, o_prev = _threshold_terms(opts, rows, "prev")
        parts = [Terms.of(r_now, var, pos=o_now, coef=1.0), Terms.of(r_prev, var, pos=o_prev, coef=-1.0)]
        if hasattr(m, "closed_site"):
            closable = closable_periods(net).reset_index()
            hit = rows.reset_index().merge(closable, on=["site_id", "period"], suffixes=("", "_c"))
            if len(hit):
                parts.append(Terms.of(hit["index"].to_numpy(), m.closed_site, pos=hit["index_c"].to_numpy()))
        add_rows(m, f"{kind}_grow_only", _index(rows, ["site_id", "q", "period"]), parts, ">=", 0.0,
                 doc=f"{kind} capacity never shrinks, except by closing for good")
    if hasattr(m, "closed_site"):
        closable = closable_periods(net)
        pairs = closable.assign(_pos=np.arange(len(closable)))
        prev = pairs.groupby("site_id")["_pos"].shift(1)
        sel = prev.notna().to_numpy()
        if sel.any():
            n = int(sel.sum())
            add_rows(m, "closed_for_good", _index(closable[sel], ["site_id", "period"]),
                     [Terms.of(np.arange(n), m.closed_site, pos=np.flatnonzero(sel)),
                      Terms.of(np.arange(n), m.closed_site, pos=prev[sel].to_numpy().astype(np.int64), coef=-1.0)],
                     ">=", 0.0, doc="closed sites do not reopen")


def _monotone_capex(opts: pd.DataFrame) -> set[str]:
    """Sites whose capex charged never falls as the size grows (ranked by capacity)."""
    ranked = opts.assign(rank=_size_ranks(opts)).drop_duplicates(["site_id", "rank"]).sort_values(["site_id", "rank"])
    falls = ranked.groupby("site_id")["capex_charged"].apply(lambda c: bool((np.diff(c.to_numpy(float)) < 0).any()))
    return set(falls.index[~falls.to_numpy(dtype=bool)])


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
    per = inst.periods
    budget = per.capex_budget if per is not None else None
    total = inst.params.max_capex
    if budget is None and total is None:
        return
    step_parts, max_parts = [], []
    for kind, opts, var in (("spoke", net.spoke_options, m.open_spoke), ("hub", net.hub_options, m.open_hub)):
        if opts.empty:
            continue
        monotone = _monotone_capex(opts)
        mono = opts[opts["site_id"].isin(monotone)].reset_index()
        other = opts[~opts["site_id"].isin(monotone)].reset_index()
        if len(mono):
            rows = _schedule_rows(mono, net.periods).reset_index(drop=True)
            step_parts.append((kind, mono, var, rows))
        if len(other):
            rows = _schedule_rows(other, net.periods)
            rows = rows[rows["q"] == 0].drop(columns="q").reset_index(drop=True)
            max_parts.append((kind, other, var, rows))
    spend: list[tuple[np.ndarray, object, np.ndarray, np.ndarray]] = []  # (period of row, var, pos, coef)
    if step_parts:
        index = concat_rows(r for *_x, r in step_parts)
        m.CAPEX_STEPS = pyo.Set(initialize=_index(index, ["site_id", "q", "period"]), ordered=True, dimen=3)
        m.capex_step = pyo.Var(m.CAPEX_STEPS, within=pyo.NonNegativeReals, doc="size threshold q newly reached in period t")
        offset = 0
        for kind, opts, var, rows in step_parts:
            n = len(rows)
            pos_of = opts["index"].to_numpy()  # option rows of the full table
            r_now, o_now = _threshold_terms(opts, rows, "period")
            has_prev = rows["prev"].notna().to_numpy()
            r_prev, o_prev = _threshold_terms(opts, rows[has_prev].reset_index(drop=True), "prev")
            r_prev = np.flatnonzero(has_prev)[r_prev]
            # Y before the first period: the installed size of an existing site (rank 0 after filtering)
            sites = net.spoke_sites if kind == "spoke" else net.hub_sites
            status = rows["site_id"].map(dict(zip(sites["id"], sites["status"], strict=True)))
            installed = ((~has_prev) & (status.to_numpy() == "existing") & (rows["q"].to_numpy() == 0)).astype(float)
            add_rows(m, f"{kind}_capex_step", _index(rows, ["site_id", "q", "period"]),
                     [Terms.of(np.arange(n), m.capex_step, pos=offset + np.arange(n)),
                      Terms.of(r_now, var, pos=pos_of[o_now], coef=-1.0), Terms.of(r_prev, var, pos=pos_of[o_prev], coef=1.0)],
                     ">=", -installed, doc="a size threshold reached in a period is a capex step")
            ranked = opts.assign(rank=_size_ranks(opts))[["site_id", "rank", "capex_charged"]].drop_duplicates(["site_id", "rank"])
            cap = dict(zip(zip(ranked["site_id"], ranked["rank"], strict=True), ranked["capex_charged"], strict=True))
            delta = np.array([cap[(s, q)] - (cap[(s, q - 1)] if q > 0 else 0.0)
                              for s, q in zip(rows["site_id"], rows["q"], strict=True)])
            spend.append((rows["period"].to_numpy(), m.capex_step, offset + np.arange(n), delta))
            offset += n
    if max_parts:
        index = concat_rows(r for *_x, r in max_parts)
        m.CAPEX_REACHED = pyo.Set(initialize=_index(index, ["site_id", "period"]), ordered=True, dimen=2)
        m.capex_reached = pyo.Var(m.CAPEX_REACHED, within=pyo.NonNegativeReals,
                                  doc="largest capex charged among the sizes site i has operated up to period t")
        offset = 0
        for kind, opts, var, rows in max_parts:
            n = len(rows)
            pos_of = opts["index"].to_numpy()
            own = np.arange(n)
            o_row = _positions(opts, rows, ["site_id", "period"])
            add_rows(m, f"{kind}_capex_reached_covers", _index(rows, ["site_id", "period"]),
                     [Terms.of(own, m.capex_reached, pos=offset + own),
                      Terms.of(o_row, var, pos=pos_of, coef=-opts["capex_charged"].to_numpy(float))],
                     ">=", 0.0, doc="capex reached covers the size operated")
            prev_pos = rows.reset_index().merge(rows.reset_index()[["index", "site_id", "period"]],
                                                left_on=["site_id", "prev"], right_on=["site_id", "period"],
                                                suffixes=("", "_prev"))
            if len(prev_pos):
                k = len(prev_pos)
                add_rows(m, f"{kind}_capex_reached_grows", _index(prev_pos, ["site_id", "period"]),
                         [Terms.of(np.arange(k), m.capex_reached, pos=offset + prev_pos["index"].to_numpy()),
                          Terms.of(np.arange(k), m.capex_reached, pos=offset + prev_pos["index_prev"].to_numpy(), coef=-1.0)],
                         ">=", 0.0, doc="capex reached never falls")
                spend.append((prev_pos["period"].to_numpy(), m.capex_reached, offset + prev_pos["index_prev"].to_numpy(),
                              np.full(k, -1.0)))
            spend.append((rows["period"].to_numpy(), m.capex_reached, offset + own, np.ones(n)))
            offset += n
    if not spend:
        return

    def rows_for(select_row) -> list[Terms]:
        return [Terms.of(select_row(periods), var, pos=pos, coef=coef) for periods, var, pos, coef in spend]

    if budget is not None:
        order = {p: k for k, p in enumerate(net.periods)}
        add_rows(m, "capex_budget_period", list(net.periods),
                 rows_for(lambda periods: np.array([order[p] for p in periods], dtype=np.int64)),
                 "<=", np.asarray(budget, dtype=float), doc="capex spent per period within its budget")
    if total is not None:
        add_rows(m, "capex_budget", ["total"], rows_for(lambda periods: np.zeros(len(periods), dtype=np.int64)),
                 "<=", float(total), doc="capex spent over the horizon within the budget")


def add_spoke_capacity(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Packs into a spoke within the chosen size.

    .. math:: \sum_{r,c} x_{r,s,c,t} \le \sum_k \text{cap}_{s,k}\, y^S_{s,k,t}
    """
    rows = net.spoke_options[["site_id", "period"]].drop_duplicates().reset_index(drop=True)
    flows = Terms.of(_positions(net.arcs_rs.rename(columns={"spoke_id": "site_id"}), rows, ["site_id", "period"]),
                     m.flow_pack_t)
    sizes = Terms.of(_positions(net.spoke_options, rows, ["site_id", "period"]), m.open_spoke,
                     coef=-net.spoke_options["capacity_t"].to_numpy(dtype=float))
    add_rows(m, "spoke_capacity", _index(rows, ["site_id", "period"]), [flows, sizes], "<=", 0.0,
             doc="t packs in <= capacity of the size operated")


def add_spoke_mass_balance(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Packs become black mass by the chemistry's yield; all of it leaves to hubs or merchants.

    .. math:: \eta_c \sum_r x_{r,s,c,t} = \sum_h z_{s,h,c,t} + w_{s,c,t}
    """
    keys = ["spoke_id", "chemistry", "period"]
    rows = net.arcs_rs[keys].drop_duplicates().reset_index(drop=True)
    yields = net.arcs_rs["chemistry"].map(net.black_mass_yield).to_numpy(dtype=float)
    parts = [
        Terms.of(_positions(net.arcs_rs, rows, keys), m.flow_pack_t, coef=yields),
        Terms.of(_positions(net.arcs_sh, rows, keys), m.flow_black_mass_t, coef=-1.0),
        Terms.of(_positions(net.merchant, rows, keys), m.merchant_t, coef=-1.0),
    ]
    add_rows(m, "spoke_mass_balance", _index(rows, keys), parts, "==", 0.0,
             doc="yield x packs in = black mass out")


def add_hub_capacity(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Black mass into a hub within the chosen size (hubs receive only accepted chemistries,
    because :math:`z` exists only on accepting arcs).

    .. math:: \sum_{s,c} z_{s,h,c,t} \le \sum_k \text{cap}_{h,k}\, y^H_{h,k,t}
    """
    rows = net.hub_options[["site_id", "period"]].drop_duplicates().reset_index(drop=True)
    flows = Terms.of(_positions(net.arcs_sh.rename(columns={"hub_id": "site_id"}), rows, ["site_id", "period"]),
                     m.flow_black_mass_t)
    sizes = Terms.of(_positions(net.hub_options, rows, ["site_id", "period"]), m.open_hub,
                     coef=-net.hub_options["capacity_t"].to_numpy(dtype=float))
    add_rows(m, "hub_capacity", _index(rows, ["site_id", "period"]), [flows, sizes], "<=", 0.0,
             doc="t black mass in <= capacity of the size operated")


def _pairs(left: pd.DataFrame, right: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left`` row i and ``right`` row j equal on ``cols`` (a vectorised join)."""
    a, b = _codes([left, right], cols)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    start = np.searchsorted(sb, a, "left")
    count = np.searchsorted(sb, a, "right") - start
    i = np.repeat(np.arange(len(left)), count)
    offset = np.arange(len(i)) - np.repeat(np.cumsum(count) - count, count)
    return i, order[np.repeat(start, count) + offset]


def _link(m, name: str, arcs: pd.DataFrame, site_col: str, flow_var, options: pd.DataFrame, open_var, doc: str) -> None:
    """Per-arc linking rows ``flow <= sum_k min(ub, cap_k) * open_k``."""
    if arcs.empty:
        return
    arc, opt = _pairs(arcs.rename(columns={site_col: "site_id"}), options, ["site_id", "period"])
    coef = -np.minimum(arcs["ub_t"].to_numpy(dtype=float)[arc], options["capacity_t"].to_numpy(dtype=float)[opt])
    parts = [
        Terms.of(np.arange(len(arcs)), flow_var),
        Terms.of(arc, open_var, pos=opt, coef=coef),
    ]
    add_rows(m, name, flow_var.index_set(), parts, "<=", 0.0, doc=doc)


def add_link_region_spoke(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Strong linking: no pack flow into a closed spoke, big-M from real capacities.

    .. math:: x_{r,s,c,t} \le \sum_k \min(\text{supply}_{r,c,t}, \text{cap}_{s,k})\, y^S_{s,k,t}
    """
    _link(m, "link_region_spoke", net.arcs_rs, "spoke_id", m.flow_pack_t, net.spoke_options, m.open_spoke,
          "pack flow only into an open spoke")


def add_link_spoke_hub(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Strong linking: no black mass into a closed hub.

    .. math:: z_{s,h,c,t} \le \sum_k \min(\bar z_{s,c,t}, \text{cap}_{h,k})\, y^H_{h,k,t}

    where :math:`\bar z_{s,c,t} = \eta_c \min(\max_k \text{cap}_{s,k}, \sum_r \text{supply}_{r,c,t})`
    over regions within reach of :math:`s`.
    """
    _link(m, "link_spoke_hub", net.arcs_sh, "hub_id", m.flow_black_mass_t, net.hub_options, m.open_hub,
          "black mass only into an open hub")


def add_single_sourcing(m: pyo.ConcreteModel, net: Network) -> None:
    r"""Each region ships all its collected packs to one spoke (one collection contract).

    .. math:: \sum_s a_{r,s,t} \le 1, \qquad x_{r,s,c,t} \le \text{supply}_{r,c,t}\, a_{r,s,t},
       \qquad a_{r,s,t} \le \sum_k y^S_{s,k,t}
    """
    pairs = net.arcs_rs[["region_id", "spoke_id", "period"]].drop_duplicates().reset_index(drop=True)
    m.ASSIGN = pyo.Set(initialize=_index(pairs, ["region_id", "spoke_id", "period"]), ordered=True, dimen=3)
    m.assign = pyo.Var(m.ASSIGN, within=pyo.Binary, doc="region r contracts spoke s in period t")
    regions = pairs[["region_id", "period"]].drop_duplicates().reset_index(drop=True)
    add_rows(m, "assign_one", _index(regions, ["region_id", "period"]),
             [Terms.of(_positions(pairs, regions, ["region_id", "period"]), m.assign)], "<=", 1.0,
             doc="at most one spoke per region")
    arc_pair = _positions(net.arcs_rs, pairs, ["region_id", "spoke_id", "period"])
    n_arcs = len(net.arcs_rs)
    add_rows(m, "assign_flow", m.ARCS_REGION_SPOKE,
             [Terms.of(np.arange(n_arcs), m.flow_pack_t),
              Terms.of(np.arange(n_arcs), m.assign, pos=arc_pair, coef=-net.arcs_rs["ub_t"].to_numpy(dtype=float))],
             "<=", 0.0, doc="flow only to the contracted spoke")
    row, opt = _pairs(pairs.rename(columns={"spoke_id": "site_id"}), net.spoke_options, ["site_id", "period"])
    add_rows(m, "assign_open", m.ASSIGN,
             [Terms.of(np.arange(len(pairs)), m.assign),
              Terms.of(row, m.open_spoke, pos=opt, coef=-1.0)],
             "<=", 0.0, doc="contract only an open spoke")


def add_capacity_cover(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Capacity-cover cuts: the sizes opened must be able to take what has to be collected.

    .. math:: \sum_{s,k} \text{cap}_{s,k} y^S_{s,k,t} \ge \sum_{r,c} \rho\,\text{supply}_{r,c,t}
    .. math:: \sum_{h \ni c,k} \text{cap}_{h,k} y^H_{h,k,t} \ge \eta_c \sum_r \rho\,\text{supply}_{r,c,t} - \text{mcap}_c

    (per chemistry over the hubs accepting it, and summed over chemistries for all hubs).  Implied
    by the model, so the optimum is unchanged; they give the LP relaxation and HiGHS's cover
    separators a knapsack over the binaries that the flow rows only state indirectly.
    """
    req = net.supply.groupby(["period", "chemistry"])["required_t"].sum()
    so, ho = net.spoke_options, net.hub_options
    rows_s = []
    for period in net.periods:
        need = float(req.loc[period].sum()) if period in req.index.get_level_values(0) else 0.0
        if need > 0 and len(so):
            rows_s.append((period, need))
    if rows_s:
        index = [p for p, _ in rows_s]
        rows = pd.DataFrame({"period": index})
        sel = np.flatnonzero(so["period"].isin(index).to_numpy())
        add_rows(m, "cover_spoke", index,
                 [Terms.of(_positions(so.iloc[sel], rows, ["period"]), m.open_spoke, pos=sel,
                           coef=so["capacity_t"].to_numpy(float)[sel])],
                 ">=", np.array([v for _, v in rows_s]), doc="spoke capacity opened covers required collection")
    if ho.empty:
        return
    merchant_cap = {c.name: (c.merchant_cap_t if c.merchant_cap_t is not None else np.inf)
                    if c.merchant_price_per_t is not None else 0.0 for c in inst.chemistries}
    accepts = {c: set(inst.hubs.loc[inst.hubs[f"accepts_{c}"].astype(bool), "id"]) for c in net.chems}
    idx, terms_row, terms_pos, terms_coef, rhs = [], [], [], [], []
    for period in net.periods:
        sel = np.flatnonzero(ho["period"].to_numpy() == period)
        total = 0.0
        for c in net.chems:
            need = float(req.get((period, c), 0.0)) * net.black_mass_yield[c] - merchant_cap[c]
            if need <= 1e-9:
                continue
            total += need
            hit = np.array([i for i in sel if ho["site_id"].iat[i] in accepts[c]], dtype=np.int64)
            row = len(idx)
            idx.append((c, period))
            terms_row.append(np.full(len(hit), row))
            terms_pos.append(hit)
            terms_coef.append(ho["capacity_t"].to_numpy(float)[hit])
            rhs.append(need)
        if total > 1e-9 and len(net.chems) > 1:
            row = len(idx)
            idx.append(("all", period))
            terms_row.append(np.full(len(sel), row))
            terms_pos.append(sel)
            terms_coef.append(ho["capacity_t"].to_numpy(float)[sel])
            rhs.append(total)
    if idx:
        add_rows(m, "cover_hub", idx,
                 [Terms.of(np.concatenate(terms_row), m.open_hub, pos=np.concatenate(terms_pos),
                           coef=np.concatenate(terms_coef))],
                 ">=", np.asarray(rhs), doc="hub capacity opened covers black mass with nowhere else to go")


def add_merchant_cap(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Network-wide merchant market size per chemistry, where one is given.

    .. math:: \sum_s w_{s,c,t} \le \text{mcap}_c
    """
    caps = {c.name: c.merchant_cap_t for c in inst.chemistries if c.merchant_cap_t is not None}
    sel = net.merchant[net.merchant["chemistry"].isin(list(caps))]
    if sel.empty:
        return
    rows = sel[["chemistry", "period"]].drop_duplicates().reset_index(drop=True)
    add_rows(m, "merchant_cap", _index(rows, ["chemistry", "period"]),
             [Terms.of(_positions(sel, rows, ["chemistry", "period"]), m.merchant_t, pos=sel.index.to_numpy())], "<=",
             rows["chemistry"].map(caps).to_numpy(dtype=float), doc="merchant sales within the market cap")


def add_forced_open(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Scenario overrides: the forced sites operate some size in every period they may.

    .. math:: \sum_k y_{i,k,t} \ge 1 \quad i \in \text{forced}
    """
    forced = set(inst.forced_open)
    for kind, opts, var in (("spoke", net.spoke_options, m.open_spoke), ("hub", net.hub_options, m.open_hub)):
        sel = np.flatnonzero(opts["site_id"].isin(forced).to_numpy())
        if not len(sel):
            continue
        rows = opts.iloc[sel][["site_id", "period"]].drop_duplicates().reset_index(drop=True)
        add_rows(m, f"{kind}_forced_open", _index(rows, ["site_id", "period"]),
                 [Terms.of(_positions(opts.iloc[sel], rows, ["site_id", "period"]), var, pos=sel)], ">=", 1.0,
                 doc=f"forced {kind}s operate")


def add_site_count_caps(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Optional caps on the number of open sites.

    .. math:: \sum_{s,k} y^S_{s,k,t} \le N^S, \qquad \sum_{h,k} y^H_{h,k,t} \le N^H
    """
    for kind, cap, opts, var in (("spokes", inst.params.max_spokes, net.spoke_options, m.open_spoke),
                                 ("hubs", inst.params.max_hubs, net.hub_options, m.open_hub)):
        if cap is None or opts.empty:
            continue
        rows = pd.DataFrame({"period": net.periods})
        add_rows(m, f"max_{kind}", net.periods,
                 [Terms.of(_positions(opts, rows, ["period"]), var)], "<=", float(cap),
                 doc=f"at most {cap} {kind} open")


def add_capex_budget(m: pyo.ConcreteModel, inst: Instance, net: Network) -> None:
    r"""Optional budget on up-front capex charged (sunk capex of existing sizes is not charged).

    .. math:: \sum_{s,k} \text{capex}_{s,k} y^S_{s,k} + \sum_{h,k} \text{capex}_{h,k} y^H_{h,k} \le B
    """
    budget = inst.params.max_capex
    if budget is None:
        return
    parts = [
        Terms.of(np.zeros(len(net.spoke_options), dtype=np.int64), m.open_spoke,
                 coef=net.spoke_options["capex_charged"].to_numpy(dtype=float)),
        Terms.of(np.zeros(len(net.hub_options), dtype=np.int64), m.open_hub,
                 coef=net.hub_options["capex_charged"].to_numpy(dtype=float)),
    ]
    add_rows(m, "capex_budget", ["total"], parts, "<=", float(budget), doc="capex charged within the budget")


# --- objective -----------------------------------------------------------------------------------

#: Cost components in reporting order; revenue components enter the objective with a minus sign.
COST_COMPONENTS = (
    "capex_annualised",
    "fixed_opex",
    "spoke_processing",
    "hub_processing",
    "transport_pack",
    "transport_black_mass",
    "uncollected_penalty",
)
REVENUE_COMPONENTS = ("merchant_revenue", "hub_revenue")


def add_objective(m: pyo.ConcreteModel, inst: Instance, net: Network, options: ModelOptions) -> None:
    r"""Minimise annual net cost (or, in diagnosis mode, the unmet required collection).

    .. math::
       \min \sum_t \omega_t \Big[ \sum_{i,k} (\text{crf}\,\text{capex}_{i,k} + \text{opex}_{i,k}) y_{i,k,t}
       + \sum (v^S + \tau^P_{r,s}) x + \sum (v^H + \tau^B_{s,h}) z + \pi \sum u
       - \sum_{s,c} p_c w_{s,c,t} - \sum \text{rev}_c z \Big]

    with :math:`\omega_t` the period weight (1 for a single period).
    """
    p = inst.params

    def weight(df: pd.DataFrame) -> np.ndarray:
        return df["period"].map(net.period_weight).to_numpy(dtype=float)

    so, ho = net.spoke_options, net.hub_options
    unc = net.supply[net.supply["supply_t"] > net.supply["required_t"]]
    rev = {c.name: c.hub_revenue_per_t or 0.0 for c in inst.chemistries}

    def per_t(df: pd.DataFrame, var, coef) -> Terms:
        c = np.broadcast_to(weight(df) * coef, (len(df),))
        keep = np.flatnonzero(c != 0)  # a zero price adds no term
        return Terms.of(np.zeros(len(keep), dtype=np.int64), var, pos=keep, coef=c[keep])

    components = [
        (+1, "cost_capex_annualised", [per_t(so, m.open_spoke, net.crf * so["capex_charged"].to_numpy(float)),
                                       per_t(ho, m.open_hub, net.crf * ho["capex_charged"].to_numpy(float))]),
        (+1, "cost_fixed_opex", [per_t(so, m.open_spoke, so["fixed_opex_per_yr"].to_numpy(float)),
                                 per_t(ho, m.open_hub, ho["fixed_opex_per_yr"].to_numpy(float))]),
        (+1, "cost_spoke_processing", [per_t(net.arcs_rs, m.flow_pack_t, p.spoke_cost_per_t)]),
        (+1, "cost_hub_processing", [per_t(net.arcs_sh, m.flow_black_mass_t, p.hub_cost_per_t)]),
        (+1, "cost_transport_pack", [per_t(net.arcs_rs, m.flow_pack_t, net.arcs_rs["cost_per_t"].to_numpy(float))]),
        (+1, "cost_transport_black_mass", [per_t(net.arcs_sh, m.flow_black_mass_t, net.arcs_sh["cost_per_t"].to_numpy(float))]),
        (+1, "cost_uncollected_penalty", [per_t(unc, m.uncollected_t, p.uncollected_penalty_per_t or 0.0)]),
        (-1, "revenue_merchant", [per_t(net.merchant, m.merchant_t, net.merchant["price_per_t"].to_numpy(float))]),
        (-1, "revenue_hub", [per_t(net.arcs_sh, m.flow_black_mass_t, net.arcs_sh["chemistry"].map(rev).to_numpy(float))]),
    ]
    if hasattr(m, "closed_site"):
        # closed[t] - closed[t-1] = 1 in the closure period: a one-off cost, discounted to its start
        closable = closable_periods(net)
        start = inst.periods.start_discount(p.discount_rate)
        nxt = {t: (start[net.periods[k + 1]] if k + 1 < len(net.periods) else 0.0) for k, t in enumerate(net.periods)}
        cost = closable["site_id"].map(dict(zip(
            concat_rows([inst.spokes, inst.hubs])["id"], concat_rows([inst.spokes, inst.hubs])["closure_cost"], strict=True)))
        coef = cost.to_numpy(float) * (closable["period"].map(start) - closable["period"].map(nxt)).to_numpy(float)
        components.insert(7, (+1, "cost_closure", [Terms.of(np.zeros(len(closable), dtype=np.int64), m.closed_site, coef=coef)]))
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
