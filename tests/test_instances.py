"""The three market instances (instances/north-america, europe, china).

1. instances/build.py regenerates them byte for byte from instances/data;
2. each one loads and validates;
3. each market's total supply by chemistry equals a recomputation from the raw files in
   instances/data done here with independent, short arithmetic (build.py is not used for it).

4. each one solves (to a 1 % gap here; ``benchmarks/real_instances.py`` times the default
   solve) and its solution passes the independent checker; north-america-2035 too, and its
   supply per period follows the end-of-life curve.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import load_instance

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
DATA = INSTANCES / "data"
MARKETS = ("north-america", "europe", "china")
FILES = ("instance.toml", "regions.csv", "spokes.csv", "spoke_sizes.csv", "hubs.csv", "hub_sizes.csv",
         "regions.geojson")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    spec = importlib.util.spec_from_file_location("instances_build", INSTANCES / "build.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("instances")
    mod.build_all(out)
    return out


@pytest.mark.parametrize("market", MARKETS + ("north-america-2035",))
def test_build_reproduces_committed_files(rebuilt: Path, market: str) -> None:
    # the files build.py writes; scenarios/ (the hand-written business-model presets) is not its output
    committed = sorted(p.name for p in (INSTANCES / market).iterdir() if p.is_file())
    assert committed == sorted(p.name for p in (rebuilt / market).iterdir())
    assert set(FILES) <= set(committed)
    for name in committed:
        assert (rebuilt / market / name).read_bytes() == (INSTANCES / market / name).read_bytes(), name


@pytest.mark.parametrize("market", MARKETS)
def test_instance_validates(market: str) -> None:
    inst = load_instance(INSTANCES / market)
    assert inst.chem_names == ("nmc", "lfp")
    assert 150 <= len(inst.regions) <= 400
    assert 40 <= len(inst.spokes) <= 120
    assert 10 <= len(inst.hubs) <= 25
    assert inst.hubs["accepts_lfp"].any()
    assert inst.profit_mode
    ids = pd.concat([inst.regions["id"], inst.spokes["id"], inst.hubs["id"], inst.collection_points["id"]])
    assert ids.str.upper().is_unique
    # proxies are flagged: every Chinese end-of-life row, the suppressed Canadian provinces
    flagged = set(inst.regions.loc[inst.regions["estimate"], "region"])
    assert flagged == {"north-america": {"CA-AB", "CA-NL", "CA-NU"}, "europe": set(),
                       "china": set(inst.regions.loc[~inst.regions["id"].str.contains("-P"), "region"])}[market]
    # every region value has a boundary feature
    keys = {f["properties"]["id"] for f in inst.boundaries["features"]}
    assert set(inst.regions["region"]) <= keys


def _km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle km (haversine, mean Earth radius), written here, not taken from the build."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@pytest.mark.parametrize("market", MARKETS)
def test_candidate_collection_points_follow_the_documented_rule(market: str) -> None:
    """instances/README.md section 4: GeoNames cities >= 150,000 at least 150 km from every spoke
    candidate and from each other, at most 40, each with an own (6,000 t, US$2.0 M, 0.25 M/yr) and
    a partner (2,500 t, no capex, 0.12 M/yr) mode in the market's currency."""
    inst = load_instance(INSTANCES / market)
    cps, spokes = inst.collection_points, inst.spokes
    assert 20 <= len(cps) <= 40
    cities = pd.read_csv(DATA / "geonames_cities15000.csv").set_index("geonameid")
    notes = pd.read_csv(INSTANCES / market / "collection_points.csv").set_index("id")["note"]  # not a schema field
    for c in cps.itertuples(index=False):
        gid = int(notes[c.id].split("GeoNames ")[1].split(",")[0])
        assert cities.at[gid, "population"] >= 150_000, c.id
        assert (c.lat, c.lon) == pytest.approx((cities.at[gid, "lat"], cities.at[gid, "lon"]), abs=1e-5), c.id
        assert _km(c.lat, c.lon, spokes["lat"].to_numpy(), spokes["lon"].to_numpy()).min() >= 150.0, c.id
        others = cps[cps["id"] != c.id]
        assert _km(c.lat, c.lon, others["lat"].to_numpy(), others["lon"].to_numpy()).min() >= 150.0, c.id
    per_usd = {"USD": 1.0, "EUR": 1 / 1.0824, "CNY": 7.7875 / 1.0824}[inst.currency]
    modes = inst.collection_point_modes
    assert set(modes["site_id"]) == set(cps["id"])
    for mode, (cap, capex, fixed) in {"own": (6000, 2.0e6, 0.25e6), "partner": (2500, 0.0, 0.12e6)}.items():
        m = modes[modes["size"] == mode]
        assert len(m) == len(cps)
        assert (m["capacity_t"] == cap).all()
        assert m["capex"].to_numpy() == pytest.approx(capex * per_usd, abs=0.5)
        assert m["fixed_opex_per_yr"].to_numpy() == pytest.approx(fixed * per_usd, abs=0.5)


