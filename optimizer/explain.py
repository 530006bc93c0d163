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
with ``rhs_steps``), so a network with a few hundred supply rows takes seconds.  One more tonne
of a *channel* moves its region's balance and, where they exist, the rows that depend on the
channel: the damaged tonnes to ship (by its ``damaged_share``) and Gale's rows of the unions of
accepted channels that hold it (collection points taking some channels only).  Channels that move
the same rows share one re-solve and one value (without damaged packs or restricted points, every
channel of a region and chemistry).

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
MV_COLUMNS = ["region_id", "channel", "chemistry", "period", "marginal_value_per_t", "at_breakpoint"]


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


def _row_positions(built: BuiltModel, lp, name: str) -> dict[tuple, int]:
    """Index tuple -> row position in ``lp`` of the constraint family ``name`` (empty if absent)."""
    if name not in lp.row_blocks:
        return {}
    start, _n = lp.row_blocks[name]
    return {k: start + i for i, k in enumerate(built.model.component(name).keys())}


def _moves(built: BuiltModel, lp) -> tuple[pd.DataFrame, list[tuple[tuple[int, float], ...]]]:
    """One set of moves per (region, channel, chemistry, period) with tonnes: what one more tonne
    captured there changes -- the supply balance (+1), the collection rate's allowance of
    uncollected tonnes (+(1 - rate)), the damaged tonnes to ship (+the channel's damaged share)
    and Gale's rows of every union of accepted channels holding the channel (+1, or its damaged
    and sound shares).  A move is (target, weight): a row, or ``-1 - column`` for a column's upper
    bound (:func:`optimizer.highs_worker._rhs_steps`)."""
    net = built.net
    rho = net.collection_rate
    cs = net.channel_supply[["region_id", "channel", "chemistry", "period", "damaged_share"]].reset_index(drop=True)
    balance = _row_positions(built, lp, "supply_balance")
    rate_rows = _row_positions(built, lp, "collection_rate")
    u_cols: dict[tuple, int] = {}
    u = lp.var_blocks.get("uncollected_t")
    if u is not None and rho < 1.0:
        decided = _decided(net)
        unc = net.uncollectable().reset_index(drop=True)
        for j, k in enumerate(zip(unc["region_id"], unc["chemistry"], unc["period"], strict=True)):
            if not bool(decided.get(k, False)):
                u_cols[k] = -1 - (u[0] + j)
    damaged_rows = [_row_positions(built, lp, n) for n in ("damaged_shipped_max", "damaged_shipped_min")]
    # (region, chemistry, period) -> [(row, channels of its union, kind)] for Gale's rows
    gale: dict[tuple, list[tuple[int, frozenset, str]]] = {}
    for leg, acc in net.acceptance.items():
        members = acc["channels"].groupby("union")["channel"].agg(frozenset).to_dict()
        for kind in ("", "_damaged", "_sound"):
            for (r, c, t, union), row in _row_positions(built, lp, f"channel_acceptance{kind}_{leg}").items():
                gale.setdefault((r, c, t), []).append((row, members[union], kind))
    moves = []
    for r, h, c, t, delta in zip(cs["region_id"], cs["channel"], cs["chemistry"], cs["period"], cs["damaged_share"], strict=True):
        k = (r, c, t)
        m: list[tuple[int, float]] = []
        if k in balance:
            m.append((balance[k], 1.0))
        if k in rate_rows:
            m.append((rate_rows[k], 1.0 - rho))
        elif k in u_cols:
            m.append((u_cols[k], 1.0 - rho))
        m += [(rows[k], float(delta)) for rows in damaged_rows if k in rows and delta > 0]
        for row, held, kind in gale.get(k, []):
            if h in held:
                w = {"": 1.0, "_damaged": float(delta), "_sound": 1.0 - float(delta)}[kind]
                if w:
                    m.append((row, w))
        moves.append(tuple(m))
    return cs[["region_id", "channel", "chemistry", "period"]], moves


def _steps(moves: list[tuple[tuple[int, float], ...]]) -> tuple[dict, np.ndarray]:
    """The distinct move sets as ``rhs_steps`` (channels that change the same rows share one
    re-solve), and the step of each channel row."""
    distinct: dict[tuple, int] = {}
    which = np.array([distinct.setdefault(m, len(distinct)) for m in moves], dtype=np.int64)
    ptr, target, weight = [0], [], []
    for m in distinct:
        for t, w in m:
            target.append(t)
            weight.append(w)
        ptr.append(len(target))
    return {"ptr": np.array(ptr), "target": np.array(target, dtype=np.int64), "weight": np.array(weight, dtype=float),
            "delta": DELTA_T}, which


def marginal_values(built: BuiltModel, values: dict[str, np.ndarray], options: SolveOptions | None = None) -> pd.DataFrame:
    """Per (region, channel, chemistry, period) with tonnes: the marginal value of one more tonne
    of that channel captured there (see the module docstring) and whether it sits at a breakpoint."""
    lp = fixed_network_lp(built, values)
    keys, moves = _moves(built, lp)
    out = keys.assign(marginal_value_per_t=np.nan, at_breakpoint=False)
    if "supply_balance" not in lp.row_blocks or not len(keys):
        return out[MV_COLUMNS]
    steps, which = _steps(moves)
    # no time limit (LP re-solves from a basis), no presolve (it would discard the basis)
    options = dataclasses.replace(options or SolveOptions(), warm_start="off", log=False, time_limit_s=None, presolve=False)
    run = run_matrix(lp, options, relax=True, rhs_steps=steps)
    if run.status != SolveStatus.OPTIMAL or run.rhs_up is None:
        return out[MV_COLUMNS]
    base = float(run.objective)
    up, down = (run.rhs_up - base) / DELTA_T, (base - run.rhs_down) / DELTA_T
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(up)), np.abs(np.nan_to_num(down)))) + 1e-9 * abs(base)
    out["marginal_value_per_t"] = -up[which]
    out["at_breakpoint"] = (np.isfinite(up) & np.isfinite(down) & (np.abs(up - down) > tol))[which]
    return out[MV_COLUMNS]


def with_marginal_values(channels: pd.DataFrame, mv: pd.DataFrame) -> pd.DataFrame:
    """The channels table with each row's value filled in."""
    keys = ["region_id", "channel", "chemistry", "period"]
    merged = channels.drop(columns=["marginal_value_per_t", "at_breakpoint"]).merge(mv, on=keys, how="left")
    merged["at_breakpoint"] = merged["at_breakpoint"].eq(True).to_numpy(bool)
    return merged[list(channels.columns)]
