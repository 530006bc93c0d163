"""Test helpers: write instance folders from Python data, copy and mutate the demo instance."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "instances" / "demo"


def toml_text(d: dict, prefix: str = "") -> str:
    """Minimal TOML writer for nested dicts of scalars (enough for instance.toml)."""
    lines, tables = [], []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_scalar(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}{k}"
        scalars = {a: b for a, b in v.items() if not isinstance(b, dict)}
        subs = {a: b for a, b in v.items() if isinstance(b, dict)}
        if scalars or not subs:
            out += f"\n[{name}]\n" + "".join(f"{a} = {_toml_scalar(b)}\n" for a, b in scalars.items())
        for a, b in subs.items():
            out += toml_text({a: b}, prefix=f"{name}.")
    return out


def _toml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    return repr(v)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def write_instance(folder: Path, toml: dict, regions, spokes, spoke_sizes, hubs=None, hub_sizes=None, lanes=None,
                   chems=("nmc",)) -> Path:
    """Write an instance folder. Rows are lists in the column order of each file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instance.toml").write_text(toml_text(toml), encoding="utf-8")
    write_csv(folder / "regions.csv", ["id", "name", "lat", "lon"] + [f"{c}_t" for c in chems], regions)
    write_csv(folder / "spokes.csv", ["id", "name", "lat", "lon", "status", "existing_size"], spokes)
    write_csv(folder / "spoke_sizes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"], spoke_sizes)
    if hubs is not None:
        write_csv(folder / "hubs.csv", ["id", "name", "lat", "lon", "status", "existing_size"] + [f"accepts_{c}" for c in chems], hubs)
        write_csv(folder / "hub_sizes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"], hub_sizes or [])
    if lanes is not None:
        write_csv(folder / "lanes.csv", ["origin", "destination", "km", "cost_per_t"], lanes)
    return folder


def base_toml(**over) -> dict:
    """Parameters with every cost set to zero unless overridden (for hand-worked instances)."""
    t = {
        "name": "tiny",
        "currency": "USD",
        "chemistries": {"nmc": {"black_mass_yield": 0.4, "merchant_price_per_t": 0.0}},
        "transport": {"pack_cost_per_t_km": 0.0, "black_mass_cost_per_t_km": 0.0, "circuity": 1.0},
        "finance": {"discount_rate": 0.0, "lifetime_years": 10.0},
        "processing": {"spoke_cost_per_t": 0.0, "hub_cost_per_t": 0.0},
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(t.get(k), dict):
            t[k] = {**t[k], **v}
        else:
            t[k] = v
    return t


def copy_demo(tmp_path: Path, name: str = "demo") -> Path:
    dst = tmp_path / name
    shutil.copytree(DEMO, dst)
    return dst


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def set_cell(path: Path, excel_row: int, column: str, value: str) -> None:
    """Set one cell, addressing it as a spreadsheet does (header = row 1)."""
    header, rows = read_rows(path)
    rows[excel_row - 2][header.index(column)] = value
    write_csv(path, header, rows)


def hard_instance(seed: int = 4):
    """A 40-region, 20-site, 3-size spoke-only instance whose root node does not close.

    With seed 4, HiGHS (heuristics off, warm start off) stops after node 1 with an incumbent and
    a positive gap: a machine-independent way to reach "feasible (limit)".
    """
    import numpy as np
    import pandas as pd

    from optimizer.instance import Chemistry, Parameters
    from optimizer.load import make_instance

    rng = np.random.default_rng(seed)
    R, S = 40, 20
    regions = pd.DataFrame({"id": [f"r{i}" for i in range(R)], "lat": rng.uniform(44, 50, R), "lon": rng.uniform(0, 8, R),
                            "nmc_t": rng.integers(200, 2000, R).astype(float)})
    spokes = pd.DataFrame({"id": [f"s{i}" for i in range(S)], "lat": rng.uniform(44, 50, S), "lon": rng.uniform(0, 8, S),
                           "status": "candidate", "existing_size": ""})
    rows = []
    for s in spokes["id"]:
        for name, cap, capex in (("small", 3000, 4e6), ("mid", 6000, 6.5e6), ("big", 12000, 10e6)):
            rows.append((s, name, cap, capex * rng.uniform(0.8, 1.2), 2e5))
    sizes = pd.DataFrame(rows, columns=["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"])
    p = Parameters(pack_cost_per_t_km=0.5, black_mass_cost_per_t_km=0.1, circuity=1.2, discount_rate=0.08, lifetime_years=15)
    return make_instance(f"hard{seed}", (Chemistry("nmc", 0.4, merchant_price_per_t=0.0),), p, regions, spokes, sizes)


def start_solution(inst, net, start):
    """A MIP start (:class:`optimizer.heuristic.WarmStart`) as a Solution, for the checker."""
    from optimizer.extract import extract_tables
    from optimizer.solution import Solution, SolveStatus

    discount = (inst.periods.start_discount(inst.params.discount_rate) if inst.periods is not None
                else {p: 1.0 for p in net.periods})
    return Solution(
        instance_name=inst.name, currency=inst.currency, status=SolveStatus.FEASIBLE, objective=start.objective,
        best_bound=None, gap=None, termination="MIP start", profit_mode=inst.profit_mode, timings={},
        provenance={}, diagnosis=None, periods=tuple(net.periods), period_weights=dict(net.period_weight),
        period_discount=discount, **extract_tables(inst, net, start.values))