# --- independent recomputation of the market totals ------------------------------------------

YEAR, MEAN, SD = 2030, 10.0, 4.0  # planning year; logistic battery life [G14] "Short"
KG = {"north-america": (436.0, 164.0), "europe": (334.0, 148.0), "china": (0.67 * 351 + 0.33 * 276, 214.0)}
LFP = {"north-america": ([2020, 2021, 2022, 2024], [0.0, 0.03, 0.053, 0.102]),
       "europe": ([2022, 2024], [0.028, 0.10]),
       "china": ([2019, 2022, 2023], [0.048, 0.46, 0.67])}
UNITS = {"north-america": ["US", "CA"], "china": ["CN"],
         "europe": ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "IT", "NL", "NO", "PL", "PT", "SE"]}
EUROSTAT = ["BG", "CY", "CZ", "EE", "HR", "HU", "IE", "LT", "LU", "LV", "MT", "RO", "SI", "SK"]
DATASET = {"north-america": "north_america", "europe": "europe", "china": "china"}


def retiring(age: int) -> float:
    s = SD * math.sqrt(3) / math.pi
    return 1 / (1 + math.exp(-(age - MEAN) / s)) - 1 / (1 + math.exp(-(age - 1 - MEAN) / s))


def sales_by_year(df: pd.DataFrame, unit: str, metric: str) -> dict[int, float]:
    sel = df[(df["region_id"] == unit) & (df["metric"] == metric)].dropna(subset=["value"])
    return dict(zip(sel["year"].astype(int), sel["value"].astype(float), strict=True))


def expected_totals(market: str) -> dict[str, float]:
    iea = pd.read_csv(DATA / "ev_supply_countries_iea.csv")
    cohorts: dict[str, list[dict[int, float]]] = {"bev": [], "phev": []}
    for kind in cohorts:
        for u in UNITS[market]:
            cohorts[kind].append(sales_by_year(iea, u, f"sales_{kind}"))
        if market == "europe":  # Eurostat countries; gaps = nearest year scaled by IEA EU27
            est = pd.read_csv(DATA / "ev_supply_eu_countries_eurostat.csv")
            eu27 = sales_by_year(iea, "EU27", f"sales_{kind}")
            for c in EUROSTAT:
                rep = {y: v for y, v in sales_by_year(est, c, f"new_reg_{kind}").items() if y <= 2024}
                cohorts[kind].append({y: rep[y] if y in rep else
                                      rep[min(rep, key=lambda r: (abs(r - y), r))] * eu27.get(y, 0.0)
                                      / eu27[min(rep, key=lambda r: (abs(r - y), r))] for y in range(2010, 2025)})
    tot = {"nmc": 0.0, "lfp": 0.0}
    for y in range(2010, YEAR):
        sold = [sum(s.get(min(y, 2024), 0.0) for s in cohorts[k]) for k in ("bev", "phev")]
        t = retiring(YEAR - y) * (sold[0] * KG[market][0] + sold[1] * KG[market][1]) / 1000
        share = float(np.interp(y, *LFP[market]))
        tot["lfp"] += t * share
        tot["nmc"] += t * (1 - share)
    # cell-plant scrap: capacity x 0.6 x (5 % operating, 8 % under construction) x t/GWh
    plants = pd.read_csv(DATA / "battery_plants.csv", dtype={"chemistry": str}).fillna({"chemistry": ""})
    plants = plants[(plants["market"] == DATASET[market])
                    & ~plants["plant"].isin(["Northvolt Ett", "HL-GA Battery Company", "AESC Florence"])]
    for p in plants.itertuples():
        rate = {"operating": 0.05, "under construction": 0.08}.get(p.status, 0.0)
        chem = p.chemistry.upper()
        share = 1.0 if chem.startswith("LFP") else 0.0 if ("NMC" in chem or "NCA" in chem) else LFP[market][1][-1]
        gwh = p.capacity_gwh * 0.6 * rate
        tot["lfp"] += gwh * share * 6660
        tot["nmc"] += gwh * (1 - share) * 4990
    return tot


