"""An instance as one Excel workbook, read through the folder's own parsing and validation.

Layout (the template writer, :mod:`optimizer.workbook_template`, writes exactly this; both are
generated from :mod:`optimizer.schema`, so a file the schema declares later gets its sheet
without new code):

* one sheet per file of :data:`schema.ALL_TABLES`, named after the file without ``.csv``
  (``regions.csv`` -> sheet ``regions``; matched ignoring case and surrounding spaces).  Row 1 is
  the header: the column names, each optionally followed by its unit in square brackets
  (``capacity_t [t packs/yr]``, ``capex [USD]``).  A unit in the header must be the schema's
  (``currency`` may be written as the instance's currency): units are never converted, so a
  ``[kg]`` is refused rather than read as tonnes.  Data from row 2, row numbers as Excel shows
  them, so a message's row is the row the user sees.  An optional table's sheet holding a header
  only is the same as a missing file;
* a ``parameters`` sheet: columns ``key``, ``value``, ``unit``, ``description``; one row per
  ``instance.toml`` key as a TOML dotted path (``transport.pack_cost_per_t_km``,
  ``chemistries.nmc.black_mass_yield``, ``periods.growth.lfp``, ``sources."regions.csv"``);
  lists (``periods.years``, ``periods.capex_budget``) as comma-separated values; a blank value
  means the key is not given.  The unit column, when filled, must be the schema's unit;
* any other sheet (``README``, a consultant's notes) is ignored, unless its name is a near miss
  of a table sheet that is missing (``region`` for ``regions``): that is an error, since a typo
  must not drop a table silently;
* region outlines have no sheet: a GeoJSON file named like the workbook (``demo.geojson``
  beside ``demo.xlsx``) is read as the folder's ``regions.geojson`` is, when present.

Reading, in order:

1. the file size (``SPOKEHUB_MAX_INPUT_MB``) and the zip's central directory
   (:func:`optimizer.limits.zip_too_large`: total uncompressed size and compression ratio) are
   checked before anything is decompressed, so a zip bomb costs nothing;
2. openpyxl reads cell values with ``data_only=True``: a formula is read as the value the
   spreadsheet last calculated and saved, never evaluated.  A second, read-only pass reads the
   formulas themselves, to refuse a formula with no saved value (a blank would otherwise be
   read) and a formula that takes its value from outside the workbook (another workbook, DDE,
   ``WEBSERVICE``); external-link parts are never followed (``keep_links=False``) and their
   presence is a warning;
3. every cell becomes the text a CSV cell would hold (numbers in full precision, ``TRUE`` ->
   ``true``), gathered into the same :class:`~optimizer.csvread.RawTable` a CSV gives, and the
   parameters sheet becomes the same nested data ``tomllib`` gives for ``instance.toml``; cells
   no CSV can hold (dates, Excel errors such as ``#DIV/0!``, merged ranges, data under an empty
   header) are refused here, each at its cell;
4. :func:`optimizer.load.instance_from_raw` parses and validates them: the same code, the same
   rules and messages as a folder, ids beginning with ``= + - @`` included;
5. every issue is relabelled to its cell (:class:`CellIssue`: workbook, sheet, Excel row,
   column letter and header), and file names in messages become sheet names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import re
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path

from . import schema
from .csvread import _FALSE, _TRUE, RawTable, parse_number
from .errors import InstanceError, Issue
from .limits import too_large, zip_too_large

TOML_FILE = "instance.toml"
GEOJSON_FILE = "regions.geojson"
PARAMETERS = "parameters"
README = "README"
#: columns of the parameters sheet, in order
PARAMETER_COLUMNS = ("key", "value", "unit", "description")
#: a formula taking its value from outside the workbook: another workbook ([1]Sheet!A1), DDE, web
_OUTSIDE = re.compile(r"\[\d+\]|\bWEBSERVICE\s*\(|\bRTD\s*\(|\bFILTERXML\s*\(|[A-Za-z0-9_.]+\|", re.IGNORECASE)
_UNIT = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]\s*$")


@dataclasses.dataclass(frozen=True)
class CellIssue(Issue):
    """An :class:`~optimizer.errors.Issue` located in a workbook: ``file`` is the sheet,
    ``row`` the row as Excel numbers it, ``column`` the column letter and ``label`` what that
    column holds (the header name; on the parameters sheet, e.g. ``value of transport.circuity``)."""

    book: str = ""
    column: str | None = None
    label: str = ""

    def __str__(self) -> str:
        where = f"{self.book}, sheet '{self.file}'" if self.book else f"sheet '{self.file}'"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}" + (f" ({self.label})" if self.label else "")
        elif self.label:
            where += f", {self.label}"
        return where + str(Issue("", None, None, self.expected, self.got))


def sheet_name(spec: schema.TableSpec) -> str:
    """The sheet holding ``spec``'s table: its file name without ``.csv``."""
    return spec.file.removesuffix(".csv")


