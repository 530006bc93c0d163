"""Modelling-layer benchmark: three routes to the same MILP, side by side.

The *modelling layer* is everything around the HiGHS solve: building the model, handing it to
HiGHS, and turning HiGHS's column values into result tables.  ``benchmarks/modelling_layer.py``
times it for three routes to the identical MILP (what ``build_model`` produces with default
``ModelOptions``) on synthetic instances of growing size (``optimizer.bench.synthetic``, sizes
written regions x spokes x hubs x chemistries).  HiGHS is never run.  Every route starts from
``build_network(inst)``, which counts as build time (and is also shown on its own).

* **naive** -- the formulation written the textbook Pyomo way: ``pyo.Set`` index sets,
  coefficients in dicts, ``Constraint(..., rule=...)`` rules summing ``m.x[a]`` over adjacency
  lists precomputed from the network tables, garbage collector on.  Hand-off: Pyomo's HiGHS
  interface, ``Highs().set_instance(m)``.  Extraction: the interface's solution loader
  (``load_vars()``), then one DataFrame per variable family from ``var.items()``.
* **spokehub** -- what ``spokehub solve`` runs: ``build_model``; hand-off ``compile_model`` +
  ``Highs.passModel``; extraction by slicing the column vector into the variable blocks and
  ``extract_tables`` (sites, flows, regions, costs).
* **floor** -- the same matrix built with vectorised numpy straight from the network tables (no
  Pyomo, no Python loop over rows or arcs), CSR -> ``Highs.passModel``; extraction slices the
  column vector into one numpy array per family.  The least any route from the tables can cost.

Run from the repository root (the default sizes are 100x30x5x2, 300x100x10x2, 1000x300x25x2 and
3000x500x50x2)::

    python benchmarks/modelling_layer.py [--sizes 100x30x5x2,300x100x10x2] [--routes naive,spokehub,floor]
                                         [--csv benchmarks/results/modelling_layer.csv] [--seed 0]

Each route runs in its own subprocess, after one untimed warm-up run on a tiny instance, so first
calls are not counted and peak memory (``ru_maxrss``; it includes the imports and the instance,
about 0.17 GB) is that route's.  All routes extract the same column vector (one size open per
site, flows 1-2 t), handed over as a ``HighsSolution``.  The smallest size reports the best of
three runs, larger sizes one run.  Printed and written as CSV (default
``benchmarks/results/modelling_layer.csv``, one line per size and route): columns, rows and nonzeros; per
route build, hand-off, extraction and total seconds, seconds per million nonzeros and peak RSS
(GB); and naive total / spokehub total.  The script also checks that the routes hand HiGHS the same
model -- floor and spokehub identical for every size (counts, bounds, objective, a hash of the
whole matrix in order), naive the same up to row and column order for the smallest size -- and
prints ``same model: yes``, or exits with status 1.
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = "100x30x5x2,300x100x10x2,1000x300x25x2,3000x500x50x2"
ROUTES = ("naive", "spokehub", "floor")
WARMUP_SIZE = (30, 12, 4)
RESULT_TAG = "@@modelling-layer-result@@ "
CSV_COLUMNS = ["size", "n_regions", "n_spokes", "n_hubs", "n_chems", "cols", "rows", "nnz", "route", "reps",
               "network_s", "build_s", "handoff_s", "extract_s", "total_s", "s_per_m_nnz", "peak_rss_gb",
               "base_rss_gb", "naive_over_spokehub"]


# --- shared by all routes --------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.lower().split("x")]
    if len(parts) == 3:
        parts.append(2)
    if len(parts) != 4 or min(parts[:2]) < 1 or parts[2] < 0 or not 1 <= parts[3] <= 4:
        raise argparse.ArgumentTypeError(f"size must be REGIONSxSPOKESxHUBSxCHEMS, got {text!r}")
    return tuple(parts)


def size_label(size) -> str:
    return "x".join(str(v) for v in size)


def model_families(net) -> dict:
    """The variable families ``build_model`` declares, in declaration order (the column order of
    spokehub and floor): ``Network.families()`` without ``closed_site`` when there is nothing to
    close in one period (the synthetic instances never have closable sites)."""
    fams = net.families()
    if net.single_period and not len(fams["closed_site"][0]):
        del fams["closed_site"]
    return fams


def family_lengths(net) -> dict[str, int]:
    return {fam: len(table) for fam, (table, _keys) in model_families(net).items()}


def check_supported(inst, net, route: str) -> None:
    """The naive and floor routes write out only what ``build_model`` creates for the synthetic
    instances (one period, defaults); anything else is refused rather than silently different."""
    p = inst.params
    missing = [what for what, present in (
        ("single sourcing", p.single_sourcing), ("several periods", not net.single_period),
        ("site closures", "closed_site" in model_families(net)), ("forced-open sites", bool(inst.forced_open)),
        ("minimum throughputs", any((net.tiers[t].options["min_throughput_t"] > 0).any() for t in ("spoke", "hub"))),
        ("tiers other than spoke and hub", set(net.tiers) != {"spoke", "hub"}),
        ("legs other than region_spoke and spoke_hub", set(net.arcs) != {"region_spoke", "spoke_hub"}),
    ) if present]
    if missing:
        raise NotImplementedError(f"the {route} route does not model {', '.join(missing)}")


def fixed_values(net):
    """The column values handed to every route's extraction, by family (index order).

    Binaries: the first size option of each site is 1, the others 0 (one size per site, as a
    solution has).  Continuous columns: 1.0 .. 1.99 t, above the reporting tolerance, so every flow
    appears in the tables.
    """
    import numpy as np

    out = {}
    for fam, (table, _keys) in model_families(net).items():
        if fam.startswith("open_"):
            out[fam] = (~table.duplicated(["site_id", "period"])).to_numpy(dtype=float)
        elif fam == "closed_site":
            out[fam] = np.zeros(len(table))
        else:
            out[fam] = 1.0 + 0.01 * (np.arange(len(table)) % 100)
    return out


def highs_solution(x):
    """``x`` as HiGHS returns a primal solution."""
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = x
    sol.value_valid = True
    return sol


def max_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # ru_maxrss is in KiB on Linux


# --- naive: textbook Pyomo + Pyomo's HiGHS interface --------------------------------------------


def naive_model(inst, net):
    """The spokehub MILP written the textbook Pyomo way (rules over precomputed adjacency lists)."""
    import pyomo.environ as pyo

    p = inst.params
    check_supported(inst, net, "naive")
    spokes, hubs = net.tiers["spoke"], net.tiers["hub"]
    so, ho, sup = spokes.options, hubs.options, net.supply
    rs, sh, mer = net.arcs["region_spoke"], net.arcs["spoke_hub"], net.merchant
    wt, crf, yld = net.period_weight, net.crf, net.black_mass_yield

    # Index sets and data, keyed like the sets.
    spoke_sizes = list(zip(so["site_id"], so["size"], so["period"], strict=True))
    hub_sizes = list(zip(ho["site_id"], ho["size"], ho["period"], strict=True))
    arcs_rs = list(zip(rs["origin"], rs["destination"], rs["chemistry"], rs["period"], strict=True))
    arcs_sh = list(zip(sh["origin"], sh["destination"], sh["chemistry"], sh["period"], strict=True))
    merchant = list(zip(mer["site_id"], mer["chemistry"], mer["period"], strict=True))
    supply_keys = list(zip(sup["region_id"], sup["chemistry"], sup["period"], strict=True))
    supply = dict(zip(supply_keys, sup["supply_t"], strict=True))
    required = dict(zip(supply_keys, sup["required_t"], strict=True))
    unc_ub = {k: supply[k] - required[k] for k in supply_keys if supply[k] > required[k]}
    cap_s = dict(zip(spoke_sizes, so["capacity_t"], strict=True))
    cap_h = dict(zip(hub_sizes, ho["capacity_t"], strict=True))
    capex_s = dict(zip(spoke_sizes, so["capex_charged"], strict=True))
    capex_h = dict(zip(hub_sizes, ho["capex_charged"], strict=True))
    opex_s = dict(zip(spoke_sizes, so["fixed_opex_per_yr"], strict=True))
    opex_h = dict(zip(hub_sizes, ho["fixed_opex_per_yr"], strict=True))
    ub_rs = dict(zip(arcs_rs, rs["ub_t"], strict=True))
    ub_sh = dict(zip(arcs_sh, sh["ub_t"], strict=True))
    ub_w = dict(zip(merchant, mer["ub_t"], strict=True))
    cost_rs = dict(zip(arcs_rs, rs["cost_per_t"], strict=True))
    cost_sh = dict(zip(arcs_sh, sh["cost_per_t"], strict=True))
    price = dict(zip(merchant, mer["price_per_t"], strict=True))
    status_s = dict(zip(spokes.sites["id"], spokes.sites["status"], strict=True))
    status_h = dict(zip(hubs.sites["id"], hubs.sites["status"], strict=True))
    proc_s = dict(zip(spokes.sites["id"], spokes.sites["cost_per_t"], strict=True))  # per site, on what it takes in
    proc_h = dict(zip(hubs.sites["id"], hubs.sites["cost_per_t"], strict=True))
    accepts = {c: set(inst.hubs.loc[inst.hubs[f"accepts_{c}"].astype(bool), "id"]) for c in net.chems}
    rev = {c.name: c.hub_revenue_per_t or 0.0 for c in inst.chemistries}

    # Adjacency lists.
    sizes_of_spoke, sizes_of_hub = defaultdict(list), defaultdict(list)
    for s, k, t in spoke_sizes:
        sizes_of_spoke[s, t].append(k)
    for h, k, t in hub_sizes:
        sizes_of_hub[h, t].append(k)
    rs_of_supply, rs_into_spoke, rs_into_spoke_chem = defaultdict(list), defaultdict(list), defaultdict(list)
    for a in arcs_rs:
        r, s, c, t = a
        rs_of_supply[r, c, t].append(a)
        rs_into_spoke[s, t].append(a)
        rs_into_spoke_chem[s, c, t].append(a)
    sh_out_of_spoke_chem, sh_into_hub = defaultdict(list), defaultdict(list)
    for a in arcs_sh:
        s, h, c, t = a
        sh_out_of_spoke_chem[s, c, t].append(a)
        sh_into_hub[h, t].append(a)

    m = pyo.ConcreteModel(name=f"naive[{inst.name}]")
    m.SPOKE_SIZES = pyo.Set(initialize=spoke_sizes, dimen=3)
    m.HUB_SIZES = pyo.Set(initialize=hub_sizes, dimen=3)
    m.ARCS_REGION_SPOKE = pyo.Set(initialize=arcs_rs, dimen=4)
    m.ARCS_SPOKE_HUB = pyo.Set(initialize=arcs_sh, dimen=4)
    m.MERCHANT = pyo.Set(initialize=merchant, dimen=3)
    m.SUPPLY = pyo.Set(initialize=supply_keys, dimen=3)
    m.UNCOLLECTABLE = pyo.Set(initialize=list(unc_ub), dimen=3)
    m.SPOKE_SITES = pyo.Set(initialize=list(sizes_of_spoke), dimen=2)
    m.HUB_SITES = pyo.Set(initialize=list(sizes_of_hub), dimen=2)
    m.SPOKE_CHEMS = pyo.Set(initialize=list(rs_into_spoke_chem), dimen=3)

    m.open_spoke = pyo.Var(m.SPOKE_SIZES, within=pyo.Binary)
    m.open_hub = pyo.Var(m.HUB_SIZES, within=pyo.Binary)
    m.flow_region_spoke_t = pyo.Var(m.ARCS_REGION_SPOKE, within=pyo.NonNegativeReals, bounds=lambda m, *a: (0, ub_rs[a]))
    m.flow_spoke_hub_t = pyo.Var(m.ARCS_SPOKE_HUB, within=pyo.NonNegativeReals, bounds=lambda m, *a: (0, ub_sh[a]))
    m.merchant_t = pyo.Var(m.MERCHANT, within=pyo.NonNegativeReals, bounds=lambda m, *a: (0, ub_w[a]))
    m.uncollected_t = pyo.Var(m.UNCOLLECTABLE, within=pyo.NonNegativeReals, bounds=lambda m, *a: (0, unc_ub[a]))

    def supply_balance(m, r, c, t):
        collected = sum(m.flow_region_spoke_t[a] for a in rs_of_supply[r, c, t])
        if (r, c, t) in unc_ub:
            collected += m.uncollected_t[r, c, t]
        return collected == supply[r, c, t]

    m.supply_balance = pyo.Constraint(m.SUPPLY, rule=supply_balance)

    for kind, sites, sizes_of, status, y in (("spoke", m.SPOKE_SITES, sizes_of_spoke, status_s, m.open_spoke),
                                             ("hub", m.HUB_SITES, sizes_of_hub, status_h, m.open_hub)):
        new = [(i, t) for i, t in sites if status[i] != "existing"]
        old = [(i, t) for i, t in sites if status[i] == "existing"]
        if new:
            m.add_component(f"{kind}_one_size", pyo.Constraint(
                new, rule=lambda m, i, t, y=y, sizes_of=sizes_of: sum(y[i, k, t] for k in sizes_of[i, t]) <= 1))
        if old:
            m.add_component(f"{kind}_existing_open", pyo.Constraint(
                old, rule=lambda m, i, t, y=y, sizes_of=sizes_of: sum(y[i, k, t] for k in sizes_of[i, t]) == 1))

    def spoke_capacity(m, s, t):
        return (sum(m.flow_region_spoke_t[a] for a in rs_into_spoke[s, t])
                <= sum(cap_s[s, k, t] * m.open_spoke[s, k, t] for k in sizes_of_spoke[s, t]))

    m.spoke_capacity = pyo.Constraint(m.SPOKE_SITES, rule=spoke_capacity)

    def spoke_mass_balance(m, s, c, t):
        out = sum(m.flow_spoke_hub_t[a] for a in sh_out_of_spoke_chem[s, c, t])
        if (s, c, t) in ub_w:
            out += m.merchant_t[s, c, t]
        return sum(yld[c] * m.flow_region_spoke_t[a] for a in rs_into_spoke_chem[s, c, t]) == out

    m.spoke_mass_balance = pyo.Constraint(m.SPOKE_CHEMS, rule=spoke_mass_balance)

    def hub_capacity(m, h, t):
        return (sum(m.flow_spoke_hub_t[a] for a in sh_into_hub[h, t])
                <= sum(cap_h[h, k, t] * m.open_hub[h, k, t] for k in sizes_of_hub[h, t]))

    if hub_sizes:
        m.hub_capacity = pyo.Constraint(m.HUB_SITES, rule=hub_capacity)

    def link_region_spoke(m, r, s, c, t):
        return m.flow_region_spoke_t[r, s, c, t] <= sum(min(ub_rs[r, s, c, t], cap_s[s, k, t]) * m.open_spoke[s, k, t]
                                                for k in sizes_of_spoke[s, t])

    m.link_region_spoke = pyo.Constraint(m.ARCS_REGION_SPOKE, rule=link_region_spoke)

    def link_spoke_hub(m, s, h, c, t):
        return m.flow_spoke_hub_t[s, h, c, t] <= sum(min(ub_sh[s, h, c, t], cap_h[h, k, t]) * m.open_hub[h, k, t]
                                                      for k in sizes_of_hub[h, t])

    m.link_spoke_hub = pyo.Constraint(m.ARCS_SPOKE_HUB, rule=link_spoke_hub)

    # Capacity-cover rows (what build.add_capacity_cover adds with default options).
    req = defaultdict(float)
    for key in supply_keys:
        req[key[2], key[1]] += required[key]
    need_s = {t: sum(v for (tt, _), v in req.items() if tt == t) for t in net.periods}
    cover_s = [t for t in net.periods if need_s[t] > 0 and spoke_sizes]
    if cover_s:
        m.cover_spoke = pyo.Constraint(cover_s, rule=lambda m, t: sum(
            cap_s[s, k, tt] * m.open_spoke[s, k, tt] for s, k, tt in m.SPOKE_SIZES if tt == t) >= need_s[t])
    if hub_sizes:
        mcap = {c.name: (c.merchant_cap_t if c.merchant_cap_t is not None else float("inf"))
                if c.merchant_price_per_t is not None else 0.0 for c in inst.chemistries}
        need_h = {}
        for t in net.periods:
            total = 0.0
            for c in net.chems:
                need = req.get((t, c), 0.0) * yld[c] - mcap[c]
                if need > 1e-9:
                    need_h[c, t] = need
                    total += need
            if total > 1e-9 and len(net.chems) > 1:
                need_h["all", t] = total

        def cover_hub(m, c, t):
            return sum(cap_h[h, k, tt] * m.open_hub[h, k, tt] for h, k, tt in m.HUB_SIZES
                       if tt == t and (c == "all" or h in accepts[c])) >= need_h[c, t]

        if need_h:
            m.cover_hub = pyo.Constraint(list(need_h), rule=cover_hub)

    caps = {c.name: c.merchant_cap_t for c in inst.chemistries if c.merchant_cap_t is not None}
    merchant_spokes = defaultdict(list)
    for s, c, t in merchant:
        if c in caps:
            merchant_spokes[c, t].append(s)
    if merchant_spokes:
        m.merchant_cap = pyo.Constraint(list(merchant_spokes), rule=lambda m, c, t: sum(
            m.merchant_t[s, c, t] for s in merchant_spokes[c, t]) <= caps[c])
    for kind, keys, y in (("spokes", spoke_sizes, m.open_spoke), ("hubs", hub_sizes, m.open_hub)):
        most, least = getattr(p, f"max_{kind}"), getattr(p, f"min_{kind}")
        if most is not None and keys:
            m.add_component(f"max_{kind}", pyo.Constraint(net.periods, rule=lambda m, t, keys=keys, y=y, n=most: sum(
                y[i, k, tt] for i, k, tt in keys if tt == t) <= n))
        if least is not None:
            m.add_component(f"min_{kind}", pyo.Constraint(net.periods, rule=lambda m, t, keys=keys, y=y, n=least: sum(
                y[i, k, tt] for i, k, tt in keys if tt == t) >= n))
    if p.max_capex is not None:
        m.capex_budget = pyo.Constraint(expr=sum(capex_s[k] * m.open_spoke[k] for k in m.SPOKE_SIZES)
                                        + sum(capex_h[k] * m.open_hub[k] for k in m.HUB_SIZES) <= p.max_capex)

    # Objective, one named expression per cost component as build.py has them.
    m.cost_capex_annualised = pyo.Expression(
        expr=sum(wt[t] * crf * capex_s[s, k, t] * m.open_spoke[s, k, t] for s, k, t in m.SPOKE_SIZES)
        + sum(wt[t] * crf * capex_h[h, k, t] * m.open_hub[h, k, t] for h, k, t in m.HUB_SIZES))
    m.cost_fixed_opex = pyo.Expression(
        expr=sum(wt[t] * opex_s[s, k, t] * m.open_spoke[s, k, t] for s, k, t in m.SPOKE_SIZES)
        + sum(wt[t] * opex_h[h, k, t] * m.open_hub[h, k, t] for h, k, t in m.HUB_SIZES))
    m.cost_spoke_processing = pyo.Expression(
        expr=sum(wt[a[3]] * proc_s[a[1]] * m.flow_region_spoke_t[a] for a in m.ARCS_REGION_SPOKE))
    m.cost_hub_processing = pyo.Expression(
        expr=sum(wt[a[3]] * proc_h[a[1]] * m.flow_spoke_hub_t[a] for a in m.ARCS_SPOKE_HUB))
    m.cost_transport_pack = pyo.Expression(
        expr=sum(wt[a[3]] * cost_rs[a] * m.flow_region_spoke_t[a] for a in m.ARCS_REGION_SPOKE))
    m.cost_transport_black_mass = pyo.Expression(
        expr=sum(wt[a[3]] * cost_sh[a] * m.flow_spoke_hub_t[a] for a in m.ARCS_SPOKE_HUB))
    m.cost_uncollected_penalty = pyo.Expression(
        expr=sum(wt[a[2]] * (p.uncollected_penalty_per_t or 0.0) * m.uncollected_t[a] for a in m.UNCOLLECTABLE))
    m.revenue_merchant = pyo.Expression(expr=sum(wt[a[2]] * price[a] * m.merchant_t[a] for a in m.MERCHANT))
    m.revenue_hub = pyo.Expression(
        expr=sum(wt[a[3]] * rev[a[2]] * m.flow_spoke_hub_t[a] for a in m.ARCS_SPOKE_HUB))
    m.objective = pyo.Objective(
        expr=m.cost_capex_annualised + m.cost_fixed_opex + m.cost_spoke_processing + m.cost_hub_processing
        + m.cost_transport_pack + m.cost_transport_black_mass + m.cost_uncollected_penalty
        - m.revenue_merchant - m.revenue_hub,
        sense=pyo.minimize,
    )
    return m


def naive_tables(m, net):
    """Per-family DataFrames from the Pyomo variables, as a user writes them after ``load_vars``
    (columns named like the network's key columns)."""
    import pandas as pd

    return {fam: pd.DataFrame([(*idx, v.value) for idx, v in getattr(m, fam).items()],
                              columns=[*cols, "value"])
            for fam, (_table, cols) in model_families(net).items()}


def route_naive(inst, x_fam, timings):
    import numpy as np
    from pyomo.contrib.solver.common.solution_loader import PersistentSolutionLoader
    from pyomo.contrib.solver.solvers.highs import Highs

    from optimizer.model.network import build_network

    t0 = time.perf_counter()
    net = build_network(inst)
    timings["network_s"] = time.perf_counter() - t0
    m = naive_model(inst, net)
    t1 = time.perf_counter()
    opt = Highs()
    opt.set_instance(m)
    t2 = time.perf_counter()

    # What HiGHS would return, in the interface's column order (not timed).
    col_of = opt._pyomo_var_to_solver_var_map
    x = np.zeros(len(col_of))
    for fam in x_fam:
        cols = np.fromiter((col_of[id(v)] for v in getattr(m, fam).values()), dtype=np.int64)
        x[cols] = x_fam[fam]
    sol = highs_solution(x)

    t3 = time.perf_counter()
    opt._sol = sol  # as after opt.solve(m, load_solutions=False)
    PersistentSolutionLoader(opt, m).load_vars()
    tables = naive_tables(m, net)
    t4 = time.perf_counter()
    timings.update(build_s=t1 - t0, handoff_s=t2 - t1, extract_s=t4 - t3)
    return opt._solver_model, (m, opt, tables)


# --- spokehub: build_model + compile_model + passModel -------------------------------------------


def route_spokehub(inst, x_fam, timings):
    import numpy as np
    from pyomo.common.gc_manager import PauseGC

    from optimizer.extract import extract_tables
    from optimizer.highs import highs_from_matrix
    from optimizer.model.build import build_model
    from optimizer.model.compile import compile_model
    from optimizer.model.network import build_network

    # As in optimizer.solver.solve: the garbage collector stays paused from build to extraction.
    with PauseGC():
        t0 = time.perf_counter()
        net = build_network(inst)
        timings["network_s"] = time.perf_counter() - t0
        built = build_model(inst, net=net)
        t1 = time.perf_counter()
        mf = compile_model(built.model)
        h = highs_from_matrix(mf)
        t2 = time.perf_counter()

        assert list(mf.var_blocks) == list(x_fam), (mf.var_blocks, list(x_fam))
        sol = highs_solution(np.concatenate(list(x_fam.values())))

        t3 = time.perf_counter()
        x = np.asarray(sol.col_value, dtype=float)
        values = {name: x[s:s + n] for name, (s, n) in mf.var_blocks.items()}
        tables = extract_tables(inst, built.net, values)
        t4 = time.perf_counter()
    timings.update(build_s=t1 - t0, handoff_s=t2 - t1, extract_s=t4 - t3)
    return h, (built, mf, tables)


# --- floor: vectorised numpy straight from the network tables -------------------------------------


def _codes(values, universe):
    """Position of each of ``values`` in ``universe`` (all must be present)."""
    import pandas as pd

    pos = pd.Index(universe).get_indexer(values)
    if (pos < 0).any():
        raise AssertionError("key not found in its universe")
    return pos


def _key(*pairs):
    """One int64 key from (codes, radix) pairs."""
    import numpy as np

    key = np.zeros(len(pairs[0][0]), dtype=np.int64)
    for codes, radix in pairs:
        key = key * radix + np.asarray(codes, dtype=np.int64)
    return key


class _Rows:
    """Distinct keys in order of first appearance (like ``drop_duplicates``), with a lookup."""

    def __init__(self, keys):
        import numpy as np

        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.sorted_keys, self.rank = uniq, rank
        self.first = first[order]  # position in ``keys`` of each row's first occurrence
        self.of_keys = rank[inverse.reshape(-1)]  # row of each of ``keys``
        self.n = len(uniq)

    def lookup(self, keys):
        import numpy as np

        pos = np.searchsorted(self.sorted_keys, keys)
        if len(keys) and (pos.max(initial=0) >= len(self.sorted_keys) or (self.sorted_keys[pos] != keys).any()):
            raise AssertionError("term key without a row")
        return self.rank[pos]


def _pairs(arc_group, opt_group, n_groups):
    """All (arc, option) pairs with the same group, vectorised: returns (arc index, option index)."""
    import numpy as np

    order = np.argsort(opt_group, kind="stable")
    counts = np.bincount(opt_group, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    per_arc = counts[arc_group]
    arc = np.repeat(np.arange(len(arc_group)), per_arc)
    offset = np.arange(len(arc)) - np.repeat(np.cumsum(per_arc) - per_arc, per_arc)
    opt = order[np.repeat(starts[arc_group], per_arc) + offset]
    return arc, opt


def floor_matrix(inst, net):
    """COO triplets, bounds and costs of build_model's MILP (default ModelOptions), no Python loop
    over rows or arcs.  Rows and columns come out in build_model's order."""
    import numpy as np

    p = inst.params
    check_supported(inst, net, "floor")
    inf = np.inf
    spokes, hubs = net.tiers["spoke"], net.tiers["hub"]
    so, ho, sup = spokes.options, hubs.options, net.supply
    rs, sh, mer = net.arcs["region_spoke"], net.arcs["spoke_hub"], net.merchant
    n_t, n_c = len(net.periods), len(net.chems)
    spoke_ids, hub_ids = spokes.sites["id"].to_numpy(), hubs.sites["id"].to_numpy()
    n_s, n_h = len(spoke_ids), len(hub_ids)
    region_ids = inst.regions["id"].to_numpy()
    n_r = len(region_ids)
    yld = np.array([net.black_mass_yield[c] for c in net.chems])

    # Integer codes of every key column.
    so_s, so_t = _codes(so["site_id"], spoke_ids), _codes(so["period"], net.periods)
    ho_h, ho_t = _codes(ho["site_id"], hub_ids), _codes(ho["period"], net.periods)
    sup_r, sup_c, sup_t = _codes(sup["region_id"], region_ids), _codes(sup["chemistry"], net.chems), _codes(sup["period"], net.periods)
    rs_r, rs_s = _codes(rs["origin"], region_ids), _codes(rs["destination"], spoke_ids)
    rs_c, rs_t = _codes(rs["chemistry"], net.chems), _codes(rs["period"], net.periods)
    sh_s, sh_h = _codes(sh["origin"], spoke_ids), _codes(sh["destination"], hub_ids)
    sh_c, sh_t = _codes(sh["chemistry"], net.chems), _codes(sh["period"], net.periods)
    w_s, w_c, w_t = _codes(mer["site_id"], spoke_ids), _codes(mer["chemistry"], net.chems), _codes(mer["period"], net.periods)

    # Columns in declaration order.
    supply_t = sup["supply_t"].to_numpy(float)
    required_t = sup["required_t"].to_numpy(float)
    unc = np.flatnonzero(supply_t > required_t)
    lengths = {"open_spoke": len(so), "open_hub": len(ho), "flow_region_spoke_t": len(rs), "flow_spoke_hub_t": len(sh),
               "merchant_t": len(mer), "uncollected_t": len(unc)}
    assert list(lengths) == list(family_lengths(net)), (list(lengths), list(family_lengths(net)))
    var_blocks, start = {}, 0
    for fam, n in lengths.items():
        var_blocks[fam] = (start, n)
        start += n
    n_cols = start
    o_ys, o_yh, o_x, o_z, o_w, o_u = (var_blocks[f][0] for f in lengths)
    col_lo = np.zeros(n_cols)
    col_hi = np.concatenate([np.ones(len(so) + len(ho)), rs["ub_t"].to_numpy(float), sh["ub_t"].to_numpy(float),
                             mer["ub_t"].to_numpy(float), supply_t[unc] - required_t[unc]])
    integer = np.zeros(n_cols, dtype=bool)
    integer[:len(so) + len(ho)] = True

    rows, cols, vals, lo, hi = [], [], [], [], []
    n_rows = 0

    def block(n, terms, row_lo, row_hi):
        """Add ``n`` rows: terms are (row within block, column, coefficient) arrays."""
        nonlocal n_rows
        for r, c, v in terms:
            rows.append(np.asarray(r, dtype=np.int64) + n_rows)
            cols.append(np.asarray(c, dtype=np.int64))
            vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)))
        lo.append(np.broadcast_to(np.asarray(row_lo, dtype=float), (n,)))
        hi.append(np.broadcast_to(np.asarray(row_hi, dtype=float), (n,)))
        n_rows += n

    ar_x, ar_z, ar_w = np.arange(len(rs)), np.arange(len(sh)), np.arange(len(mer))
    ar_so, ar_ho = np.arange(len(so)), np.arange(len(ho))

    # supply_balance: sum_s x + u = supply
    if len(sup):
        sup_rows = _Rows(_key((sup_t, n_t), (sup_r, n_r), (sup_c, n_c)))
        block(len(sup), [(sup_rows.lookup(_key((rs_t, n_t), (rs_r, n_r), (rs_c, n_c))), o_x + ar_x, 1.0),
                         (unc, o_u + np.arange(len(unc)), 1.0)], supply_t, supply_t)

    # Per tier, in build_model's order: one size per site / existing sites open, capacity, mass balance.
    site_rows = {}

    def one_size(kind, opt_site, opt_t, n_sites, sites, o_y):
        grp = _Rows(_key((opt_site, n_sites), (opt_t, n_t)))
        site_rows[kind] = grp
        existing = (sites["status"].to_numpy() == "existing")[opt_site[grp.first]]
        for want, lo_v in ((False, -inf), (True, 1.0)):
            keep = np.flatnonzero(existing == want)
            if not len(keep):
                continue
            remap = np.full(grp.n, -1, dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            r = remap[grp.of_keys]
            sel = r >= 0
            block(len(keep), [(r[sel], o_y + np.flatnonzero(sel), 1.0)], lo_v, 1.0)

    cap_so, cap_ho = so["capacity_t"].to_numpy(float), ho["capacity_t"].to_numpy(float)
    if len(so):
        one_size("spoke", so_s, so_t, n_s, spokes.sites, o_ys)
        # spoke_capacity: sum x - sum cap y <= 0
        g = site_rows["spoke"]
        rs_g = g.lookup(_key((rs_s, n_s), (rs_t, n_t)))
        block(g.n, [(rs_g, o_x + ar_x, 1.0), (g.of_keys, o_ys + ar_so, -cap_so)], -inf, 0.0)

    # spoke_mass_balance: yield * sum x - sum z - w = 0
    if len(rs):
        mb = _Rows(_key((rs_t, n_t), (rs_s, n_s), (rs_c, n_c)))
        block(mb.n, [(mb.of_keys, o_x + ar_x, yld[rs_c]),
                     (mb.lookup(_key((sh_t, n_t), (sh_s, n_s), (sh_c, n_c))), o_z + ar_z, -1.0),
                     (mb.lookup(_key((w_t, n_t), (w_s, n_s), (w_c, n_c))), o_w + ar_w, -1.0)], 0.0, 0.0)

    if len(ho):
        one_size("hub", ho_h, ho_t, n_h, hubs.sites, o_yh)
        # hub_capacity: sum z - sum cap y <= 0
        g = site_rows["hub"]
        sh_g = g.lookup(_key((sh_h, n_h), (sh_t, n_t)))
        block(g.n, [(sh_g, o_z + ar_z, 1.0), (g.of_keys, o_yh + ar_ho, -cap_ho)], -inf, 0.0)

    # link_region_spoke / link_spoke_hub: flow - sum_k min(ub, cap_k) y_k <= 0
    for n_arcs, arc_g, ub, o_flow, kind, cap, o_y in ((len(rs), rs_g if len(so) else None, rs["ub_t"].to_numpy(float), o_x, "spoke", cap_so, o_ys),
                                                       (len(sh), sh_g if len(ho) else None, sh["ub_t"].to_numpy(float), o_z, "hub", cap_ho, o_yh)):
        if not n_arcs:
            continue
        g = site_rows[kind]
        arc, opt = _pairs(arc_g, g.of_keys, g.n)
        ar = np.arange(n_arcs)
        block(n_arcs, [(ar, o_flow + ar, 1.0), (arc, o_y + opt, -np.minimum(ub[arc], cap[opt]))], -inf, 0.0)

    # cover_spoke / cover_hub (loops over periods and chemistries only)
    req = sup.groupby(["period", "chemistry"])["required_t"].sum()
    need_rows = []
    for ti, period in enumerate(net.periods):
        need = sum(float(req.get((period, c), 0.0)) for c in net.chems)
        if need > 0 and len(so):
            need_rows.append((ti, need))
    if need_rows:
        r_list, c_list, v_list = [], [], []
        for i, (ti, _) in enumerate(need_rows):
            sel = np.flatnonzero(so_t == ti)
            r_list.append(np.full(len(sel), i))
            c_list.append(o_ys + sel)
            v_list.append(cap_so[sel])
        block(len(need_rows), [(np.concatenate(r_list), np.concatenate(c_list), np.concatenate(v_list))],
              [v for _, v in need_rows], inf)
    if len(ho):
        mcap = {c.name: (c.merchant_cap_t if c.merchant_cap_t is not None else inf)
                if c.merchant_price_per_t is not None else 0.0 for c in inst.chemistries}
        hub_status = inst.hubs.set_index("id")
        r_list, c_list, v_list, rhs = [], [], [], []
        for ti, period in enumerate(net.periods):
            in_t = ho_t == ti
            total = 0.0
            for c in net.chems:
                need = float(req.get((period, c), 0.0)) * net.black_mass_yield[c] - mcap[c]
                if need <= 1e-9:
                    continue
                total += need
                acc = hub_status[f"accepts_{c}"].astype(bool).reindex(ho["site_id"]).to_numpy()
                sel = np.flatnonzero(in_t & acc)
                r_list.append(np.full(len(sel), len(rhs)))
                c_list.append(o_yh + sel)
                v_list.append(cap_ho[sel])
                rhs.append(need)
            if total > 1e-9 and n_c > 1:
                sel = np.flatnonzero(in_t)
                r_list.append(np.full(len(sel), len(rhs)))
                c_list.append(o_yh + sel)
                v_list.append(cap_ho[sel])
                rhs.append(total)
        if rhs:
            block(len(rhs), [(np.concatenate(r_list), np.concatenate(c_list), np.concatenate(v_list))], rhs, inf)

    # merchant_cap: sum_s w <= mcap
    caps = {c.name: c.merchant_cap_t for c in inst.chemistries if c.merchant_cap_t is not None}
    cap_of_chem = np.array([caps.get(c, np.nan) for c in net.chems])
    sel = np.flatnonzero(~np.isnan(cap_of_chem[w_c])) if len(mer) else np.zeros(0, dtype=np.int64)
    if len(sel):
        mc = _Rows(_key((w_c[sel], n_c), (w_t[sel], n_t)))
        block(mc.n, [(mc.of_keys, o_w + sel, 1.0)], -inf, cap_of_chem[w_c[sel][mc.first]])

    # max_spokes / min_spokes / max_hubs / min_hubs (where set) / capex_budget
    for kind, opt_t, o_y, n_opt in (("spokes", so_t, o_ys, len(so)), ("hubs", ho_t, o_yh, len(ho))):
        most, least = getattr(p, f"max_{kind}"), getattr(p, f"min_{kind}")
        if most is not None and n_opt:
            block(n_t, [(opt_t, o_y + np.arange(n_opt), 1.0)], -inf, float(most))
        if least is not None:
            block(n_t, [(opt_t, o_y + np.arange(n_opt), 1.0)], float(least), inf)
    if p.max_capex is not None:
        block(1, [(np.zeros(len(so), dtype=np.int64), o_ys + ar_so, so["capex_charged"].to_numpy(float)),
                  (np.zeros(len(ho), dtype=np.int64), o_yh + ar_ho, ho["capex_charged"].to_numpy(float))],
              -inf, float(p.max_capex))

    # Objective, accumulated in build.add_objective's order (so floats agree to the last bit).
    wt = np.array([net.period_weight[t] for t in net.periods])
    rev = np.array([next(c for c in inst.chemistries if c.name == ch).hub_revenue_per_t or 0.0 for ch in net.chems])
    c_vec = np.zeros(n_cols)
    c_vec[o_ys:o_ys + len(so)] = wt[so_t] * net.crf * so["capex_charged"].to_numpy(float) + wt[so_t] * so["fixed_opex_per_yr"].to_numpy(float)
    c_vec[o_yh:o_yh + len(ho)] = wt[ho_t] * net.crf * ho["capex_charged"].to_numpy(float) + wt[ho_t] * ho["fixed_opex_per_yr"].to_numpy(float)
    proc_s, proc_h = spokes.sites["cost_per_t"].to_numpy(float), hubs.sites["cost_per_t"].to_numpy(float)
    c_vec[o_x:o_x + len(rs)] = wt[rs_t] * proc_s[rs_s] + wt[rs_t] * rs["cost_per_t"].to_numpy(float)
    c_vec[o_z:o_z + len(sh)] = wt[sh_t] * proc_h[sh_h] + wt[sh_t] * sh["cost_per_t"].to_numpy(float) - wt[sh_t] * rev[sh_c]
    c_vec[o_w:o_w + len(mer)] = -(wt[w_t] * mer["price_per_t"].to_numpy(float))
    c_vec[o_u:o_u + len(unc)] = wt[sup_t[unc]] * (p.uncollected_penalty_per_t or 0.0)

    cat = np.concatenate
    return dict(rows=cat(rows) if rows else np.zeros(0, dtype=np.int64), cols=cat(cols) if cols else np.zeros(0, dtype=np.int64),
                vals=cat(vals) if vals else np.zeros(0), n_rows=n_rows, n_cols=n_cols,
                row_lo=cat(lo) if lo else np.zeros(0), row_hi=cat(hi) if hi else np.zeros(0),
                col_lo=col_lo, col_hi=col_hi, integer=integer, c=c_vec, var_blocks=var_blocks)


def route_floor(inst, x_fam, timings):
    import numpy as np
    import scipy.sparse as sp

    from optimizer.highs import highs_from_matrix
    from optimizer.model.compile import MatrixForm
    from optimizer.model.network import build_network

    t0 = time.perf_counter()
    net = build_network(inst)
    timings["network_s"] = time.perf_counter() - t0
    fm = floor_matrix(inst, net)
    t1 = time.perf_counter()
    A = sp.csr_matrix((fm["vals"], (fm["rows"], fm["cols"])), shape=(fm["n_rows"], fm["n_cols"]))
    A.sum_duplicates()
    A.eliminate_zeros()
    mf = MatrixForm(c=fm["c"], offset=0.0, A=A, row_lo=fm["row_lo"], row_hi=fm["row_hi"], col_lo=fm["col_lo"],
                    col_hi=fm["col_hi"], integer=fm["integer"], columns=[], var_blocks=fm["var_blocks"])
    h = highs_from_matrix(mf)
    t2 = time.perf_counter()

    assert list(fm["var_blocks"]) == list(x_fam), (fm["var_blocks"], list(x_fam))
    sol = highs_solution(np.concatenate(list(x_fam.values())))

    t3 = time.perf_counter()
    x = np.asarray(sol.col_value, dtype=float)
    values = {name: x[s:s + n] for name, (s, n) in fm["var_blocks"].items()}
    t4 = time.perf_counter()
    timings.update(build_s=t1 - t0, handoff_s=t2 - t1, extract_s=t4 - t3)
    return h, (net, mf, values)


ROUTE_FUNCTIONS = {"naive": route_naive, "spokehub": route_spokehub, "floor": route_floor}


# --- fingerprints of the model HiGHS holds ----------------------------------------------------------


def _sha(*arrays) -> str:
    import numpy as np

    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def fingerprint(h, full: bool) -> dict:
    """Counts (always) and, with ``full``, order-free and in-order fingerprints of HiGHS's model."""
    import highspy
    import numpy as np
    import scipy.sparse as sp

    out = {"cols": int(h.getNumCol()), "rows": int(h.getNumRow()), "nnz": int(h.getNumNz())}
    if not full:
        return out
    lp = h.getLp()
    nr, nc = lp.num_row_, lp.num_col_
    am = lp.a_matrix_
    parts = (np.asarray(am.value_, dtype=float), np.asarray(am.index_, dtype=np.int64), np.asarray(am.start_, dtype=np.int64))
    if am.format_ == highspy.MatrixFormat.kColwise:
        A = sp.csc_matrix(parts, shape=(nr, nc)).tocsr()
    else:
        A = sp.csr_matrix(parts, shape=(nr, nc))
    A.sum_duplicates()
    c = np.asarray(lp.col_cost_, dtype=float)
    rlo, rhi = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    clo, chi = np.asarray(lp.col_lower_, dtype=float), np.asarray(lp.col_upper_, dtype=float)
    integ = np.asarray([int(v) for v in lp.integrality_], dtype=np.int64) if len(lp.integrality_) else np.zeros(nc, dtype=np.int64)
    rows_sorted = np.lexsort((rhi, rlo))
    cols_sorted = np.lexsort((integ, chi, clo))
    finite = np.isfinite
    out.update(
        obj_sum=float(c.sum()), obj_norm=float(np.linalg.norm(c)), obj_abs_sum=float(np.abs(c).sum()),
        a_sum=float(A.data.sum()), a_abs_sum=float(np.abs(A.data).sum()),
        n_row_lo=int(finite(rlo).sum()), n_row_hi=int(finite(rhi).sum()),
        row_lo_sum=float(rlo[finite(rlo)].sum()), row_hi_sum=float(rhi[finite(rhi)].sum()),
        n_integer=int((integ != 0).sum()), col_hi_sum=float(chi[finite(chi)].sum()),
        row_bounds_hash=_sha(rlo[rows_sorted], rhi[rows_sorted]),
        col_bounds_hash=_sha(clo[cols_sorted], chi[cols_sorted], integ[cols_sorted]),
        exact_hash=_sha(A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data, rlo, rhi, clo, chi, integ, c),
    )
    return out


# --- worker ----------------------------------------------------------------------------------------


def worker(route: str, size, seed: int, full_fingerprint: bool, warmup: bool) -> dict:
    from optimizer.bench.synthetic import synthetic_instance
    from optimizer.model.network import build_network

    fn = ROUTE_FUNCTIONS[route]
    n_chems = size[3]
    if warmup:
        tiny = synthetic_instance(*WARMUP_SIZE, n_chems=n_chems, seed=seed + 1, min_spokes_per_region=5)
        fn(tiny, fixed_values(build_network(tiny)), {})
        del tiny
    inst = synthetic_instance(*size[:3], n_chems=n_chems, seed=seed)
    x_fam = fixed_values(build_network(inst))
    gc.collect()
    base = max_rss_gb()
    timings: dict[str, float] = {}
    h, keep = fn(inst, x_fam, timings)
    peak = max_rss_gb()
    timings["total_s"] = timings["build_s"] + timings["handoff_s"] + timings["extract_s"]
    fp = fingerprint(h, full_fingerprint)
    del keep
    return {"route": route, "size": list(size), **timings, "peak_rss_gb": peak, "base_rss_gb": base, "fingerprint": fp}


def run_worker(route: str, size, seed: int, full_fingerprint: bool, warmup: bool) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", route, "--sizes", size_label(size),
           "--seed", str(seed)]
    if full_fingerprint:
        cmd.append("--full-fingerprint")
    if not warmup:
        cmd.append("--no-warmup")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    sys.stderr.write(proc.stdout + proc.stderr)
    raise RuntimeError(f"worker {route} {size_label(size)} failed (exit {proc.returncode})")


