"""The instance workbook template, generated from :mod:`optimizer.schema`.

:func:`write_template` writes the layout :mod:`optimizer.workbook_instance` reads: a ``README``
sheet describing every sheet, column and key (types, units, allowed ranges, descriptions, all
from the schema), a ``parameters`` sheet (key, value, unit, description: every ``instance.toml``
key the schema declares, blank where not given), and one sheet per file the schema declares,
with the column names and units in a frozen, bold header row (the description of each column
in the header cell's comment), lists to pick from for choices (``status``) and booleans, and the
instance's rows when one is given.  A file declared later gets its sheet without new code.

Values are written so that reading the workbook gives back the same instance, exactly: numbers
as numbers, except the rare float that needs all 17 significant digits (openpyxl writes 16, and
Excel itself keeps 15), which is written as text holding every digit (read back as the same
number); text as text cells, never as formulas.  Region outlines go beside the workbook
(``demo.geojson`` for ``demo.xlsx``), the file the reader looks for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import schema
from .csvread import FORMULA_START
from .files import check_target, temporary_sibling, write_text_atomic
from .instance import Instance
from .load import instance_toml_data
from .workbook_instance import (
    PARAMETER_COLUMNS,
    PARAMETERS,
    README,
    header_text,
    parameter_spec,
    sheet_name,
)

#: the chemistries of an empty template (rename them in the parameters sheet and the headers)
DEFAULT_CHEMISTRIES = ("nmc", "lfp")
_LAST_ROW = 1_048_576  # Excel's last row: validations cover every row a user can fill


def dotted(parts: list[str]) -> str:
    """Key parts as one TOML dotted key (parts that are not bare keys quoted:
    ``sources."regions.csv"``), the form the reader parses back with ``tomllib``."""
    import re

    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p, ensure_ascii=False) for p in parts)


def _number_cell(value: float):
    """A float as a number cell, or as text with every digit where a number cell would lose some."""
    value = float(value)
    return value if float(f"{value:.16g}") == value else repr(value)


def _list_text(values) -> str:
    return ", ".join(str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v)) for v in values)


def put(ws, row: int, col: int, value):
    """Write one cell: numbers and booleans typed, text always a text cell (never a formula;
    one beginning with ``=`` ``+`` ``-`` ``@`` also carries Excel's quote prefix)."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        cell.value = None
    elif isinstance(value, (bool, np.bool_)):
        cell.value = bool(value)
    elif isinstance(value, (int, np.integer)):
        cell.value = int(value)
    elif isinstance(value, (float, np.floating)):
        cell.value = _number_cell(value)
        if isinstance(cell.value, str):
            cell.data_type = "s"
    else:
        cell.value = str(value)
        cell.data_type = "s"  # openpyxl would make "=..." a formula
        if cell.value.startswith(FORMULA_START):
            cell.quotePrefix = True  # and Excel would, once the cell is edited
    return cell


def _param_specs(chemistries: tuple[str, ...], data: dict) -> list[tuple[list[str], schema.FieldSpec]]:
    """Every declared parameter key in the schema's order (``periods.growth`` per chemistry when
    the instance gives one per chemistry)."""
    out = [([f.name], f) for f in schema.TOML_TOP]
    out += [(["chemistries", c, f.name], f) for c in chemistries for f in schema.TOML_CHEMISTRY]
    out += [([section, f.name], f) for section, fields in schema.TOML_SECTIONS.items() for f in fields]
    growth = data.get("periods", {}).get("growth")
    for f in schema.TOML_PERIODS:
        if f.name == "growth" and isinstance(growth, dict):
            out += [(["periods", "growth", k], parameter_spec(["periods", "growth", k])) for k in growth]
        else:
            out.append((["periods", f.name], f))
    return out


def _leaves(data: dict, prefix: list[str]):
    for k, v in data.items():
        if isinstance(v, dict) and v:
            yield from _leaves(v, prefix + [k])
        else:
            yield prefix + [k], v


def parameter_rows(inst: Instance | None, chemistries: tuple[str, ...]) -> list[tuple]:
    """The parameters sheet's rows (key, value, unit, description): every declared key, with
    the instance's value where it has one, then any other keys it carries (``[sources]``)."""
    data = instance_toml_data(inst) if inst is not None else {}
    currency = inst.currency if inst is not None else ""
    values = dict((tuple(p), v) for p, v in _leaves(data, []))
    rows, done = [], set()
    for parts, spec in _param_specs(chemistries, data):
        value = values.get(tuple(parts))
        if isinstance(value, (list, tuple)):
            value = _list_text(value)
        unit = spec.unit.replace("currency", currency) if currency else spec.unit
        rows.append((dotted(parts), value, unit, spec.description + (" (required)" if spec.required else "")))
        done.add(tuple(parts))
    for parts, value in _leaves(data, []):
        if tuple(parts) not in done and not (isinstance(value, dict) and not value):
            rows.append((dotted(parts), _list_text(value) if isinstance(value, (list, tuple)) else value, "", ""))
    return rows


def _table_rows(inst: Instance | None, spec: schema.TableSpec, chemistries: tuple[str, ...]):
    df = getattr(inst, spec.attr, None) if inst is not None else None
    if df is None or df.empty:
        return []
    cols = [f.name for f in spec.columns_for(chemistries)]
    kinds = {f.name: f.kind for f in spec.columns_for(chemistries)}
    out = []
    for row in df[cols].itertuples(index=False, name=None):
        out.append([None if (kinds[c] == "int" and (v is None or v != v)) else int(v) if kinds[c] == "int" else v
                    for c, v in zip(cols, row, strict=True)])
    return out


def _add_table_sheet(wb, spec: schema.TableSpec, inst: Instance | None, chemistries: tuple[str, ...], currency: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = wb.create_sheet(sheet_name(spec))
    fields = spec.columns_for(chemistries)
    for j, f in enumerate(fields, start=1):
        cell = put(ws, 1, j, header_text(f, currency))
        cell.font = Font(bold=True)
        cell.comment = Comment(f"{f.description}.\nExpected: {f.expected()}" + ("" if f.required else " (optional)"), "spokehub")
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(12, min(40, len(str(cell.value)) + 2))
        choices = f.choices if f.kind == "choice" else ("TRUE", "FALSE") if f.kind == "bool" else ()
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not f.required,
                                showErrorMessage=True, errorTitle=f.name, error=f"{f.name}: {f.expected()}")
            dv.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.add_data_validation(dv)
    for i, values in enumerate(_table_rows(inst, spec, chemistries), start=2):
        for j, v in enumerate(values, start=1):
            put(ws, i, j, v)
    ws.freeze_panes = "A2"


def _add_parameters_sheet(wb, inst: Instance | None, chemistries: tuple[str, ...]) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet(PARAMETERS)
    for j, h in enumerate(PARAMETER_COLUMNS, start=1):
        put(ws, 1, j, h).font = Font(bold=True)
    for i, row in enumerate(parameter_rows(inst, chemistries), start=2):
        for j, v in enumerate(row, start=1):
            put(ws, i, j, v)
    for letter, width in zip("ABCD", (40, 24, 22, 90), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


README_TEXT = (
    "spokehub instance workbook: one sheet per table of an instance folder (regions.csv -> sheet regions) and a "
    "parameters sheet holding instance.toml, one key per row as a dotted path (transport.circuity); lists as "
    "comma-separated values; a blank value means the key is not given.",
    "Row 1 of a table sheet holds the column names, with the unit in brackets. Units are not converted: give each "
    "value in the unit shown. Messages name the sheet, the row as Excel numbers it and the column.",
    "Formulas are read as the value the spreadsheet last saved, never calculated; a formula without a saved value, "
    "one taking its value from another workbook, dates, Excel errors (#DIV/0!) and merged cells are refused at their "
    "cell. Blank rows are skipped. Columns named note* or comment* are ignored; other sheets (this one) too.",
    "Optional tables may stay empty (header only). Region outlines have no sheet: put them in a GeoJSON file named "
    "like this workbook (demo.geojson beside demo.xlsx).",
)


def _add_readme_sheet(wb, chemistries: tuple[str, ...]) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(README)
    row = 1
    for text in README_TEXT:
        put(ws, row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        ws.row_dimensions[row].height = 45
        row += 1
    row += 1
    head = ("sheet", "column or key", "type", "unit", "required", "allowed", "description")
    for j, h in enumerate(head, start=1):
        put(ws, row, j, h).font = Font(bold=True)
    entries = [(PARAMETERS, dotted(parts), spec) for parts, spec in _param_specs(chemistries, {})]
    for spec in schema.ALL_TABLES:
        req = "" if spec.required_file else " (optional sheet)"
        entries.append((sheet_name(spec), None, f"{spec.description}{req}"))
        entries += [(sheet_name(spec), f.name, f) for f in spec.columns_for(chemistries)]
    for sheet, name, spec in entries:
        row += 1
        if name is None:
            put(ws, row, 1, sheet).font = Font(bold=True)
            put(ws, row, 7, spec)
            continue
        for j, v in enumerate((sheet, name, spec.kind, spec.unit, "yes" if spec.required else "no", spec.expected(),
                               spec.description), start=1):
            put(ws, row, j, v)
    for letter, width in zip("ABCDEFG", (14, 36, 10, 22, 9, 48, 90), strict=True):
        ws.column_dimensions[letter].width = width


def template_workbook(inst: Instance | None = None, chemistries: tuple[str, ...] | None = None):
    """The template as an openpyxl workbook: empty (for ``chemistries``, default nmc and lfp),
    or filled with ``inst``."""
    from openpyxl import Workbook

    chems = tuple(inst.chem_names) if inst is not None else tuple(chemistries or DEFAULT_CHEMISTRIES)
    currency = inst.currency if inst is not None else ""
    wb = Workbook()
    wb.remove(wb.active)
    _add_readme_sheet(wb, chems)
    _add_parameters_sheet(wb, inst, chems)
    for spec in schema.ALL_TABLES:
        _add_table_sheet(wb, spec, inst, chems, currency)
    return wb


def write_template(path: str | Path, inst: Instance | None = None, chemistries: tuple[str, ...] | None = None,
                   force: bool = False) -> Path:
    """Write the template workbook to ``path`` (atomic; an existing file is replaced only with
    ``force``); with an instance holding region outlines, also ``<stem>.geojson`` beside it."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        from .errors import UsageError

        raise UsageError(f"{path}: an instance workbook is an .xlsx file")
    outlines = path.with_suffix(".geojson") if inst is not None and inst.boundaries else None
    check_target(path, force)
    if outlines is not None:
        check_target(outlines, force)
    wb = template_workbook(inst, chemistries)
    if outlines is not None:
        write_text_atomic(outlines, json.dumps(inst.boundaries), force=force)
    with temporary_sibling(path, ".xlsx") as tmp:
        wb.save(tmp)
    return path
