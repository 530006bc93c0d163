"""The CLI in-process: exit codes, files written, no tracebacks, no silent overwrite."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from optimizer import check_solution, load_instance
from optimizer.cli import main
from optimizer.solution import Solution

from .helpers import DEMO, ROOT, copy_demo, set_cell

OUTPUT_FILES = {"solution.json", "sites.csv", "flows.csv", "regions.csv", "costs.csv", "summary.txt", "map.html"}


def test_validate_ok(capsys):
    assert main(["validate", str(DEMO)]) == 0
    assert "ok: demo" in capsys.readouterr().out


def test_solve_writes_results_and_refuses_overwrite(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["solve", str(DEMO), "--out", str(out), "--gap", "0"]) == 0
    text = capsys.readouterr().out
    assert "status: optimal" in text and "open spokes" in text and "MIP gap" in text
    assert OUTPUT_FILES <= {p.name for p in out.iterdir()}
    sol = Solution.load(out)
    assert check_solution(load_instance(DEMO), sol) == []
    # the CSVs are the solution's tables
    flows = pd.read_csv(out / "flows.csv")
    assert flows["flow_t"].sum() == pytest.approx(sol.flows["flow_t"].sum())
    assert set(json.loads((out / "solution.json").read_text())["provenance"]) >= {
        "input_hash", "spokehub", "pyomo", "highs", "options", "instance_schema_version"}

    before = (out / "solution.json").stat().st_mtime_ns
    assert main(["solve", str(DEMO), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "Traceback" not in err
    assert (out / "solution.json").stat().st_mtime_ns == before

    assert main(["solve", str(DEMO), "--out", str(out), "--force", "--no-map"]) == 0
    assert not (out / "map.html").exists()  # replaced as a whole folder, not merged
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_invalid_input_exit_2_names_cell(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    set_cell(folder / "regions.csv", 5, "nmc_t", "abc")
    assert main(["solve", str(folder), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "regions.csv, row 5, field 'nmc_t'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["validate", str(folder)]) == 2


def test_infeasible_exit_3_with_diagnosis(tmp_path, capsys):
    folder = copy_demo(tmp_path)
    text = (folder / "instance.toml").read_text().replace("max_hubs = 2", "max_hubs = 0")
    (folder / "instance.toml").write_text(text)
    assert main(["solve", str(folder), "--out", str(tmp_path / "o")]) == 3
    out = capsys.readouterr().out
    assert "infeasible" in out and "hub capacity falls short" in out
    assert json.loads((tmp_path / "o" / "solution.json").read_text())["status"] == "infeasible"


def test_no_solution_exit_4(tmp_path, capsys):
    # Node limit 0 with heuristics off: HiGHS stops after the root LP, whose optimum is fractional,
    # on every machine.
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "o"), "--node-limit", "0", "--no-heuristics",
                 "--warm-start", "off"]) == 4
    out = capsys.readouterr().out
    assert "no feasible network was found" in out
    assert re.search(r"time: read [\d.]+ s, build [\d.]+ s, handoff [\d.]+ s, solve [\d.]+ s", out)
    assert ("what to try: a higher node limit (--node-limit, this run had 0); a MIP start (--warm-start on) to give "
            "HiGHS a first network early; HiGHS's heuristics back on (drop --no-heuristics)") in out


def test_a_file_is_not_an_instance(tmp_path, capsys):
    assert main(["validate", str(DEMO / "regions.csv")]) == 2
    err = capsys.readouterr().err
    assert "expected an instance: a folder holding instance.toml and the CSV files" in err and "got a file (.csv)" in err


def test_usage_errors_exit_2(capsys):
    assert main(["solve"]) == 2
    assert main(["solve", str(DEMO), "--bogus"]) == 2
    assert main(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_internal_error_exit_1_without_traceback(tmp_path, capsys, monkeypatch):
    import optimizer.solver as solve_mod

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(solve_mod, "build_model", boom)
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
    assert main(["--debug", "solve", str(DEMO), "--out", str(tmp_path / "o")]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_python_api_matches_cli(tmp_path):
    from optimizer import solve

    sol = solve(load_instance(DEMO), time_limit=60, mip_rel_gap=0)
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "o"), "--gap", "0", "--quiet"]) == 0
    assert Solution.load(tmp_path / "o").objective == pytest.approx(sol.objective, rel=1e-9)


def test_save_lp(tmp_path):
    lp = tmp_path / "model.lp"
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "o"), "--save-lp", str(lp), "--quiet"]) == 0
    text = lp.read_text()
    assert "supply_balance" in text and "link_region_spoke" in text


def test_limit_returns_incumbent_with_gap(tmp_path, capsys):
    """Node limit 1, heuristics off (machine-independent): an incumbent exists but is not proven."""
    from optimizer import solve
    from optimizer.load import save_instance
    from optimizer.solution import SolveStatus

    from .helpers import hard_instance

    inst = hard_instance()
    sol = solve(inst, node_limit=1, heuristics=False, warm_start="off", mip_rel_gap=0)
    assert sol.status == SolveStatus.FEASIBLE
    assert sol.gap > 0 and sol.best_bound < sol.objective
    assert check_solution(inst, sol) == []
    exact = solve(inst, mip_rel_gap=0)
    assert exact.objective <= sol.objective and exact.objective >= sol.best_bound - 1e-6 * abs(sol.best_bound)
    folder = save_instance(inst, tmp_path / "hard")
    assert main(["solve", str(folder), "--out", str(tmp_path / "o"), "--node-limit", "1", "--no-heuristics",
                 "--warm-start", "off", "--gap", "0"]) == 0
    out = capsys.readouterr().out
    assert "feasible (limit)" in out and "not proven optimal" in out


def test_report_command(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--out", str(out), "--quiet", "--no-map"]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "net cost per tonne of packs collected" in text and "transport share" in text
    assert main(["report", str(tmp_path / "nothing")]) == 2


@pytest.mark.parametrize("args,text", [
    (["--gap", "5"], "write 0.05 for 5 %"),
    (["--gap", "-1"], "gap must be a fraction in [0, 1)"),
    (["--gap", "1"], "gap must be a fraction in [0, 1)"),
    (["--threads", "0"], "threads must be a whole number >= 1"),
    (["--time-limit", "-1"], "time limit must be a positive number of seconds"),
    (["--time-limit", "0"], "time limit must be a positive number of seconds"),
    (["--node-limit", "-1"], "node limit must be a whole number >= 0"),
])
def test_options_outside_their_meaning_are_refused(tmp_path, capsys, args, text):
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err
    assert not out.exists()


def test_an_unknown_split_is_refused_by_the_python_api():
    from optimizer import solve
    from optimizer.errors import UsageError

    with pytest.raises(UsageError, match="split must be 'auto', 'on' or 'off'"):
        solve(DEMO, split="sometimes")


def test_sweep_options_are_refused_before_any_solve(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [1.0]\n")
    assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "s"), "--gap", "5"]) == 2
    assert "write 0.05 for 5 %" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_stop_at_the_gap_is_not_called_proven(tmp_path, capsys):
    """The demo at a 5 % gap tolerance: HiGHS stops with a positive gap, which the label and the
    summary report as a tolerance, never as a proof; with --gap 0 the same instance is proven."""
    from optimizer import solve

    loose = solve(load_instance(DEMO), mip_rel_gap=0.05, threads=1)
    exact = solve(load_instance(DEMO), mip_rel_gap=0.0, threads=1)
    assert exact.proven_optimal and exact.status_label == "optimal"
    assert loose.status.value == "optimal" and loose.gap > 1e-9  # HiGHS stopped at the tolerance (1.59 %)
    assert not loose.proven_optimal and loose.status_label.startswith("optimal within gap ")
    assert loose.objective >= exact.objective - 1e-6 * abs(exact.objective)
    assert (loose.objective - loose.best_bound) / abs(loose.objective) == pytest.approx(loose.gap, rel=1e-6)
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "o"), "--gap", "0.05"]) == 0
    out = capsys.readouterr().out
    status_line = next(line for line in out.splitlines() if line.startswith("status:"))
    assert status_line.startswith(f"status: {loose.status_label} ")


HORIZON = ROOT / "maps" / "solutions" / "north-america-2035.json"


@pytest.mark.parametrize("command,suffix", [("figure", ".png"), ("map", ".html")])
def test_unknown_period_is_a_usage_error_listing_the_periods(tmp_path, capsys, command, suffix):
    inst = ROOT / "instances" / "north-america-2035"
    out = tmp_path / f"f{suffix}"
    assert main([command, str(HORIZON), "--instance", str(inst), "--out", str(out), "--period", "2030"]) == 2
    assert "this solution has the periods 2025, 2028, 2031, 2034" in capsys.readouterr().err
    assert not out.exists()
    assert main([command, str(HORIZON), "--instance", str(inst), "--out", str(out), "--period", "2031"]) == 0
    assert out.exists()


def test_period_on_a_one_period_solution_is_a_usage_error(tmp_path, capsys):
    demo_sol = ROOT / "maps" / "solutions" / "demo.json"
    out = tmp_path / "f.png"
    assert main(["figure", str(demo_sol), "--instance", str(DEMO), "--out", str(out), "--period", "2031"]) == 2
    assert "this solution has a single period" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("command,flag,name", [("figure", "--out", "x.jpg"), ("map", "--out", "x.png"),
                                               ("export", "--xlsx", "x.csv")])
def test_wrong_output_format_is_a_usage_error(tmp_path, capsys, command, flag, name):
    demo_sol = ROOT / "maps" / "solutions" / "demo.json"
    assert main([command, str(demo_sol), "--instance", str(DEMO), flag, str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert "by the file's suffix" in err and "internal error" not in err
