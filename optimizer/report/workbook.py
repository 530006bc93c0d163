"""Excel workbook of a solution: what a consultant hands to a client next to the map.

Sheets: ``summary`` (status, objective, gap, key per-tonne figures, each with its unit),
``sites``, ``flows``, ``costs``, ``regions`` (supply, collection and where each region ships),
``channels`` (instances with channels: the offer chosen, tonnes captured, acquisition cost and
marginal value per region, channel and chemistry),
and ``parameters`` (the instance parameters used, with units).  Every table sheet has a header
row with units (``flow [t/yr]``, ``capex [USD]``); ``summary`` and ``parameters`` have a unit
column instead.  Every number on every sheet has a number format (per cent for fractions,
thousands separators for money and tonnes, :func:`number_format` for the rest), every sheet a
frozen header and column widths;
:func:`read_workbook` reads the tables back to the solution's column names, so a workbook
round-trips to the same DataFrames.

Every text a user supplied (ids, names, scenario names, notes) is written as a text cell, never
as a formula: a site named ``=HYPERLINK(...)`` shows as that text when the client opens the file.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..channels import IMPLICIT_CHANNEL
from ..files import temporary_sibling
from ..instance import Instance
from ..solution import Solution
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
    "damaged_t": ("of which damaged [t packs/yr]", "#,##0.0"),
    "km": ("distance [km]", "#,##0.0"),
    "cost_per_t": ("transport rate [{cur}/t]", "#,##0.00"),
    "transport_cost": ("transport cost [{cur}/yr]", "#,##0"),
    "supply_t": ("supply [t packs/yr]", "#,##0.0"),
    "required_t": ("required [t packs/yr]", "#,##0.0"),
    "collected_t": ("collected [t packs/yr]", "#,##0.0"),
    "uncollected_t": ("uncollected [t packs/yr]", "#,##0.0"),
    "captured_t": ("captured [t packs/yr]", "#,##0.0"),
    "value": ("value [{cur}/yr]", "#,##0"),
    "available_t": ("available [t packs/yr]", "#,##0.0"),
    "price_per_t": ("offer price [{cur}/t packs]", "#,##0"),
    "capture_share": ("capture share [-]", "0.0%"),
    "acquisition_cost": ("acquisition cost [{cur}/yr]", "#,##0"),
    "marginal_value_per_t": ("marginal value [{cur}/t packs]", "#,##0.00"),
}
#: the solution tables as sheets; ``channels`` only when the solution has channels of its own
TABLES = ("sites", "flows", "costs", "regions", "channels")
#: the number format of a number with no unit of its own above (a count, a factor)
PLAIN_NUMBER = "#,##0.00##"
INTEGER = "#,##0"


def number_format(value, unit: str = "") -> str | None:
    """The number format for ``value`` in a cell whose unit is ``unit`` (None for text):
    fractions as per cent, money and tonnes with thousands separators."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    if unit in ("fraction", "1/yr"):  # shares, rates, yields per year: 0.08 shows as 8.00%
        return "0.00%"
    if isinstance(value, (int, np.integer)) or (float(value).is_integer() and abs(value) >= 1000):
        return INTEGER
    return PLAIN_NUMBER


def _header(col: str, currency: str) -> str:
    return UNITS[col][0].format(cur=currency) if col in UNITS else col


def regions_with_assignment(sol: Solution) -> pd.DataFrame:
    """The regions table plus where each region ships (spokes by tonnes, largest first)."""
    reg = sol.regions.copy()
    rs = sol.flows[sol.flows["echelon"] == "region_spoke"]
    ships = (rs.sort_values("flow_t", ascending=False)
             .groupby(["origin", "chemistry", "period"])["destination"].agg(lambda s: ", ".join(s)))
    key = pd.MultiIndex.from_frame(reg[["region_id", "chemistry", "period"]])
    reg["ships_to"] = ships.reindex(key, fill_value="").to_numpy()
    return reg


def put(ws, row: int, col: int, value, number_format: str | None = None):
    """Write one cell; text is always a text cell (``data_type`` "s"), never a formula."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
    elif isinstance(value, (bool, np.bool_)):
        cell.value = bool(value)
    elif isinstance(value, (int, np.integer)):
        cell.value = int(value)
    elif isinstance(value, (float, np.floating)):
        cell.value = float(value)
    else:
        cell.value = str(value)
        cell.data_type = "s"  # openpyxl would make "=..." a formula
    if number_format and not isinstance(cell.value, (str, bool)) and cell.value is not None:
        cell.number_format = number_format
    return cell


def write_sheet(wb, name: str, header: list[str], rows, formats: list[str | None] | None = None,
                widths: list[int] | None = None) -> None:
    """A sheet with a bold frozen header, typed cells, number formats and column widths."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    for j, h in enumerate(header, start=1):
        put(ws, 1, j, h).font = Font(bold=True)
    for i, row in enumerate(rows, start=2):
        for j, v in enumerate(row, start=1):
            put(ws, i, j, v, formats[j - 1] if formats else None)
    for j, h in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths[j - 1] if widths else max(12, min(40, len(h) + 2))
    ws.freeze_panes = "A2"


