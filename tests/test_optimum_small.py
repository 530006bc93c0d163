"""Small instances whose optimum is known independently: by hand, or by brute force."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import check_solution, load_instance, solve
from optimizer.solution import SolveStatus

from .bruteforce import brute_force
from .helpers import base_toml, write_instance

EXACT = {"mip_rel_gap": 0.0}


def _open(sol) -> dict[str, str]:
    o = sol.sites[sol.sites["open"]]
    return dict(zip(o["site_id"], o["size"], strict=True))


def test_hand_worked_spoke_only(tmp_path):
    """Two regions, three candidate spokes, two sizes, lane costs given (no distances).

    CRF = 1/10 (rate 0, 10 years): small (5,000 t) costs 1.0 M/yr, large (10,000 t) 1.6 M/yr.
    Supply A 6,000 t, B 3,000 t.  Lane costs per t: A->S1 10, A->S2 50, A->S3 60;
    B->S1 80, B->S2 20, B->S3 30.
      S1 large alone: 1.6 M + 6,000*10 + 3,000*80 = 1,900,000   <- optimum
      S2 large alone: 1.6 M + 6,000*50 + 3,000*20 = 1,960,000   (+3.2 %)
      S3 large alone: 1.6 M + 360,000 + 90,000     = 2,050,000
      S1 + S2 small:  2.0 M + 5,000*10 + 1,000*50 + 3,000*20 = 2,160,000
    The optimum opens a strict subset (1 of 3) at the non-smallest size.
    """
    folder = write_instance(
        tmp_path / "hand",
        base_toml(),
        regions=[["A", "A", 0, 0, 6000], ["B", "B", 0, 1, 3000]],
        spokes=[["S1", "", 0, 0, "candidate", ""], ["S2", "", 0, 1, "candidate", ""], ["S3", "", 1, 1, "candidate", ""]],
        spoke_sizes=[[s, z, cap, capex, 0] for s in ("S1", "S2", "S3")
                     for z, cap, capex in (("small", 5000, 10e6), ("large", 10000, 16e6))],
        lanes=[["A", "S1", None, 10], ["A", "S2", None, 50], ["A", "S3", None, 60],
               ["B", "S1", None, 80], ["B", "S2", None, 20], ["B", "S3", None, 30]],
    )
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.status == SolveStatus.OPTIMAL
    assert sol.objective == pytest.approx(1_900_000, rel=1e-9)
    assert _open(sol) == {"S1": "large"}
    assert check_solution(inst, sol) == []
    flows = sol.flows[sol.flows["echelon"] == "region_spoke"].set_index("origin")["flow_t"]
    assert flows["A"] == pytest.approx(6000) and flows["B"] == pytest.approx(3000)
    assert sol.cost("transport_pack") == pytest.approx(300_000)
    assert sol.cost("capex_annualised") == pytest.approx(1_600_000)

    from optimizer.report.tables import key_figures

    from .bruteforce import haversine

    k = key_figures(sol)
    assert k["cost_per_t"] == pytest.approx(1_900_000 / 9000)
    assert k["transport_share"] == pytest.approx(300_000 / 1_900_000)
    # A sits on S1 (0 km); B is one degree of longitude away at the equator (circuity 1)
    assert k["haul_pack_km"] == pytest.approx(3000 * haversine(0, 1, 0, 0) / 9000)
    assert k["spoke_utilisation"] == pytest.approx(0.9)


def _two_echelon(tmp_path):
    """One region (nmc 1,000 t, lfp 1,000 t), one existing spoke, two hubs, no merchant outlet.

    Yields nmc 0.5, lfp 0.4 -> 500 t + 400 t black mass.  H1 accepts nmc only (small 1,000 t,
    capex 1.0 M); H2 accepts both (small 600 t, capex 2.1 M; large 1,200 t, capex 2.5 M).
    CRF 1/10.  Lane cost S->H1 10/t, S->H2 100/t, R->S 0.
      H2 large alone:     250,000 + 900*100              = 340,000   <- optimum
      H1 small + H2 small: 100,000 + 210,000 + 500*10 + 400*100 = 355,000 (+4.4 %)
      H1 small + H2 large: 350,000 + 5,000 + 40,000      = 395,000
      H2 small alone: 600 t < 900 t, infeasible; H1 alone: LFP has nowhere to go.
    The existing spoke's installed size is sunk (capex 0 charged).
    """
    chems = ("nmc", "lfp")
    toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.5}, "lfp": {"black_mass_yield": 0.4}})
    return write_instance(
        tmp_path / "two",
        toml,
        regions=[["R", "R", 0, 0, 1000, 1000]],
        spokes=[["S", "", 0, 0, "existing", "std"]],
        spoke_sizes=[["S", "std", 5000, 7e6, 0]],
        hubs=[["H1", "", 1, 0, "candidate", "", "true", "false"], ["H2", "", 0, 1, "candidate", "", "true", "true"]],
        hub_sizes=[["H1", "small", 1000, 1.0e6, 0], ["H2", "small", 600, 2.1e6, 0], ["H2", "large", 1200, 2.5e6, 0]],
        lanes=[["R", "S", None, 0], ["S", "H1", None, 10], ["S", "H2", None, 100]],
        chems=chems,
    )


def test_hand_worked_two_echelon_acceptance(tmp_path):
    inst = load_instance(_two_echelon(tmp_path))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(340_000, rel=1e-9)
    assert _open(sol) == {"S": "std", "H2": "large"}
    assert check_solution(inst, sol) == []
    bm = sol.flows[sol.flows["echelon"] == "spoke_hub"].set_index("chemistry")["flow_t"]
    assert bm["nmc"] == pytest.approx(500) and bm["lfp"] == pytest.approx(400)
    assert sol.cost("capex_annualised") == pytest.approx(250_000)  # spoke capex sunk


def test_hub_count_split_finds_the_hand_worked_optimum(tmp_path):
    """The same instance solved part by part (optimizer/split.py): no hub is infeasible (the LP
    already says so: the black mass has nowhere to go), one hub holds the optimum 340,000, and
    two hubs (355,000 at best) cannot beat it; the answer is the hand-worked one."""
    inst = load_instance(_two_echelon(tmp_path))
    sol = solve(inst, split="on", **EXACT)
    assert sol.objective == pytest.approx(340_000, rel=1e-9)
    assert _open(sol) == {"S": "std", "H2": "large"}
    assert check_solution(inst, sol) == []
    assert "hub-count split" in sol.termination and "1 hub optimal" in sol.termination
    assert "0 hubs" not in sol.termination  # an infeasible part is not a part
    assert sol.best_bound == pytest.approx(340_000, rel=1e-9)


def test_two_echelon_matches_brute_force(tmp_path):
    inst = load_instance(_two_echelon(tmp_path))
    configs = brute_force(inst)
    assert configs[0].objective == pytest.approx(340_000, rel=1e-9)
    assert configs[1].objective == pytest.approx(355_000, rel=1e-9)


def random_instance(folder, seed: int, n_regions=4, n_spokes=3, n_hubs=2, chems=("nmc", "lfp")):
    """A small instance with real-scale numbers around a 600 km square."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = 45.0, 5.0
    pts = lambda n: [(lat0 + float(a), lon0 + float(b)) for a, b in rng.uniform(-3, 3, size=(n, 2))]  # noqa: E731
    regions = [[f"R{i}", f"Region {i}", round(la, 4), round(lo, 4)] + [int(rng.integers(500, 4000)) for _ in chems]
               for i, (la, lo) in enumerate(pts(n_regions))]
    spokes = [[f"S{i}", "", round(la, 4), round(lo, 4), "candidate", ""] for i, (la, lo) in enumerate(pts(n_spokes))]
    sizes = []
    for s in spokes:
        sizes.append([s[0], "small", 5000, float(rng.integers(6, 10)) * 1e6, 5e5])
        sizes.append([s[0], "large", 12000, float(rng.integers(10, 16)) * 1e6, 8e5])
    hubs = [[f"H{i}", "", round(la, 4), round(lo, 4), "candidate", "", "true", "true" if i % 2 == 0 else "false"]
            for i, (la, lo) in enumerate(pts(n_hubs))]
    hub_sizes = []
    for h in hubs:
        hub_sizes.append([h[0], "mid", 6000, float(rng.integers(40, 80)) * 1e6, 3e6])
        hub_sizes.append([h[0], "big", 15000, float(rng.integers(70, 110)) * 1e6, 5e6])
    toml = {
        "name": f"random-{seed}", "currency": "EUR",
        "chemistries": {"nmc": {"black_mass_yield": 0.4, "merchant_price_per_t": 1500.0, "merchant_cap_t": 1500.0},
                        "lfp": {"black_mass_yield": 0.33, "merchant_price_per_t": -200.0, "merchant_cap_t": 500.0}},
        "transport": {"pack_cost_per_t_km": 0.3, "black_mass_cost_per_t_km": 0.12, "circuity": 1.2,
                      "service_radius_km": 500.0},
        "finance": {"discount_rate": 0.08, "lifetime_years": 15.0},
        "processing": {"spoke_cost_per_t": 200.0, "hub_cost_per_t": 1500.0},
        "collection": {"min_collection_rate": 0.9, "uncollected_penalty_per_t": 900.0},
    }
    return write_instance(folder, toml, regions, spokes, sizes, hubs, hub_sizes, chems=chems)


