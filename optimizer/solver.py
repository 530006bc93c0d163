"""Solve an instance with HiGHS: options, status, gap, stage timings.

Two hand-off routes take the same Pyomo model to HiGHS:

``direct`` (default)
    :func:`~optimizer.model.compile.compile_model` turns the model into a sparse matrix that
    ``highspy.Highs.passModel`` takes in one call; values come back as one array.
``pyomo``
    Pyomo's own HiGHS interface (``pyomo.contrib.solver``), which walks the model term by term;
    kept as the reference route (tests check both give the same optimum) and for benchmarks.

Options (:class:`SolveOptions`):

* ``time_limit_s`` -- HiGHS's wall-clock limit for the solve itself; reading, building and
  hand-off are *not* included (they are reported separately in ``Solution.timings``).
* ``mip_rel_gap`` -- relative gap at which HiGHS stops (HiGHS's default 1e-4); tests comparing
  with an exact optimum set 0.
* ``threads`` -- HiGHS fixes its thread pool once per process at the first solve: a later solve in
  the same process with another value keeps the first pool (spokehub warns).  Sweeps set it per
  worker process.
* ``seed`` -- HiGHS's random seed; with a fixed seed and thread count a finished run is
  reproducible.
* ``node_limit`` -- branch-and-bound node limit (a machine-independent limit, used by tests).
* ``heuristics`` -- ``False`` turns HiGHS's primal heuristics off, so together with
  ``node_limit`` (and ``warm_start="off"``) a run stops at the same point on every machine.
* ``warm_start`` -- ``"auto"`` (models with at least :data:`WARM_START_MIN_ARCS` region->spoke
  arcs) or ``"on"`` computes a MIP start first and hands it to HiGHS, see
  :mod:`optimizer.heuristic`: a one-period model is solved on a sparsified network; a multi-period
  model is solved period by period, each period keeping what the one before built.  It may use
  ``warm_start_share`` of the time limit (:data:`ROLLING_START_SHARE` at least for multi-period),
  which the main solve's limit is reduced by (60 s when there is no limit).
* ``cover_cuts``, ``linking`` -- formulation switches (capacity-cover rows; per-arc or aggregated
  linking rows); :meth:`SolveOptions.baseline` is the textbook formulation without extras.
"""

from __future__ import annotations

import platform
import time
import warnings
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pyomo.common.gc_manager import PauseGC

from .instance import Instance, load_instance
from .model.build import BuiltModel, ModelOptions, build_model
from .model.compile import MatrixForm, compile_model
from .solution import Solution, SolveStatus, empty_tables

_THREADS_IN_PROCESS: int | None = None


@dataclass
class SolveOptions:
    """Solver settings (see module docstring)."""

    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    node_limit: int | None = None
    presolve: bool = True
    heuristics: bool = True  # False sets HiGHS mip_heuristic_effort = 0 (deterministic limit tests)
    log: bool = False
    handoff: str = "direct"  # "direct" | "pyomo"
    single_sourcing: bool | None = None  # None: the instance's setting
    warm_start: str = "auto"  # "auto" (large models only) | "on" | "off"
    warm_start_share: float = 0.15  # share of the time limit the warm start may use
    cover_cuts: bool = True  # capacity-cover rows (see model.build.add_capacity_cover)
    linking: str = "per-arc"  # "per-arc" | "aggregated"
    diagnose: bool = True  # on infeasibility, solve the elastic model to name the shortfall

    def as_dict(self) -> dict:
        return asdict(self)

    def model_options(self) -> ModelOptions:
        return ModelOptions(single_sourcing=self.single_sourcing, linking=self.linking, cover_cuts=self.cover_cuts)

    @staticmethod
    def baseline(**kw) -> SolveOptions:
        """The textbook strong formulation handed to plain HiGHS: per-arc linking rows, no cover
        cuts, no warm start (``spokehub bench --formulation baseline``)."""
        return SolveOptions(warm_start="off", cover_cuts=False, linking="per-arc", **kw)


