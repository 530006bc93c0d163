"""Run HiGHS: the low-level layer below the solve pipeline, the MIP starts and the diagnosis.

:func:`run_highs` takes a built model by one of two routes:

``direct`` (default)
    :func:`~optimizer.model.compile.compile_model` turns the model into a sparse matrix, which
    :func:`run_matrix` hands to HiGHS in a **worker process** (:mod:`optimizer.highs_worker`).
``pyomo``
    Pyomo's own HiGHS interface in this process: the reference route (tests check both give the
    same optimum), without the worker's guarantees below.

What a run guarantees, on every HiGHS version the project allows:

* **A HiGHS error is an error.**  The status of every ``setOptionValue``, ``passModel``,
  ``setSolution`` and ``run`` is checked; an error raises :class:`SolverError` (exit code 6)
  with HiGHS's own messages, never "no solution".
* **The values are the incumbent's.**  The vector returned is priced (``c x + offset``) and
  checked against the rows, bounds and integrality; if its objective differs from the one HiGHS
  reports, or it breaks a row, that is a :class:`SolverError`, never a result.  (HiGHS 1.16 with
  presolve returns a MIP start's values beside a better incumbent's objective; the worker keeps
  every solution HiGHS reports, so the right vector is found.)
* **The time limit holds.**  A run still going :func:`~optimizer.options.guard_grace_s` after its
  limit is asked to stop through HiGHS's interrupt callback, and the worker is killed a grace
  period later if HiGHS does not return; the last incumbent it reported is the result
  ("feasible (limit)", termination saying spokehub stopped it), or no solution if none came.
* **The thread count asked for is the one used.**  HiGHS sizes its scheduler once per process,
  so a worker runs one thread count; a solve asking for another gets a fresh worker.  Solves in
  one Python process share the worker one at a time (a lock), so concurrent calls wait.
* **Quiet.**  The worker's output never reaches the console; with ``log=True`` HiGHS's log is
  forwarded to standard output.

Where a worker process cannot be started (no ``pass_fds``, e.g. Windows) or ``isolate=False``,
the run happens in this process: the checks above still apply, the thread count is honoured by
resetting HiGHS's scheduler between solves (safe: solves are serialised by the same lock), but
only HiGHS's own time limit and the interrupt callback stop it.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import highs_worker
from .errors import SpokehubError
from .options import SolveOptions, guard_grace_s
from .status import SolveStatus

#: Seconds a new worker may take to import numpy and highspy and say it is ready.
STARTUP_TIMEOUT_S = 120.0
#: Relative agreement required between HiGHS's objective and the price of its values.
OBJECTIVE_RTOL = 1e-6


class SolverError(SpokehubError):
    """HiGHS reported an error, or returned values that are not the solution it reports."""

    exit_code = 6


@dataclass
class RunResult:
    """What one HiGHS run returned, as plain data."""

    status: SolveStatus
    termination: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    values: dict[str, np.ndarray]
    nodes: int = 0
    handoff_s: float = 0.0
    solve_s: float = 0.0
    threads: int | None = None
    stopped_by: str = "highs"  # "highs" | "spokehub" (the time-limit guard)
    messages: list[str] = field(default_factory=list)
    row_dual: np.ndarray | None = None
    col_dual: np.ndarray | None = None
    time_limit_s: float | None = None  # the limit HiGHS ran with
    #: LPs run with ``rhs_steps``: the optimum with each listed row moved by +delta / -delta
    rhs_up: np.ndarray | None = None
    rhs_down: np.ndarray | None = None


def highs_version() -> str:
    """Version of the HiGHS library highspy ships (no ``Highs`` object made: no banner)."""
    return highs_worker.versions()["highs"]


# --- the worker process ---------------------------------------------------------------------------


class _Worker:
    """One worker process running HiGHS with a fixed thread count."""

    def __init__(self, threads: int):
        from multiprocessing.connection import Connection

        self.threads = threads
        self.owner_pid = os.getpid()
        parent, child = socket.socketpair()
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-P", str(Path(highs_worker.__file__)), str(child.fileno()), str(threads)],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.stderr, start_new_session=True, close_fds=True)
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        if not self.conn.poll(STARTUP_TIMEOUT_S):
            self.kill()
            raise SolverError(f"the HiGHS worker process did not start within {STARTUP_TIMEOUT_S:.0f} s")
        try:
            kind, info = self.conn.recv()
        except EOFError:
            raise SolverError("the HiGHS worker process failed to start: " + self.stderr_text()) from None
        if kind != "ready" or info.get("protocol") != highs_worker.PROTOCOL:
            self.kill()
            raise SolverError(f"the HiGHS worker process answered {kind!r} {info!r}; expected protocol "
                              f"{highs_worker.PROTOCOL}")
        self.info = info

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self) -> str:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace").strip()
        return text[-2000:] or f"exit code {self.proc.returncode}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            self.conn.close()
        except OSError:
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.conn.send(("exit",))
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


_LOCK = threading.RLock()
_WORKER: _Worker | None = None
_INPROCESS_THREADS: int | None = None  # scheduler size of HiGHS runs made in this process


def _worker(threads: int) -> _Worker:
    """The process's worker for ``threads``, started (or replaced) as needed."""
    global _WORKER
    w = _WORKER
    if w is not None and w.owner_pid != os.getpid():
        w = None  # a forked child: that worker belongs to the parent
    if w is not None and (w.threads != threads or not w.alive()):
        w.close()
        w = None
    if w is None:
        w = _Worker(threads)
    _WORKER = w
    return w


