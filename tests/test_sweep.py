"""Scenarios and sweeps: overrides, a real Dask LocalCluster, worker crashes, resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from optimizer import InstanceError, check_solution, load_instance, solve
from optimizer.cli import main
from optimizer.scenarios.overrides import Scenario, apply, parse_scenario
from optimizer.scenarios.sweep import CRASH_DIR_ENV, CRASH_ENV, EXIT_SOME_FAILED, load_grid, sweep

from .helpers import DEMO

GRID = """
[grid]
supply = [0.8, 1.0, 1.2]      # multiplier on every region's supply
transport = [1.0, 1.5]        # multiplier on every transport rate
"""


@pytest.fixture(scope="module")
def base():
    return load_instance(DEMO)


@pytest.fixture(scope="module")
def in_process(base, tmp_path_factory):
    grid = tmp_path_factory.mktemp("g") / "grid.toml"
    grid.write_text(GRID)
    plan = load_grid(grid, base)
    out = tmp_path_factory.mktemp("sweep") / "inproc"
    res = sweep(base, plan, out, quiet=True)
    return plan, res


def test_grid_file_as_given_in_the_issue(in_process):
    plan, res = in_process
    assert len(plan.scenarios) == 6 and plan.factors == ["supply", "transport"]
    assert res.failed == [] and len(res.comparison) == 6
    objs = res.comparison["objective"].to_numpy()
    assert len(np.unique(np.round(objs, 2))) == 6  # pairwise distinct
    for sc in plan.scenarios:
        folder = res.out / sc.name
        assert {"solution.json", "sites.csv", "flows.csv", "costs.csv", "regions.csv", "summary.txt"} <= {p.name for p in folder.iterdir()}
    assert (res.out / "comparison.csv").exists() and (res.out / "objective_vs_factors.png").exists()
    html = (res.out / "robustness_map.html").read_text()
    assert "sh-robust-spoke" in html and "<script>" in html  # offline, one marker class per kind


def test_robustness_table_and_map_count_what_the_scenarios_open(in_process, base):
    """Shares recounted from each scenario folder's sites.csv; one marker per candidate site."""
    plan, res = in_process
    table = pd.read_csv(res.out / "robustness.csv")
    expected: dict[str, int] = {}
    sizes: dict[str, dict[str, int]] = {}
    for sc in plan.scenarios:
        sites = pd.read_csv(res.out / sc.name / "sites.csv")
        for sid, size in sites.loc[sites["open"].astype(bool), ["site_id", "size"]].itertuples(index=False):
            expected[sid] = expected.get(sid, 0) + 1
            sizes.setdefault(sid, {})[size] = sizes.setdefault(sid, {}).get(size, 0) + 1
    candidates = pd.concat([base.spokes, base.hubs])
    candidates = candidates[candidates["status"] != "excluded"]
    assert sorted(table["site_id"]) == sorted(candidates["id"])
    got = dict(zip(table["site_id"], table["scenarios_open"], strict=True))
    assert got == {sid: expected.get(sid, 0) for sid in candidates["id"]}
    assert (table["scenarios_solved"] == len(plan.scenarios)).all()
    for sid, text in zip(table["site_id"], table["sizes"].fillna(""), strict=True):
        got_sizes = dict((z, int(k)) for z, k in (part.split(": ") for part in text.split("; ") if part))
        assert got_sizes == sizes.get(sid, {}), sid
    assert np.allclose(table["share_open"], table["scenarios_open"] / len(plan.scenarios))
    # the grid changes the network: some site is open in some scenarios but not all
    assert ((table["scenarios_open"] > 0) & (table["scenarios_open"] < len(plan.scenarios))).any()
    html = (res.out / "robustness_map.html").read_text()
    n_spokes = int((candidates["id"].isin(base.spokes["id"])).sum())
    assert html.count('"className": "sh-robust-spoke"') == n_spokes
    assert html.count('"className": "sh-robust-hub"') == len(candidates) - n_spokes
    for r in table.itertuples():
        assert f"open in {r.scenarios_open} of {len(plan.scenarios)} scenarios" in html


@pytest.mark.slow
def test_local_cluster_equals_in_process(in_process, base, tmp_path):
    """A real LocalCluster with 2 workers: the same objectives (HiGHS threads pinned to 1)."""
    plan, ref = in_process
    res = sweep(base, plan, tmp_path / "dask", backend="dask", workers=2, quiet=True)
    assert res.failed == []
    a = ref.comparison.set_index("scenario")["objective"]
    b = res.comparison.set_index("scenario")["objective"]
    for name in a.index:
        assert b[name] == pytest.approx(a[name], rel=1e-6)
    for sc in plan.scenarios:
        data = json.loads((tmp_path / "dask" / sc.name / "solution.json").read_text())
        assert data["check"] == []
        assert data["provenance"]["options"]["threads"] == 1
    # independent re-check of one scenario from the files on disk
    from optimizer.solution import Solution

    sc = plan.scenarios[-1]
    assert check_solution(apply(base, sc), Solution.load(tmp_path / "dask" / sc.name)) == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["dask", "processes"])
