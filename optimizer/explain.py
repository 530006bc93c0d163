"""Why the plan is what it is: what one more tonne is worth to the network as designed.

**Marginal value.**  Fix every binary of the model (sites and sizes, offers, closures, single
sourcing assignments) at the solution's values: what is left is an LP over the flows.  For each
(region, chemistry, period) its supply-balance row says that the tonnes collected plus those left
uncollected equal the tonnes captured.  The marginal value of that row is

.. math:: \\mathrm{mv}_{r,c,t} = -\\big(z^*(b + 1) - z^*(b)\\big)

the saving (currency per tonne) when one more tonne is captured there -- before paying for it --
with the network as designed: what it is worth to treat it (revenue from the black mass less the
haul, the processing and, where the network is full, the penalty of leaving a tonne uncollected
or the dearer lanes it takes).  A negative value is a cost per extra tonne.  It is the right-hand
change over one tonne, computed by re-solving the fixed LP with the row moved by +1 t (and by
-1 t): a row's dual gives only one subgradient where the LP is degenerate or a capacity sits at
its bound, and there the two re-solves differ -- the row is **at a breakpoint** (``one more
tonne`` and ``one tonne less`` are not worth the same) and flagged so in ``channels.csv``.
Rows where one more tonne cannot be treated at all (every site full and the collection rate
binding) get NaN.

Each re-solve starts from the optimal basis in the HiGHS worker (:func:`optimizer.highs.run_matrix`
with ``rhs_steps``), so a network with a few hundred supply rows takes seconds.  Every channel of
a region and chemistry shares the value of its row: the channels reach the same spokes.

This module is the one implementation of the fixed-network LP; the deliverables work (why this
site, what if) is to reuse it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .highs import run_matrix
from .model.build import BuiltModel
from .options import SolveOptions
from .status import SolveStatus

DELTA_T = 1.0  # the "one more tonne"
MV_COLUMNS = ["region_id", "chemistry", "period", "marginal_value_per_t", "at_breakpoint"]


def fixed_network_lp(built: BuiltModel, values: dict[str, np.ndarray]):
    """The matrix form of ``built`` with every integer column fixed at its value in ``values``
    (a solution's column blocks by variable name): the LP of the network as designed.

    The model's derived caps are lifted so they do not read as limits of the network: upper
    bounds of flows and gate sales (the supply or reach an arc can carry: big-M values), and the
    linking rows of open sites and contracted regions (``link_<leg>``, ``assign_flow_<leg>``,
    whose coefficient is that supply).  Capacities, the merchant cap and the collection rate
    remain (the ``uncollected_t`` bounds of regions without offers are the collection rate).
    """
    from .model.compile import compile_model

    mf = compile_model(built.model)
    x = np.zeros(len(mf.c))
    for name, (start, n) in mf.var_blocks.items():
        if name in values:
            x[start:start + n] = np.asarray(values[name], dtype=float)
    integer = mf.integer.astype(bool)
    lo, hi = mf.col_lo.copy(), mf.col_hi.copy()
    lo[integer] = hi[integer] = np.round(x[integer])
    keep = np.zeros(len(hi), dtype=bool)
    keep[integer] = True
    u = mf.var_blocks.get("uncollected_t")
    if u is not None:
        decided = _decided(built.net)
        unc = built.net.uncollectable().reset_index(drop=True)
        keep[u[0]:u[0] + u[1]] = ~decided.reindex(pd.MultiIndex.from_frame(unc[["region_id", "chemistry", "period"]]), fill_value=False).to_numpy(bool)
    hi[~keep] = np.inf
    row_hi = mf.row_hi.copy()
    fixed_part = mf.A[:, np.flatnonzero(integer)] @ np.round(x[integer]) if integer.any() else np.zeros(len(row_hi))
    for name, (start, n) in mf.row_blocks.items():
        if name.startswith(("link_", "assign_flow_")):
            rows = np.arange(start, start + n)
            row_hi[rows[(row_hi[rows] - fixed_part[rows]) > 1e-9]] = np.inf
    return dataclasses.replace(mf, col_lo=lo, col_hi=hi, row_hi=row_hi, integer=np.zeros_like(mf.integer))


def _decided(net) -> pd.Series:
    """(region, chemistry, period) -> whether an offer ladder decides some of its tonnes."""
    cs = net.channel_supply
    keys = ["region_id", "chemistry", "period"]
    return (cs["ladder"] != "").groupby([cs[k] for k in keys]).any() if len(cs) else pd.Series(dtype=bool)


def _steps(built: BuiltModel, lp) -> dict:
    """One step per supply row: its balance moved by one tonne, and the collection rate's
    allowance of uncollected tonnes by (1 - rate) of it."""
    net = built.net
    sup = net.supply.reset_index(drop=True)
    keys = ["region_id", "chemistry", "period"]
    rho = net.collection_rate
    start, n = lp.row_blocks["supply_balance"]
    extra: dict[int, tuple[int, float]] = {}
    if rho < 1.0:
        decided = _decided(net).reindex(pd.MultiIndex.from_frame(sup[keys]), fill_value=False).to_numpy(bool)
        unc = net.uncollectable().reset_index(drop=True)
        u = lp.var_blocks.get("uncollected_t")
        if u is not None and len(unc):
            pos = sup.reset_index().merge(unc.reset_index().rename(columns={"index": "u"}), on=keys)
            for i, j in zip(pos["index"], pos["u"], strict=True):
                if not decided[i]:
                    extra[int(i)] = (-1 - (u[0] + int(j)), 1.0 - rho)
        if "collection_rate" in lp.row_blocks:
            c0, cn = lp.row_blocks["collection_rate"]
            rows = built.model.component("collection_rate")
            index = pd.DataFrame(list(rows.keys()), columns=keys).reset_index()
            pos = sup.reset_index().merge(index.rename(columns={"index": "c"}), on=keys)
            for i, j in zip(pos["index"], pos["c"], strict=True):
                extra[int(i)] = (c0 + int(j), 1.0 - rho)
    ptr, target, weight = [0], [], []
    for i in range(n):
        target.append(start + i)
        weight.append(1.0)
        if i in extra:
            target.append(extra[i][0])
            weight.append(extra[i][1])
        ptr.append(len(target))
    return {"ptr": np.array(ptr), "target": np.array(target), "weight": np.array(weight), "delta": DELTA_T}


def marginal_values(built: BuiltModel, values: dict[str, np.ndarray], options: SolveOptions | None = None) -> pd.DataFrame:
    """Per supply row (region, chemistry, period): the marginal value of one more tonne captured
    there (see the module docstring) and whether the row sits at a breakpoint."""
    net = built.net
    keys = net.supply[["region_id", "chemistry", "period"]].reset_index(drop=True)
    out = keys.assign(marginal_value_per_t=np.nan, at_breakpoint=False)
    lp = fixed_network_lp(built, values)
    if "supply_balance" not in lp.row_blocks or not len(keys):
        return out[MV_COLUMNS]
    # no time limit (LP re-solves from a basis), no presolve (it would discard the basis)
    options = dataclasses.replace(options or SolveOptions(), warm_start="off", log=False, time_limit_s=None, presolve=False)
    run = run_matrix(lp, options, relax=True, rhs_steps=_steps(built, lp))
    if run.status != SolveStatus.OPTIMAL or run.rhs_up is None:
        return out[MV_COLUMNS]
    base = float(run.objective)
    up, down = (run.rhs_up - base) / DELTA_T, (base - run.rhs_down) / DELTA_T
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(up)), np.abs(np.nan_to_num(down)))) + 1e-9 * abs(base)
    out["marginal_value_per_t"] = -up
    out["at_breakpoint"] = np.isfinite(up) & np.isfinite(down) & (np.abs(up - down) > tol)
    return out[MV_COLUMNS]


def with_marginal_values(channels: pd.DataFrame, mv: pd.DataFrame) -> pd.DataFrame:
    """The channels table with each row's region, chemistry and period value filled in."""
    keys = ["region_id", "chemistry", "period"]
    merged = channels.drop(columns=["marginal_value_per_t", "at_breakpoint"]).merge(mv, on=keys, how="left")
    merged["at_breakpoint"] = merged["at_breakpoint"].eq(True).to_numpy(bool)
    return merged[list(channels.columns)]
