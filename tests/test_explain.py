"""Marginal values (optimizer.explain): what one more tonne is worth to the network as designed.

Each figure is checked two independent ways: by hand, and by re-solving the whole instance with
one more (and one less) tonne of supply where the network cannot change (one existing spoke, no
other site), so the MILP optimum is the fixed-network LP's.
"""

from __future__ import annotations

import pytest

from optimizer import check_solution, load_instance, solve

from .helpers import base_toml, write_instance

EXACT = {"mip_rel_gap": 0.0}


def _one_spoke(tmp_path, capacity: float, supply: float = 1000.0, name: str = "mv"):
    """1,000 t on an existing spoke (processing 100/t) selling black mass at 600/t (yield 0.5):
    a tonne collected earns 300 - 100 = 200; a tonne left uncollected costs 2,000 (no minimum
    collection rate)."""
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": 600.0}},
                     processing={"spoke_cost_per_t": 100.0, "hub_cost_per_t": 0.0},
                     collection={"uncollected_penalty_per_t": 2000.0, "min_collection_rate": 0.0})
    return write_instance(tmp_path / name, toml, regions=[["R", "R", 0, 0, supply]],
                          spokes=[["S", "", 0, 0, "existing", "std"]], spoke_sizes=[["S", "std", capacity, 1e6, 0]])


def _with_supply(inst, supply: float):
    return inst.replace(regions=inst.regions.assign(nmc_t=supply))


@pytest.mark.parametrize(("capacity", "value", "breakpoint"), [
    (5000.0, 200.0, False),  # room to spare: one more tonne earns 200
    (1000.0, -2000.0, True),  # the spoke is full: one more tonne goes uncollected (one less would lose 200)
])
def test_marginal_value_is_the_one_more_tonne_re_solve(tmp_path, capacity, value, breakpoint):
    inst = load_instance(_one_spoke(tmp_path, capacity))
    sol = solve(inst, **EXACT)
    assert check_solution(inst, sol) == []
    row = sol.channels.iloc[0]
    assert row["marginal_value_per_t"] == pytest.approx(value, rel=1e-9)
    assert bool(row["at_breakpoint"]) is breakpoint
    more = solve(_with_supply(inst, 1001.0), **EXACT).objective
    less = solve(_with_supply(inst, 999.0), **EXACT).objective
    assert -(more - sol.objective) == pytest.approx(value, rel=1e-9)  # the reported value is the +1 t one
    assert (-(sol.objective - less) != pytest.approx(value, rel=1e-9)) is breakpoint


def test_marginal_values_can_be_switched_off(tmp_path):
    inst = load_instance(_one_spoke(tmp_path, 5000.0))
    sol = solve(inst, marginal_values=False)
    assert sol.channels["marginal_value_per_t"].isna().all()
    assert "marginal_values" not in sol.timings


def test_marginal_value_of_a_captured_channel_tonne(tmp_path):
    """With an offer ladder the row is the tonnes captured: the value is the same 200/t whatever
    the price paid (the offer is fixed with the network)."""
    from .test_channels import _instance

    inst = load_instance(_instance(tmp_path, 1100.0))  # L1 chosen, 600 t captured; worth 1,100/t
    sol = solve(inst, **EXACT)
    assert sol.channels["level"].iat[0] == "L1"
    assert sol.channels["marginal_value_per_t"].iat[0] == pytest.approx(1100.0, rel=1e-9)