def test_worker_crash_is_retried_and_nothing_is_lost(in_process, base, tmp_path, monkeypatch, backend):
    plan, ref = in_process
    victim = plan.scenarios[2].name
    monkeypatch.setenv(CRASH_ENV, victim)
    monkeypatch.setenv(CRASH_DIR_ENV, str(tmp_path))
    res = sweep(base, plan, tmp_path / "out", backend=backend, workers=2, quiet=True, retries=2)
    assert (tmp_path / f".crashed-{victim}").exists()  # the first attempt really died
    assert res.failed == []
    for sc in plan.scenarios:
        assert (tmp_path / "out" / sc.name / "solution.json").exists()
    got = res.comparison.set_index("scenario")["objective"]
    assert got[victim] == pytest.approx(ref.comparison.set_index("scenario")["objective"][victim], rel=1e-6)


def test_resume_skips_finished_and_resolves_tampered(in_process, base, tmp_path):
    import shutil

    plan, ref = in_process
    out = tmp_path / "copy"
    shutil.copytree(ref.out, out)
    res = sweep(base, plan, out, resume=True, quiet=True)
    assert sorted(res.skipped) == sorted(s.name for s in plan.scenarios)
    tampered = plan.scenarios[1].name
    path = out / tampered / "solution.json"
    data = json.loads(path.read_text())
    data["provenance"]["scenario_hash"] = "0" * 64
    path.write_text(json.dumps(data))
    res = sweep(base, plan, out, resume=True, quiet=True)
    assert tampered not in res.skipped and len(res.skipped) == len(plan.scenarios) - 1
    assert json.loads(path.read_text())["provenance"]["scenario_hash"] != "0" * 64


def test_bad_scenario_is_refused_before_any_solve(tmp_path, capsys):
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\nsupply = [1.0]\nforbid = [["S-NOWHERE"]]\n')
    assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown site 'S-NOWHERE'" in err
    assert not (tmp_path / "o").exists()
    grid.write_text('[grid]\nsuply = [1.0]\n')
    assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "o")]) == 2
    assert "did you mean 'supply'" in capsys.readouterr().err
    sc = tmp_path / "s.toml"
    sc.write_text('force_open = ["H-NOWHERE"]\n')
    assert main(["solve", str(DEMO), "--scenario", str(sc), "--out", str(tmp_path / "o2")]) == 2
    assert not (tmp_path / "o2").exists()


@pytest.mark.slow
def test_cli_sweep_exit_code_when_a_scenario_fails(tmp_path, monkeypatch, capsys):
    """With no retries, the scenario whose worker dies is recorded as failed (and only that one:
    the others finish), and the sweep ends with exit code 5."""
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    monkeypatch.setenv(CRASH_ENV, "supply-1_transport-1")
    monkeypatch.setenv(CRASH_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("SPOKEHUB_TEST_CRASH_ALWAYS", "1")
    code = main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "o"), "--backend", "processes",
                 "--workers", "2", "--retries", "0", "--quiet"])
    assert code == EXIT_SOME_FAILED
    assert "failed: supply-1_transport-1" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "o" / "sweep.json").read_text())
    assert [f["scenario"] for f in manifest["failed"]] == ["supply-1_transport-1"]
    assert len(list((tmp_path / "o").glob("supply-*/solution.json"))) == 5


def test_overrides(base):
    sc = parse_scenario({"supply": 0.5, "supply_by_chemistry": {"lfp": 2.0}, "transport": 2.0, "hub_capex": 0.5,
                         "forbid": ["S-NEWARK"], "force_open": ["H-BECANCOUR"], "service_radius_km": 900}, base)
    inst = apply(base, sc)
    assert inst.regions["nmc_t"].sum() == pytest.approx(0.5 * base.regions["nmc_t"].sum())
    assert inst.regions["lfp_t"].sum() == pytest.approx(1.0 * base.regions["lfp_t"].sum())
    assert inst.params.pack_cost_per_t_km == pytest.approx(2 * base.params.pack_cost_per_t_km)
    assert inst.lanes["cost_per_t"].dropna().iat[0] == pytest.approx(2 * base.lanes["cost_per_t"].dropna().iat[0])
    assert inst.hub_sizes["capex"].sum() == pytest.approx(0.5 * base.hub_sizes["capex"].sum())
    assert inst.spokes.set_index("id").at["S-NEWARK", "status"] == "excluded"
    sol = solve(inst, mip_rel_gap=0)
    opened = set(sol.sites.loc[sol.sites["open"], "site_id"])
    assert "H-BECANCOUR" in opened and "S-NEWARK" not in opened
    assert check_solution(inst, sol) == []
    assert base.regions["nmc_t"].sum() == pytest.approx(47100)  # the base is untouched


