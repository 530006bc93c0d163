"""Hub-count split: the MIP solved as one sub-MIP per number of open hubs, each bounded by its LP.

Why.  What makes the bundled markets' presets slow is the hub configuration, not the spokes:
the LP relaxation opens a fraction of a second hub (North America's battery maker: 1.42 hubs'
worth, root bound 690 M against an optimum of 664 M), and HiGHS, which has no branching
priorities, settles the hubs only deep in its tree.  Fixing the number of open hubs ``k`` takes
that fraction away: the LP bound with ``k`` fixed is 663 M for one hub, 675 M for two, 633 M for
three.  So the split solves

.. math:: \\min_x \\; c x \\quad = \\quad \\min_{k} \\; \\min_x \\{\\, c x \\;:\\; \\textstyle\\sum_{i,k'} y^H_{i,k'} = k \\,\\}

(:math:`y^H_{i,k'}` = hub :math:`i` operates size :math:`k'`; at most one size per site, so the
sum counts open hubs).  The values ``k = 0 .. number of hub sites`` partition the feasible set,
so the smallest of the sub-optima is the optimum.  Each part's LP is solved first (a fraction of
a second); parts are then taken in order of their LP bound, best first, and a part whose LP bound
is within the gap of the best network found so far is not solved at all (it cannot hold a network
better by more than the gap).  The result's bound is the smallest of the parts' bounds (a solved
part's MIP bound, a skipped part's LP bound), its gap is measured against it, and its status is
*optimal* only when every part is solved or skipped within the gap; a time limit hit in any part
makes it *feasible* (with the best network found) or *no solution*.

Only one-period models are split (a horizon's count changes from period to period); the main
pipeline uses it under ``split="auto"`` for models with at least ``SPLIT_MIN_ARCS`` region arcs
(:mod:`optimizer.solver`), and always under ``split="on"``.  Every run goes through :func:`optimizer.highs.run_matrix` (worker process,
status, verification), so a HiGHS error is an error here as everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .highs import RunResult, run_matrix
from .options import SolveOptions
from .solution import SolveStatus
from .tiers import HUB

#: Relative slack on "within the gap" when a part is skipped on its LP bound (LP tolerances).
SKIP_SLACK = 1e-9


@dataclass
class Part:
    """One value of the hub count: its LP bound and, once solved, its MIP result."""

    hubs: int
    lp_bound: float | None  # None: the part's LP is infeasible (no network has this many hubs)
    run: RunResult | None = None
    mip_bound: float | None = None  # the solved part's MIP bound, minimising sense
    skipped: bool = False

    @property
    def bound(self) -> float:
        """The part's bound in the minimising sense (``inf``: empty part)."""
        if self.lp_bound is None:
            return np.inf
        if self.run is not None:
            if self.run.status == SolveStatus.INFEASIBLE:
                return np.inf
            if self.mip_bound is not None:
                return max(self.mip_bound, self.lp_bound)
        return self.lp_bound


def with_hub_count(mf):
    """``mf`` with one row more, ``sum of the hub-opening columns``, and the number of hub sites.
    The row's bounds are set per part by :func:`_part_matrix`."""
    s, n = mf.var_blocks[HUB.open_var]
    sites = len({mf.columns[s + i].index()[0] for i in range(n)})
    row = sp.csr_matrix((np.ones(n), (np.zeros(n, dtype=np.int64), np.arange(s, s + n))), shape=(1, mf.A.shape[1]))
    A = sp.vstack([mf.A.tocsr(), row]).tocsr()
    return replace(mf, A=A, row_lo=np.append(mf.row_lo, 0.0), row_hi=np.append(mf.row_hi, float(sites)),
                   row_blocks={**mf.row_blocks, "hub_count_split": (len(mf.row_lo), 1)}), sites


def _part_matrix(mf_counted, hubs: int):
    lo, hi = mf_counted.row_lo.copy(), mf_counted.row_hi.copy()
    lo[-1] = hi[-1] = float(hubs)
    return replace(mf_counted, row_lo=lo, row_hi=hi)


def _start_count(mf, mip_start: dict | None) -> int | None:
    if not mip_start or HUB.open_var not in mip_start:
        return None
    return int(round(float(np.sum(mip_start[HUB.open_var]))))


