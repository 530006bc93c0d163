"""An instance as one Excel workbook (``optimizer.workbook_instance``, ``optimizer.workbook_template``).

Real openpyxl, real HiGHS, no mocks.  What would catch a wrong answer:

* every bad-input catalogue case in workbook form refused at the very cell that was broken
  (sheet, Excel row, column letter), or accepted as the same instance; the cases with no workbook
  form listed with their reason, and the list checked against the catalogue;
* folder -> workbook -> folder byte-identical for every bundled instance, and workbook -> load
  equal to folder -> load;
* the empty template, filled cell by cell with openpyxl, solving to the folder's optimum;
* each kind of cell Excel writes (dates, formulas with and without saved values, ``#DIV/0!``,
  merged cells, numbers stored as text, trailing blank rows, stray formatting) accepted or
  refused with a located message;
* a zip bomb and external links refused cheaply (peak memory stated);
* a sheet for every file the schema declares.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import tomllib
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from optimizer import InstanceError, load_instance, save_instance, schema, solve
from optimizer.cli import main
from optimizer.load import instances_equal
from optimizer.report.workbook import write_workbook
from optimizer.workbook_instance import PARAMETERS, CellIssue, sheet_name
from optimizer.workbook_template import dotted, template_workbook, write_template

from . import test_bad_input_catalogue as catalogue
from .helpers import DEMO, ROOT

BUNDLED = sorted(p.parent for p in (ROOT / "instances").glob("*/instance.toml"))

#: catalogue cases that are CSV or text-file syntax and have no workbook form, with the reason
NO_WORKBOOK_FORM = {
    "bom": "a byte-order mark belongs to a text file; a workbook's cells have no encoding",
    "semicolon_decimal_comma": "delimiters and decimal commas are CSV syntax; a workbook cell holds the number",
    "semicolon_ambiguous": "delimiters and decimal commas are CSV syntax; a workbook cell holds the number",
    "tab_delimited": "a delimiter is CSV syntax; a workbook has cells",
    "non_utf8": "a text encoding belongs to a text file; a workbook stores text as Unicode",
    "toml_syntax": "the parameters sheet holds one key and one value per row: there is no syntax to break",
}
#: the catalogue's expected phrase where the workbook words it with sheet names
WORKBOOK_TEXT = {
    "hubs_file_missing": "the sheet 'hubs' (sheet 'hub_sizes' names its sites)",
    "min_count_above_candidates": "at most the spokes that can open (8 in sheet 'spokes' not excluded)",
    "empty_file": "an empty sheet",
    "channel_unknown": "expected a channel id from sheet 'channels', got unknown id 'dealers'",
    "capture_duty_above_best_offer": "at most the best offer's capture share in every ladder of the channel (0.9 in sheet 'offers')",
    "cp_mode_unknown_site": "an id from sheet 'collection_points'",
}


# --- writing a workbook from a folder's cells, as a spreadsheet would hold them -----------------

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _typed(text: str):
    """A CSV cell as Excel would store it once typed: a plain number becomes a number cell."""
    if _NUMBER.fullmatch(text):
        value = float(text)
        return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    return text if text != "" else None


def _flatten(data: dict, prefix: list[str]):
    for k, v in data.items():
        if isinstance(v, dict) and v:
            yield from _flatten(v, prefix + [k])
        else:
            yield prefix + [k], v


def _put_text(ws, row: int, col: int, value) -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # as typed text, never a formula


def raw_workbook(folder: Path, path: Path) -> dict[str, int]:
    """Write ``folder``'s cells (valid or not) as a workbook: every CSV as a sheet, row for row
    (blank lines kept as blank rows), instance.toml as the parameters sheet.  Returns the
    parameters sheet's row of each key."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    data = tomllib.loads((folder / "instance.toml").read_text(encoding="utf-8"))
    ws = wb.create_sheet(PARAMETERS)
    for j, h in enumerate(("key", "value", "unit", "description"), start=1):
        ws.cell(row=1, column=j, value=h)
    rows = {}
    for i, (parts, value) in enumerate(_flatten(data, []), start=2):
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        _put_text(ws, i, 1, dotted(parts))
        _put_text(ws, i, 2, value)
        rows[".".join(parts)] = i
    for spec in schema.ALL_TABLES:
        p = folder / spec.file
        if not p.exists():
            continue
        ws = wb.create_sheet(sheet_name(spec))
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            for cells in reader:
                for j, text in enumerate(cells, start=1):
                    _put_text(ws, reader.line_num, j, _typed(text) if reader.line_num > 1 else text)
    wb.save(path)
    if (folder / "regions.geojson").exists():
        shutil.copy(folder / "regions.geojson", path.with_suffix(".geojson"))
    return rows


