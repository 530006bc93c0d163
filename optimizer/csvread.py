"""Reading spreadsheet-made CSV files cell by cell, keeping Excel's row numbers.

pandas' ``read_csv`` guesses types, drops blank lines (shifting row numbers) and turns bad cells
into NaN; a siting tool must instead say *which* cell is wrong.  This reader keeps every cell as
text with its Excel row number (header = row 1) and parses values against the
:mod:`optimizer.schema` specs.

Accepted dialects (documented in the README):

* UTF-8, with or without the byte-order mark Excel's "CSV UTF-8" writes;
* comma-delimited with ``.`` decimals, or semicolon-delimited as a European Excel writes it.  In a
  semicolon file ``,`` is the decimal separator (``51,5``), ``.`` may group thousands only together
  with a decimal comma (``1.234,5``), and a lone ``.`` is a decimal point unless the value could
  be read either way (``1.234``): such a cell is refused with a message saying so.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Issue
from .schema import FieldSpec

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_NOTE_PREFIXES = ("note", "comment")
#: the first characters that make a spreadsheet cell a formula (see files.neutralise)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_DEC_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS_DOT_DEC_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
_AMBIGUOUS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")


@dataclass
class RawTable:
    """Cells of one CSV file as text, with Excel row numbers."""

    file: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    delimiter: str = ","
    issues: list[Issue] = field(default_factory=list)


def read_raw(path: Path, file_label: str) -> RawTable:
    """Read ``path`` into a :class:`RawTable`; problems go to ``table.issues``.

    Rows keep the number a spreadsheet shows, so blank lines count but yield no row.
    """
    table = RawTable(file=file_label, header=[], rows=[])
    from .limits import too_large

    if (big := too_large(path, "SPOKEHUB_MAX_INPUT_MB")) is not None:
        table.issues.append(Issue(file_label, None, None, big, "a larger file"))
        return table
    try:
        data = path.read_bytes()
    except OSError as exc:
        table.issues.append(Issue(file_label, None, None, "a readable file", f"{exc.strerror or exc}"))
        return table
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        table.issues.append(
            Issue(
                file_label, line, None,
                "UTF-8 text (in Excel: Save As 'CSV UTF-8 (Comma delimited)')",
                f"a byte that is not UTF-8 (0x{data[exc.start]:02x})",
            )
        )
        return table
    if not text.strip():
        table.issues.append(Issue(file_label, None, None, "a header row and data rows", "an empty file"))
        return table

    first_line = text.lstrip("\r\n").splitlines()[0]
    if "\t" in first_line and first_line.count("\t") > max(first_line.count(","), first_line.count(";")):
        table.issues.append(Issue(
            file_label, 1, None,
            "a comma-delimited CSV (in Excel: Save As 'CSV UTF-8 (Comma delimited)')",
            "a tab-delimited file (Excel's 'Text (Tab delimited)' or a copy-paste from a sheet)"))
        return table
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    table.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_row: list[str] | None = None
    header_line = 0
    try:
        rows_read = list(_rows(reader))
    except csv.Error as exc:
        table.issues.append(Issue(file_label, reader.line_num or None, None,
                                  "cells of at most 131,072 characters with their quotes closed", f"{exc} (a missing closing quote?)"))
        return table
    for line, cells in rows_read:
        if header_row is None:
            if not any(c.strip() for c in cells):
                continue
            header_row = [c.strip().lower() for c in cells]
            header_line = line
            continue
        if not any(c.strip() for c in cells):
            continue  # blank spreadsheet row: skipped, numbering kept
        if len(cells) > len(header_row) and any(c.strip() for c in cells[len(header_row):]):
            table.issues.append(
                Issue(
                    file_label, line, None,
                    f"{len(header_row)} cells as in the header",
                    f"{len(cells)} cells (an unquoted '{delimiter}' inside a value?)",
                )
            )
            continue
        padded = list(cells) + [""] * (len(header_row) - len(cells))
        table.rows.append((line, dict(zip(header_row, padded, strict=False))))
    assert header_row is not None
    seen: set[str] = set()
    for name in header_row:
        if name in seen:
            table.issues.append(Issue(file_label, header_line, name, "each column once", "a duplicate column"))
        seen.add(name)
    table.header = header_row
    return table


def _rows(reader):
    for cells in reader:
        yield reader.line_num, cells


def check_columns(table: RawTable, specs: list[FieldSpec]) -> None:
    """Missing required columns and unknown columns (typos are never silently ignored)."""
    known = {s.name for s in specs}

    for spec in specs:
        if spec.required and spec.name not in table.header:
            table.issues.append(Issue(table.file, 1, spec.name, f"a column '{spec.name}' ({spec.description})", "no such column"))
    for name in table.header:
        if name == "" or name.startswith(_NOTE_PREFIXES):
            continue
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            table.issues.append(
                Issue(
                    table.file, 1, name,
                    "only known columns (" + ", ".join(sorted(known)) + "; columns named note*/comment* are ignored)",
                    f"unknown column '{name}'{hint}",
                )
            )


def parse_number(text: str, delimiter: str) -> tuple[float | None, str | None]:
    """Parse a numeric cell; returns (value, error message)."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if delimiter == ";":
        if _THOUSANDS_DOT_DEC_COMMA.match(s):
            s = s.replace(".", "").replace(",", ".")
        elif _DEC_COMMA.match(s):
            s = s.replace(",", ".")
        elif _AMBIGUOUS_DOT.match(s):
            return None, (
                f"'{text}' (in a semicolon-delimited file this could be a decimal point or a "
                "thousands separator; write it with a decimal comma, e.g. 1,234 or 1234)"
            )
    elif "," in s:
        return None, f"'{text}' (no thousands separators or decimal commas in a comma-delimited file)"
    try:
        value = float(s)
    except ValueError:
        return None, f"'{text}' (not a number)"
    if math.isnan(value) or math.isinf(value):
        return None, f"'{text}' (not a finite number)"
    return value, None