def shutdown_worker() -> None:
    """Stop this process's HiGHS worker (also run at exit)."""
    global _WORKER
    with _LOCK:
        if _WORKER is not None and _WORKER.owner_pid == os.getpid():
            _WORKER.close()
        _WORKER = None


atexit.register(shutdown_worker)


def isolation_available() -> bool:
    """Whether HiGHS can run in a worker process here (POSIX pipes); otherwise it runs in-process."""
    return os.name == "posix"


# --- running a matrix -----------------------------------------------------------------------------


def highs_options(options: SolveOptions, relax: bool = False) -> dict:
    """The HiGHS option values a run sets (``threads`` is set by the worker it runs in)."""
    opts: dict = {"random_seed": int(options.seed), "mip_rel_gap": float(options.mip_rel_gap)}
    if options.time_limit_s is not None:
        opts["time_limit"] = float(options.time_limit_s)
    if options.node_limit is not None:
        opts["mip_max_nodes"] = int(options.node_limit)
    if not options.presolve:
        opts["presolve"] = "off"
    if not options.heuristics:
        opts["mip_heuristic_effort"] = 0.0
    return opts


def highs_from_matrix(mf):
    """A ``highspy.Highs`` in this process holding the matrix form ``mf``, as a run would pass it
    (for inspection and the modelling-layer benchmark; solves go through :func:`run_matrix`)."""
    return highs_worker.load_highs(_payload(mf, SolveOptions(), None, False, False))


def run_matrix(mf, options: SolveOptions, mip_start: dict[str, np.ndarray] | None = None, relax: bool = False,
               duals: bool = False, guard_s: float | None = None,
               rhs_steps: dict | None = None) -> RunResult:
    """Solve the matrix form ``mf`` (a :class:`~optimizer.model.compile.MatrixForm`).

    ``relax``: the LP relaxation (every integer column continuous); ``duals``: return row and
    column duals (LPs only); ``guard_s``: seconds after which spokehub ends the run itself
    (default: the time limit plus :func:`~optimizer.options.guard_grace_s`; tests pass a guard
    below HiGHS's own limit to exercise it); ``rhs_steps`` = ``{"ptr", "target", "weight",
    "delta"}``: an LP is also re-solved after each step of bound moves, by +delta and -delta
    (:mod:`optimizer.explain` builds them; the worker's ``_rhs_steps`` says how they read).
    """
    t0 = time.perf_counter()
    payload = _payload(mf, options, mip_start, relax, duals)
    if rhs_steps is not None:
        payload["rhs_steps"] = {"ptr": np.asarray(rhs_steps["ptr"], dtype=np.int64),
                                "target": np.asarray(rhs_steps["target"], dtype=np.int64),
                                "weight": np.asarray(rhs_steps["weight"], dtype=float), "delta": float(rhs_steps["delta"])}
    limit = options.time_limit_s
    if guard_s is None and limit is not None:
        guard_s = limit + guard_grace_s(limit)
    if guard_s is not None:
        # first a cooperative stop through HiGHS's interrupt callback, half-way into the grace
        # period; the worker is killed at guard_s if HiGHS is somewhere that never calls it
        payload["interrupt_after_s"] = 0.5 * (limit + guard_s) if limit is not None and limit < guard_s else 0.5 * guard_s
    payload["test_stall_s"] = _TEST_STALL_S
    threads = options.resolved_threads
    with _LOCK:
        if options.isolate and isolation_available():
            out = _run_in_worker(payload, threads, guard_s)
        else:
            out = _run_here(payload, threads)
    return replace(_result(mf, payload, out, time.perf_counter() - t0), time_limit_s=limit)


