"""Every validation error names the broken cell: (file, row as Excel numbers it, column)."""

from __future__ import annotations

import pytest

from optimizer import InstanceError, load_instance

from .helpers import copy_demo, read_rows, set_cell, write_csv


def _issues(folder):
    with pytest.raises(InstanceError) as exc:
        load_instance(folder)
    return exc.value.issues


def _where(issues):
    return {(i.file, i.row, i.field) for i in issues}


def test_demo_is_valid():
    inst = load_instance("instances/demo")
    assert len(inst.regions) == 12
    assert inst.chem_names == ("nmc", "lfp")


@pytest.mark.parametrize(
    "file, row, column, value",
    [
        ("regions.csv", 5, "nmc_t", "abc"),  # non-numeric
        ("regions.csv", 3, "lfp_t", "-10"),  # negative supply
        ("spoke_sizes.csv", 3, "capex", "-5"),  # negative capex
        ("spokes.csv", 4, "lat", "123"),  # latitude out of range
        ("hubs.csv", 2, "lon", "-200"),  # longitude out of range
        ("regions.csv", 7, "id", "US-NYC"),  # duplicate id (row 2 has it)
        ("regions.csv", 7, "id", "us-nyc"),  # duplicate differing only by case
        ("spoke_sizes.csv", 6, "capacity_t", "0"),  # size with zero capacity
        ("lanes.csv", 2, "destination", "H-NOWHERE"),  # lane to an unknown site
        ("lanes.csv", 3, "origin", "NOWHERE"),  # lane from an unknown id
        ("spokes.csv", 3, "status", "open"),  # not a status
        ("hubs.csv", 3, "accepts_lfp", "maybe"),  # not a boolean
        ("regions.csv", 4, "lat", ""),  # blank required cell
        ("regions.csv", 4, "nmc_t", "nan"),  # NaN is not a number here
        ("regions.csv", 4, "nmc_t", "inf"),  # neither is infinity
        ("spokes.csv", 2, "existing_size", "huge"),  # existing size that the site does not offer
        ("spokes.csv", 10, "existing_size", "small"),  # excluded site that names an installed size
    ],
)
def test_bad_cell_is_named(tmp_path, file, row, column, value):
    folder = copy_demo(tmp_path)
    set_cell(folder / file, row, column, value)
    issues = _issues(folder)
    assert (file, row, column) in _where(issues), [str(i) for i in issues]
    issue = next(i for i in issues if (i.file, i.row, i.field) == (file, row, column))
    assert issue.expected  # says what was expected


def test_missing_column(tmp_path):
    folder = copy_demo(tmp_path)
    header, rows = read_rows(folder / "regions.csv")
    k = header.index("lat")
    write_csv(folder / "regions.csv", header[:k] + header[k + 1:], [r[:k] + r[k + 1:] for r in rows])
    assert ("regions.csv", 1, "lat") in _where(_issues(folder))


def test_unknown_column_is_refused_with_suggestion(tmp_path):
    folder = copy_demo(tmp_path)
    header, rows = read_rows(folder / "spokes.csv")
    header[header.index("status")] = "statuss"
    write_csv(folder / "spokes.csv", header, rows)
    issues = _issues(folder)
    issue = next(i for i in issues if (i.file, i.row, i.field) == ("spokes.csv", 1, "statuss"))
    assert "did you mean 'status'" in issue.got
    assert ("spokes.csv", 1, "status") in _where(issues)  # and the real column is missing


def test_unknown_chemistry_column(tmp_path):
    folder = copy_demo(tmp_path)
    header, rows = read_rows(folder / "regions.csv")
    write_csv(folder / "regions.csv", header + ["nca_t"], [r + ["10"] for r in rows])
    issues = _issues(folder)
    issue = next(i for i in issues if (i.file, i.row, i.field) == ("regions.csv", 1, "nca_t"))
    assert "unknown chemistry 'nca'" in issue.got and "nmc" in issue.expected


def test_unknown_hub_acceptance_chemistry(tmp_path):
    folder = copy_demo(tmp_path)
    header, rows = read_rows(folder / "hubs.csv")
    write_csv(folder / "hubs.csv", header + ["accepts_nca"], [r + ["true"] for r in rows])
    assert ("hubs.csv", 1, "accepts_nca") in _where(_issues(folder))


def test_missing_file(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "spokes.csv").unlink()
    issues = _issues(folder)
    assert ("spokes.csv", None, None) in _where(issues)