def header_text(spec: schema.FieldSpec, currency: str = "") -> str:
    """A header cell: the column name, and its unit in brackets (``capex [USD]``)."""
    unit = spec.unit.replace("currency", currency) if currency else spec.unit
    return f"{spec.name} [{unit}]" if unit else spec.name


def unit_matches(given: str, unit: str, currency: str) -> bool:
    """Whether a unit written in a header or the parameters sheet is the schema's ``unit``
    (``currency`` may stand for the instance's currency; spaces do not matter)."""
    def norm(s: str) -> str:
        return re.sub(r"\s+", "", s)
    wanted = {norm(unit)} | ({norm(unit.replace("currency", currency))} if currency else set())
    return norm(given) in wanted


@dataclasses.dataclass
class WorkbookInputs:
    """What a workbook gives the loader (see :class:`optimizer.load.RawInputs`)."""

    toml_data: dict
    issues: list[Issue]
    tables: dict[str, RawTable | None]
    outlines: Path | None
    input_hash: str
    relabel: Callable[[list[Issue]], list[Issue]]


class _Book:
    """Where things are in one workbook, for relabelling issues to cells."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name
        self.sheets: dict[str, str] = {}  # file -> sheet title as written
        self.columns: dict[str, dict[str, str]] = {}  # file -> header name -> column letter
        self.keys: dict[str, int] = {}  # parameter key (dotted) -> row
        self.key_columns = ("A", "B")  # letters of the parameters sheet's key and value columns
        self.currency = ""
        self.own: list[Issue] = []  # issues raised here, at a cell: they win over later ones there

    def cell(self, issue: Issue) -> Issue:
        """``issue`` located at its cell, with sheet names for file names in its text."""
        if isinstance(issue, CellIssue):
            return issue
        expected, got = self.words(issue.expected), self.words(str(issue.got))
        if issue.file == TOML_FILE:
            row = issue.row if issue.row is not None else self.keys.get(issue.field or "")
            col, label = (None, "")
            if issue.field and row is not None:
                unknown = str(issue.got).startswith("unknown key")
                col, label = (self.key_columns[0], "key") if unknown else (self.key_columns[1], f"value of {issue.field}")
            elif issue.field:
                label = f"key '{issue.field}'"
            return CellIssue(PARAMETERS, row, issue.field, expected, got, issue.severity, self.name, col, label)
        if issue.file == GEOJSON_FILE:
            return dataclasses.replace(issue, file=self.path.with_suffix(".geojson").name)
        sheet = self.sheets.get(issue.file)
        if sheet is None:
            stem = issue.file.removesuffix(".csv")
            if not any(s.file == issue.file for s in schema.ALL_TABLES):
                return dataclasses.replace(issue, expected=expected, got=got)
            sheet = stem
        col = self.columns.get(issue.file, {}).get(issue.field or "")
        got = "no such sheet" if got == "no such file" else got
        label = (issue.field or "") if col else (f"column '{issue.field}'" if issue.field else "")
        return CellIssue(sheet, issue.row, issue.field, expected, got, issue.severity, self.name, col, label)

    def words(self, text: str) -> str:
        """File names in a message as the sheets that hold them here."""
        for spec in schema.ALL_TABLES:
            text = text.replace(f"the file {spec.file}", f"the sheet '{sheet_name(spec)}'")
            text = re.sub(rf"(?<![\w.]){re.escape(spec.file)}(?![\w])", f"sheet '{sheet_name(spec)}'", text)
        text = re.sub(r"\ban? \[([\w.<>]+)\] table\b", r"rows for the \1.* keys", text)
        return text.replace("in instance.toml", "in the parameters sheet").replace("instance.toml", "the parameters sheet")

    def relabel(self, issues: list[Issue]) -> list[Issue]:
        """Every issue at its cell; where this module already reported a cell (a date, a formula
        without value), later complaints about the blank it left there are dropped."""
        own = {id(i) for i in self.own}
        mapped = [self.cell(i) for i in issues]
        taken = {_where(m) for i, m in zip(issues, mapped, strict=True) if id(i) in own}
        return [m for i, m in zip(issues, mapped, strict=True) if id(i) in own or _where(m) not in taken]


def _where(issue: Issue) -> tuple:
    return (issue.file, issue.row, getattr(issue, "column", None) or issue.field)


def read_workbook(path: str | Path) -> WorkbookInputs:
    """Read an instance workbook into the loader's raw inputs (nothing is parsed or validated
    here but what only a workbook can get wrong); raise :class:`InstanceError` if the file
    cannot be opened as a workbook at all."""
    path = Path(path)
    _openable(path)
    book = _Book(path)
    values, formulas, links = _open(path)
    issues: list[Issue] = []
    if links:
        issues.append(Issue(path.name, None, None, "values only (links to other workbooks are never followed; cells "
                            "using them are refused, any others are read as saved)",
                            f"{links} external link part{'s' if links != 1 else ''}", severity="warning"))
    by_name = {ws.title.strip().lower(): ws for ws in values.worksheets}
    toml_data: dict = {}
    if PARAMETERS in by_name:
        toml_data = _parameters(by_name[PARAMETERS], formulas.get(by_name[PARAMETERS].title, {}), book, issues)
        if not toml_data and not any(i.severity == "error" for i in issues):
            required = [".".join(p) for p in (["name"], ["currency"], ["chemistries", "<chem>", "black_mass_yield"])]
            issues.append(CellIssue(by_name[PARAMETERS].title, None, None, "values for the instance.toml keys, at least "
                                    + ", ".join(required) + " and the required keys of each section (see the README sheet)",
                                    "no values", book=path.name))
    else:
        issues.append(Issue(TOML_FILE, None, None, f"a sheet '{PARAMETERS}' (columns key, value, unit, description: "
                            "the instance.toml keys as dotted paths)", "no such sheet"))
    tables: dict[str, RawTable | None] = {}
    for spec in schema.ALL_TABLES:
        ws = by_name.get(sheet_name(spec))
        tables[spec.file] = None if ws is None else _table(ws, formulas.get(ws.title, {}), spec, book)
    issues += _near_misses(by_name, book.name)
    outlines = path.with_suffix(".geojson")
    return WorkbookInputs(toml_data=toml_data, issues=issues, tables=tables,
                          outlines=outlines if outlines.is_file() else None,
                          input_hash=_hash(path, outlines), relabel=book.relabel)


def _openable(path: Path) -> None:
    """Refuse, before openpyxl sees it, a workbook that is missing, too large, not a zip or
    would expand beyond the limits."""
    def refuse(expected: str, got: str) -> None:
        raise InstanceError([Issue(path.name, None, None, expected, got)], str(path))

    if not path.is_file():
        refuse("an instance workbook (.xlsx) or folder", "no such file")
    if (big := too_large(path, "SPOKEHUB_MAX_INPUT_MB")) is not None:
        refuse(big, "a larger file")
    import zipfile

    try:
        bomb = zip_too_large(path)
    except (OSError, zipfile.BadZipFile) as exc:
        refuse("an .xlsx workbook (a zip archive)", f"a file that is not one ({exc}; an old .xls? save it as .xlsx)")
    if bomb is not None:
        refuse(bomb, "an archive that would expand further")


def _open(path: Path):
    """(values workbook, {sheet title: {coordinate: formula}}, number of external-link parts)."""
    import zipfile

    import openpyxl

    with zipfile.ZipFile(path) as zf:
        links = sum(1 for n in zf.namelist() if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            values = openpyxl.load_workbook(path, data_only=True, keep_links=False, rich_text=False)
            raw = openpyxl.load_workbook(path, data_only=False, keep_links=False, read_only=True)
            formulas = {}
            for ws in raw.worksheets:
                found = {}
                for row in ws.iter_rows():
                    for cell in row:
                        if getattr(cell, "data_type", None) == "f":
                            found[cell.coordinate] = str(getattr(cell.value, "text", cell.value))
                formulas[ws.title] = found
            raw.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on damaged files
        raise InstanceError([Issue(path.name, None, None, "a readable .xlsx workbook (saved by Excel, LibreOffice or spokehub)",
                                   f"{type(exc).__name__}: {str(exc)[:160]}")], str(path)) from None
    return values, formulas, links


def _hash(path: Path, outlines: Path) -> str:
    """SHA-256 over the workbook (and its outlines file), for provenance and resume."""
    h = hashlib.sha256()
    for p in (path, outlines):
        if p.is_file():
            h.update(p.name.encode() + b"\0")
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def _near_misses(by_name: dict, book: str) -> list[Issue]:
    """A sheet whose name is a near miss of a missing table's sheet: an error, not ignored."""
    missing = [sheet_name(s) for s in schema.ALL_TABLES if sheet_name(s) not in by_name]
    known = {sheet_name(s) for s in schema.ALL_TABLES} | {PARAMETERS, README.lower()}
    out = []
    for name, ws in by_name.items():
        if name in known:
            continue
        close = difflib.get_close_matches(name, missing + ([PARAMETERS] if PARAMETERS not in by_name else []), n=1, cutoff=0.8)
        if close:
            out.append(CellIssue(ws.title, None, None, f"a sheet named '{close[0]}' (sheets are matched by name; other sheets are ignored)",
                                 f"a sheet '{ws.title}'; did you mean '{close[0]}'?", book=book))
    return out


