"""Warm start: solve the model on a sparsified network, hand the result to HiGHS as a MIP start.

Near-optimal networks ship each region to one of its few cheapest spokes and each spoke to one of
its few cheapest hubs.  Keeping only the ``k`` cheapest lanes per region (and per spoke) gives a
model an order of magnitude smaller whose LP relaxation HiGHS solves in a fraction of the time;
any solution of it is feasible for the full model (it only uses existing arcs), so it is passed
to the full solve as a MIP start.  If the sparse model is infeasible (capacity at the nearest
spokes runs out), ``k`` doubles until it is feasible or the budget is spent.

This is the same Pyomo model built on fewer arcs, not a separate formulation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .model.network import Network


@dataclass
class WarmStart:
    values: dict[str, np.ndarray]  # per variable family, in the full network's index order
    objective: float
    seconds: float
    k_region: int
    arcs_kept: int


def sparsify(net: Network, k_region: int, k_spoke: int) -> Network:
    """The network with only the ``k`` cheapest lanes per (region, chemistry, period) and per
    (spoke, chemistry, period); black-mass bounds are recomputed for what can still reach."""
    rs = net.arcs_rs
    rank = rs.groupby(["region_id", "chemistry", "period"], sort=False)["cost_per_t"].rank(method="first")
    rs = rs[rank <= k_region].reset_index(drop=True)
    reach = rs.groupby(["spoke_id", "chemistry", "period"])["ub_t"].sum()
    sh = net.arcs_sh
    rank = sh.groupby(["spoke_id", "chemistry", "period"], sort=False)["cost_per_t"].rank(method="first")
    sh = sh[rank <= k_spoke]
    keys = pd.MultiIndex.from_frame(sh[["spoke_id", "chemistry", "period"]])
    sh = sh[keys.isin(reach.index)].reset_index(drop=True)
    mk = pd.MultiIndex.from_frame(net.merchant[["spoke_id", "chemistry", "period"]])
    merchant = net.merchant[mk.isin(reach.index)].reset_index(drop=True)
    return replace(net, arcs_rs=rs, arcs_sh=sh, merchant=merchant)


def _spread(full: pd.DataFrame, part: pd.DataFrame, values: np.ndarray, keys: list[str]) -> np.ndarray:
    """Values of ``part`` rows placed at the matching rows of ``full`` (0 elsewhere)."""
    if len(full) == 0:
        return np.zeros(0)
    tagged = part[keys].assign(_v=np.asarray(values, dtype=float))
    merged = full[keys].merge(tagged, on=keys, how="left")
    return merged["_v"].fillna(0.0).to_numpy()


def warm_start(inst, net: Network, model_options, solve_options, budget_s: float,
               k_region: int = 8, k_spoke: int = 6) -> WarmStart | None:
    """Best effort: a full-index MIP start from the sparse model, or ``None``."""
    from .model.build import build_model
    from .solution import SolveStatus
    from .solver import run_highs

    t0 = time.perf_counter()
    n_rs = net.arcs_rs.groupby(["region_id", "chemistry", "period"]).size().max() if len(net.arcs_rs) else 0
    k = k_region
    while True:
        remaining = budget_s - (time.perf_counter() - t0)
        if remaining <= 0.05 * budget_s:
            return None
        small = sparsify(net, k, k_spoke)
        if len(small.arcs_rs) >= 0.8 * len(net.arcs_rs):
            return None  # not worth it: the full model is hardly larger
        built = build_model(inst, model_options, net=small)
        opts = replace(solve_options, time_limit_s=remaining, mip_rel_gap=max(solve_options.mip_rel_gap, 5e-3),
                       warm_start=False, log=False)
        run = run_highs(built, opts)
        if run.status.has_solution:
            v = run.values
            full = {
                "open_spoke": v.get("open_spoke", np.zeros(len(net.spoke_options))),
                "open_hub": v.get("open_hub", np.zeros(len(net.hub_options))),
                "flow_pack_t": _spread(net.arcs_rs, small.arcs_rs, v["flow_pack_t"], ["region_id", "spoke_id", "chemistry", "period"]),
                "flow_black_mass_t": _spread(net.arcs_sh, small.arcs_sh, v.get("flow_black_mass_t", []), ["spoke_id", "hub_id", "chemistry", "period"]),
                "merchant_t": _spread(net.merchant, small.merchant, v.get("merchant_t", []), ["spoke_id", "chemistry", "period"]),
            }
            if "uncollected_t" in v:
                full["uncollected_t"] = v["uncollected_t"]
            if "assign" in v:
                pairs = net.arcs_rs[["region_id", "spoke_id", "period"]].drop_duplicates().reset_index(drop=True)
                small_pairs = small.arcs_rs[["region_id", "spoke_id", "period"]].drop_duplicates().reset_index(drop=True)
                full["assign"] = _spread(pairs, small_pairs, v["assign"], ["region_id", "spoke_id", "period"])
            return WarmStart(full, float(run.objective), time.perf_counter() - t0, k, len(small.arcs_rs))
        if run.status != SolveStatus.INFEASIBLE or k >= n_rs:
            return None  # out of time, or already as wide as the full network
        k *= 2
