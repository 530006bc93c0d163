"""Console summary and the solution output folder.

``write_solution(...)`` writes, atomically, ``solution.json`` (everything, round-trips through
:meth:`Solution.from_json`), ``sites.csv``, ``flows.csv``, ``regions.csv``, ``costs.csv``,
``summary.txt`` and ``map.html``.  CSVs are sorted and use ``.`` decimals with unit-suffixed
headers; the currency is named in ``solution.json`` and the summary.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..instance import Instance
from ..solution import Solution, SolveStatus
from .files import atomic_folder

COMPONENT_LABELS = {
    "capex_annualised": "capex (annualised)",
    "fixed_opex": "fixed opex",
    "spoke_processing": "spoke processing",
    "hub_processing": "hub processing",
    "transport_pack": "transport, packs",
    "transport_black_mass": "transport, black mass",
    "uncollected_penalty": "uncollected penalty",
    "merchant_revenue": "merchant sales (revenue)",
    "hub_revenue": "hub revenue",
}


def _money(x: float) -> str:
    return f"{x:,.0f}"


def summary_text(sol: Solution, inst: Instance | None = None) -> str:
    """The printed summary: status, objective, gap, timings, open sites, costs, collection."""
    buf = io.StringIO()
    w = buf.write
    cur = sol.currency
    w(f"spokehub: {sol.instance_name}\n")
    w(f"status: {sol.status.value} ({sol.termination})\n")
    if sol.status == SolveStatus.INFEASIBLE:
        if sol.diagnosis is not None:
            w(str(sol.diagnosis) + "\n")
        return buf.getvalue()
    if not sol.status.has_solution:
        w("no feasible network was found within the limits.\n")
        return buf.getvalue()
    label = "net annual profit" if sol.profit_mode else "net annual cost"
    value = -sol.objective if sol.profit_mode else sol.objective
    w(f"{label}: {_money(value)} {cur}/yr\n")
    if sol.gap is not None:
        bound = "" if sol.best_bound is None else f", best bound {_money(sol.best_bound)}"
        w(f"MIP gap: {100 * sol.gap:.4f} %{bound}"
          + (" (stopped at a limit: not proven optimal)" if sol.status == SolveStatus.FEASIBLE else "") + "\n")
    t = sol.timings
    w("time: " + ", ".join(f"{k} {t[k]:.2f} s" for k in ("read", "build", "handoff", "solve", "extract") if k in t) + "\n")

    for kind, unit in (("spoke", "t packs/yr"), ("hub", "t black mass/yr")):
        all_sites = sol.sites[sol.sites["kind"] == kind]
        open_sites = all_sites[all_sites["open"].astype(bool)]
        n_sites = all_sites["site_id"].nunique()
        w(f"\nopen {kind}s: {open_sites['site_id'].nunique()} of {n_sites} ({unit})\n")
        if len(open_sites):
            cols = ["site_id", "name", "status", "size", "capacity_t", "inbound_t", "utilisation"]
            if sol.multi_period:
                cols.insert(2, "period")
            df = open_sites[cols].copy()
            df["capacity_t"] = df["capacity_t"].map(lambda v: f"{v:,.0f}")
            df["inbound_t"] = df["inbound_t"].map(lambda v: f"{v:,.0f}")
            df["utilisation"] = df["utilisation"].map(lambda v: f"{100 * v:.1f} %")
            w(df.to_string(index=False) + "\n")

    w(f"\ncosts ({cur}/yr):\n")
    costs = sol.costs.groupby("component", sort=False)["value"].sum()
    for comp, val in costs.items():
        if abs(val) < 0.5 and comp in ("uncollected_penalty", "merchant_revenue", "hub_revenue"):
            continue
        w(f"  {COMPONENT_LABELS.get(comp, comp):<28} {_money(val):>18}\n")
    w(f"  {'total':<28} {_money(costs.sum()):>18}\n")

    reg = sol.regions
    supply = reg["supply_t"].sum()
    collected = reg["collected_t"].sum()
    if supply > 0:
        w(f"\ncollection: {collected:,.0f} of {supply:,.0f} t packs/yr ({100 * collected / supply:.1f} %)\n")
    fl = sol.flows
    to_hub = fl.loc[fl["echelon"] == "spoke_hub", "flow_t"].sum()
    merchant = fl.loc[fl["echelon"] == "spoke_merchant", "flow_t"].sum()
    w(f"black mass: {to_hub + merchant:,.0f} t/yr, {to_hub:,.0f} to hubs, {merchant:,.0f} sold at spoke gates\n")
    if collected > 0:
        w(f"cost per tonne of packs collected: {costs.sum() / collected:,.0f} {cur}/t\n")
    return buf.getvalue()


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    keys = [k for k in keys if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if len(df) else df


def solution_csvs(sol: Solution) -> dict[str, str]:
    """The CSV files of a solution folder, as text (sorted, deterministic)."""
    return {
        "sites.csv": _sorted(sol.sites, ["period", "kind", "site_id"]).to_csv(index=False, float_format="%.6f"),
        "flows.csv": _sorted(sol.flows, ["period", "echelon", "origin", "destination", "chemistry"]).to_csv(index=False, float_format="%.6f"),
        "regions.csv": _sorted(sol.regions, ["period", "region_id", "chemistry"]).to_csv(index=False, float_format="%.6f"),
        "costs.csv": sol.costs.to_csv(index=False, float_format="%.6f"),
    }


def write_solution(sol: Solution, inst: Instance, out: str | Path, force: bool = False, with_map: bool = True) -> Path:
    """Write the output folder atomically; refuses an existing folder unless ``force``."""
    with atomic_folder(out, force=force) as tmp:
        (tmp / "solution.json").write_text(sol.to_json(), encoding="utf-8")
        for name, text in solution_csvs(sol).items():
            (tmp / name).write_text(text, encoding="utf-8")
        (tmp / "summary.txt").write_text(summary_text(sol, inst), encoding="utf-8")
        if with_map and sol.status.has_solution:
            from .maps import network_map

            network_map(inst, sol).save(str(tmp / "map.html"))
    return Path(out)