# --- cells ---------------------------------------------------------------------------------------


def cell_text(cell, formula: str | None) -> tuple[str, tuple[str, str] | None]:
    """The text a CSV would hold for ``cell`` and, for a cell no CSV can hold, (expected, got).

    Numbers keep full precision (``repr``), booleans become ``true``/``false``; a formula is its
    saved value, refused when it has none or takes its value from outside the workbook.
    """
    value = cell.value
    if formula is not None:
        if _OUTSIDE.search(formula):
            return "", ("a value, not a formula taking it from outside this workbook (copy the cells and paste them as values)",
                        f"the formula {formula}")
        if value is None:
            return "", ("a value: spokehub never calculates formulas, it reads the value the spreadsheet saved "
                        "(open and save the workbook in Excel or LibreOffice, or paste the cells as values)",
                        f"the formula {formula} with no saved value")
    if cell.data_type == "e":
        return "", ("a value", f"the spreadsheet error {value}" + (f" from the formula {formula}" if formula else ""))
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return repr(value), None
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        shown = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return "", ("a number or a text, not a date or time (a spreadsheet turns entries such as 3-4 or 1/2 into dates: "
                    "format the column as Number or Text and type the value again)", f"the date {shown}")
    return str(value), None


def _merged(ws) -> dict[str, str]:
    """Cells of merged ranges holding a value -> the range (a merged range reads as one value
    and blanks, so it is refused rather than guessed)."""
    out = {}
    for rng in ws.merged_cells.ranges:
        if ws.cell(row=rng.min_row, column=rng.min_col).value is None:
            continue  # merged formatting over blank cells holds nothing
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                out[ws.cell(row=row, column=col).coordinate] = rng.coord
    return out