@pytest.mark.parametrize("seed", [3, 11])
def test_random_small_matches_brute_force_with_unique_optimum(tmp_path, seed):
    """MILP = brute force; the instance is only accepted as a fixture if its optimum is unique by
    >= 0.1 %, opens a strict subset of the sites and uses a non-smallest size (asserted)."""
    inst = load_instance(random_instance(tmp_path / f"r{seed}", seed))
    configs = brute_force(inst)
    best, second = configs[0], configs[1]
    assert second.objective >= best.objective + 1e-3 * abs(best.objective), "optimum not unique by 0.1 %"
    n_sites = (inst.spokes["status"] != "excluded").sum() + (inst.hubs["status"] != "excluded").sum()
    assert 0 < len(best.sizes) < n_sites, "optimum must open a strict subset"
    assert any(v[0] in ("large", "big") for v in best.sizes.values()), "optimum must use a non-smallest size"

    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(best.objective, rel=1e-7)
    assert _open(sol) == {k: v[0] for k, v in best.sizes.items()}
    assert check_solution(inst, sol) == []


def test_existing_site_expands_paying_the_difference(tmp_path):
    """S1 exists at small (5,000 t, capex 10 M sunk); 8,000 t must be processed.
    Expanding S1 to large (10,000 t, capex 16 M) charges 16 - 10 = 6 M -> 0.6 M/yr at CRF 1/10;
    opening S2 small instead would cost 1.0 M/yr.  Optimum 600,000 with S1 large, S2 closed."""
    folder = write_instance(
        tmp_path / "expand", base_toml(),
        regions=[["A", "A", 0, 0, 8000]],
        spokes=[["S1", "", 0, 0, "existing", "small"], ["S2", "", 0, 0.1, "candidate", ""]],
        spoke_sizes=[["S1", "small", 5000, 10e6, 0], ["S1", "large", 10000, 16e6, 0], ["S2", "small", 5000, 10e6, 0]],
    )
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(600_000, rel=1e-9)
    assert _open(sol) == {"S1": "large"}
    row = sol.sites.set_index("site_id").loc["S1"]
    assert row["capex_charged"] == pytest.approx(6e6)
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(600_000)