#: Tests only: the worker sleeps this long inside the callback of its first solution, as HiGHS
#: does when it is stuck where it checks neither its limit nor the interrupt callback.
_TEST_STALL_S: float | None = None


def _payload(mf, options: SolveOptions, mip_start, relax: bool, duals: bool) -> dict:
    A = mf.A.tocsr()
    # HiGHS takes NaN costs and reports a NaN optimum as "Optimal": refuse them here (a model bug)
    for what, arr in (("objective coefficient", mf.c), ("matrix coefficient", A.data)):
        bad = ~np.isfinite(np.asarray(arr, dtype=float))
        if bad.any():
            raise ValueError(f"the model has a non-finite {what} ({int(bad.sum())} of them)")
    for what, arr in (("row bound", mf.row_lo), ("row bound", mf.row_hi), ("column bound", mf.col_lo),
                      ("column bound", mf.col_hi)):
        if np.isnan(np.asarray(arr, dtype=float)).any():
            raise ValueError(f"the model has a NaN {what}")
    integer = np.zeros(A.shape[1], dtype=np.int32) if relax else mf.integer.astype(np.int32)
    start = None
    if mip_start and integer.any():
        idx, val = [], []
        for name, values in mip_start.items():
            if name in mf.var_blocks:
                s, n = mf.var_blocks[name]
                if len(values) != n:
                    raise ValueError(f"MIP start for {name} has {len(values)} values, the model {n}")
                idx.append(np.arange(s, s + n, dtype=np.int32))
                val.append(np.asarray(values, dtype=float))
        if idx:
            start = (np.concatenate(idx), np.concatenate(val))
    return {
        "c": np.ascontiguousarray(mf.c, dtype=float), "offset": float(mf.offset), "sense": int(mf.sense),
        "col_lo": np.ascontiguousarray(mf.col_lo, dtype=float), "col_hi": np.ascontiguousarray(mf.col_hi, dtype=float),
        "row_lo": np.ascontiguousarray(mf.row_lo, dtype=float), "row_hi": np.ascontiguousarray(mf.row_hi, dtype=float),
        "indptr": A.indptr.astype(np.int64), "indices": A.indices.astype(np.int64), "data": A.data.astype(float),
        "integrality": integer, "start": start, "options": highs_options(options, relax), "log": bool(options.log),
        "duals": bool(duals),
    }


def _run_in_worker(payload: dict, threads: int, guard_s: float | None) -> dict:
    w = _worker(threads)
    sent = time.perf_counter()
    incumbent: tuple | None = None  # (objective, x) of the best solution the worker reported
    bound: float | None = None
    try:
        w.conn.send(("solve", payload))
        while True:
            wait = 1.0
            if guard_s is not None:
                left = sent + guard_s - time.perf_counter()
                if left <= 0:
                    w.kill()
                    return {"killed": True, "incumbent": incumbent, "bound": bound, "threads": threads,
                            "run_s": time.perf_counter() - sent, "errors": [], "messages": []}
                wait = min(wait, left)
            if not w.conn.poll(wait):
                if not w.alive() and not w.conn.poll(0):
                    raise SolverError(f"the HiGHS worker process died during the solve ({w.stderr_text()})")
                continue
            try:
                msg = w.conn.recv()
            except (EOFError, OSError):
                raise SolverError(f"the HiGHS worker process died during the solve ({w.stderr_text()})") from None
            kind = msg[0]
            if kind == "done":
                return {**msg[1], "incumbent": incumbent, "bound": bound}
            if kind == "incumbent":
                incumbent = (msg[1], msg[2])
            elif kind == "bound":
                bound = msg[1]
            elif kind == "log":
                sys.stdout.write(msg[1])
                sys.stdout.flush()
    except BaseException:
        w.kill()  # interrupted (Ctrl-C) or broken: the worker's state is unknown, start afresh
        raise


