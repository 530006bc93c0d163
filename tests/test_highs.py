"""The HiGHS layer (optimizer/highs.py, optimizer/highs_worker.py): errors are errors, values are
the incumbent's, the time limit holds, the thread count asked for is the one used, and nothing of
HiGHS reaches the console unless asked for.

Each figure is independent of the code under test: published optima (capopt.txt), a tiny model
solved by hand, the independent checker, or an unstarted solve of the same instance.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import optimizer.highs as highs
from optimizer import check_solution, load_instance, solve
from optimizer.bench.importers import load_benchmark, published_values
from optimizer.cli import main
from optimizer.highs import SolverError, run_matrix
from optimizer.model.compile import MatrixForm
from optimizer.options import SolveOptions, default_threads
from optimizer.solution import SolveStatus

from .helpers import DEMO, ROOT

DATA = ROOT / "benchmarks" / "data"
CASES = ROOT / "tests" / "cases"
CAP41 = published_values(DATA)[("orlib", "cap41")].value  # 1,040,444.375


def tiny(c=(1.0, 1.0)) -> MatrixForm:
    """min c.x  s.t.  x1 + x2 >= 1.5,  x integer in [0, 3]: optimum 2 at c = (1, 1), by hand."""
    A = sp.csr_matrix(np.array([[1.0, 1.0]]))
    return MatrixForm(c=np.array(c, dtype=float), offset=0.0, A=A, row_lo=np.array([1.5]), row_hi=np.array([np.inf]),
                      col_lo=np.zeros(2), col_hi=np.array([3.0, 3.0]), integer=np.array([True, True]), columns=[],
                      var_blocks={"x": (0, 2)}, row_blocks={"cover": (0, 1)})


# --- threads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("isolate", [True, False], ids=["worker", "in-process"])
@pytest.mark.parametrize("sequence", [(None, 1), (1, None), (2, 1)], ids=["default-then-1", "1-then-default", "2-then-1"])
def test_thread_count_changes_within_one_process(sequence, isolate):
    """HiGHS 1.16 refuses a run whose thread count differs from the process's first one (model
    status 'Not Set'); each solve here gets the count it asks for and the published optimum."""
    inst = load_benchmark(DATA, "orlib", "cap41")
    for threads in sequence:
        sol = solve(inst, mip_rel_gap=0, threads=threads, isolate=isolate)
        assert sol.status == SolveStatus.OPTIMAL, sol.termination
        assert sol.objective == pytest.approx(CAP41, rel=1e-9)
        assert sol.provenance["threads"] == (threads if threads is not None else default_threads())
    assert check_solution(inst, sol) == []


# --- errors -------------------------------------------------------------------------------------


def test_highs_error_carries_highs_message():
    # the option is not validated at this level, so HiGHS itself refuses it
    with pytest.raises(SolverError, match=r"mip_rel_gap.*below lower bound"):
        run_matrix(tiny(), SolveOptions(mip_rel_gap=-1.0))


def test_highs_error_exits_6_with_its_message(tmp_path, monkeypatch, capsys):
    real = highs.highs_options
    monkeypatch.setattr(highs, "highs_options", lambda o, relax=False: {**real(o, relax), "mip_rel_gap": -1.0})
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--out", str(out)]) == 6
    err = capsys.readouterr().err
    assert "below lower bound" in err and "Traceback" not in err
    assert not out.exists()


def test_non_finite_model_is_refused_not_solved():
    # HiGHS itself accepts a NaN cost and reports the NaN optimum as "Optimal"
    with pytest.raises(ValueError, match="non-finite objective coefficient"):
        run_matrix(tiny((np.nan, 1.0)), SolveOptions())


def test_values_that_do_not_price_to_the_objective_are_an_error():
    """What HiGHS 1.16 returned after a MIP start: the start's values with a better objective.
    A worker answer of that shape must never become a result."""
    mf = tiny()
    payload = highs._payload(mf, SolveOptions(), None, False, False)
    answer = {"model_status": "kOptimal", "model_status_text": "Optimal", "x": np.array([3.0, 0.0]),
              "objective": 2.0, "is_mip": True, "dual_bound": 2.0, "gap": 0.0, "errors": [], "messages": []}
    with pytest.raises(SolverError, match=r"reported objective 2\.0.*give 3\.0"):
        highs._result(mf, payload, answer, 0.0)
    # values that price right but break the row are refused too, naming the row
    answer.update(x=np.array([1.0, 0.0]), objective=1.0)
    with pytest.raises(SolverError, match=r"cover\[0\]"):
        highs._result(mf, payload, answer, 0.0)


def test_values_read_back_after_a_mip_start_are_the_incumbents():
    """tests/cases/closable-hub-horizon (two closable existing hubs, a multi-period start): under
    HiGHS 1.16 with the start on, the values read back were the start's (costs summing to
    16,293,455.82) under the incumbent's objective 15,307,960.95.  Shown to fail on the broken
    variant: with the worker returning HiGHS's own vector only (no candidate pool) the solve raises
    SolverError under HiGHS 1.16 ("reported objective 15,307,960.954402 but the column values it
    returned give 16,293,455.822002"); before the value check the checker caught it."""
    inst = load_instance(CASES / "closable-hub-horizon")
    plain = solve(inst, warm_start="off", mip_rel_gap=0, threads=1)
    started = solve(inst, warm_start="on", mip_rel_gap=0, threads=1)
    assert started.timings["warm_start"] > 0
    assert check_solution(inst, started) == []  # the NPV of its own tables is its objective
    assert started.objective == pytest.approx(plain.objective, rel=1e-9)


@pytest.mark.slow
def test_horizon_with_default_options_and_a_minute_passes_the_checker():
    inst = load_instance(ROOT / "instances" / "north-america-2035")
    sol = solve(inst, time_limit=60)
    assert sol.status.has_solution
    assert check_solution(inst, sol) == []


# --- the time limit -----------------------------------------------------------------------------


def test_time_limit_holds_when_highs_does_not_stop(monkeypatch):
    """HiGHS stuck where it checks neither its limit nor the interrupt callback (simulated: the
    worker sleeps in the callback of its first solution).  spokehub ends the run and keeps that
    solution; without the guard this solve runs on and ends optimal."""
    highs.shutdown_worker()
    monkeypatch.setattr(highs, "_TEST_STALL_S", 600.0)
    inst = load_instance(DEMO)
    try:
        sol = solve(inst, time_limit=2, warm_start="off", mip_rel_gap=0)
    finally:
        highs.shutdown_worker()
    assert sol.provenance["stopped_by"] == "spokehub"
    assert sol.status == SolveStatus.FEASIBLE
    assert "spokehub ended the run" in sol.termination
    assert check_solution(inst, sol) == []


def test_cooperative_stop_far_below_what_the_instance_needs():
    """North America needs tens of seconds to prove optimality; a guard at 1 s with no HiGHS limit
    stops it through the interrupt callback, with a checked incumbent or no solution."""
    inst = load_instance(ROOT / "instances" / "north-america")
    from optimizer.model.build import build_model
    from optimizer.model.compile import compile_model

    built = build_model(inst)
    mf = compile_model(built.model)
    run = run_matrix(mf, SolveOptions(mip_rel_gap=0, threads=1), guard_s=1.0)
    assert run.stopped_by == "spokehub"
    assert run.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    if run.status == SolveStatus.FEASIBLE:
        from optimizer.extract import extract_tables

        # the incumbent's values come back whole (it may be the plan that buys nothing: with
        # offer ladders, capturing no tonnes is feasible), and its costs add up to its objective
        assert len(run.values["flow_region_spoke_t"]) == len(built.net.arcs["region_spoke"])
        assert "spokehub" in run.termination
        tables = extract_tables(inst, built.net, run.values)
        assert tables["costs"]["value"].sum() == pytest.approx(run.objective, rel=1e-6)


def test_limit_far_below_need_returns_a_checked_result_or_none():
    inst = load_instance(ROOT / "instances" / "north-america")
    sol = solve(inst, time_limit=1.0, threads=1)
    assert sol.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    if sol.status.has_solution:
        assert check_solution(inst, sol) == []
    assert sol.provenance["solve_time_limit_s"] <= 1.0


def test_warm_start_time_is_recorded_and_taken_off_the_limit():
    """On the demo the start returns nothing (the LP opens nearly every site); its time still
    counts and the main solve's limit is what was left."""
    from optimizer.heuristic import warm_start
    from optimizer.model.network import build_network

    inst = load_instance(DEMO)
    o = SolveOptions()
    assert warm_start(inst, build_network(inst), o.model_options(), o, 10.0) is None
    sol = solve(inst, warm_start="on", time_limit=30)
    assert sol.timings["warm_start"] > 0
    assert sol.provenance["solve_time_limit_s"] == pytest.approx(30 - sol.timings["warm_start"], abs=1e-9)


# --- quiet --------------------------------------------------------------------------------------


@pytest.mark.parametrize("handoff", ["direct", "pyomo"])
def test_nothing_of_highs_reaches_the_console(capfd, handoff):
    highs.shutdown_worker()  # a fresh worker: the banner is printed when HiGHS starts
    solve(load_instance(DEMO), handoff=handoff, threads=1)
    out, err = capfd.readouterr()
    assert "HiGHS" not in out + err and "Running" not in out + err


def test_log_is_shown_when_asked_for(capfd):
    solve(load_instance(DEMO), log=True, threads=1)
    out, _err = capfd.readouterr()
    assert "Solving report" in out


def test_quiet_cli_prints_only_the_folder(tmp_path, capfd):
    highs.shutdown_worker()
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--out", str(out), "--quiet"]) == 0
    printed, err = capfd.readouterr()
    assert printed.strip() == str(out) and err == ""


# --- the checker guards what is written ---------------------------------------------------------


def test_a_solution_failing_the_checker_is_not_written(tmp_path, monkeypatch, capsys):
    import optimizer.solver as solver

    real = solver.extract_tables

    def corrupt(inst, net, values):
        tables = real(inst, net, values)
        tables["costs"].loc[tables["costs"]["component"] == "fixed_opex", "value"] += 1000.0
        return tables

    monkeypatch.setattr(solver, "extract_tables", corrupt)
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--out", str(out)]) == 7
    err = capsys.readouterr().err
    assert "failed the independent checker" in err and "cost:fixed_opex" in err
    assert not out.exists()