def parse_cell(spec: FieldSpec, text: str, delimiter: str):
    """Parse one cell; returns (value, error-got-text or None). Blank returns (default, None)."""
    raw = text.strip()
    if raw == "":
        if spec.required:
            return None, "a blank cell"
        return spec.default, None
    kind = spec.kind
    if kind in ("str", "id") and raw.startswith("'") and raw[1:2] in FORMULA_START:
        raw = raw[1:]  # an apostrophe that kept a spreadsheet from reading the cell as a formula
    if kind == "id" and raw.startswith(FORMULA_START):
        return None, ("an id not beginning with =, +, -, @ (a spreadsheet reads such a cell as a formula)", f"'{raw}'")
    if kind == "id" and (hidden := invisible_characters(raw)):
        return None, ("an id of visible characters only",
                      f"{visible(raw)} (an id with {hidden}: copy-pasted text often carries them)")
    if kind in ("str", "id"):
        return raw, None
    if kind == "choice":
        low = raw.lower()
        if low in spec.choices:
            return low, None
        return None, f"'{text}'"
    if kind == "bool":
        low = raw.lower()
        if low in _TRUE:
            return True, None
        if low in _FALSE:
            return False, None
        return None, f"'{text}'"
    value, err = parse_number(raw, delimiter)
    if err:
        return None, err
    if kind == "int":
        if value != int(value):
            return None, f"'{text}' (not a whole number)"
        value = int(value)
    if not in_bounds(spec, value):
        return None, f"{text.strip()}"
    return value, None


def invisible_characters(text: str) -> str:
    """A description of the control and format characters in ``text`` ('' if none): zero-width
    spaces, byte-order marks, non-breaking spaces and the like make two ids that look equal differ."""
    import unicodedata

    found = sorted({f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}" for ch in text
                    if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn") or ch in "\u00a0\u2007\u202f"})
    return ", ".join(found)


def visible(text: str) -> str:
    """``text`` quoted, with every invisible character shown as an escape (``'S-NEWARK\\u200b'``)."""
    import unicodedata

    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp") or ch in "\u00a0\u2007\u202f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def plausible(spec: FieldSpec, value) -> bool:
    """Whether a parsed number lies in the field's plausible range (no range: always)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return True
    return not ((spec.warn_lo is not None and value < spec.warn_lo) or (spec.warn_hi is not None and value > spec.warn_hi))


def in_bounds(spec: FieldSpec, value: float) -> bool:
    """Whether ``value`` lies in the field's allowed range (open or closed at each end)."""
    if spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)):
        return False
    if spec.hi is not None and (value > spec.hi or (spec.hi_open and value == spec.hi)):
        return False
    return True


def parse_table(table: RawTable, specs: list[FieldSpec]) -> list[tuple[int, dict]]:
    """Typed rows ``(excel_row, {field: value})``; every bad cell becomes an Issue."""
    check_columns(table, specs)
    present = [s for s in specs if s.name in table.header]
    absent = [s for s in specs if s.name not in table.header and not s.required]
    out = []
    for line, cells in table.rows:
        values: dict = {}
        for spec in present:
            value, err = parse_cell(spec, cells.get(spec.name, ""), table.delimiter)
            if isinstance(err, tuple):  # a message of its own: (expected, got)
                table.issues.append(Issue(table.file, line, spec.name, *err))
            elif err is not None:
                table.issues.append(Issue(table.file, line, spec.name, spec.expected(), err))
            elif value is not None and not plausible(spec, value):
                table.issues.append(Issue(table.file, line, spec.name, spec.plausible(), f"{value:g}", severity="warning"))
            values[spec.name] = value
        for spec in absent:
            values[spec.name] = spec.default
        out.append((line, values))
    return out