def _grid(ws, formulas: dict[str, str]):
    """(row 1's texts, [(excel_row, texts)] of the rows below holding any text, refused cells
    as (row, column, (expected, got))).  Only cells the file holds are visited (openpyxl's cell
    table), so formatting on an empty cell far down or right costs nothing; each cell of a merged
    range holding a value is refused."""
    from openpyxl.utils import get_column_letter

    merged = _merged(ws)
    by_row: dict[int, dict[int, str]] = {}
    bad: list[tuple[int, int, tuple[str, str]]] = []
    for (r, c), cell in sorted(ws._cells.items()):  # noqa: SLF001 - the cells present, not the bounding box
        coord = f"{get_column_letter(c)}{r}"
        if coord in merged:
            continue
        text, err = cell_text(cell, formulas.get(coord))
        if err:
            bad.append((r, c, err))
        if text.strip():
            by_row.setdefault(r, {})[c] = text.strip()
    for coord, rng in merged.items():
        col, row = _split_coordinate(coord)
        bad.append((row, col, ("one value per cell, not merged cells (unmerge them and fill every cell)",
                               f"a cell of the merged range {rng}")))
    width = max((c for cells in by_row.values() for c in cells), default=0)
    texts = {r: [cells.get(c, "") for c in range(1, width + 1)] for r, cells in by_row.items()}
    return texts.pop(1, [""] * width), sorted(texts.items()), sorted(bad)


def _split_coordinate(coord: str) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(coord)
    return column_index_from_string(letters), row