def _column(folder: Path, file: str, field: str | None) -> str | None:
    if field is None or not (folder / file).exists():
        return None
    with open(folder / file, newline="", encoding="utf-8") as fh:
        header = [h.strip().lower() for h in next(csv.reader(fh), [])]
    return get_column_letter(header.index(field) + 1) if field in header else None


@pytest.fixture(scope="module")
def reference():
    inst = load_instance(DEMO)
    return inst, solve(inst, mip_rel_gap=0)


def test_every_catalogue_case_has_a_workbook_form_or_a_stated_reason():
    ids = {c.id for c in catalogue.CASES}
    assert set(NO_WORKBOOK_FORM) <= ids  # no stale entries
    assert all(reason for reason in NO_WORKBOOK_FORM.values())
    assert len(ids - set(NO_WORKBOOK_FORM)) >= 40  # the rest run below


@pytest.mark.parametrize("case", catalogue.CASES, ids=[c.id for c in catalogue.CASES])
def test_catalogue_case_as_a_workbook(case, tmp_path, capsys, reference):
    if case.id in NO_WORKBOOK_FORM:
        pytest.skip(f"no workbook form: {NO_WORKBOOK_FORM[case.id]}")
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    case.mutate(folder)
    book = tmp_path / "demo.xlsx"
    key_rows = raw_workbook(folder, book)
    text = WORKBOOK_TEXT.get(case.id, case.text)

    if case.outcome == "refused":
        assert main(["validate", str(book)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and text in err, err
        with pytest.raises(InstanceError) as exc:
            load_instance(book)
        file, row, field = case.where
        if file == "instance.toml":
            sheet, column = PARAMETERS, None
            row = key_rows.get(field) if field else None
            if row is not None:
                column = "A" if "unknown key" in err else "B"
        elif file == "regions.geojson":
            sheet, column = "demo.geojson", None
        else:
            sheet, row, column = sheet_name(next(s for s in schema.ALL_TABLES if s.file == file)), row, _column(folder, file, field)
        hits = [i for i in exc.value.issues if (i.file, i.row, getattr(i, "column", None)) == (sheet, row, column)
                and (field is None or i.field == field)]
        assert hits, (sheet, row, column, [str(i) for i in exc.value.issues])
        if sheet not in ("demo.geojson",):
            assert isinstance(hits[0], CellIssue) and str(hits[0]).startswith(f"demo.xlsx, sheet '{sheet}'")
    elif case.outcome == "warned":
        inst = load_instance(book)
        file, row, field = case.where
        where = f"demo.xlsx, sheet '{sheet_name(next(s for s in schema.ALL_TABLES if s.file == file))}', row {row}, column " \
                f"{_column(folder, file, field)} ({field})"
        warnings = inst.raw_toml["_warnings"]
        assert any(w.startswith(where) and text in w for w in warnings), warnings
    elif case.outcome == "accepted":
        assert instances_equal(load_instance(book), reference[0]) == []
    else:
        out = tmp_path / "out"
        assert main(["solve", str(book), "--out", str(out), "--gap", "0", "--no-map"]) == 3
        captured = capsys.readouterr()
        assert text in captured.out, captured.out
        assert re.search(r"region \S+, (nmc|lfp): [\d,.]+ t short", captured.out)


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_instance_round_trips_exactly(folder, tmp_path):
    inst = load_instance(folder)
    book = write_template(tmp_path / f"{folder.name}.xlsx", inst)
    back = load_instance(book)
    assert instances_equal(inst, back) == []
    assert back.raw_toml.get("sources") == inst.raw_toml.get("sources")
    a = save_instance(inst, tmp_path / "from-folder")
    b = save_instance(back, tmp_path / "from-workbook")
    assert main(["template", str(book), "--folder", str(tmp_path / "from-cli")]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) == sorted(p.name for p in (tmp_path / "from-cli").iterdir())
    for name in names:  # byte for byte: every number in full precision, every key, the outlines
        assert (a / name).read_bytes() == (b / name).read_bytes() == (tmp_path / "from-cli" / name).read_bytes(), name


def test_every_declared_file_round_trips_through_a_workbook(tmp_path):
    """An instance with rows in every file the schema declares (test_files' fixture, extended
    whenever a file is added): every table reaches its sheet and comes back exact."""
    from .test_files import _every_file

    a = _every_file(tmp_path / "src")
    assert all(len(getattr(a, spec.attr)) for spec in schema.ALL_TABLES)
    book = write_template(tmp_path / "every.xlsx", a)
    assert {sheet_name(s) for s in schema.ALL_TABLES} <= set(openpyxl.load_workbook(book, read_only=True).sheetnames)
    b = load_instance(book)
    assert instances_equal(a, b) == []
    x, y = save_instance(a, tmp_path / "x"), save_instance(b, tmp_path / "y")
    for p in x.iterdir():
        assert p.read_bytes() == (y / p.name).read_bytes(), p.name


def test_a_float_needing_17_digits_survives(tmp_path):
    inst = load_instance(DEMO)
    sizes = inst.spoke_sizes.copy()
    sizes.loc[0, "capex"] = 0.1 + 0.2  # 0.30000000000000004: openpyxl writes numbers with 16 digits
    import dataclasses

    odd = dataclasses.replace(inst, spoke_sizes=sizes)
    back = load_instance(write_template(tmp_path / "odd.xlsx", odd))
    assert back.spoke_sizes.loc[0, "capex"] == 0.1 + 0.2


def test_filled_empty_template_solves_to_the_folder_optimum(tmp_path, reference):
    """openpyxl writes the demo's values into the empty template's cells, as a user would."""
    path = tmp_path / "empty.xlsx"
    assert main(["template", "--xlsx", str(path)]) == 0
    wb = openpyxl.load_workbook(path)
    ws = wb[PARAMETERS]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    data = tomllib.loads((DEMO / "instance.toml").read_text())
    for parts, value in _flatten(data, []):
        ws.cell(row=rows[dotted(parts)], column=2, value=value)
    for spec in schema.ALL_TABLES:
        if not (DEMO / spec.file).exists():
            continue
        ws = wb[sheet_name(spec)]
        letters = {str(c.value).split(" [")[0]: c.column for c in ws[1]}
        with open(DEMO / spec.file, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for i, cells in enumerate(reader, start=2):
                for name, text in zip(header, cells, strict=True):
                    if name in letters:  # the template has no note columns
                        ws.cell(row=i, column=letters[name], value=_typed(text))
    wb.save(path)
    inst = load_instance(path)
    ref_inst, ref_sol = reference
    assert instances_equal(inst, ref_inst) == []
    sol = solve(inst, mip_rel_gap=0)
    assert sol.objective == pytest.approx(ref_sol.objective, rel=1e-9)
    open_sites = sorted(sol.sites.loc[sol.sites["open"], "site_id"])
    assert open_sites == sorted(ref_sol.sites.loc[ref_sol.sites["open"], "site_id"])


def test_every_schema_file_has_a_sheet():
    wb = template_workbook()
    expected = {sheet_name(s) for s in schema.ALL_TABLES}
    assert expected <= set(wb.sheetnames)
    assert {PARAMETERS, "README"} <= set(wb.sheetnames)
    readme = {c.value for c in wb["README"]["A"]}
    for spec in schema.ALL_TABLES:
        ws = wb[sheet_name(spec)]
        names = [str(c.value).split(" [")[0] for c in ws[1]]
        assert names == [f.name for f in spec.columns_for(("nmc", "lfp"))], spec.file
        assert ws.freeze_panes == "A2"
        assert sheet_name(spec) in readme
    keys = {c.value for c in wb[PARAMETERS]["A"]}
    for section, fields in schema.TOML_SECTIONS.items():
        assert {f"{section}.{f.name}" for f in fields} <= keys
    assert {"name", "currency", "chemistries.nmc.black_mass_yield", "periods.years"} <= keys


def test_template_headers_units_and_validation():
    wb = template_workbook(load_instance(DEMO))
    ws = wb["spoke_sizes"]
    assert [c.value for c in ws[1]][:4] == ["site_id", "size", "capacity_t [t packs/yr]", "capex [USD]"]
    assert "Up-front capital cost" in ws["D1"].comment.text
    spokes = wb["spokes"]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in spokes.data_validations.dataValidation}
    assert lists["E2"] == '"candidate,existing,excluded"'
    hubs = wb["hubs"]
    bools = [dv.formula1 for dv in hubs.data_validations.dataValidation]
    assert '"TRUE,FALSE"' in bools


# --- cells Excel itself produces -------------------------------------------------------------------


def _demo_book(tmp_path: Path, name: str = "demo.xlsx") -> Path:
    return write_template(tmp_path / name, load_instance(DEMO))


def _edit(path: Path, fn) -> None:
    wb = openpyxl.load_workbook(path)
    fn(wb)
    wb.save(path)


def _refused(path: Path, sheet: str, row: int | None, column: str | None, text: str) -> CellIssue:
    with pytest.raises(InstanceError) as exc:
        load_instance(path)
    hits = [i for i in exc.value.issues if (i.file, i.row, getattr(i, "column", None)) == (sheet, row, column)]
    assert hits, [str(i) for i in exc.value.issues]
    assert text in str(hits[0]), str(hits[0])
    return hits[0]


def _with_saved_value(path: Path, sheet_index: int, coordinate: str, value: str, kind: str = "n") -> None:
    """Give a formula cell the saved value a spreadsheet writes beside it (openpyxl writes none)."""
    src = path.read_bytes()
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet_index}.xml":
                text = data.decode()
                pattern = re.compile(rf'<c r="{coordinate}"([^>]*)><f>(.*?)</f><v\s*/>')
                assert pattern.search(text), text[:400]
                text = pattern.sub(lambda m: f'<c r="{coordinate}"{m.group(1)} t="{kind}"><f>{m.group(2)}</f><v>{value}</v>', text)
                data = text.encode()
            zout.writestr(item, data)
    tmp.replace(path)
    assert src != path.read_bytes()


def _sheet_index(path: Path, title: str) -> int:
    return openpyxl.load_workbook(path, read_only=True).sheetnames.index(title) + 1


def test_a_formula_with_a_saved_value_is_read_as_that_value(tmp_path, reference):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["regions"].__setitem__("G3", "=2000+2200"))  # Boston nmc_t is 4200
    _with_saved_value(path, _sheet_index(path, "regions"), "G3", "4200")
    assert instances_equal(load_instance(path), reference[0]) == []