#: Models with at least this many region->spoke arcs get a warm start under warm_start="auto".
WARM_START_MIN_ARCS = 5000
#: Multi-period starts (one one-period solve per period, each stopping at a 0.5 % gap) may use up
#: to this share of the time limit: without one, HiGHS spends minutes on the root of a horizon model
#: holding a poor incumbent.  The start returns as soon as the last period is solved.
ROLLING_START_SHARE = 0.4


@dataclass
class RunResult:
    """What HiGHS returned, as plain data."""

    status: SolveStatus
    termination: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    values: dict[str, np.ndarray]
    nodes: int = 0
    handoff_s: float = 0.0
    solve_s: float = 0.0


def solve(instance: Instance | str | Path, options: SolveOptions | None = None, **kwargs) -> Solution:
    """Load (if given a path), build, solve and extract; always returns a :class:`Solution`.

    Keyword arguments override fields of ``options``: ``solve(inst, time_limit=60)`` works as
    ``time_limit_s=60``.
    """
    t0 = time.perf_counter()
    options = _options(options, kwargs)
    timings: dict[str, float] = {}
    if isinstance(instance, (str, Path)):
        instance = load_instance(instance)
        timings["read"] = time.perf_counter() - t0
    else:
        timings["read"] = 0.0

    # The garbage collector stays paused from build to extraction: the model is hundreds of
    # thousands of acyclic objects that reference counting frees, and a collector pass over them
    # costs as much as building them.
    with PauseGC():
        built, run, tables, diagnosis = _pipeline(instance, options, timings)
        periods = tuple(built.net.periods)
        weights = dict(built.net.period_weight)
        del built
    discount = (instance.periods.start_discount(instance.params.discount_rate) if instance.periods is not None
                else {p: 1.0 for p in periods})
    return Solution(
        instance_name=instance.name,
        currency=instance.currency,
        status=run.status,
        objective=run.objective,
        best_bound=run.best_bound,
        gap=run.gap,
        termination=run.termination,
        profit_mode=instance.profit_mode,
        timings=timings,
        provenance=provenance(instance, options),
        diagnosis=diagnosis,
        periods=periods,
        period_weights=weights,
        period_discount=discount,
        **tables,
    )


def _pipeline(instance: Instance, options: SolveOptions, timings: dict):
    """Build, (warm start), solve, extract; returns the built model, run and tables."""
    t = time.perf_counter()
    built = build_model(instance, options.model_options())
    timings["build"] = time.perf_counter() - t

    start = None
    run_options = options
    if _wants_warm_start(built, options):
        from .heuristic import rolling_start, warm_start

        share = options.warm_start_share if built.net.single_period else max(options.warm_start_share, ROLLING_START_SHARE)
        budget = share * options.time_limit_s if options.time_limit_s else 60.0
        if built.net.single_period:
            start = warm_start(instance, built.net, options.model_options(), options, budget)
        else:
            start = rolling_start(instance, built.net, options.model_options(), options, budget)
        timings["warm_start"] = start.seconds if start else 0.0
        if options.time_limit_s is not None:
            run_options = SolveOptions(**{**options.as_dict(), "time_limit_s": max(1.0, options.time_limit_s - timings["warm_start"])})
    run = run_highs(built, run_options, mip_start=start.values if start else None)
    timings["handoff"] = run.handoff_s
    timings["solve"] = run.solve_s

    t = time.perf_counter()
    diagnosis = None
    if run.status.has_solution:
        from .extract import extract_tables

        tables = extract_tables(instance, built.net, run.values)
    else:
        tables = empty_tables()
        if run.status == SolveStatus.INFEASIBLE and options.diagnose:
            from .diagnose import diagnose

            diagnosis = diagnose(instance, options)
    timings["extract"] = time.perf_counter() - t
    return built, run, tables, diagnosis


def _wants_warm_start(built: BuiltModel, options: SolveOptions) -> bool:
    if options.warm_start == "off" or options.handoff != "direct":
        return False
    if built.net.spoke_options.empty:
        return False
    if options.warm_start == "on":
        return True
    return len(built.net.arcs_rs) >= WARM_START_MIN_ARCS