def test_mix_change_keeps_each_regions_total(base):
    inst = apply(base, Scenario("mix", {"mix": {"lfp": 2.0}}))
    before = base.regions[["nmc_t", "lfp_t"]].sum(axis=1)
    after = inst.regions[["nmc_t", "lfp_t"]].sum(axis=1)
    np.testing.assert_allclose(after, before)
    np.testing.assert_allclose(inst.regions["lfp_t"], 2 * base.regions["lfp_t"])


def test_latin_hypercube_is_seeded_and_stratified(base, tmp_path):
    grid = tmp_path / "lhs.toml"
    grid.write_text("[lhs]\nsamples = 8\nseed = 3\n[lhs.ranges]\nsupply = [0.6, 1.4]\ntransport = [1.0, 2.0]\n")
    a = load_grid(grid, base)
    b = load_grid(grid, base)
    assert [s.overrides for s in a.scenarios] == [s.overrides for s in b.scenarios]
    vals = np.array([s.overrides["supply"] for s in a.scenarios])
    strata = np.floor((vals - 0.6) / 0.8 * 8).astype(int)
    assert sorted(strata) == list(range(8))  # one draw in each eighth of the range
    assert pd.Series([s.overrides["transport"] for s in a.scenarios]).between(1.0, 2.0).all()


def test_unknown_factor_in_scenario_file(base):
    with pytest.raises(InstanceError) as exc:
        parse_scenario({"transprt": 1.2}, base)
    assert "did you mean 'transport'" in str(exc.value)


def test_a_scenario_failing_the_checker_fails_and_is_not_written(base, tmp_path, monkeypatch):
    import optimizer.solver as solver

    real = solver.extract_tables

    def corrupt(inst, net, values):
        tables = real(inst, net, values)
        tables["costs"].loc[tables["costs"]["component"] == "fixed_opex", "value"] += 1000.0
        return tables

    monkeypatch.setattr(solver, "extract_tables", corrupt)
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [1.0]\n")
    res = sweep(base, load_grid(grid, base), tmp_path / "out", quiet=True)
    [(name, reason)] = res.failed
    assert "failed the independent checker" in reason and "cost:fixed_opex" in reason
    assert not (tmp_path / "out" / name).exists()


def test_robustness_when_no_scenario_opens_a_site(base):
    """pandas 3 turned an empty groupby-apply into a DataFrame ("Cannot construct a Series from a
    DataFrame"); every share is then 0 of the scenarios solved and no size is listed."""
    import dataclasses

    from optimizer.scenarios.sweep import robustness

    sol = solve(base, threads=1)
    closed = dataclasses.replace(sol, sites=sol.sites.assign(open=False))
    table = robustness(base, {"a": closed, "b": closed})
    assert (table["scenarios_open"] == 0).all() and (table["scenarios_solved"] == 2).all()
    assert (table["share_open"] == 0).all() and (table["sizes"] == "").all()
    n_sites = int((base.spokes["status"] != "excluded").sum() + (base.hubs["status"] != "excluded").sum())
    assert len(table) == n_sites


def test_forbidding_an_existing_site_is_said_in_the_summary(base, tmp_path, capsys):
    """The demo's existing spoke S-KINGSTON (installed: small) forbidden by a scenario: it is
    closed, and the summary and solution.json say so instead of leaving it to be noticed."""
    scenario = tmp_path / "no-kingston.toml"
    scenario.write_text('name = "no Kingston"\nforbid = ["S-KINGSTON"]\n')
    out = tmp_path / "o"
    assert main(["solve", str(DEMO), "--scenario", str(scenario), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    small = base.spoke_sizes.loc[(base.spoke_sizes["site_id"] == "S-KINGSTON") & (base.spoke_sizes["size"] == "small"), "capacity_t"].iat[0]
    expected = (f"note: scenario 'no Kingston' forbids the existing spoke S-KINGSTON (Kingston, ON): it is closed in this "
                f"scenario and its installed small size ({small:,.0f} t packs/yr) goes unused")
    assert expected in text
    sol = json.loads((out / "solution.json").read_text())
    assert any("forbids the existing spoke S-KINGSTON" in n for n in sol["provenance"]["notes"])
    sites = pd.read_csv(out / "sites.csv")
    assert "S-KINGSTON" not in set(sites.loc[sites["open"], "site_id"])


def test_sweep_console_uses_the_summary_formats(tmp_path, capsys):
    """Objectives with thousands separators and a unit, gaps in per cent -- never 7.328706e+07."""
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsupply = [0.9, 1.0]\n")
    assert main(["sweep", str(DEMO), "--grid", str(grid), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    comp = pd.read_csv(tmp_path / "o" / "comparison.csv")
    assert "net cost [USD/yr]" in out and "e+0" not in out
    for v, g in zip(comp["objective"], comp["gap"], strict=True):
        assert f"{v:,.0f}" in out and f"{100 * g:.2g} %" in out