def test_a_formula_without_a_saved_value_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["regions"].__setitem__("G3", "=2000+2200"))
    _refused(path, "regions", 3, "G", "the formula =2000+2200 with no saved value")


def test_an_excel_error_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["regions"].__setitem__("G3", "=1/0"))
    _with_saved_value(path, _sheet_index(path, "regions"), "G3", "#DIV/0!", kind="e")
    issue = _refused(path, "regions", 3, "G", "the spreadsheet error #DIV/0! from the formula =1/0")
    assert "demo.xlsx, sheet 'regions', row 3, column G (nmc_t)" in str(issue)


def test_a_date_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["spoke_sizes"].__setitem__("C5", dt.datetime(2025, 3, 4)))
    _refused(path, "spoke_sizes", 5, "C", "not a date or time")


def test_a_date_in_the_parameters_sheet_is_refused(tmp_path):
    path = _demo_book(tmp_path)

    def date(wb):
        ws = wb[PARAMETERS]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "transport.circuity")
        ws.cell(row=row, column=2, value=dt.date(2025, 1, 25))
        date.row = row
    _edit(path, date)
    issue = _refused(path, PARAMETERS, date.row, "B", "the date 2025-01-25")
    assert "value of transport.circuity" in str(issue)


def test_merged_cells_are_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["spokes"].merge_cells("E3:E4"))  # two statuses merged into one
    _refused(path, "spokes", 3, "E", "merged range E3:E4")
    _refused(path, "spokes", 4, "E", "merged range E3:E4")


