"""The solve pipeline: load (if given a path), build, MIP start, HiGHS, extract.

:func:`solve` is the one-call shortcut of the pipeline; each stage is callable alone
(:func:`~optimizer.model.build.build_model`, :func:`optimizer.highs.run_highs`,
:func:`~optimizer.extract.extract_tables`).  The options are :class:`~optimizer.options.SolveOptions`
(documented there); HiGHS is run by :mod:`optimizer.highs` (status, errors, time-limit guard,
threads).  Stage timings land in ``Solution.timings``: ``read``, ``build``, ``warm_start`` (the
time the MIP start actually took, whatever it returned; the main solve's limit is reduced by it),
``handoff``, ``solve``, ``extract``.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from pyomo.common.gc_manager import PauseGC

from .diagnose import diagnose
from .explain import marginal_values, with_marginal_values
from .extract import extract_tables
from .heuristic import rolling_start, warm_start
from .highs import RunResult, highs_version, run_highs
from .instance import Instance
from .load import load_instance
from .model.build import BuiltModel, build_model
from .model.compile import compile_model
from .options import SolveOptions
from .solution import Solution, SolveStatus, empty_tables
from .split import run_split
from .tiers import HUB, LEGS, REGION

#: Models with at least this many arcs out of the regions get a warm start under warm_start="auto"
#: (the bundled markets have 3,000-3,700: China's third-party preset reached 1 % in 101 s with one
#: and in 250 s without, North America's in 73 s against 108 s; Europe's take 30-50 s longer).
WARM_START_MIN_ARCS = 2000
#: One-period models with at least this many region->site arcs (and two hub sites) are solved by the
#: hub-count split under split="auto" (the bundled markets have 2,800-3,400; a split costs one LP
#: per hub count, which small models do not need).
SPLIT_MIN_ARCS = 1000
#: Multi-period starts (one one-period solve per period, each stopping at a 0.5 % gap) may use up
#: to this share of the time limit: without one, HiGHS spends minutes on the root of a horizon model
#: holding a poor incumbent.  The start returns as soon as the last period is solved.
ROLLING_START_SHARE = 0.4


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
        provenance=provenance(instance, options, run),
        diagnosis=diagnosis,
        periods=periods,
        period_weights=weights,
        period_discount=discount,
        **tables,
    )


def _pipeline(instance: Instance, options: SolveOptions, timings: dict):
    """Build, (warm start), solve, extract; returns the built model, run, tables and diagnosis."""
    t = time.perf_counter()
    built = build_model(instance, options.model_options())
    timings["build"] = time.perf_counter() - t

    start = None
    run_options = options
    if _wants_warm_start(built, options):
        share = options.warm_start_share if built.net.single_period else max(options.warm_start_share, ROLLING_START_SHARE)
        budget = share * options.time_limit_s if options.time_limit_s else 60.0
        t = time.perf_counter()
        if built.net.single_period:
            start = warm_start(instance, built.net, options.model_options(), options, budget)
        else:
            start = rolling_start(instance, built.net, options.model_options(), options, budget)
        # the time actually spent, whether or not a start came out of it, is off the limit
        timings["warm_start"] = time.perf_counter() - t
        if options.time_limit_s is not None:
            run_options = replace(options, time_limit_s=max(1.0, options.time_limit_s - timings["warm_start"]))
    if _wants_split(built, options):
        # the split (optimizer.split) builds on run_matrix, so it takes the compiled matrix here
        # rather than through run_highs (which split cannot import back: highs <- split)
        t = time.perf_counter()
        mf = compile_model(built.model)
        compile_s = time.perf_counter() - t
        run = run_split(mf, run_options, mip_start=start.values if start else None)
        run = replace(run, handoff_s=run.handoff_s + compile_s)
    else:
        run = run_highs(built, run_options, mip_start=start.values if start else None)
    timings["handoff"] = run.handoff_s
    timings["solve"] = run.solve_s

    t = time.perf_counter()
    diagnosis = None
    if run.status.has_solution:
        tables = extract_tables(instance, built.net, run.values)
        if options.marginal_values and options.handoff == "direct" and run.values:
            t_mv = time.perf_counter()
            tables["channels"] = with_marginal_values(tables["channels"], marginal_values(built, run.values, options))
            timings["marginal_values"] = time.perf_counter() - t_mv
    else:
        tables = empty_tables()
        if run.status == SolveStatus.INFEASIBLE and options.diagnose:
            diagnosis = diagnose(instance, options)
    timings["extract"] = time.perf_counter() - t
    return built, run, tables, diagnosis


def _wants_warm_start(built: BuiltModel, options: SolveOptions) -> bool:
    if options.warm_start == "off" or options.handoff != "direct":
        return False
    first = [leg for leg in LEGS if leg.origin == REGION]
    if all(built.net.tiers[leg.destination].options.empty for leg in first):
        return False
    if options.warm_start == "on":
        return True
    return sum(len(built.net.arcs[leg.name]) for leg in first) >= WARM_START_MIN_ARCS


def _wants_split(built: BuiltModel, options: SolveOptions) -> bool:
    """The hub-count split (:mod:`optimizer.split`): one-period models with two hub sites or more;
    under ``"auto"`` only those with at least ``SPLIT_MIN_ARCS`` region arcs and without a node
    limit (a node limit is a limit on one tree)."""
    if options.split == "off" or options.handoff != "direct" or not built.net.single_period:
        return False
    if built.net.tiers[HUB.name].options["site_id"].nunique() < 2:
        return False
    if options.split == "on":
        return True
    if options.node_limit is not None:
        return False
    first = [leg for leg in LEGS if leg.origin == REGION]
    return sum(len(built.net.arcs[leg.name]) for leg in first) >= SPLIT_MIN_ARCS


def _options(options: SolveOptions | None, kwargs: dict) -> SolveOptions:
    options = SolveOptions(**asdict(options)) if options else SolveOptions()
    aliases = {"time_limit": "time_limit_s", "gap": "mip_rel_gap", "rel_gap": "mip_rel_gap"}
    for k, v in kwargs.items():
        k = aliases.get(k, k)
        if not hasattr(options, k):
            raise TypeError(f"unknown solve option '{k}'")
        setattr(options, k, v)
    return options.validated()


def provenance(inst: Instance, options: SolveOptions, run: RunResult | None = None) -> dict:
    """Where a solution comes from: input hash, versions, options, threads used, time."""
    import pyomo

    from .schema import SCHEMA_VERSION
    from .version import __version__

    return {
        "input_hash": inst.input_hash,
        "source": inst.source,
        "spokehub": __version__,
        "pyomo": pyomo.version.version,
        "highs": highs_version(),
        "python": platform.python_version(),
        "instance_schema_version": SCHEMA_VERSION,
        "options": options.as_dict(),
        "threads": run.threads if run is not None and run.threads is not None else options.resolved_threads,
        "stopped_by": run.stopped_by if run is not None else "highs",
        "solve_time_limit_s": run.time_limit_s if run is not None else options.time_limit_s,
        "notes": list(inst.notes),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