def _table(ws, formulas: dict[str, str], spec: schema.TableSpec, book: _Book) -> RawTable | None:
    """One table sheet as the :class:`RawTable` its CSV would give (``None``: an optional
    table's sheet with no data, the same as no file)."""
    from openpyxl.utils import get_column_letter

    file = spec.file
    book.sheets[file] = ws.title
    table = RawTable(file=file, header=[], rows=[])
    header_cells, grid, bad = _grid(ws, formulas)
    has_data = bool(grid) or any(r > 1 for r, _c, _e in bad)
    if not any(header_cells):
        if has_data:
            table.issues.append(Issue(file, 1, None, "the column names in row 1 (see the README sheet)", "an empty row 1"))
            return table
        if not spec.required_file:
            return None
        table.issues.append(Issue(file, None, None, "a header row and data rows", "an empty sheet"))
        return table
    if not has_data and not spec.required_file:
        return None
    specs = {f.name: f for f in spec.fields}
    specs.update({t.name: t for t in spec.chem_fields})
    header, letters = [], {}
    for c, text in enumerate(header_cells, start=1):
        name, unit = _split_unit(str(text))
        name = name.lower()
        letter = get_column_letter(c)
        header.append(name)
        if name:
            letters.setdefault(name, letter)
            field = specs.get(name) or _chem_template(spec, name)
            if unit is not None and field is not None and not unit_matches(unit, field.unit, book.currency):
                want = field.unit.replace("currency", book.currency or "currency")
                issue = Issue(file, 1, name, (f"the unit [{want}]" if want else "no unit") + " (units are not converted: give the "
                              "values in the schema's unit, see the README sheet)", f"'{text}'")
                table.issues.append(issue)
                book.own.append(issue)
    book.columns[file] = letters
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            table.issues.append(Issue(file, 1, name, "each column once", "a duplicate column"))
        seen.add(name)
    for r, c, (expected, got) in bad:
        name = header[c - 1] if c - 1 < len(header) else ""
        issue = Issue(file, r, name or None, expected, got) if name else CellIssue(
            ws.title, r, None, expected, got, book=book.name, column=get_column_letter(c))
        table.issues.append(issue)
        book.own.append(issue)
    for r, cells in grid:  # blank rows (trailing ones Excel keeps) are not in the grid: numbering kept
        for c, text in enumerate(cells, start=1):
            if text and (c > len(header) or not header[c - 1]):
                table.issues.append(CellIssue(ws.title, r, None, "a column name in row 1 above every cell holding data",
                                              f"'{text}' under an empty header", book=book.name, column=get_column_letter(c)))
        table.rows.append((r, dict(zip(header, cells, strict=False))))
    table.header = header
    return table


def _split_unit(text: str) -> tuple[str, str | None]:
    m = _UNIT.match(text.strip())
    return (m.group(1).strip(), m.group(2).strip()) if m else (text.strip(), None)


def _chem_template(spec: schema.TableSpec, name: str) -> schema.FieldSpec | None:
    for t in spec.chem_fields:
        pre, _, post = t.name.partition("{chem}")
        if name.startswith(pre) and name.endswith(post) and len(name) > len(pre) + len(post):
            return t
    return None


# --- the parameters sheet ------------------------------------------------------------------------


def key_path(key: str) -> list[str] | None:
    """A TOML dotted key (``chemistries.nmc.black_mass_yield``, ``sources."regions.csv"``) as
    its parts, or ``None`` if it is not one dotted key."""
    try:
        data = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(data, dict):
        if len(data) != 1:
            return None
        (k, data), = data.items()
        parts.append(k)
    return parts if data == 0 else None


def parameter_spec(parts: list[str]) -> schema.FieldSpec | None:
    """The schema's spec of a parameter key given as its parts (``None``: not declared)."""
    if len(parts) == 1:
        return next((f for f in schema.TOML_TOP if f.name == parts[0]), None)
    if parts[0] == "chemistries" and len(parts) == 3:
        return next((f for f in schema.TOML_CHEMISTRY if f.name == parts[2]), None)
    if parts[0] == "periods":
        if len(parts) == 3 and parts[1] == "growth":
            return dataclasses.replace(next(f for f in schema.TOML_PERIODS if f.name == "growth"), kind="float")
        return next((f for f in schema.TOML_PERIODS if f.name == parts[1]), None) if len(parts) == 2 else None
    if parts[0] in schema.TOML_SECTIONS and len(parts) == 2:
        return next((f for f in schema.TOML_SECTIONS[parts[0]] if f.name == parts[1]), None)
    return None