def _run_here(payload: dict, threads: int) -> dict:
    """The run in this process (no worker): the scheduler is reset when the count changes."""
    global _INPROCESS_THREADS
    import highspy

    if _INPROCESS_THREADS is not None and _INPROCESS_THREADS != threads:
        highspy.Highs.resetGlobalScheduler(True)
    payload = {**payload, "options": {**payload["options"], "threads": threads}}
    latest: dict = {}

    def emit(kind, *data):
        if kind == "log":
            sys.stdout.write(data[0])
        else:
            latest[kind] = data

    out = highs_worker.solve_payload(payload, emit)
    _INPROCESS_THREADS = threads
    inc = latest.get("incumbent")
    return {**out, "incumbent": (inc[0], inc[1]) if inc else None, "bound": latest.get("bound", (None,))[0]}


def _result(mf, payload: dict, out: dict, total_s: float) -> RunResult:
    """Status and values from the worker's answer, verified against the matrix."""
    messages = list(out.get("messages", []))
    if out.get("errors"):
        err = out["errors"][0]
        detail = "; ".join(messages[-5:]) or "HiGHS gave no message"
        raise SolverError(f"HiGHS {err['call']} failed ({err['status']}): {detail}")
    threads = out.get("threads")
    handoff_s = total_s - out.get("run_s", 0.0)
    if out.get("killed"):
        inc = out.get("incumbent")
        values, objective, bound, gap = {}, None, out.get("bound"), None
        if inc is not None:
            objective, x = float(inc[0]), np.asarray(inc[1], dtype=float)
            _verify(mf, payload, x, objective)
            values = _blocks(mf, x)
            if bound is not None and np.isfinite(bound):
                gap = abs(objective - bound) / max(abs(objective), 1e-10)
            else:
                bound = None
        status = SolveStatus.FEASIBLE if inc is not None else SolveStatus.NO_SOLUTION
        termination = ("Time limit reached (HiGHS did not stop at its limit; spokehub ended the run"
                       + (" and kept the last incumbent)" if inc is not None else ")"))
        return RunResult(status, termination, objective, bound, gap, values, 0, handoff_s, out.get("run_s", 0.0),
                         threads, "spokehub", messages)

    name = out["model_status"]
    text = out["model_status_text"]
    has_solution = out.get("x") is not None
    if name == "kOptimal":
        status = SolveStatus.OPTIMAL
    elif name in ("kInfeasible", "kUnboundedOrInfeasible"):
        status = SolveStatus.INFEASIBLE
    elif name == "kModelEmpty" and len(payload["c"]) == 0:
        status, has_solution = SolveStatus.OPTIMAL, False
    elif name in ("kTimeLimit", "kIterationLimit", "kSolutionLimit", "kInterrupt", "kObjectiveBound",
                  "kObjectiveTarget", "kMemoryLimit", "kHighsInterrupt"):
        status = SolveStatus.FEASIBLE if has_solution else SolveStatus.NO_SOLUTION
    else:  # Not Set, Load/Model/Presolve/Solve/Postsolve error, Unbounded: never "no solution"
        detail = "; ".join(messages[-5:])
        raise SolverError(f"HiGHS stopped with model status '{text}'" + (f": {detail}" if detail else ""))
    stopped_by = "highs"
    if name == "kInterrupt" and payload.get("interrupt_after_s") is not None:
        text = "Time limit reached (HiGHS did not stop at its limit; spokehub interrupted it)"
        stopped_by = "spokehub"
    values: dict[str, np.ndarray] = {}
    objective = bound = gap = None
    if status.has_solution:
        if has_solution:
            x = np.asarray(out["x"], dtype=float)
            objective = float(out["objective"])
            _verify(mf, payload, x, objective)
            values = _blocks(mf, x)
        else:  # an empty model: nothing to choose, the objective is its constant
            objective = float(payload["offset"])
        if out.get("is_mip"):
            bound = out.get("dual_bound")
            gap = out.get("gap")
            if gap is not None and not np.isfinite(gap):
                gap = None
            if bound is not None and not np.isfinite(bound):
                bound = None
        else:
            bound, gap = objective, 0.0
    row_dual = out.get("row_dual")
    col_dual = out.get("col_dual")
    steps = out.get("rhs_steps") or {}
    return RunResult(status, text, objective, bound, gap, values, int(out.get("nodes", 0)), handoff_s,
                     out.get("run_s", 0.0), threads, stopped_by, messages, row_dual, col_dual,
                     rhs_up=steps.get("up"), rhs_down=steps.get("down"))