@pytest.mark.parametrize("market", MARKETS)
def test_total_supply_matches_raw_data(market: str) -> None:
    regions = pd.read_csv(INSTANCES / market / "regions.csv")
    expected = expected_totals(market)
    for chem, value in expected.items():
        assert regions[f"{chem}_t"].sum() == pytest.approx(value, rel=1e-6), chem


@pytest.mark.slow
@pytest.mark.parametrize("market", MARKETS + ("north-america-2035",))
def test_instance_solves_and_checks(market: str) -> None:
    from optimizer import check_solution, solve

    inst = load_instance(INSTANCES / market)
    sol = solve(inst, mip_rel_gap=0.01, threads=1, time_limit=90)
    assert sol.status.has_solution, sol.status
    assert check_solution(inst, sol) == []
    opened = sol.sites[sol.sites["open"]]
    last = sol.periods[-1]
    assert (opened.loc[opened["period"] == last, "kind"] == "hub").sum() >= 1
    if sol.gap is not None and sol.gap <= 0.05:  # a network near the optimum (an early incumbent may be
        # a poor one: China's at 60 s opened one spoke at a 442 % gap)
        assert (opened.loc[opened["period"] == last, "kind"] == "spoke").sum() >= 5, sol.gap


def test_horizon_supply_grows_with_the_tide() -> None:
    """north-america-2035: the same supply points; total supply rises period by period, and the
    2031 period (2031-2033) brackets the 2030 supply of north-america from below and above."""
    na = load_instance(INSTANCES / "north-america")
    hz = load_instance(INSTANCES / "north-america-2035")
    assert list(hz.regions["id"]) == list(na.regions["id"])
    totals = hz.supply_by_period.groupby("period")["supply_t"].sum()
    assert list(totals.index) == ["2025", "2028", "2031", "2034"]
    assert all(b > a for a, b in zip(totals, totals.iloc[1:], strict=False))
    base_2030 = na.regions[["nmc_t", "lfp_t"]].to_numpy().sum()
    assert totals["2028"] < base_2030 < totals["2031"]


@pytest.mark.parametrize("market", MARKETS)
def test_every_bundled_grid_loads_and_the_share_lever_does_what_its_name_says(market: str) -> None:
    """The shipped sweeps (business models, channel estimates) are valid against their market;
    ``dealers-share-x0.5`` halves the dealers' share and the other end-of-life channels take up
    the difference in proportion (worked from channel_shares.csv here, not by the lever's code)."""
    from optimizer.scenarios.overrides import apply
    from optimizer.scenarios.sweep import load_grid

    base = load_instance(INSTANCES / market)
    grids = sorted((INSTANCES / market / "scenarios").glob("*/grid.toml"))
    assert [g.parent.name for g in grids] == ["business-models", "channel-estimates"]
    plans = {g.parent.name: load_grid(g, base) for g in grids}
    assert [s.name for s in plans["business-models"].scenarios] == ["third-party", "battery-maker", "oem-alliance"]
    scenarios = {s.name: s for s in plans["channel-estimates"].scenarios}
    assert len(scenarios) == 13
    shares = pd.read_csv(INSTANCES / market / "channel_shares.csv", keep_default_na=False)
    eol = shares[shares["region"] == "*"].set_index("channel")["share"].astype(float)
    got = apply(base, scenarios["dealers-share-x0.5"]).channel_shares
    got = got[got["region"] == "*"].set_index("channel")["share"]
    want = eol * (1 - eol["dealers"] / 2) / (1 - eol["dealers"])
    want["dealers"] = eol["dealers"] / 2
    assert got.to_dict() == pytest.approx(want.to_dict(), rel=1e-12)
    assert got.sum() == pytest.approx(1.0)