# --- checks and report -----------------------------------------------------------------------------


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def same_model(results: dict[str, dict], check_naive: bool) -> list[str]:
    """Differences between the routes' HiGHS models (empty list: the same model)."""
    problems = []
    sh, fl, nv = results.get("spokehub"), results.get("floor"), results.get("naive")
    if sh and fl:
        a, b = sh["fingerprint"], fl["fingerprint"]
        for k in ("cols", "rows", "nnz", "n_row_lo", "n_row_hi", "n_integer", "row_bounds_hash", "col_bounds_hash",
                  "obj_sum", "obj_norm", "a_sum", "exact_hash"):
            if a.get(k) != b.get(k):
                problems.append(f"floor vs spokehub: {k} {b.get(k)} != {a.get(k)}")
    ref = sh or fl
    if nv and ref:
        a, b = ref["fingerprint"], nv["fingerprint"]
        keys = ("cols", "rows", "nnz") + (("n_row_lo", "n_row_hi", "n_integer") if check_naive else ())
        for k in keys:
            if a.get(k) != b.get(k):
                problems.append(f"naive vs {ref['route']}: {k} {b.get(k)} != {a.get(k)}")
        if check_naive:
            for k in ("obj_sum", "obj_norm", "obj_abs_sum", "row_lo_sum", "row_hi_sum", "col_hi_sum", "a_sum", "a_abs_sum"):
                if not _close(a[k], b[k], 1e-9):
                    problems.append(f"naive vs {ref['route']}: {k} {b[k]!r} != {a[k]!r}")
    return problems