def test_profit_mode(tmp_path):
    """Region 1,000 t nmc (yield 0.5 -> 500 t BM), spoke existing (sunk), cost 50/t packs.
    Merchant 100/t BM; hub (1,000 t, capex 1 M -> 100,000/yr) earns 400/t BM.
      hub:      -500*400 + 100,000 + 50,000 = -50,000  <- optimum (profit 50,000/yr)
      merchant: -500*100 + 50,000          =       0
      collect nothing (rate 0, no penalty)  =       0"""
    toml = base_toml(
        chemistries={"nmc": {"black_mass_yield": 0.5, "merchant_price_per_t": 100.0, "hub_revenue_per_t": 400.0}},
        processing={"spoke_cost_per_t": 50.0},
        collection={"min_collection_rate": 0.0},
    )
    folder = write_instance(
        tmp_path / "profit", toml,
        regions=[["R", "R", 0, 0, 1000]],
        spokes=[["S", "", 0, 0, "existing", "std"]],
        spoke_sizes=[["S", "std", 5000, 3e6, 0]],
        hubs=[["H", "", 0, 1, "candidate", "", "true"]],
        hub_sizes=[["H", "one", 1000, 1e6, 0]],
    )
    inst = load_instance(folder)
    assert inst.profit_mode
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(-50_000, rel=1e-9)
    assert sol.cost("hub_revenue") == pytest.approx(-200_000)
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(-50_000)


