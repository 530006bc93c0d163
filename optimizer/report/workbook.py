"""Excel workbook of a solution: what a consultant hands to a client next to the map.

Sheets: ``summary`` (status, objective, gap, key per-tonne figures), ``sites``, ``flows``,
``costs``, ``regions`` (supply, collection and where each region ships), and ``parameters``
(the instance parameters used).  Headers carry units (``flow [t/yr]``, ``capex [USD]``) and
number formats are set; :func:`read_workbook` reads the tables back to the solution's column
names, so a workbook round-trips to the same DataFrames.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ..instance import Instance
from ..solution import Solution
from .files import publish
from .tables import COMPONENT_LABELS, key_figures

#: solution column -> (header with unit, number format); {cur} is the currency
UNITS = {
    "capacity_t": ("capacity [t/yr]", "#,##0"),
    "inbound_t": ("inbound [t/yr]", "#,##0.0"),
    "utilisation": ("utilisation [%]", "0.0%"),
    "capex_charged": ("capex charged [{cur}]", "#,##0"),
    "capex_annualised": ("capex annualised [{cur}/yr]", "#,##0"),
    "fixed_opex_per_yr": ("fixed opex [{cur}/yr]", "#,##0"),
    "lat": ("lat [deg]", "0.0000"),
    "lon": ("lon [deg]", "0.0000"),
    "flow_t": ("flow [t/yr]", "#,##0.0"),
    "km": ("distance [km]", "#,##0.0"),
    "cost_per_t": ("transport rate [{cur}/t]", "#,##0.00"),
    "transport_cost": ("transport cost [{cur}/yr]", "#,##0"),
    "supply_t": ("supply [t packs/yr]", "#,##0.0"),
    "required_t": ("required [t packs/yr]", "#,##0.0"),
    "collected_t": ("collected [t packs/yr]", "#,##0.0"),
    "uncollected_t": ("uncollected [t packs/yr]", "#,##0.0"),
    "value": ("value [{cur}/yr]", "#,##0"),
}
TABLES = ("sites", "flows", "costs", "regions")


def _header(col: str, currency: str) -> str:
    return UNITS[col][0].format(cur=currency) if col in UNITS else col


def regions_with_assignment(sol: Solution) -> pd.DataFrame:
    """The regions table plus where each region ships (spokes by tonnes, largest first)."""
    reg = sol.regions.copy()
    rs = sol.flows[sol.flows["echelon"] == "region_spoke"]
    ships = (rs.sort_values("flow_t", ascending=False)
             .groupby(["origin", "chemistry", "period"])["destination"].agg(lambda s: ", ".join(s)))
    key = pd.MultiIndex.from_frame(reg[["region_id", "chemistry", "period"]])
    reg["ships_to"] = ships.reindex(key).fillna("").to_numpy()
    return reg


def write_workbook(sol: Solution, path: str | Path, inst: Instance | None = None) -> Path:
    """Write the workbook atomically (temporary file + rename)."""
    import os
    import tempfile

    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cur = sol.currency
    k = key_figures(sol) if sol.status.has_solution else {}
    summary = [("instance", sol.instance_name), ("status", sol.status_label), ("currency", cur),
               (f"objective (net cost) [{cur}/yr]", sol.objective), ("best bound", sol.best_bound),
               ("MIP gap", sol.gap), ("profit mode", sol.profit_mode)]
    summary += [(name, value) for name, value in k.items()]
    tables = {
        "sites": sol.sites, "flows": sol.flows,
        "costs": sol.costs.assign(label=sol.costs["component"].map(COMPONENT_LABELS)),
        "regions": regions_with_assignment(sol),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            pd.DataFrame(summary, columns=["item", "value"]).to_excel(xw, sheet_name="summary", index=False)
            for name, df in tables.items():
                out = df.rename(columns={c: _header(c, cur) for c in df.columns})
                out.to_excel(xw, sheet_name=name, index=False)
                ws = xw.sheets[name]
                for j, col in enumerate(df.columns, start=1):
                    letter = get_column_letter(j)
                    ws.column_dimensions[letter].width = max(12, min(40, len(_header(col, cur)) + 2))
                    if col in UNITS:
                        fmt = UNITS[col][1]
                        for cell in ws[letter][1:]:
                            cell.number_format = fmt
                ws.freeze_panes = "A2"
            if inst is not None:
                params = [(f.name, getattr(inst.params, f.name)) for f in dataclasses.fields(inst.params)]
                for c in inst.chemistries:
                    params += [(f"{c.name}.{f.name}", getattr(c, f.name)) for f in dataclasses.fields(c) if f.name != "name"]
                pd.DataFrame(params, columns=["parameter", "value"]).astype({"value": object}).to_excel(
                    xw, sheet_name="parameters", index=False)
            xw.sheets["summary"].column_dimensions["A"].width = 36
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_workbook(path: str | Path) -> dict[str, pd.DataFrame]:
    """The solution tables from a workbook, with the solution's own column names."""
    summary = pd.read_excel(path, sheet_name="summary")
    cur = str(summary.loc[summary["item"] == "currency", "value"].iat[0])
    back = {_header(col, cur): col for col in UNITS}
    out = {}
    for name in TABLES:
        df = pd.read_excel(path, sheet_name=name).rename(columns=back)
        for col in df.columns:
            if not pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
                df[col] = df[col].fillna("").astype(object)  # Excel keeps no difference between "" and empty
        out[name] = df
    return out