def table_rows(size, results: dict[str, dict], reps: int) -> list[dict]:
    any_fp = next(iter(results.values()))["fingerprint"]
    ratio = None
    if "naive" in results and "spokehub" in results:
        ratio = results["naive"]["total_s"] / results["spokehub"]["total_s"]
    out = []
    for route in ROUTES:
        if route not in results:
            continue
        r = results[route]
        out.append({
            "size": size_label(size), "n_regions": size[0], "n_spokes": size[1], "n_hubs": size[2], "n_chems": size[3],
            "cols": any_fp["cols"], "rows": any_fp["rows"], "nnz": any_fp["nnz"], "route": route, "reps": reps,
            "network_s": r["network_s"], "build_s": r["build_s"], "handoff_s": r["handoff_s"],
            "extract_s": r["extract_s"], "total_s": r["total_s"],
            "s_per_m_nnz": r["total_s"] / (any_fp["nnz"] / 1e6) if any_fp["nnz"] else float("nan"),
            "peak_rss_gb": r["peak_rss_gb"], "base_rss_gb": r["base_rss_gb"], "naive_over_spokehub": ratio,
        })
    return out


def format_table(rows: list[dict]) -> str:
    head = ["size", "cols", "rows", "nnz", "route", "build s", "(network s)", "hand-off s", "extract s", "total s",
            "s/M nnz", "peak GB", "naive/spokehub"]
    lines = []
    last = None
    for r in rows:
        first = r["size"] != last
        last = r["size"]
        lines.append([
            r["size"] if first else "", f"{r['cols']:,}" if first else "", f"{r['rows']:,}" if first else "",
            f"{r['nnz']:,}" if first else "", r["route"], f"{r['build_s']:.3f}", f"({r['network_s']:.3f})",
            f"{r['handoff_s']:.3f}", f"{r['extract_s']:.3f}", f"{r['total_s']:.3f}", f"{r['s_per_m_nnz']:.2f}",
            f"{r['peak_rss_gb']:.2f}",
            f"{r['naive_over_spokehub']:.1f}" if first and r["naive_over_spokehub"] is not None else "",
        ])
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]
    left = {"size", "route"}

    def fmt(cells):
        return "  ".join(c.ljust(w) if h in left else c.rjust(w) for c, w, h in zip(cells, widths, head, strict=True))

    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(x) for x in lines])


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v)) for k, v in r.items()})