def test_lane_road_km_overrides_distance_and_radius(tmp_path):
    """A lane's road km replaces great-circle x circuity, also for the service radius test:
    A->S1 is 111 km as the crow flies but 900 km by road (beyond the 500 km radius), so A must
    use S2 (222 km) even though S1 is nearer."""
    toml = base_toml(transport={"pack_cost_per_t_km": 1.0, "service_radius_km": 500.0})
    folder = write_instance(
        tmp_path / "lane", toml,
        regions=[["A", "A", 0, 0, 100]],
        spokes=[["S1", "", 1, 0, "candidate", ""], ["S2", "", 2, 0, "candidate", ""]],
        spoke_sizes=[["S1", "one", 1000, 0, 0], ["S2", "one", 1000, 0, 0]],
        lanes=[["A", "S1", 900, None]],
    )
    sol = solve(load_instance(folder), **EXACT)
    flow = sol.flows.iloc[0]
    assert flow["destination"] == "S2"
    from .bruteforce import haversine

    assert flow["km"] == pytest.approx(haversine(0, 0, 2, 0))
    assert sol.objective == pytest.approx(100 * haversine(0, 0, 2, 0), rel=1e-9)


# --- the tier rules of issue 16, each worked by hand ---------------------------------------------

def _with_columns(path, **columns) -> None:
    """Add columns (one value per data row) to a CSV written by ``write_instance``."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for name, values in columns.items():
        df[name] = ["" if v is None else v for v in values]
    df.to_csv(path, index=False)


def _two_spokes(tmp_path, capex: float, limits: dict | None = None):
    """Region A (6,000 t) sits on spoke S1, region B (3,000 t) on S2; the cross lanes cost 200/t.
    Each spoke has one size of 10,000 t; CRF 1/10, so each costs capex/10 a year."""
    toml = base_toml(**({"limits": limits} if limits else {}))
    return write_instance(
        tmp_path / "two-spokes", toml,
        regions=[["A", "A", 0, 0, 6000], ["B", "B", 0, 1, 3000]],
        spokes=[["S1", "", 0, 0, "candidate", ""], ["S2", "", 0, 1, "candidate", ""]],
        spoke_sizes=[["S1", "std", 10000, capex, 0], ["S2", "std", 10000, capex, 0]],
        lanes=[["A", "S1", None, 0], ["A", "S2", None, 200], ["B", "S1", None, 200], ["B", "S2", None, 0]],
    )


def test_minimum_throughput_closes_a_site(tmp_path):
    """Capex 5 M -> 0.5 M/yr a spoke.  Without a minimum both open: 1.0 M (no haul).
    With S2 needing 4,000 t/yr when open it would have to draw 1,000 t of A's supply across:
      S1 + S2:  1.0 M + 1,000 * 200 = 1,200,000
      S1 alone: 0.5 M + 3,000 * 200 = 1,100,000   <- optimum: the minimum closes S2
      S2 alone: 0.5 M + 6,000 * 200 = 1,700,000"""
    folder = _two_spokes(tmp_path, capex=5e6)
    free = solve(load_instance(folder), **EXACT)
    assert free.objective == pytest.approx(1_000_000, rel=1e-9)
    assert _open(free) == {"S1": "std", "S2": "std"}
    _with_columns(folder / "spoke_sizes.csv", min_throughput_t=["", 4000])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(1_100_000, rel=1e-9)
    assert _open(sol) == {"S1": "std"}
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(1_100_000, rel=1e-9)


def test_minimum_count_opens_a_site(tmp_path):
    """Capex 10 M -> 1.0 M/yr a spoke.  S1 alone: 1.0 M + 3,000 * 200 = 1,600,000 beats both
    (2,000,000).  With at least two spokes open, both open: 2,000,000, no haul."""
    folder = _two_spokes(tmp_path, capex=10e6)
    assert _open(solve(load_instance(folder), **EXACT)) == {"S1": "std"}
    inst = load_instance(_two_spokes(tmp_path, capex=10e6, limits={"min_spokes": 2}))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(2_000_000, rel=1e-9)
    assert _open(sol) == {"S1": "std", "S2": "std"}
    assert sol.cost("transport_pack") == pytest.approx(0.0, abs=1e-6)
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(2_000_000, rel=1e-9)


def test_second_leg_radius_forbids_the_cheapest_hub(tmp_path):
    """One region on an existing spoke at (0, 0): 1,000 t of packs -> 400 t of black mass at
    1/(t km), circuity 1, no merchant outlet.  H-FAR (3 degrees east, 333.6 km) costs 0.1 M/yr,
    H-NEAR (1 degree east, 111.2 km) 0.3 M/yr:
      H-FAR:  100,000 + 400 * d(3 deg) = 233,435   <- optimum without a radius
      H-NEAR: 300,000 + 400 * d(1 deg) = 344,478
    A 200 km spoke->hub radius forbids H-FAR."""
    from .bruteforce import haversine

    def folder(radius):
        transport = {"black_mass_cost_per_t_km": 1.0}
        if radius is not None:
            transport["spoke_hub_radius_km"] = radius
        toml = base_toml(chemistries={"nmc": {"black_mass_yield": 0.4}}, transport=transport)
        return write_instance(
            tmp_path / f"radius-{radius}", toml,
            regions=[["R", "R", 0, 0, 1000]],
            spokes=[["S", "", 0, 0, "existing", "std"]],
            spoke_sizes=[["S", "std", 5000, 7e6, 0]],
            hubs=[["H-FAR", "", 0, 3, "candidate", "", "true"], ["H-NEAR", "", 0, 1, "candidate", "", "true"]],
            hub_sizes=[["H-FAR", "std", 5000, 1e6, 0], ["H-NEAR", "std", 5000, 3e6, 0]],
        )

    far, near = haversine(0, 0, 0, 3), haversine(0, 0, 0, 1)
    assert far > 200 > near
    free = solve(load_instance(folder(None)), **EXACT)
    assert free.objective == pytest.approx(100_000 + 400 * far, rel=1e-9)
    assert _open(free) == {"S": "std", "H-FAR": "std"}
    inst = load_instance(folder(200.0))
    sol = solve(inst, **EXACT)
    assert sol.objective == pytest.approx(300_000 + 400 * near, rel=1e-9)
    assert _open(sol) == {"S": "std", "H-NEAR": "std"}
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(300_000 + 400 * near, rel=1e-9)


@pytest.mark.parametrize(("closure_cost", "closes"), [(None, False), (3.0e6, False), (2.0e6, True), (0.0, True)])
def test_existing_site_closes_below_its_break_even(tmp_path, closure_cost, closes):
    """Region A (1,000 t) sits on candidate spoke C (capex 1.5 M -> 150,000/yr); existing spoke E
    costs 300,000/yr to run (fixed opex) and 100/t to reach.
      keep E, ship there:  300,000 + 1,000 * 100          = 400,000
      keep E, open C too:  300,000 + 150,000              = 450,000
      close E, open C:     150,000 + closure cost / 10 (CRF 1/10)
    Break-even closure cost: 2.5 M.  Blank = E may not close."""
    folder = write_instance(
        tmp_path / "close", base_toml(),
        regions=[["A", "A", 0, 0, 1000]],
        spokes=[["E", "", 0, 1, "existing", "std"], ["C", "", 0, 0, "candidate", ""]],
        spoke_sizes=[["E", "std", 5000, 8e6, 300_000], ["C", "std", 5000, 1.5e6, 0]],
        lanes=[["A", "E", None, 100], ["A", "C", None, 0]],
    )
    _with_columns(folder / "spokes.csv", closure_cost=[closure_cost, None])
    inst = load_instance(folder)
    sol = solve(inst, **EXACT)
    expected = 150_000 + (closure_cost or 0) / 10 if closes else 400_000
    assert sol.objective == pytest.approx(expected, rel=1e-9)
    assert _open(sol) == ({"C": "std"} if closes else {"E": "std"})
    assert check_solution(inst, sol) == []
    assert brute_force(inst)[0].objective == pytest.approx(expected, rel=1e-9)