def _options(options: SolveOptions | None, kwargs: dict) -> SolveOptions:
    options = SolveOptions(**asdict(options)) if options else SolveOptions()
    aliases = {"time_limit": "time_limit_s", "gap": "mip_rel_gap", "rel_gap": "mip_rel_gap"}
    for k, v in kwargs.items():
        k = aliases.get(k, k)
        if not hasattr(options, k):
            raise TypeError(f"unknown solve option '{k}'")
        setattr(options, k, v)
    if options.handoff not in ("direct", "pyomo"):
        raise ValueError(f"handoff must be 'direct' or 'pyomo', got {options.handoff!r}")
    if options.warm_start not in ("auto", "on", "off"):
        raise ValueError(f"warm_start must be 'auto', 'on' or 'off', got {options.warm_start!r}")
    return options


def provenance(inst: Instance, options: SolveOptions) -> dict:
    import highspy
    import pyomo

    from . import __version__
    from .schema import SCHEMA_VERSION

    return {
        "input_hash": inst.input_hash,
        "source": inst.source,
        "spokehub": __version__,
        "pyomo": pyomo.version.version,
        "highs": _highs_version(highspy),
        "python": platform.python_version(),
        "instance_schema_version": SCHEMA_VERSION,
        "options": options.as_dict(),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _highs_version(highspy) -> str:
    h = highspy.Highs()
    try:
        return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except AttributeError:  # pragma: no cover - older highspy
        return getattr(highspy, "__version__", "unknown")


# --- HiGHS ---------------------------------------------------------------------------------------


def run_highs(built: BuiltModel, options: SolveOptions, mip_start: dict[str, np.ndarray] | None = None,
              relax: bool = False) -> RunResult:
    """Hand the model to HiGHS by the chosen route, solve, and read values back (``relax``: the
    LP relaxation, every binary in [0, 1]; direct route only)."""
    if options.handoff == "pyomo":
        return _run_pyomo(built, options)
    t = time.perf_counter()
    mf = compile_model(built.model)
    if relax:
        mf = replace(mf, integer=np.zeros_like(mf.integer))
    h = _highs_from_matrix(mf, options)
    handoff = time.perf_counter() - t
    if mip_start:
        _set_mip_start(h, mf, mip_start)
    t = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t
    return _read_result(h, mf, handoff, solve_s)


def _apply_options(h, options: SolveOptions) -> None:
    global _THREADS_IN_PROCESS
    h.setOptionValue("output_flag", bool(options.log))
    h.setOptionValue("random_seed", int(options.seed))
    h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    if options.time_limit_s is not None:
        h.setOptionValue("time_limit", float(options.time_limit_s))
    if options.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(options.node_limit))
    if not options.presolve:
        h.setOptionValue("presolve", "off")
    if not options.heuristics:
        h.setOptionValue("mip_heuristic_effort", 0.0)
    if options.threads is not None:
        if _THREADS_IN_PROCESS is not None and _THREADS_IN_PROCESS != options.threads:
            warnings.warn(
                f"HiGHS keeps the thread pool of the first solve in a process "
                f"({_THREADS_IN_PROCESS} threads); threads={options.threads} is not applied",
                RuntimeWarning, stacklevel=3,
            )
        h.setOptionValue("threads", int(options.threads))
        _THREADS_IN_PROCESS = _THREADS_IN_PROCESS or options.threads


