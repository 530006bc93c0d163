"""Instances in and out: save_instance gives back an equal instance, for every file the schema
declares; lanes.csv keeps the lanes a user quoted and says which it drops."""

from __future__ import annotations

import pytest

from optimizer import load_instance, make_instance, save_instance
from optimizer.load import instances_equal
from optimizer.schema import ALL_TABLES

from .helpers import DEMO, ROOT, copy_demo, write_csv

BUNDLED = ["demo", "north-america", "europe", "china", "north-america-2035"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_instances_round_trip(tmp_path, name):
    a = load_instance(ROOT / "instances" / name)
    b = load_instance(save_instance(a, tmp_path / "saved"))
    assert instances_equal(a, b) == []


def _every_file(tmp_path):
    """The demo with a horizon: [periods] with growth, growth.csv and supply.csv -- an instance
    with rows in every file the schema declares (extend it when a file is added)."""
    folder = copy_demo(tmp_path)
    toml = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(toml + "\n[periods]\nyears = [2025, 2028]\nend_year = 2031\n"
                                          "growth = {nmc = 0.3, lfp = 0.45}\ncapex_budget = [4.0e8, 2.5e8]\n")
    inst = load_instance(folder)
    regions = list(inst.regions["id"])
    write_csv(folder / "growth.csv", ["region_id", "chemistry", "growth"], [[regions[0], "nmc", 0.123456789012345]])
    write_csv(folder / "supply.csv", ["region_id", "period", "chemistry", "supply_t"],
              [[r, y, c, 1000.0 + k / 7] for k, r in enumerate(regions) for y in (2025, 2028) for c in ("nmc", "lfp")])
    # channels: two, split by shares (one for a region group), with an offer ladder per period
    write_csv(folder / "channels.csv", ["id", "name", "owner", "price_scope", "min_capture_share", "source"],
              [["dealer", "Dealers", "OEMs", "region", 0.25, "estimate"], ["dismantler", "", "", "national", "", ""]])
    group = str(inst.regions["region"].iat[0])
    write_csv(folder / "channel_shares.csv", ["region", "chemistry", "channel", "share"],
              [["*", "", "dealer", 0.6], ["*", "", "dismantler", 0.4], [group, "nmc", "dealer", 1 / 3], [group, "nmc", "dismantler", 2 / 3]])
    write_csv(folder / "offers.csv", ["channel", "region", "chemistry", "period", "level", "price_per_t", "capture_share"],
              [["dealer", "", "", "", "low", 0.0, 0.3], ["dealer", "", "", "", "high", 800.5, 0.9],
               ["dismantler", "", "nmc", 2028, "posted", -120.25, 0.5]])
    # collection points: an own and a partner mode, one existing point
    write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status", "existing_size", "group"],
              [["CP-ALBANY", "Albany drop-off", 42.6526, -73.7562, "candidate", "", "dealers"],
               ["CP-BUFFALO", "Buffalo yard", 42.8864, -78.8784, "existing", "partner", ""]])
    write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
              [["CP-ALBANY", "own", 3000, 250000.5, 40000], ["CP-ALBANY", "partner", 1500, 0, 65000],
               ["CP-BUFFALO", "partner", 2000, 0, 60000]])
    # a value that needs all 17 significant digits
    text = (folder / "regions.csv").read_text().replace("9000", "9000.123456789012", 1)
    (folder / "regions.csv").write_text(text)
    return load_instance(folder)


def test_every_declared_file_round_trips_in_full_precision(tmp_path):
    a = _every_file(tmp_path)
    for spec in ALL_TABLES:  # the instance has rows in every declared file
        assert getattr(a, spec.attr) is not None and len(getattr(a, spec.attr)), spec.file
    saved = save_instance(a, tmp_path / "saved")
    assert {spec.file for spec in ALL_TABLES} <= {p.name for p in saved.iterdir()}
    b = load_instance(saved)
    assert instances_equal(a, b) == []
    assert a.periods.capex_budget == (4.0e8, 2.5e8) == b.periods.capex_budget
    assert b.regions["nmc_t"].max() == 9000.123456789012
    assert b.growth_table["growth"].iat[0] == 0.123456789012345
    assert (b.supply_table["supply_t"].to_numpy() == a.supply_table["supply_t"].to_numpy()).all()
    assert (b.supply_table["supply_t"] == 1000.0 + 1 / 7).sum() == 4  # region 1: 2 periods x 2 chemistries