def test_numbers_stored_as_text_are_read(tmp_path, reference):
    path = _demo_book(tmp_path)

    def as_text(wb):
        for row in wb["spoke_sizes"].iter_rows(min_row=2, min_col=3, max_col=5):
            for cell in row:
                cell.value = f" {cell.value} "
                cell.data_type = "s"
    _edit(path, as_text)
    assert instances_equal(load_instance(path), reference[0]) == []


def test_trailing_blank_rows_and_stray_formatting_are_ignored(tmp_path, reference):
    from openpyxl.styles import PatternFill

    path = _demo_book(tmp_path)

    def stray(wb):
        ws = wb["regions"]
        for r in range(ws.max_row + 1, ws.max_row + 40):
            ws.cell(row=r, column=1).fill = PatternFill("solid", fgColor="FFFF00")
            ws.cell(row=r, column=3, value="   ")
        ws["Z1"].fill = PatternFill("solid", fgColor="FFFF00")  # an empty, formatted column
        ws["Z5"].number_format = "0.00"
        ws.merge_cells("AA2:AB3")  # merged formatting over blank cells
    _edit(path, stray)
    assert instances_equal(load_instance(path), reference[0]) == []


def test_data_under_an_empty_header_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["regions"].__setitem__("K4", 17))
    _refused(path, "regions", 4, "K", "under an empty header")