def run_split(mf, options: SolveOptions, mip_start: dict[str, np.ndarray] | None = None) -> RunResult:
    """Solve ``mf`` (a :class:`~optimizer.model.compile.MatrixForm` with hub-opening columns) by
    the hub-count split; the result reads like one HiGHS run's (values per variable block)."""
    t0 = time.perf_counter()
    sign = 1.0 if mf.sense == 1 else -1.0  # parts compared in the minimising sense
    counted, sites = with_hub_count(mf)
    deadline = None if options.time_limit_s is None else t0 + options.time_limit_s
    messages: list[str] = []

    def left() -> float | None:
        return None if deadline is None else max(1.0, deadline - time.perf_counter())

    parts: list[Part] = []
    handoff = solve_s = 0.0
    for hubs in range(sites + 1):
        lp = run_matrix(_part_matrix(counted, hubs), replace(options, time_limit_s=left()), relax=True)
        handoff, solve_s = handoff + lp.handoff_s, solve_s + lp.solve_s
        if lp.status == SolveStatus.INFEASIBLE:
            parts.append(Part(hubs, None))
        elif lp.status == SolveStatus.OPTIMAL:
            parts.append(Part(hubs, sign * lp.objective))
        else:  # an LP that did not finish (time limit): this part cannot be bounded
            parts.append(Part(hubs, -np.inf))

    best: RunResult | None = None
    best_obj = np.inf
    timed_out = False
    start_hubs = _start_count(mf, mip_start)
    for part in sorted((p for p in parts if p.lp_bound is not None), key=lambda p: p.lp_bound):
        if best is not None and part.lp_bound >= best_obj - options.mip_rel_gap * abs(best_obj) - SKIP_SLACK * abs(best_obj):
            part.skipped = True
            continue
        if deadline is not None and time.perf_counter() >= deadline:
            timed_out = True
            break
        run = run_matrix(_part_matrix(counted, part.hubs), replace(options, time_limit_s=left()),
                         mip_start=mip_start if start_hubs == part.hubs else None)
        part.run = run
        if run.best_bound is not None:
            part.mip_bound = sign * run.best_bound
        handoff, solve_s = handoff + run.handoff_s, solve_s + run.solve_s
        messages += run.messages
        if run.status == SolveStatus.FEASIBLE:
            timed_out = True
        if run.status.has_solution and sign * run.objective < best_obj:
            best, best_obj = run, sign * run.objective

    bound = min((p.bound for p in parts), default=np.inf)
    summary = _summary([p for p in parts if p.lp_bound is not None])
    nodes = sum(p.run.nodes for p in parts if p.run is not None)
    if best is None:
        status = SolveStatus.NO_SOLUTION if timed_out or any(p.lp_bound == -np.inf for p in parts) else SolveStatus.INFEASIBLE
        return RunResult(status, f"hub-count split: {summary or 'no hub count is feasible'}", None, None, None, {}, nodes,
                         handoff, solve_s, options.resolved_threads, messages=messages, time_limit_s=options.time_limit_s)
    bound = min(bound, best_obj)
    gap = (best_obj - bound) / max(abs(best_obj), 1e-10)
    status = SolveStatus.FEASIBLE if timed_out or gap > options.mip_rel_gap + 1e-9 else SolveStatus.OPTIMAL
    head = "Optimal within the gap" if status == SolveStatus.OPTIMAL else "Time limit reached"
    return RunResult(status, f"{head} (hub-count split: {summary})", best.objective, sign * bound, gap, best.values, nodes,
                     handoff, solve_s, best.threads, best.stopped_by, messages, time_limit_s=options.time_limit_s)


def _summary(parts: list[Part]) -> str:
    """``2 hubs optimal; 0, 1 and 3-12 hubs skipped on their LP bound``: the parts by outcome."""
    if not parts:
        return ""
    solved = [_part_text(p) for p in parts if not p.skipped and p.run is not None]
    text = "; ".join(solved)
    # parts left unsolved by the time limit, and parts skipped, as ranges of hub counts
    for ns, what in (([p.hubs for p in parts if not p.skipped and p.run is None], "not solved (time)"),
                     ([p.hubs for p in parts if p.skipped], "skipped on the LP bound")):
        if ns:
            text += ("; " if text else "") + f"{_ranges(ns)} hub{'' if ns == [1] else 's'} {what}"
    return text


def _ranges(ns: list[int]) -> str:
    runs: list[list[int]] = []
    for n in sorted(ns):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    words = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _part_text(p: Part) -> str:
    hubs = f"{p.hubs} hub{'' if p.hubs == 1 else 's'}"
    if p.skipped:
        return f"{hubs} skipped on the LP bound"
    if p.run is None:
        return f"{hubs} not solved (time)"
    return f"{hubs} {p.run.status.value}"
