"""Published optima reproduced (OR-Library cap, Fernandes et al. two-stage set)."""

from __future__ import annotations

import pytest

from optimizer import check_solution, solve
from optimizer.bench.importers import load_benchmark, published_values
from optimizer.bench.runner import find_data

from .helpers import ROOT

DATA = ROOT / "benchmarks" / "data"
PUBLISHED = published_values(DATA)

MULTI = ["cap41", "cap42", "cap43", "cap44", "cap51", "cap61", "cap62", "cap63", "cap64", "cap71", "cap72", "cap73", "cap74"]
SINGLE = ["cap61", "cap62", "cap63", "cap64", "cap71", "cap72", "cap73", "cap74"]


def test_published_values_parsed():
    assert PUBLISHED[("orlib", "cap41")].value == 1040444.375
    assert PUBLISHED[("orlib", "capa-8000")].value == 19240822.449
    assert PUBLISHED[("orlib", "capc-7250")].value == 11505767.394
    assert PUBLISHED[("orlib-ss", "cap61")].value == 932615.75
    assert PUBLISHED[("orlib-ss", "capc-7250")].value == 11505861.86
    assert PUBLISHED[("tscflp", "PSC1-C1-50")].value == 722178
    assert PUBLISHED[("tscflp", "PSC2-C1-50")].value == 732194  # row "1 2": class 1, instance 2
    assert PUBLISHED[("tscflp", "PSC1-C3-50")].kind == "best-known (proven optimal)"
    assert PUBLISHED[("tscflp", "PSC1-C1-50")].lower_bound == 721209.6


def _raw_numbers(path):
    return [float(x) if x != "capacity" else None for x in path.read_text().split()]


def test_orlib_import_matches_file():
    """Totals recomputed from the raw file by a separate reading."""
    tok = _raw_numbers(DATA / "orlib-cap" / "cap41.txt")
    m, n = int(tok[0]), int(tok[1])
    fixed = tok[3:3 + 2 * m:2]
    demand = [tok[2 + 2 * m + j * (m + 1)] for j in range(n)]
    inst = load_benchmark(DATA, "orlib", "cap41")
    assert len(inst.regions) == n and len(inst.spokes) == m
    assert inst.regions["unit_t"].sum() == pytest.approx(sum(demand))
    assert inst.spoke_sizes["fixed_opex_per_yr"].sum() == pytest.approx(sum(fixed))
    # lane cost of customer 1 at warehouse 1 = cost of all its demand / demand
    c11 = tok[2 + 2 * m + 1]
    lane = inst.lanes[(inst.lanes["origin"] == "c1") & (inst.lanes["destination"] == "w1")]
    assert lane["cost_per_t"].iat[0] == pytest.approx(c11 / demand[0])


def test_tscflp_import_matches_file():
    tok = [float(x) for x in (DATA / "tscflp-fernandes2014" / "PSC1-C1-50.txt").read_text().split()]
    P, D, K = int(tok[0]), int(tok[1]), int(tok[2])
    demand = tok[3:3 + K]
    inst = load_benchmark(DATA, "tscflp", "PSC1-C1-50")
    assert (len(inst.hubs), len(inst.spokes), len(inst.regions)) == (P, D, K) == (50, 100, 200)
    assert inst.regions["unit_t"].sum() == pytest.approx(sum(demand))
    assert len(inst.lanes) == D * K + P * D


@pytest.mark.parametrize("name", MULTI)
def test_orlib_multi_source_optimum(name):
    inst = load_benchmark(DATA, "orlib", name)
    sol = solve(inst, mip_rel_gap=0, threads=1)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(PUBLISHED[("orlib", name)].value, rel=1e-6)
    assert check_solution(inst, sol) == []


@pytest.mark.parametrize("name", SINGLE)
def test_orlib_single_source_optimum(name):
    inst = load_benchmark(DATA, "orlib-ss", name)
    sol = solve(inst, mip_rel_gap=0, threads=1)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(PUBLISHED[("orlib-ss", name)].value, rel=1e-6)
    assert check_solution(inst, sol) == []
    assert sol.flows[sol.flows["echelon"] == "region_spoke"].groupby("origin")["destination"].nunique().max() == 1


@pytest.mark.slow
def test_tscflp_psc1_c1_best_known():
    inst = load_benchmark(DATA, "tscflp", "PSC1-C1-50")
    sol = solve(inst, mip_rel_gap=0, threads=1)
    assert sol.objective == pytest.approx(722178, rel=1e-6)
    assert check_solution(inst, sol) == []


def test_find_data_from_repo_root():
    assert (find_data(DATA) / "orlib-cap" / "capopt.txt").exists()