def test_a_formula_looking_id_is_refused_in_a_cell(tmp_path):
    path = _demo_book(tmp_path)

    def formula_id(wb):
        cell = wb["spokes"]["A3"]
        cell.value = "=HYPERLINK(\"http://x\")"
        cell.data_type = "s"  # typed as text: still what a spreadsheet reads as a formula
    _edit(path, formula_id)
    _refused(path, "spokes", 3, "A", "an id not beginning with =, +, -, @")


def test_a_unit_other_than_the_schemas_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: wb["spoke_sizes"].__setitem__("C1", "capacity_t [kg/yr]"))
    _refused(path, "spoke_sizes", 1, "C", "expected the unit [t packs/yr] (units are not converted")


def test_a_near_miss_sheet_name_is_an_error(tmp_path):
    path = _demo_book(tmp_path)
    _edit(path, lambda wb: setattr(wb["lanes"], "title", "lane"))
    _refused(path, "lane", None, None, "did you mean 'lanes'?")


def test_the_empty_template_says_what_is_missing(tmp_path):
    path = write_template(tmp_path / "empty.xlsx")
    with pytest.raises(InstanceError) as exc:
        load_instance(path)
    assert "no values" in str(exc.value) and "currency" in str(exc.value)


# --- security ----------------------------------------------------------------------------------


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refusal(path: Path) -> str:
    try:
        load_instance(path)
    except InstanceError as exc:
        return str(exc)
    raise AssertionError("not refused")


def test_a_zip_bomb_is_refused_before_decompressing(tmp_path):
    path = _demo_book(tmp_path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/bomb.bin", "w") as fh:
        block = bytes(1 << 20)
        for _ in range(300):  # 300 MB of zeros, about 0.3 MB compressed
            fh.write(block)
    assert path.stat().st_size < 2e6
    message = {}
    peak = _peak(lambda: message.setdefault("text", _refusal(path)))
    assert "parts expand at most 100-fold (xl/media/bomb.bin expands 1,0" in message["text"], message
    assert "SPOKEHUB_MAX_ZIP_RATIO" in message["text"]
    assert peak < 20e6, peak  # the 300 MB were never inflated


def test_a_workbook_expanding_beyond_the_total_limit_is_refused(tmp_path, monkeypatch):
    path = _demo_book(tmp_path)
    monkeypatch.setenv("SPOKEHUB_MAX_UNZIPPED_MB", "0.05")
    text = _refusal(path)
    assert "expands to at most 0.05 MB" in text and "SPOKEHUB_MAX_UNZIPPED_MB" in text
    monkeypatch.setenv("SPOKEHUB_MAX_UNZIPPED_MB", "50")
    load_instance(path)


def test_a_file_that_is_no_workbook_is_refused(tmp_path):
    path = tmp_path / "regions.xlsx"
    shutil.copy(DEMO / "regions.csv", path)
    assert "not one" in _refusal(path) and ".xls" in _refusal(path)
    assert "no such file" in _refusal(tmp_path / "missing.xlsx")


def test_an_oversized_workbook_is_refused_unread(tmp_path):
    path = tmp_path / "big.xlsx"
    with open(path, "wb") as fh:
        fh.truncate(150_000_000)
    peak = _peak(lambda: _refusal(path))
    assert "at most 100 MB" in _refusal(path)
    assert peak < 20e6


def _add_external_link(path: Path, sheet: str | None = None, coordinate: str | None = None, cached: str = "") -> None:
    """Add an external-link part (as Excel writes when a cell refers to another workbook) and,
    optionally, a cell whose formula uses it, with its saved value."""
    if sheet is not None:
        _edit(path, lambda wb: wb[sheet].__setitem__(coordinate, "=[1]Sheet1!$A$1"))
        _with_saved_value(path, _sheet_index(path, sheet), coordinate, cached)
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><externalLink '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
            '<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
            'Target="file:///nonexistent/secret.xlsx" TargetMode="External"/></Relationships>')
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/externalLinks/externalLink1.xml", link)
        zf.writestr("xl/externalLinks/_rels/externalLink1.xml.rels", rels)


