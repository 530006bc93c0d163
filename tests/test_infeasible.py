"""Infeasible instances get a diagnosis naming regions, chemistries and tonnes."""

from __future__ import annotations

import pytest

from optimizer import load_instance, solve
from optimizer.solution import SolveStatus

from .helpers import base_toml, write_instance


def _spoke_only(tmp_path, toml=None, regions=None, spoke_sizes=None):
    return write_instance(
        tmp_path / "inf",
        toml or base_toml(),
        regions=regions or [["A", "A", 0, 0, 6000], ["B", "B", 0, 1, 3000]],
        spokes=[["S1", "", 0, 0.5, "candidate", ""]],
        spoke_sizes=spoke_sizes or [["S1", "only", 5000, 1e6, 0]],
    )


def test_capacity_shortfall(tmp_path):
    """9,000 t must be collected, one spoke of 5,000 t exists: 4,000 t short (by hand)."""
    inst = load_instance(_spoke_only(tmp_path))
    sol = solve(inst)
    assert sol.status == SolveStatus.INFEASIBLE
    d = sol.diagnosis
    assert d.total_shortfall_t == pytest.approx(4000)
    assert {r[0] for r in d.shortfall} <= {"A", "B"} and {r[1] for r in d.shortfall} == {"nmc"}
    assert any("spoke capacity falls short" in c and "4,000.0" in c for c in d.causes)


def test_region_beyond_service_radius(tmp_path):
    """Region C lies ~1,100 km from the only spoke; the radius is 500 km: its 700 t are short."""
    toml = base_toml(transport={"service_radius_km": 500.0})
    folder = _spoke_only(tmp_path, toml=toml,
                         regions=[["A", "A", 0, 0, 1000], ["C", "C", 10, 0.5, 700]],
                         spoke_sizes=[["S1", "only", 50000, 1e6, 0]])
    sol = solve(load_instance(folder))
    assert sol.status == SolveStatus.INFEASIBLE
    assert sol.diagnosis.shortfall == [("C", "nmc", None, 700.0, pytest.approx(700.0))]
    assert any("no open-able spoke within the 500 km" in c and "C" in c for c in sol.diagnosis.causes)


def _hubs(tmp_path, lfp_accepted=True, max_hubs=None, lfp_t=1000):
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5}, "lfp": {"black_mass_yield": 0.4}})
    if max_hubs is not None:
        toml["limits"] = {"max_hubs": max_hubs}
    return write_instance(
        tmp_path / "hubs",
        toml,
        regions=[["R", "R", 0, 0, 1000, lfp_t]],
        spokes=[["S", "", 0, 0, "existing", "std"]],
        spoke_sizes=[["S", "std", 5000, 0, 0]],
        hubs=[["H1", "", 1, 0, "candidate", "", "true", "false"],
              ["H2", "", 0, 1, "candidate", "", "false", "true" if lfp_accepted else "false"]],
        hub_sizes=[["H1", "one", 5000, 1e6, 0], ["H2", "one", 5000, 1e6, 0]],
        chems=("nmc", "lfp"),
    )


def test_lfp_without_outlet(tmp_path):
    """No hub accepts LFP and LFP has no merchant outlet: all 1,000 t of LFP packs are short."""
    sol = solve(load_instance(_hubs(tmp_path, lfp_accepted=False)))
    assert sol.status == SolveStatus.INFEASIBLE
    assert sol.diagnosis.shortfall == [("R", "lfp", None, 1000.0, pytest.approx(1000.0))]
    assert any(c.startswith("lfp:") and "no merchant outlet" in c for c in sol.diagnosis.causes)


def test_infeasibility_no_aggregate_screen_sees(tmp_path):
    """NMC needs H1, LFP needs H2, but only one hub may open. Capacity and acceptance screens
    all pass; the elastic model finds the cheapest shortfall: the 300 t of LFP (not 1,000 t NMC)."""
    inst = load_instance(_hubs(tmp_path, max_hubs=1, lfp_t=300))
    sol = solve(inst)
    assert sol.status == SolveStatus.INFEASIBLE
    assert sol.diagnosis.shortfall == [("R", "lfp", None, 300.0, pytest.approx(300.0))]
    text = str(sol.diagnosis)
    assert "region R, lfp: 300.0 t short" in text


def test_feasible_variant_is_feasible(tmp_path):
    """Control: the same instance with two hubs allowed solves (so the diagnosis is not spurious)."""
    sol = solve(load_instance(_hubs(tmp_path, max_hubs=2, lfp_t=300)))
    assert sol.status == SolveStatus.OPTIMAL


def test_multi_period_diagnosis_names_each_period(tmp_path):
    """Two periods of 1,500 t/yr each (supply.csv), one spoke of 1,000 t/yr: in each period
    500 t/yr cannot be collected.  The screens compare a period's need with a period's capacity
    (not the sum over periods, 3,000 t) and every row names its period."""
    from .helpers import write_csv

    toml = base_toml()
    toml["periods"] = {"years": [2025, 2030], "end_year": 2035}
    folder = _spoke_only(tmp_path, toml=toml, regions=[["R", "R", 0, 0, 1500]],
                         spoke_sizes=[["S1", "only", 1000, 1e6, 0]])
    write_csv(folder / "supply.csv", ["region_id", "period", "chemistry", "supply_t"],
              [["R", 2025, "nmc", 1500], ["R", 2030, "nmc", 1500]])
    sol = solve(load_instance(folder))
    assert sol.status == SolveStatus.INFEASIBLE
    assert sol.diagnosis.shortfall == [("R", "nmc", "2025", 1500.0, pytest.approx(500.0)),
                                       ("R", "nmc", "2030", 1500.0, pytest.approx(500.0))]
    for year in ("2025", "2030"):
        assert any(f"spoke capacity falls short in period {year}: at most 1,000.0 t/yr" in c
                   and "but 1,500.0 t/yr must be collected (short by 500.0 t/yr)" in c for c in sol.diagnosis.causes)
    assert not any("3,000" in c for c in sol.diagnosis.causes)
    text = str(sol.diagnosis)
    assert "region R, nmc in period 2025: 500.0 t short of 1,500.0 t required" in text
    assert "region R, nmc in period 2030: 500.0 t short of 1,500.0 t required" in text