def parameter_value(spec: schema.FieldSpec | None, text: str, cell_value):
    """A parameter cell as the value ``tomllib`` would give for it: a number, a boolean, a text
    or a list, as the key's spec asks (anything else is passed on as written, and the
    instance.toml checks refuse it with their usual message)."""
    if spec is None:  # not a declared key ([sources], or a typo the checks will name): as typed
        return cell_value if isinstance(cell_value, (bool, int, float)) else text
    if spec.kind in ("str", "id"):
        return text
    if spec.kind == "bool":
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    if spec.kind.startswith("list") or spec.kind.endswith("list"):
        items = [_number(t.strip(), spec) for t in text.split(",")]
        return items if spec.kind.startswith("list") or len(items) > 1 else items[0]
    return _number(text, spec)


def _number(text: str, spec: schema.FieldSpec):
    value, err = parse_number(text, ",")
    if err is not None or value is None:
        return text
    if value == int(value) and ("int" in spec.kind or re.fullmatch(r"[+-]?\d+", text.strip())):
        return int(value)  # as TOML reads 8 (an int) and 8.0 (a float)
    return value


def _parameters(ws, formulas: dict[str, str], book: _Book, issues: list[Issue]) -> dict:
    """The parameters sheet as the nested data ``tomllib`` gives for ``instance.toml``."""
    from openpyxl.utils import get_column_letter

    header_cells, grid, bad = _grid(ws, formulas)
    header = [str(t).lower() for t in header_cells]
    cols = {name: header.index(name) for name in PARAMETER_COLUMNS if name in header}
    if "key" not in cols or "value" not in cols:
        issues.append(CellIssue(ws.title, 1, None, "the columns key and value (and unit, description) in row 1",
                                "row 1: " + (", ".join(h for h in header if h) or "empty"), book=book.name))
        return {}
    letter = {name: get_column_letter(k + 1) for name, k in cols.items()}
    book.key_columns = (letter["key"], letter["value"])
    bad_at = {(r, c - 1): err for r, c, err in bad}

    def at(cells: list, name: str) -> str:
        return cells[cols[name]] if name in cols and cols[name] < len(cells) else ""

    rows = [(r, at(cells, "key"), at(cells, "value"), bad_at.get((r, cols["value"])) or bad_at.get((r, cols["key"])),
             ws.cell(row=r, column=cols["value"] + 1).value, at(cells, "unit"))
            for r, cells in grid if at(cells, "key") or at(cells, "value") or (r, cols["value"]) in bad_at]
    book.currency = next((v for _r, k, v, *_ in rows if k == "currency"), "")
    data: dict = {}
    for r, key, text, err, cell_value, unit in rows:
        parts = key_path(key) if key else None
        if parts is None:
            issues.append(CellIssue(ws.title, r, None, "a key: an instance.toml key as a dotted path (e.g. transport.circuity)",
                                    f"'{key}'" if key else "a value without a key", book=book.name, column=letter["key"], label="key"))
            continue
        dotted = ".".join(parts)
        if dotted in book.keys:
            issues.append(CellIssue(ws.title, r, dotted, "each key once", f"again (first on row {book.keys[dotted]})",
                                    book=book.name, column=letter["key"], label="key"))
            continue
        book.keys[dotted] = r
        spec = parameter_spec(parts)
        if err:
            issue = Issue(TOML_FILE, None, dotted, *err)
            issues.append(issue)
            book.own.append(issue)
            continue
        if text == "":
            continue  # a blank value: the key is not given
        if unit and spec is not None and not unit_matches(unit, spec.unit, book.currency):
            want = spec.unit.replace("currency", book.currency or "currency")
            issues.append(CellIssue(ws.title, r, dotted, (f"the unit {want}" if want else "no unit") + " (units are not converted)",
                                    f"'{unit}'", book=book.name, column=letter["unit"], label=f"unit of {dotted}"))
        _put(data, parts, parameter_value(spec, text, cell_value), ws.title, r, book, issues)
    return data


def _put(data: dict, parts: list[str], value, sheet: str, row: int, book: _Book, issues: list[Issue]) -> None:
    """Set ``data[parts]``; a key that is both a value and a table is refused at its row."""
    node = data
    for k in parts[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            break
    if not isinstance(node, dict) or isinstance(node.get(parts[-1]), dict):
        issues.append(CellIssue(sheet, row, ".".join(parts), "a key that is either a value or a table of keys, not both",
                                "'" + ".".join(parts) + "'", book=book.name, column=book.key_columns[0], label="key"))
        return
    node[parts[-1]] = value
