"""HiGHS in a process of its own: the worker side.

This file is run as a script (``python -P highs_worker.py FD THREADS``) by
:mod:`optimizer.highs`, which talks to it over the socket ``FD``; it imports nothing of spokehub
(so the package's heavy imports stay out of the worker) and nothing but numpy and highspy.  The
same :func:`solve_payload` also runs in-process where a worker process is not available.

Why a process of its own:

* **The time limit holds whatever HiGHS does.**  HiGHS does not check its limit everywhere (deep
  in sub-MIP presolve a run has been seen to go on for minutes past it); the parent kills the
  worker a grace period after the limit and keeps the last incumbent the worker reported.
* **A thread count per solve.**  HiGHS sizes one scheduler per process at its first run (1.16
  refuses a later run with another ``threads``); a worker is started for one count and replaced
  when another is asked for.
* **Quiet.**  HiGHS prints its banner when a ``Highs`` object is made; the worker's standard
  output is not the user's console, and the log reaches the parent only when asked for.

What the worker guarantees about values (HiGHS 1.16 with presolve returns the MIP start's column
values together with a better incumbent's objective): every feasible solution HiGHS reports
through the MIP-solution callback is priced here (``c x + offset``); the vector returned is the
cheapest of those and of HiGHS's own final vector that satisfies the rows, bounds and
integrality, and its own objective is returned beside HiGHS's for the parent to compare.

Messages to the parent are tuples: ``("ready", info)``, ``("log", text)``, ``("incumbent",
objective, x, seconds)``, ``("bound", dual_bound, seconds)`` and finally ``("done", result)``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

import numpy as np

#: Protocol version shared with :mod:`optimizer.highs` (the parent refuses a mismatch).
PROTOCOL = 1
#: Relative tolerance of the row, bound and integrality checks on a candidate vector.
FEAS_TOL = 1e-6
INT_TOL = 1e-5
#: Seconds between two reports of the dual bound.
BOUND_EVERY_S = 0.5
#: Candidate vectors kept from the MIP-solution callback (the cheapest ones).
KEEP = 4


def versions() -> dict:
    """The highspy distribution and HiGHS library versions of this process."""
    import highspy

    v = {"highspy": _dist_version("highspy")}
    try:
        v["highs"] = f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
    except AttributeError:  # pragma: no cover - very old highspy
        v["highs"] = v["highspy"]
    return v


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - a version is informative only
        return "unknown"


class _Failure(Exception):
    """A HiGHS call returned an error status."""

    def __init__(self, call: str, status: str):
        super().__init__(call)
        self.call, self.status = call, status


def violation(p: dict, x: np.ndarray | None) -> str | None:
    """Where ``x`` breaks a row, a column bound or integrality beyond the tolerances (relative
    to the row's magnitude); ``None`` when it satisfies them all."""
    if x is None or len(x) != len(p["c"]) or not np.all(np.isfinite(x)):
        return "a vector of the wrong length or with non-finite values"
    indptr = p["indptr"]
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    terms = p["data"] * x[p["indices"]]
    act = np.bincount(rows, weights=terms, minlength=len(indptr) - 1)
    scale = 1.0 + np.bincount(rows, weights=np.abs(terms), minlength=len(act))
    if len(act):
        over = np.maximum(p["row_lo"] - act, act - p["row_hi"]) / scale
        i = int(np.argmax(over))
        if over[i] > FEAS_TOL:
            return f"row {i} by {over[i] * scale[i]:.3g} (activity {act[i]:.6g}, bounds [{p['row_lo'][i]:.6g}, {p['row_hi'][i]:.6g}])"
    if len(x):
        lo, hi = p["col_lo"], p["col_hi"]
        over = np.maximum(lo - x, x - hi) / (1.0 + np.abs(np.where(np.isfinite(hi), hi, np.where(np.isfinite(lo), lo, 0.0))))
        j = int(np.argmax(over))
        if over[j] > FEAS_TOL:
            return f"the bounds of column {j} (value {x[j]:.6g}, bounds [{lo[j]:.6g}, {hi[j]:.6g}])"
    integer = np.flatnonzero(p["integrality"])
    if len(integer):
        frac = np.abs(x[integer] - np.round(x[integer]))
        k = int(np.argmax(frac))
        if frac[k] > INT_TOL:
            return f"integrality of column {int(integer[k])} (value {x[integer[k]]:.6g})"
    return None


class _Callbacks:
    """HiGHS's log, MIP-solution and MIP-interrupt callbacks for one solve.

    The MIP-solution callback keeps the :data:`KEEP` best improving vectors: under HiGHS 1.16 the
    values read back after a MIP start can be the start itself, so the result is chosen from
    these and HiGHS's own vector by price and feasibility (:func:`_chosen_values`)."""

    def __init__(self, p: dict, emit, t0: float):
        self.p, self.emit, self.t0 = p, emit, t0
        self.sense = 1.0 if p["sense"] == 1 else -1.0
        self.messages: list[str] = []
        self.candidates: list[tuple[float, np.ndarray]] = []  # (sense * objective, x), cheapest first
        self.best = float("inf")
        self.last_bound = 0.0
        self.stop_after = p.get("interrupt_after_s")

    def price(self, x: np.ndarray) -> float:
        """c·x + offset: the objective of a column vector."""
        return float(self.p["c"] @ x) + float(self.p["offset"])

    def on_log(self, e) -> None:
        """Keep HiGHS's errors and warnings; pass every line on under ``--log``."""
        text = e.message
        if "ERROR" in text[:12] or "WARNING" in text[:12]:
            self.messages.append(text.strip())
            del self.messages[:-50]
        if self.p["log"]:
            self.emit("log", text)

    def on_solution(self, e) -> None:
        """Keep an improving incumbent's own values and report it."""
        x = np.array(e.data_out.mip_solution, dtype=float, copy=True)
        if len(x) != len(self.p["c"]) or not np.all(np.isfinite(x)):
            return
        obj = self.price(x)
        key = self.sense * obj
        if len(self.candidates) >= KEEP and key >= self.candidates[-1][0]:
            return
        self.candidates.append((key, x))
        self.candidates.sort(key=lambda t: t[0])
        del self.candidates[KEEP:]
        if key < self.best - 1e-12 * max(1.0, abs(key)):
            self.best = key
            self.emit("incumbent", obj, x, time.perf_counter() - self.t0)
            if self.p.get("test_stall_s"):  # tests: HiGHS stuck where it checks neither limit nor callback
                time.sleep(self.p["test_stall_s"])

    def on_interrupt(self, e) -> None:
        """Report the dual bound a few times a second; interrupt at the cooperative stop time."""
        now = time.perf_counter()
        if now - self.last_bound >= BOUND_EVERY_S:  # called at every node
            self.last_bound = now
            self.emit("bound", float(e.data_out.mip_dual_bound), now - self.t0)
        if self.stop_after is not None and now - self.t0 >= self.stop_after:
            e.interrupt()


def _chosen_values(p: dict, x_highs: np.ndarray, cb: _Callbacks) -> tuple[str, np.ndarray]:
    """The cheapest feasible vector of HiGHS's own and the callback's; HiGHS's if none is feasible
    (the parent then names the violation)."""
    pool = [("highs", x_highs)] + [("callback", v) for _k, v in cb.candidates]
    pool.sort(key=lambda t: cb.sense * cb.price(t[1]))
    for source, v in pool:
        if violation(p, v) is None:
            return source, v
    return "highs", x_highs


def solve_payload(p: dict, emit) -> dict:
    """Solve one problem and return the result dict; ``emit(kind, *data)`` gets progress."""
    import highspy

    t0 = time.perf_counter()
    errors: list[dict] = []
    cb = _Callbacks(p, emit, t0)
    messages = cb.messages

    def check(call: str, status) -> None:
        if status == highspy.HighsStatus.kError:
            raise _Failure(call, status.name)
        if status == highspy.HighsStatus.kWarning:
            messages.append(f"{call} returned a warning")

    h = _quiet_highs(highspy)
    result = {"errors": errors, "messages": messages, "threads": p["options"].get("threads")}
    try:
        check("setOptionValue(output_flag)", h.setOptionValue("output_flag", True))
        check("setOptionValue(log_to_console)", h.setOptionValue("log_to_console", False))
        h.cbLogging += cb.on_log
        for key, value in p["options"].items():
            check(f"setOptionValue({key}={value!r})", h.setOptionValue(key, value))
        check("passModel", pass_model(h, p))
        if p.get("start") is not None:
            idx, val = p["start"]
            check("setSolution", h.setSolution(int(len(idx)), np.ascontiguousarray(idx, dtype=np.int32),
                                               np.ascontiguousarray(val, dtype=np.float64)))
        is_mip = bool(np.any(p["integrality"]))
        if is_mip:
            h.cbMipSolution += cb.on_solution
            h.cbMipInterrupt += cb.on_interrupt
        result["pass_s"] = time.perf_counter() - t0
        t_run = time.perf_counter()
        run_status = h.run()
        result["run_s"] = time.perf_counter() - t_run
        result["run_status"] = run_status.name
        ms = h.getModelStatus()
        info = h.getInfo()
        result.update(model_status=ms.name, model_status_text=h.modelStatusToString(ms),
                      primal_solution_status=int(info.primal_solution_status), is_mip=is_mip,
                      objective=float(info.objective_function_value), nodes=int(getattr(info, "mip_node_count", 0) or 0),
                      dual_bound=float(info.mip_dual_bound) if is_mip else None,
                      gap=float(info.mip_gap) if is_mip else None)
        if run_status == highspy.HighsStatus.kError:
            raise _Failure("run", run_status.name)
        if info.primal_solution_status == 2:  # kSolutionStatusFeasible
            sol = h.getSolution()
            source, x = _chosen_values(p, np.array(sol.col_value, dtype=float), cb)
            result.update(x=x, x_source=source, x_objective=cb.price(x))
            if p.get("duals") and not is_mip and sol.dual_valid:
                result["row_dual"] = np.array(sol.row_dual, dtype=float)
                result["col_dual"] = np.array(sol.col_dual, dtype=float)
            if p.get("rhs_steps") is not None and not is_mip:
                result["rhs_steps"] = _rhs_steps(h, highspy, p, check)
    except _Failure as f:
        errors.append({"call": f.call, "status": f.status})
    finally:
        result["seconds"] = time.perf_counter() - t0
        h.clear()
    return result


def _rhs_steps(h, highspy, p: dict, check) -> dict:
    """The LP's optimum after each step of moves, +delta and -delta, one step at a time (each
    re-solve starts from the optimal basis; the bounds are put back after each).  A step is a
    set of moves ``(target, weight)``: a row's bounds shifted by weight * delta (target >= 0) or
    a column's upper bound (target = -1 - column).  ``nan`` where the moved LP has no optimum."""
    st = p["rhs_steps"]
    ptr, target, weight = (np.asarray(st[k]) for k in ("ptr", "target", "weight"))
    delta = float(st["delta"])
    n = len(ptr) - 1
    up, down = np.full(n, np.nan), np.full(n, np.nan)
    lo, hi, col_lo, col_hi = p["row_lo"], p["row_hi"], p["col_lo"], p["col_hi"]

    def move(k: int, d: float) -> None:
        for j in range(int(ptr[k]), int(ptr[k + 1])):
            t, w = int(target[j]), float(weight[j])
            if t >= 0:
                check("changeRowBounds", h.changeRowBounds(t, float(lo[t] + w * d), float(hi[t] + w * d)))
            else:
                c = -1 - t
                check("changeColBounds", h.changeColBounds(c, float(col_lo[c]), float(col_hi[c] + w * d)))

    for k in range(n):
        for sign, out in ((+1.0, up), (-1.0, down)):
            move(k, sign * delta)
            check("run", h.run())
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                out[k] = float(h.getInfo().objective_function_value)
            move(k, 0.0)
    return {"up": up, "down": down}


def pass_model(h, p: dict):
    """Hand the payload's matrix to ``h`` in one ``passModel`` call; returns HiGHS's status."""
    import highspy

    return h.passModel(
        int(len(p["c"])), int(len(p["row_lo"])), int(len(p["data"])), int(highspy.MatrixFormat.kRowwise.value),
        int(highspy.ObjSense.kMinimize.value if p["sense"] == 1 else highspy.ObjSense.kMaximize.value),
        float(p["offset"]), np.ascontiguousarray(p["c"], dtype=np.float64),
        np.ascontiguousarray(p["col_lo"], dtype=np.float64), np.ascontiguousarray(p["col_hi"], dtype=np.float64),
        np.ascontiguousarray(p["row_lo"], dtype=np.float64), np.ascontiguousarray(p["row_hi"], dtype=np.float64),
        np.ascontiguousarray(p["indptr"], dtype=np.int32), np.ascontiguousarray(p["indices"], dtype=np.int32),
        np.ascontiguousarray(p["data"], dtype=np.float64), np.ascontiguousarray(p["integrality"], dtype=np.int32))


def load_highs(p: dict):
    """A quiet ``Highs`` holding the payload's model, in this process (inspection, benchmarks)."""
    import highspy

    h = _quiet_highs(highspy)
    h.setOptionValue("output_flag", False)
    status = pass_model(h, p)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (passModel returned an error)")
    return h


def _quiet_highs(highspy):
    """A ``Highs`` object made with file descriptor 1 pointed at /dev/null: HiGHS 1.16 prints
    its banner when constructed, before any option can be set."""
    try:
        fd = os.dup(1)
    except OSError:  # no standard output at all
        return highspy.Highs()
    try:
        sys.stdout.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
        return highspy.Highs()
    finally:
        os.dup2(fd, 1)
        os.close(fd)


class _Sender:
    """Sends messages from HiGHS's callbacks without blocking them: progress messages of one
    kind replace each other until the sender thread gets to them (the latest always goes)."""

    def __init__(self, conn):
        self.conn = conn
        self.cond = threading.Condition()
        self.latest: dict[str, tuple] = {}
        self.logs: list[str] = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def emit(self, kind: str, *data) -> None:
        with self.cond:
            if kind == "log":
                self.logs.append(data[0])
            else:
                self.latest[kind] = data
            self.cond.notify()

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not (self.latest or self.logs or self.stop):
                    self.cond.wait()
                if self.stop and not (self.latest or self.logs):
                    return
                logs, self.logs = self.logs, []
                latest, self.latest = self.latest, {}
            if logs:
                self.conn.send(("log", "".join(logs)))
            for kind in ("incumbent", "bound"):
                if kind in latest:
                    self.conn.send((kind, *latest[kind]))

    def flush(self) -> None:
        with self.cond:
            self.stop = True
            self.cond.notify()
        self.thread.join()


def main(argv: list[str]) -> int:
    """Worker entry point: serve solve requests on the pipe whose descriptor is ``argv[1]`` with ``argv[2]`` threads."""
    from multiprocessing.connection import Connection

    conn = Connection(int(argv[1]))
    threads = int(argv[2])
    try:
        conn.send(("ready", {"protocol": PROTOCOL, "pid": os.getpid(), "threads": threads, **versions()}))
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return 0
            if msg[0] == "exit":
                return 0
            payload = msg[1]
            payload["options"]["threads"] = threads
            sender = _Sender(conn)
            try:
                result = solve_payload(payload, sender.emit)
            except Exception:  # noqa: BLE001 - reported to the parent, which raises it
                result = {"errors": [{"call": "worker", "status": traceback.format_exc()}], "messages": []}
            sender.flush()
            conn.send(("done", result))
    except (BrokenPipeError, ConnectionResetError):
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