def _blocks(mf, x: np.ndarray) -> dict[str, np.ndarray]:
    return {name: x[s:s + n] for name, (s, n) in mf.var_blocks.items()}


def _verify(mf, payload: dict, x: np.ndarray, objective: float) -> None:
    """The values are the solution HiGHS reports: priced alike, and within every row."""
    priced = float(payload["c"] @ x) + float(payload["offset"])
    if not (np.isfinite(priced) and np.isfinite(objective)) or abs(priced - objective) > OBJECTIVE_RTOL * max(1.0, abs(objective)):
        raise SolverError(
            f"HiGHS reported objective {objective:,.6f} but the column values it returned give {priced:,.6f}; "
            "the values are not the reported solution, so nothing is written (report this with your HiGHS version)")
    broken = highs_worker.violation(payload, x)
    if broken is not None:
        raise SolverError(f"the solution HiGHS returned breaks {_name_row(mf, broken)}; nothing is written")


def _name_row(mf, text: str) -> str:
    """'row 12 ...' with the constraint family the row belongs to."""
    if text.startswith("row "):
        i = int(text.split()[1])
        for name, (s, n) in mf.row_blocks.items():
            if s <= i < s + n:
                return f"{name}[{i - s}] ({text})"
    return text


# --- the Pyomo route ------------------------------------------------------------------------------


@contextmanager
def _quiet_fds(enabled: bool):
    """Standard output and error pointed at /dev/null (HiGHS prints its banner in C)."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def run_pyomo(built, options: SolveOptions) -> RunResult:
    """Pyomo's contrib HiGHS interface, in this process: the reference route."""
    global _INPROCESS_THREADS
    import highspy
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    threads = options.resolved_threads
    solver_options = highs_options(options)
    solver_options.pop("mip_rel_gap", None)
    solver_options.pop("time_limit", None)
    t = time.perf_counter()
    with _LOCK, _quiet_fds(not options.log):
        if _INPROCESS_THREADS is not None and _INPROCESS_THREADS != threads:
            highspy.Highs.resetGlobalScheduler(True)
        res = Highs().solve(
            built.model, tee=options.log, time_limit=options.time_limit_s, rel_gap=options.mip_rel_gap,
            threads=threads, solver_options=solver_options, load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
        )
        _INPROCESS_THREADS = threads
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
    elif tc in (TerminationCondition.error, TerminationCondition.unknown, TerminationCondition.unbounded,
                TerminationCondition.licensingProblems, TerminationCondition.invalidProblem,
                TerminationCondition.solverFailure, TerminationCondition.emptyModel):
        raise SolverError(f"HiGHS (through Pyomo) stopped with '{tc.name}'")
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
        priced = float(pyo.value(next(iter(built.model.component_data_objects(pyo.Objective, active=True)))))
        if abs(priced - objective) > OBJECTIVE_RTOL * max(1.0, abs(objective)):
            raise SolverError(f"HiGHS reported objective {objective:,.6f} but the values Pyomo loaded give {priced:,.6f}")
        bound = float(res.objective_bound) if res.objective_bound is not None else None
        if bound is not None and objective is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-10)
    return RunResult(status, str(tc.name), objective, bound, gap, values, 0, max(0.0, total - solve_s), solve_s, threads,
                     time_limit_s=options.time_limit_s)


def run_highs(built, options: SolveOptions, mip_start: dict[str, np.ndarray] | None = None,
              relax: bool = False, duals: bool = False, guard_s: float | None = None) -> RunResult:
    """Hand the built model to HiGHS by the chosen route, solve, and read values back
    (``relax``: the LP relaxation; ``duals``: LP duals too; both direct route only)."""
    if options.handoff == "pyomo":
        return run_pyomo(built, options)
    from .model.compile import compile_model

    t = time.perf_counter()
    mf = compile_model(built.model)
    compile_s = time.perf_counter() - t
    run = run_matrix(mf, options, mip_start=mip_start, relax=relax, duals=duals, guard_s=guard_s)
    return replace(run, handoff_s=run.handoff_s + compile_s)