def test_a_saved_horizon_reloads_as_a_horizon(tmp_path):
    """save_instance used to drop [periods]: a saved horizon reloaded as a one-period instance."""
    a = load_instance(ROOT / "instances" / "north-america-2035")
    b = load_instance(save_instance(a, tmp_path / "h"))
    assert b.multi_period and b.periods == a.periods
    assert b.supply_by_period.equals(a.supply_by_period)


def test_make_instance_and_save_instance_are_public():
    import optimizer

    assert optimizer.make_instance is make_instance and optimizer.save_instance is save_instance
    assert {"make_instance", "save_instance"} <= set(optimizer.__all__)
    assert DEMO.exists()


# --- lanes ---------------------------------------------------------------------------------------


def _two_spokes(tmp_path, lanes, radius=100.0):
    """Region R at (0, 0); spokes NEAR (0, 0.5) ~55.6 km and FAR (0, 2) ~222.4 km (great circle,
    circuity 1); service radius 100 km; packs cost 1 per t km; FAR is cheaper to run."""
    from .helpers import base_toml, write_instance

    toml = base_toml(transport={"pack_cost_per_t_km": 1.0, "service_radius_km": radius},
                     processing={"spoke_cost_per_t": 0.0, "hub_cost_per_t": 0.0})
    return write_instance(tmp_path / "lanes", toml, regions=[["R", "R", 0, 0, 100]],
                          spokes=[["NEAR", "", 0, 0.5, "candidate", ""], ["FAR", "", 0, 2, "candidate", ""]],
                          spoke_sizes=[["NEAR", "one", 1000, 1e6, 0], ["FAR", "one", 1000, 0, 0]], lanes=lanes)


def test_a_quoted_lane_is_kept_whatever_the_radius(tmp_path):
    """R -> FAR quoted at 10 per t: kept although 222 km exceeds the 100 km radius.  By hand:
    FAR (capex 0) for 100 t x 10 = 1,000 beats NEAR (capex 1 M over 10 years = 100,000/yr)."""
    from optimizer import check_solution, solve

    inst = load_instance(_two_spokes(tmp_path, lanes=[["R", "FAR", None, 10.0]]))
    sol = solve(inst, mip_rel_gap=0)
    assert sol.objective == pytest.approx(1_000.0)
    assert list(sol.flows.loc[sol.flows["echelon"] == "region_spoke", "destination"]) == ["FAR"]
    assert check_solution(inst, sol) == []


def test_a_km_override_is_tested_against_the_radius_and_dropped_lanes_are_reported(tmp_path, capsys):
    """R -> FAR given as 90 road km: within the radius, so FAR serves R at 90 per t (9,000 in
    all, cheaper than NEAR's 100,000 capex annuity + 5,560 transport).  R -> NEAR given as 120 km
    is beyond the radius: dropped, and validate says so."""
    from optimizer import solve
    from optimizer.cli import main

    folder = _two_spokes(tmp_path, lanes=[["R", "FAR", 90.0, None], ["R", "NEAR", 120.0, None]])
    sol = solve(load_instance(folder), mip_rel_gap=0)
    assert sol.objective == pytest.approx(9_000.0)
    assert main(["validate", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "lanes.csv, row 3, field 'km'" in err and "R -> NEAR is 120.0 km" in err and "100 km service radius" in err


def test_a_road_distance_below_the_straight_line_is_warned(tmp_path, capsys):
    from optimizer.cli import main

    folder = _two_spokes(tmp_path, lanes=[["R", "NEAR", 0.0, None]], radius=1000.0)
    assert main(["validate", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "lanes.csv, row 2, field 'km'" in err and "(55.6 km from R to NEAR)" in err and "got 0 km" in err