def _summary_rows(sol: Solution, cur: str) -> list[tuple]:
    per = "" if not sol.multi_period else " (NPV over the horizon)"
    money = f"{cur}/yr" if not sol.multi_period else cur
    rows = [("instance", sol.instance_name, "", None), ("status", sol.status_label, "", None), ("currency", cur, "", None),
            (f"objective: net cost{per}", sol.objective, money, "#,##0"), ("best bound", sol.best_bound, money, "#,##0"),
            ("MIP gap", sol.gap, "fraction", "0.000%"), ("profit mode", sol.profit_mode, "", None)]
    units = {"collected_t": ("t packs/yr", "#,##0"), "collection_rate": ("fraction", "0.0%"),
             "black_mass_t": ("t black mass/yr", "#,##0"), "cost_per_t": (f"{cur}/t packs", "#,##0"),
             "gross_cost_per_t": (f"{cur}/t packs", "#,##0"), "transport_share": ("fraction", "0.0%"),
             "haul_pack_km": ("km", "#,##0"), "haul_black_mass_km": ("km", "#,##0"),
             "spoke_utilisation": ("fraction", "0.0%"), "hub_utilisation": ("fraction", "0.0%")}
    if sol.status.has_solution:
        for name, value in key_figures(sol).items():
            unit, fmt = units.get(name, ("", None))
            rows.append((name, value, unit, fmt))
    for note in sol.provenance.get("notes", []) if isinstance(sol.provenance, dict) else []:
        rows.append(("note", note, "", None))
    return rows


def _parameter_rows(inst: Instance) -> list[tuple]:
    from .. import schema

    units = {f.name: f.unit for fields in schema.TOML_SECTIONS.values() for f in fields}
    chem_units = {f.name: f.unit for f in schema.TOML_CHEMISTRY}
    rows = [(f.name, getattr(inst.params, f.name), units.get(f.name, "").replace("currency", inst.currency))
            for f in dataclasses.fields(inst.params)]
    for c in inst.chemistries:
        rows += [(f"{c.name}.{f.name}", getattr(c, f.name), chem_units.get(f.name, "").replace("currency", inst.currency))
                 for f in dataclasses.fields(c) if f.name != "name"]
    return rows


def write_workbook(sol: Solution, path: str | Path, inst: Instance | None = None) -> Path:
    """Write the workbook atomically (temporary file + rename)."""
    from openpyxl import Workbook

    path = Path(path)
    cur = sol.currency
    tables = {
        "sites": sol.sites, "flows": sol.flows,
        "costs": sol.costs.assign(label=sol.costs["component"].map(COMPONENT_LABELS)),
        "regions": regions_with_assignment(sol),
    }
    if len(sol.channels) and not (sol.channels["channel"] == IMPLICIT_CHANNEL).all():
        tables["channels"] = sol.channels
    wb = Workbook()
    wb.remove(wb.active)
    summary = _summary_rows(sol, cur)
    write_sheet(wb, "summary", ["item", "value", "unit"], [r[:3] for r in summary], widths=[36, 24, 18])
    ws = wb["summary"]
    for i, r in enumerate(summary, start=2):
        cell = ws.cell(row=i, column=2)
        fmt = r[3] or number_format(cell.value, r[2])
        if fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
            cell.number_format = fmt
    for name, df in tables.items():
        cols = list(df.columns)
        write_sheet(wb, name, [_header(c, cur) for c in cols], df.itertuples(index=False, name=None),
                    formats=[UNITS[c][1] if c in UNITS else PLAIN_NUMBER if pd.api.types.is_float_dtype(df[c])
                             else INTEGER if pd.api.types.is_integer_dtype(df[c]) else None for c in cols])
    if inst is not None:
        rows = _parameter_rows(inst)
        write_sheet(wb, "parameters", ["parameter", "value", "unit"], rows, widths=[40, 16, 24])
        ws = wb["parameters"]
        for i, (_name, value, unit) in enumerate(rows, start=2):
            if (fmt := number_format(value, unit)) is not None:
                ws.cell(row=i, column=2).number_format = fmt
    with temporary_sibling(path, ".xlsx") as tmp:
        wb.save(tmp)
    return path


def read_workbook(path: str | Path) -> dict[str, pd.DataFrame]:
    """The solution tables from a workbook, with the solution's own column names."""
    summary = pd.read_excel(path, sheet_name="summary")
    cur = str(summary.loc[summary["item"] == "currency", "value"].iat[0])
    back = {_header(col, cur): col for col in UNITS}
    out = {}
    present = set(pd.ExcelFile(path).sheet_names)
    for name in TABLES:
        if name not in present:
            continue
        df = pd.read_excel(path, sheet_name=name).rename(columns=back)
        for col in df.columns:
            if not pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
                df[col] = df[col].fillna("").astype(object)  # Excel keeps no difference between "" and empty
        out[name] = df
    return out