def _highs_from_matrix(mf: MatrixForm, options: SolveOptions):
    import highspy

    h = highspy.Highs()
    _apply_options(h, options)
    A = mf.A.tocsr()
    n_rows, n_cols = A.shape
    status = h.passModel(
        int(n_cols), int(n_rows), int(A.nnz), int(highspy.MatrixFormat.kRowwise.value),
        int(highspy.ObjSense.kMinimize.value if mf.sense == 1 else highspy.ObjSense.kMaximize.value),
        float(mf.offset),
        np.ascontiguousarray(mf.c, dtype=np.float64),
        np.ascontiguousarray(mf.col_lo, dtype=np.float64),
        np.ascontiguousarray(mf.col_hi, dtype=np.float64),
        np.ascontiguousarray(mf.row_lo, dtype=np.float64),
        np.ascontiguousarray(mf.row_hi, dtype=np.float64),
        np.ascontiguousarray(A.indptr, dtype=np.int32),
        np.ascontiguousarray(A.indices, dtype=np.int32),
        np.ascontiguousarray(A.data, dtype=np.float64),
        np.ascontiguousarray(mf.integer.astype(np.int32)),
    )
    if status != highspy.HighsStatus.kOk and status != highspy.HighsStatus.kWarning:
        raise RuntimeError(f"HiGHS refused the model: {status}")
    return h


def _set_mip_start(h, mf: MatrixForm, start: dict[str, np.ndarray]) -> None:
    idx, val = [], []
    for name, values in start.items():
        if name not in mf.var_blocks:
            continue
        s, n = mf.var_blocks[name]
        idx.append(np.arange(s, s + n, dtype=np.int32))
        val.append(np.asarray(values, dtype=float))
    if idx:
        i = np.concatenate(idx)
        v = np.concatenate(val)
        h.setSolution(int(len(i)), i, v)


def _read_result(h, mf: MatrixForm, handoff: float, solve_s: float) -> RunResult:
    import highspy

    ms = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(ms)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    MS = highspy.HighsModelStatus
    if ms == MS.kOptimal:
        status = SolveStatus.OPTIMAL
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = SolveStatus.INFEASIBLE
    elif has_solution:
        status = SolveStatus.FEASIBLE
    else:
        status = SolveStatus.NO_SOLUTION
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = None
    if status.has_solution:
        x = np.asarray(h.getSolution().col_value, dtype=float)
        for name, (s, n) in mf.var_blocks.items():
            values[name] = x[s:s + n]
        objective = float(info.objective_function_value)
        is_mip = bool(mf.integer.any())
        bound = float(info.mip_dual_bound) if is_mip else objective
        gap = float(info.mip_gap) if is_mip else 0.0
        if gap is not None and (np.isinf(gap) or np.isnan(gap)):
            gap = None
    return RunResult(status, text, objective, bound, gap, values, int(getattr(info, "mip_node_count", 0)), handoff, solve_s)


def _run_pyomo(built: BuiltModel, options: SolveOptions) -> RunResult:
    """Pyomo's contrib HiGHS interface: the reference route."""
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = Highs()
    solver_options = {"random_seed": int(options.seed)}
    if options.node_limit is not None:
        solver_options["mip_max_nodes"] = int(options.node_limit)
    if not options.presolve:
        solver_options["presolve"] = "off"
    if not options.heuristics:
        solver_options["mip_heuristic_effort"] = 0.0
    t = time.perf_counter()
    res = opt.solve(
        built.model, tee=options.log, time_limit=options.time_limit_s, rel_gap=options.mip_rel_gap,
        threads=options.threads, solver_options=solver_options, load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    total = time.perf_counter() - t
    try:
        solve_s = float(res.timing_info.highs_time)
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - other Pyomo versions
        solve_s = 0.0
    tc = res.termination_condition
    if tc == TerminationCondition.convergenceCriteriaSatisfied:
        status = SolveStatus.OPTIMAL
    elif tc in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                TerminationCondition.infeasibleOrUnbounded):
        status = SolveStatus.INFEASIBLE
    elif res.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal):
        status = SolveStatus.FEASIBLE
    else:
        status = SolveStatus.NO_SOLUTION
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = None
    if status.has_solution:
        res.solution_loader.load_vars()
        for var in built.model.component_objects(pyo.Var, active=True):
            values[var.name] = np.fromiter((v.value if v.value is not None else 0.0 for v in var.values()),
                                           dtype=float, count=len(var))
        objective = float(res.incumbent_objective)
        bound = float(res.objective_bound) if res.objective_bound is not None else None
        if bound is not None and objective is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
    return RunResult(status, str(tc.name), objective, bound, gap, values, 0, max(0.0, total - solve_s), solve_s)