def test_all_problems_reported_together(tmp_path):
    folder = copy_demo(tmp_path)
    set_cell(folder / "regions.csv", 5, "nmc_t", "abc")
    set_cell(folder / "spokes.csv", 4, "lat", "123")
    set_cell(folder / "spoke_sizes.csv", 6, "capacity_t", "0")
    set_cell(folder / "lanes.csv", 2, "destination", "H-NOWHERE")
    where = _where(_issues(folder))
    assert {("regions.csv", 5, "nmc_t"), ("spokes.csv", 4, "lat"), ("spoke_sizes.csv", 6, "capacity_t")} <= where
    # Cross-file checks run once the cells parse; the lane reference is reported then.
    set_cell(folder / "regions.csv", 5, "nmc_t", "1100")
    set_cell(folder / "spokes.csv", 4, "lat", "40.2732")
    set_cell(folder / "spoke_sizes.csv", 6, "capacity_t", "10000")
    set_cell(folder / "regions.csv", 7, "id", "US-NYC")
    where = _where(_issues(folder))
    assert {("lanes.csv", 2, "destination"), ("regions.csv", 7, "id")} <= where


def test_toml_unknown_key_and_percentage_rate(tmp_path):
    folder = copy_demo(tmp_path)
    text = (folder / "instance.toml").read_text()
    text = text.replace("discount_rate = 0.08", "discount_rate = 8").replace("circuity = 1.25", "circuity = 1.25\nservice_radious_km = 500")
    (folder / "instance.toml").write_text(text)
    issues = _issues(folder)
    rate = next(i for i in issues if i.field == "finance.discount_rate")
    assert "write 0.08 for 8 %" in rate.expected
    assert text.splitlines()[rate.row - 1].startswith("discount_rate = 8")
    typo = next(i for i in issues if i.field == "transport.service_radious_km")
    assert "did you mean 'service_radius_km'" in typo.got


def test_toml_syntax_error_names_line(tmp_path):
    folder = copy_demo(tmp_path)
    lines = (folder / "instance.toml").read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("circuity"))
    lines[k] = "circuity = = 1.25"
    (folder / "instance.toml").write_text("\n".join(lines) + "\n")
    issues = _issues(folder)
    assert issues[0].file == "instance.toml" and issues[0].row == k + 1
    # the CSVs read on with the chemistries regions.csv names: no echo of "unknown chemistry"
    # or "unknown column" for every per-chemistry column of a sound file
    assert [i.file for i in issues] == ["instance.toml"], issues


def test_yield_out_of_range(tmp_path):
    folder = copy_demo(tmp_path)
    text = (folder / "instance.toml").read_text().replace("black_mass_yield = 0.40", "black_mass_yield = 1.4")
    (folder / "instance.toml").write_text(text)
    line = 1 + text.splitlines().index(next(x for x in text.splitlines() if x.startswith("black_mass_yield = 1.4")))
    assert ("instance.toml", line, "chemistries.nmc.black_mass_yield") in _where(_issues(folder))


def _square(lat, lon, key):
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {"type": "Feature", "properties": {"id": key}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_a_geojson_syntax_error_is_one_located_error(tmp_path):
    folder = copy_demo(tmp_path)
    (folder / "regions.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    issues = _issues(folder)
    assert [(i.file, i.expected) for i in issues] == [("regions.geojson", "a GeoJSON FeatureCollection")], issues


def test_a_geojson_feature_for_no_region_is_warned_with_its_index(tmp_path):
    """Outlines for US-NYC (a region) and XX-NOWHERE (none): the instance loads, and the warning
    names features[1] and the id it could not match."""
    import json

    folder = copy_demo(tmp_path)
    (folder / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        _square(40.0, -75.0, "US-NYC"), _square(10.0, 10.0, "XX-NOWHERE")]}), encoding="utf-8")
    inst = load_instance(folder)
    warnings = inst.raw_toml.get("_warnings", [])
    assert any("features[1].properties.id" in w and "'XX-NOWHERE'" in w for w in warnings), warnings
    assert not any("features[0]" in w for w in warnings), warnings


def test_an_implausibly_large_supply_is_warned_not_refused(tmp_path):
    """2e7 t/yr at one region (above the 1e7 plausibility bound, below the 1e8 limit): loads,
    with a warning naming regions.csv, its row and the column."""
    folder = copy_demo(tmp_path)
    set_cell(folder / "regions.csv", 2, "nmc_t", "20000000")
    inst = load_instance(folder)
    warnings = inst.raw_toml.get("_warnings", [])
    assert any("regions.csv" in w and "row 2" in w and "nmc_t" in w for w in warnings), warnings
    assert float(inst.regions.loc[inst.regions["id"] == "US-NYC", "nmc_t"].iat[0]) == 2e7