def versions() -> str:
    import os
    import platform

    import numpy
    import pandas
    import pyomo

    from optimizer.highs import highs_version

    return (f"python {platform.python_version()}, pyomo {pyomo.version.version}, "
            f"HiGHS {highs_version()}, numpy {numpy.__version__}, "
            f"pandas {pandas.__version__}, {os.cpu_count()} CPUs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help="comma-separated REGIONSxSPOKESxHUBSxCHEMS (default %(default)s)")
    ap.add_argument("--routes", default=",".join(ROUTES), help="comma-separated subset of %(default)s")
    ap.add_argument("--seed", type=int, default=0, help="synthetic instance seed (default 0)")
    ap.add_argument("--reps-smallest", type=int, default=3,
                    help="repetitions of the smallest size, best total reported (default 3; others run once)")
    ap.add_argument("--csv", type=Path, default=ROOT / "benchmarks" / "results" / "modelling_layer.csv",
                    help="CSV output (default benchmarks/results/modelling_layer.csv)")
    ap.add_argument("--no-warmup", action="store_true", help="do not run each route on a tiny instance first")
    ap.add_argument("--worker", choices=ROUTES, help=argparse.SUPPRESS)
    ap.add_argument("--full-fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]

    if args.worker:
        res = worker(args.worker, sizes[0], args.seed, args.full_fingerprint, not args.no_warmup)
        print(RESULT_TAG + json.dumps(res), flush=True)
        return 0

    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = set(routes) - set(ROUTES)
    if unknown:
        ap.error(f"unknown route(s) {sorted(unknown)}; choose from {', '.join(ROUTES)}")
    smallest = min(sizes, key=lambda s: s[0] * s[1])
    print(versions(), flush=True)
    all_rows, failed = [], False
    for size in sizes:
        reps = max(1, args.reps_smallest) if size == smallest else 1
        results: dict[str, dict] = {}
        for _ in range(reps):
            for route in routes:
                r = run_worker(route, size, args.seed, True if route != "naive" else size == smallest, not args.no_warmup)
                if route not in results or r["total_s"] < results[route]["total_s"]:
                    results[route] = r
        problems = same_model(results, check_naive=size == smallest)
        verdict = "yes" if not problems else "NO"
        if len(results) < 2 or ("spokehub" not in results and "floor" not in results):
            verdict = "n/a (needs two routes)"
        print(f"{size_label(size)}: " + ", ".join(f"{r} {results[r]['total_s']:.2f} s" for r in routes)
              + f"; same model: {verdict}", flush=True)
        for p in problems:
            print("   ", p)
        failed |= bool(problems)
        all_rows.extend(table_rows(size, results, reps))
    print()
    print(format_table(all_rows))
    write_csv(args.csv, all_rows)
    print(f"\nwritten {args.csv}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