def test_a_cell_linking_another_workbook_is_refused(tmp_path):
    path = _demo_book(tmp_path)
    _add_external_link(path, "regions", "G3", "4200")
    peak = _peak(lambda: _refused(path, "regions", 3, "G", "not a formula taking it from outside this workbook"))
    assert peak < 60e6, peak  # the demo workbook read twice (values, then formulas), nothing followed
    with pytest.raises(InstanceError) as exc:
        load_instance(path)
    assert any("external link part" in str(w) for w in exc.value.warnings)


def test_an_unused_external_link_is_ignored_with_a_warning(tmp_path, reference):
    path = _demo_book(tmp_path)
    _add_external_link(path)
    inst = load_instance(path)
    assert instances_equal(inst, reference[0]) == []
    assert any("1 external link part" in w and "never followed" in w for w in inst.raw_toml["_warnings"])


# --- commands -----------------------------------------------------------------------------------


def test_template_and_solve_from_the_command_line(tmp_path, capsys, reference):
    book = tmp_path / "demo.xlsx"
    assert main(["template", str(DEMO), "--xlsx", str(book)]) == 0
    assert main(["template", str(DEMO), "--xlsx", str(book)]) == 2  # never overwritten without --force
    assert "--force" in capsys.readouterr().err
    assert main(["template", str(DEMO), "--xlsx", str(book), "--force"]) == 0
    assert main(["validate", str(book)]) == 0
    out = tmp_path / "out"
    assert main(["solve", str(book), "--out", str(out), "--gap", "0", "--no-map", "--quiet"]) == 0
    from optimizer.solution import Solution

    sol = Solution.load(out)
    assert sol.objective == pytest.approx(reference[1].objective, rel=1e-9)
    assert sol.provenance["source"] == str(book.resolve())  # later commands find the workbook again
    assert main(["export", str(out), "--xlsx", str(tmp_path / "results.xlsx")]) == 0
    assert main(["template", str(book), "--folder", str(tmp_path / "back")]) == 0
    assert main(["template", str(book), "--folder", str(tmp_path / "back")]) == 2
    assert instances_equal(load_instance(tmp_path / "back"), reference[0]) == []
    assert main(["template", "--xlsx", str(tmp_path / "x.csv")]) == 2
    assert main(["template", str(DEMO), "--folder", str(tmp_path / "y")]) == 2  # --folder needs a workbook


def test_results_workbook_has_units_and_number_formats_on_every_sheet(tmp_path, reference):
    inst, sol = reference
    path = write_workbook(sol, tmp_path / "results.xlsx", inst)
    wb = openpyxl.load_workbook(path)
    assert {"summary", "sites", "flows", "costs", "regions", "parameters"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        assert "unit" in header or any("[" in str(h) for h in header), ws.title
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    assert cell.number_format != "General", (ws.title, cell.coordinate, header[cell.column - 1])
    params = {r[0].value: (r[1].number_format, r[2].value) for r in wb["parameters"].iter_rows(min_row=2)}
    assert params["discount_rate"] == ("0.00%", "1/yr")
    assert params["pack_cost_per_t_km"][1] == "USD/(t km)"
