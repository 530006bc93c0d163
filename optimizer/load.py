"""Reading and writing instance folders.

:func:`load_instance` reads a folder (``instance.toml`` + CSV files, see the README's format
section), collects every problem into one :class:`~optimizer.errors.InstanceError`, and returns a
validated :class:`~optimizer.instance.Instance`; :func:`make_instance` builds one from DataFrames
with the same checks; :func:`save_instance` writes one back so that loading it gives an equal
instance (:func:`instances_equal`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema
from .csvread import RawTable, parse_table, read_raw
from .errors import InstanceError, Issue
from .instance import Chemistry, Instance, Parameters, Periods, geojson_key
from .validate import validate_instance

TOML_FILE = "instance.toml"
GEOJSON_FILE = "regions.geojson"


def make_instance(
    name: str,
    chemistries: tuple[Chemistry, ...] | list[Chemistry],
    params: Parameters,
    regions: pd.DataFrame,
    spokes: pd.DataFrame,
    spoke_sizes: pd.DataFrame,
    hubs: pd.DataFrame | None = None,
    hub_sizes: pd.DataFrame | None = None,
    lanes: pd.DataFrame | None = None,
    currency: str = "USD",
    description: str = "",
    validate: bool = True,
    periods: Periods | None = None,
    supply_by_period: pd.DataFrame | None = None,
    channels: pd.DataFrame | None = None,
    channel_shares: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    collection_points: pd.DataFrame | None = None,
    collection_point_modes: pd.DataFrame | None = None,
) -> Instance:
    """Build an instance from DataFrames (benchmark importers, generators, notebooks).

    Optional columns are filled with their schema defaults; ``validate`` runs the same
    cross-table checks as :func:`load_instance` and raises :class:`InstanceError`.
    """
    chemistries = tuple(chemistries)
    chem_names = tuple(c.name for c in chemistries)
    frames = {}
    given = {"regions.csv": regions, "spokes.csv": spokes, "spoke_sizes.csv": spoke_sizes,
             "hubs.csv": hubs, "hub_sizes.csv": hub_sizes, "lanes.csv": lanes,
             "channels.csv": channels, "channel_shares.csv": channel_shares, "offers.csv": offers,
             "collection_points.csv": collection_points, "collection_point_modes.csv": collection_point_modes}
    for spec in schema.TABLES:
        specs = spec.columns_for(chem_names)
        df = given[spec.file]
        if df is None:
            frames[spec.file] = _empty_frame(specs)
            continue
        df = df.copy().reset_index(drop=True)
        for s in specs:
            if s.name not in df.columns:
                if s.required and not (s.kind == "float" and spec.file == "lanes.csv"):
                    raise ValueError(f"{spec.file}: column '{s.name}' is required")
                df[s.name] = s.default if s.default is not None else (float("nan") if s.kind == "float" else None)
        if "source_row" not in df.columns:
            df["source_row"] = -1
        frames[spec.file] = _coerce(df[[s.name for s in specs] + ["source_row"]], specs)
    reg = frames["regions.csv"]
    if len(reg):
        reg["region"] = reg["region"].where(reg["region"] != "", reg["id"])
    inst = Instance(
        name=name, currency=currency, chemistries=chemistries, params=params,
        regions=reg, spokes=frames["spokes.csv"], hubs=frames["hubs.csv"],
        spoke_sizes=frames["spoke_sizes.csv"], hub_sizes=frames["hub_sizes.csv"], lanes=frames["lanes.csv"],
        **{spec.attr: frames[spec.file] for spec in (*schema.CHANNEL_TABLES, *schema.COLLECTION_POINT_TABLES)},
        description=description, periods=periods,
    )
    issues: list[Issue] = []
    if validate:
        issues = validate_instance(inst)
    if periods is not None:
        supply_table = None
        if supply_by_period is None:
            empty = _empty_frame(schema.GROWTH.columns_for(chem_names))
            supply_by_period = _supply_by_period(inst, None, empty, False, issues)
        else:
            supply_by_period = supply_by_period.assign(period=supply_by_period["period"].astype(str))
            supply_table = supply_by_period.assign(period=supply_by_period["period"].astype(int))[
                ["region_id", "period", "chemistry", "supply_t"]].reset_index(drop=True)
        inst = dataclasses.replace(inst, supply_by_period=supply_by_period.reset_index(drop=True), supply_table=supply_table)
    if any(i.severity == "error" for i in issues):
        raise InstanceError(issues, name)
    return inst


# --- loading -------------------------------------------------------------------------------------


@dataclasses.dataclass
class RawInputs:
    """An instance as read, before any value is parsed: what a folder (or a workbook, see
    :mod:`optimizer.workbook_instance`) hands to :func:`instance_from_raw`.

    ``tables`` maps every schema file to its cells (``None``: no such file); ``locate_toml``
    attaches a place to issues naming a TOML key; ``relabel`` rewrites every issue at the end
    (a workbook names sheets and cells instead of files); ``read_boundaries`` reads the region
    outlines, if any, appending its problems to the list it is given.
    """

    toml_data: dict
    toml_issues: list[Issue]
    tables: dict[str, RawTable | None]
    source: Path
    default_name: str
    input_hash: Callable[[], str]
    locate_toml: Callable[[list[Issue]], list[Issue]]
    read_boundaries: Callable[[list[Issue]], dict | None]
    relabel: Callable[[list[Issue]], list[Issue]] = lambda issues: issues


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance folder, or an instance workbook (a path ending in
    ``.xlsx``, see :mod:`optimizer.workbook_instance`); raise :class:`InstanceError` listing
    every problem."""
    folder = Path(path)
    if folder.suffix.lower() == ".xlsx" and not folder.is_dir():
        return _load_workbook(folder)
    if folder.is_file():
        raise InstanceError([Issue(str(folder), None, None,
                                   "an instance: a folder holding instance.toml and the CSV files, or an .xlsx workbook "
                                   "(see the README's 'Instance format')", f"a file ({folder.suffix or 'no suffix'})")], str(folder))
    if not folder.is_dir():
        raise InstanceError([Issue(str(folder), None, None, "an instance folder", "no such folder")], str(folder))
    toml_data, toml_issues = _read_toml(folder / TOML_FILE)
    tables = {spec.file: read_raw(folder / spec.file, spec.file) if (folder / spec.file).exists() else None
              for spec in schema.ALL_TABLES}
    gj = folder / GEOJSON_FILE
    return instance_from_raw(RawInputs(
        toml_data=toml_data, toml_issues=toml_issues, tables=tables, source=folder, default_name=folder.name,
        input_hash=lambda: hash_inputs(folder),
        locate_toml=lambda issues: _with_toml_lines(folder / TOML_FILE, issues),
        read_boundaries=lambda issues: _read_geojson(gj, issues) if gj.exists() else None))


def _load_workbook(path: Path) -> Instance:
    """An instance workbook through the folder's own parsing (:mod:`optimizer.workbook_instance`)."""
    from .workbook_instance import read_workbook

    book = read_workbook(path)
    return instance_from_raw(RawInputs(
        toml_data=book.toml_data, toml_issues=book.issues, tables=book.tables, source=path, default_name=path.stem,
        input_hash=lambda: book.input_hash, locate_toml=lambda issues: issues,
        read_boundaries=lambda issues: _read_geojson(book.outlines, issues) if book.outlines else None,
        relabel=book.relabel))


def instance_from_raw(raw: RawInputs) -> Instance:
    """Parse and validate :class:`RawInputs` through the schema: the one path by which a folder
    and a workbook become an :class:`Instance` (same parsing, same checks, same messages)."""
    toml_data = raw.toml_data
    issues: list[Issue] = list(raw.toml_issues)
    n_before = len(issues)
    chemistries, params, meta = _parse_toml(toml_data, issues)
    if len(issues) > n_before:
        issues[n_before:] = raw.locate_toml(issues[n_before:])
    chem_names = tuple(c.name for c in chemistries)

    periods = _parse_periods(toml_data.get("periods"), chem_names, issues) if toml_data else None
    if len(issues) > n_before:
        issues[n_before:] = raw.locate_toml(issues[n_before:])

    frames = _parse_tables(raw.tables, chem_names, issues)
    reg = frames["regions.csv"]
    if len(reg):
        reg["region"] = reg["region"].where(reg["region"] != "", reg["id"])
    for spec in schema.PERIOD_TABLES:
        if raw.tables[spec.file] is not None and periods is None and toml_data:
            issues.append(Issue(spec.file, None, None, f"a [periods] table in instance.toml ({spec.file} is for multi-period instances)",
                                "no [periods] table"))

    boundaries = raw.read_boundaries(issues)

    inst = Instance(
        name=meta.get("name") or raw.default_name,
        description=meta.get("description", ""),
        currency=meta.get("currency") or "",
        chemistries=chemistries,
        params=params,
        regions=frames["regions.csv"],
        spokes=frames["spokes.csv"],
        hubs=frames["hubs.csv"],
        spoke_sizes=frames["spoke_sizes.csv"],
        hub_sizes=frames["hub_sizes.csv"],
        lanes=frames["lanes.csv"],
        **{spec.attr: frames[spec.file] for spec in (*schema.CHANNEL_TABLES, *schema.COLLECTION_POINT_TABLES)},
        boundaries=boundaries,
        source=str(raw.source.resolve()),
        input_hash="" if any(i.severity == "error" for i in issues) else raw.input_hash(),
        raw_toml=toml_data,
        periods=periods,
    )
    if not any(i.severity == "error" for i in issues):
        issues += raw.locate_toml(validate_instance(inst))
    if periods is not None and not any(i.severity == "error" for i in issues):
        explicit = raw.tables["supply.csv"] is not None
        supply = _supply_by_period(inst, frames["supply.csv"], frames["growth.csv"], explicit, issues)
        inst = dataclasses.replace(
            inst, supply_by_period=supply,
            supply_table=frames["supply.csv"].drop(columns="source_row") if explicit else None,
            growth_table=frames["growth.csv"].drop(columns="source_row") if raw.tables["growth.csv"] is not None else None)
    issues = raw.relabel(issues)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise InstanceError(issues, str(raw.source))
    warnings = [i for i in issues if i.severity != "error"]
    if warnings:
        object.__setattr__(inst, "raw_toml", {**toml_data, "_warnings": [str(w) for w in warnings]})
    return inst


def _chems_from_regions(tables: dict[str, RawTable | None]) -> tuple[str, ...]:
    """The chemistries regions.csv has supply columns for (``<chem>_t``): what the CSV checks read
    when instance.toml declares none (it is broken, and says so), instead of refusing every
    per-chemistry column as unknown."""
    raw = tables.get("regions.csv")
    known = {f.name for f in schema.REGIONS.fields}
    if raw is None or not raw.header:
        return ()
    return tuple(h[:-2] for h in raw.header if h.endswith("_t") and h not in known and len(h) > 2)


def _parse_tables(tables: dict[str, RawTable | None], chem_names: tuple[str, ...], issues: list[Issue]) -> dict[str, pd.DataFrame]:
    """Every schema file's typed frame; a missing required file (or one another file needs) is an issue."""
    frames: dict[str, pd.DataFrame] = {}
    if not chem_names and any(i.file == TOML_FILE and i.severity == "error" for i in issues):
        chem_names = _chems_from_regions(tables)
    for spec in schema.TABLES + schema.PERIOD_TABLES:
        raw = tables[spec.file]
        if raw is None:
            needed_by = [o.file for o in schema.ALL_TABLES if spec.file in o.needs and tables[o.file] is not None]
            if spec.required_file or needed_by:
                why = f" ({spec.description})" if spec.required_file else f" ({', '.join(needed_by)} names its sites)"
                issues.append(Issue(spec.file, None, None, f"the file {spec.file}{why}", "no such file"))
            frames[spec.file] = _empty_frame(spec.columns_for(chem_names))
            continue
        specs = spec.columns_for(chem_names)
        if raw.header:
            _check_chem_columns(raw, spec, chem_names)
            rows = parse_table(raw, specs)
        else:
            rows = []
        issues += raw.issues
        frames[spec.file] = _frame(rows, specs)
    return frames


def instance_toml_data(inst: Instance) -> dict:
    """``instance.toml`` of ``inst`` as nested data (what :func:`save_instance` writes; keys
    the schema does not declare, such as ``[sources]``, are kept as read)."""
    data: dict = {"name": inst.name, "description": inst.description, "currency": inst.currency}
    data["chemistries"] = {c.name: {f.name: getattr(c, f.name) for f in schema.TOML_CHEMISTRY if getattr(c, f.name) is not None}
                           for c in inst.chemistries}
    p = inst.params
    for section, fields in schema.TOML_SECTIONS.items():
        body = {f.name: getattr(p, f.name) for f in fields if getattr(p, f.name) is not None}
        if body:
            data[section] = body
    if inst.periods is not None:
        per = inst.periods
        years = list(per.years)
        body = {"years": years, "end_year": years[-1] + per.lengths[-1], "base_year": per.base_year}
        growth = {("default" if k == "*" else k): v for k, v in per.growth.items()}
        if growth:
            body["growth"] = growth
        if per.capex_budget is not None:
            body["capex_budget"] = list(per.capex_budget)
        data["periods"] = body
    if isinstance(inst.raw_toml.get("sources"), dict):
        data["sources"] = inst.raw_toml["sources"]
    return data


def toml_text(data: dict) -> str:
    """TOML for nested dicts of scalars and lists (floats in full precision)."""

    def scalar(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"TOML cannot hold {v!r}")
            return repr(v)
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{_toml_key(k)} = {scalar(x)}" for k, x in v.items()) + "}"
        if isinstance(v, np.floating):
            return scalar(float(v))
        raise TypeError(f"no TOML form for {type(v).__name__}")

    def is_table(v) -> bool:  # a dict holding dicts is written as sub-tables, else inline
        return isinstance(v, dict) and any(isinstance(x, dict) for x in v.values())

    def table(prefix: str, d: dict, out: list[str]) -> None:
        if prefix and d and all(isinstance(v, dict) for v in d.values()):
            plain = {}  # [chemistries] holds one table per chemistry: [chemistries.nmc] ...
        else:
            plain = {k: v for k, v in d.items() if not is_table(v) and not (prefix == "" and isinstance(v, dict))}
        if plain:
            if prefix:
                out.append(f"\n[{prefix}]")
            out += [f"{_toml_key(k)} = {scalar(v)}" for k, v in plain.items()]
        for k, v in d.items():
            if k in plain:
                continue
            name = f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k)
            table(name, v, out)

    out: list[str] = []
    table("", data, out)
    return "\n".join(out) + "\n"


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", str(k)) else json.dumps(str(k))


def instance_tables(inst: Instance) -> dict[str, pd.DataFrame]:
    """Every file's table of ``inst``, by file name, with the schema's columns (empty tables
    for files the instance does not have)."""
    out = {}
    for spec in schema.ALL_TABLES:
        cols = [f.name for f in spec.columns_for(inst.chem_names)]
        df = getattr(inst, spec.attr)
        out[spec.file] = pd.DataFrame(columns=cols) if df is None else df[cols]
    return out


def save_instance(inst: Instance, folder: str | Path, force: bool = False) -> Path:
    """Write ``inst`` as an instance folder that :func:`load_instance` reads back equal.

    Every file the schema declares is written when the instance has rows for it (required files
    always); numbers in full precision; ``[periods]``, ``supply.csv`` and ``growth.csv`` of a
    multi-period instance included.  Atomic; an existing folder is replaced only with ``force``.
    """
    from .files import atomic_folder, csv_text

    tables = instance_tables(inst)
    with atomic_folder(folder, force=force) as tmp:
        (tmp / TOML_FILE).write_text(toml_text(instance_toml_data(inst)), encoding="utf-8")
        for spec in schema.ALL_TABLES:
            df = tables[spec.file]
            if df.empty and not spec.required_file:
                continue
            (tmp / spec.file).write_text(csv_text(df, na_rep=""), encoding="utf-8")
        if inst.boundaries:
            (tmp / GEOJSON_FILE).write_text(json.dumps(inst.boundaries), encoding="utf-8")
    return Path(folder)


def instances_equal(a: Instance, b: Instance) -> list[str]:
    """What differs between two instances' data (empty = equal): every table, parameter,
    chemistry, period and boundary; not where they were read from."""
    diffs = []
    for f in ("name", "description", "currency", "chemistries", "params", "periods", "boundaries", "forced_open"):
        if getattr(a, f) != getattr(b, f):
            diffs.append(f)
    for spec in schema.ALL_TABLES:
        x, y = getattr(a, spec.attr), getattr(b, spec.attr)
        if (x is None) != (y is None):
            diffs.append(spec.file)
            continue
        if x is None:
            continue
        cols = [c.name for c in spec.columns_for(a.chem_names)]
        if not _frames_equal(x[cols], y[cols]):
            diffs.append(spec.file)
    if (a.supply_by_period is None) != (b.supply_by_period is None) or (
            a.supply_by_period is not None and not _frames_equal(a.supply_by_period, b.supply_by_period)):
        diffs.append("supply_by_period")
    return diffs


def _frames_equal(x: pd.DataFrame, y: pd.DataFrame) -> bool:
    if list(x.columns) != list(y.columns) or len(x) != len(y):
        return False
    for c in x.columns:
        u, v = x[c].to_numpy(), y[c].to_numpy()
        if x[c].dtype.kind in "fi" or y[c].dtype.kind in "fi":
            u, v = u.astype(float), v.astype(float)
            if not np.array_equal(u, v, equal_nan=True):
                return False
        elif [str(t) for t in u] != [str(t) for t in v]:
            return False
    return True



def hash_inputs(folder: Path) -> str:
    """SHA-256 over the instance's files (names and bytes, sorted), for provenance and resume."""
    h = hashlib.sha256()
    names = [TOML_FILE, GEOJSON_FILE] + [s.file for s in schema.ALL_TABLES]
    for name in sorted(set(names)):
        p = folder / name
        if p.exists():
            h.update(name.encode())
            h.update(b"\0")
            with open(p, "rb") as fh:  # streamed: a large file costs no memory
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            h.update(b"\0")
    return h.hexdigest()


def _with_toml_lines(path: Path, issues: list[Issue]) -> list[Issue]:
    """Attach the line number of each TOML key an issue names (row = line in the file)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return issues
    where: dict[str, int] = {}
    section = ""
    for n, line in enumerate(lines, start=1):
        stripped = line.strip()
        m = re.match(r"^\[\s*([^\[\]]+?)\s*\]", stripped)
        if m:
            section = m.group(1).replace(" ", "").replace('"', "")
            where.setdefault(section, n)
            continue
        m = re.match(r"^([A-Za-z0-9_\-\.\"]+)\s*=", stripped)
        if m:
            key = m.group(1).replace('"', "")
            where.setdefault(f"{section}.{key}" if section else key, n)
    out = []
    for i in issues:
        if i.file == TOML_FILE and i.row is None and i.field:
            line = where.get(i.field)
            if line is None and "." in i.field:
                line = where.get(i.field.rsplit(".", 1)[0])  # missing key: point at its table
            i = dataclasses.replace(i, row=line)
        out.append(i)
    return out


def _read_toml(path: Path) -> tuple[dict, list[Issue]]:
    if not path.exists():
        return {}, [Issue(TOML_FILE, None, None, "the file instance.toml (name, currency, parameters)", "no such file")]
    from .limits import too_large

    if (big := too_large(path, "SPOKEHUB_MAX_TOML_MB")) is not None:
        return {}, [Issue(TOML_FILE, None, None, big, "a larger file")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, [Issue(TOML_FILE, None, None, "UTF-8 text", "bytes that are not UTF-8")]
    try:
        return tomllib.loads(text), []
    except RecursionError:
        return {}, [Issue(TOML_FILE, None, None, "valid TOML syntax", "values nested too deeply to read")]
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"line (\d+)", msg)
        line = int(m.group(1)) if m else None
        return {}, [Issue(TOML_FILE, line, None, "valid TOML syntax", msg)]


def _toml_value(spec: schema.FieldSpec, key: str, value, issues: list[Issue]):
    from .csvread import in_bounds

    kind = spec.kind
    if kind in ("str", "id"):
        if not isinstance(value, str) or (spec.required and not value.strip()):
            issues.append(Issue(TOML_FILE, None, key, spec.expected(), repr(value)))
            return spec.default
        return value.strip()
    if kind == "bool":
        if not isinstance(value, bool):
            issues.append(Issue(TOML_FILE, None, key, "true or false", repr(value)))
            return spec.default
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        issues.append(Issue(TOML_FILE, None, key, spec.expected(), repr(value)))
        return spec.default
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        issues.append(Issue(TOML_FILE, None, key, spec.expected(), repr(value)))
        return spec.default
    if kind == "int" and value != int(value):
        issues.append(Issue(TOML_FILE, None, key, spec.expected(), repr(value)))
        return spec.default
    if not in_bounds(spec, float(value)):
        expected = spec.expected()
        if key.endswith("discount_rate") and 1 <= value <= 100:
            expected += f" — it looks like a percentage: write {value / 100:g} for {value:g} %"
        issues.append(Issue(TOML_FILE, None, key, expected, repr(value)))
        return spec.default
    from .csvread import plausible

    if not plausible(spec, float(value)):
        issues.append(Issue(TOML_FILE, None, key, spec.plausible(), repr(value), severity="warning"))
    return int(value) if kind == "int" else float(value)


def _unknown_keys(table: dict, known: list[str], prefix: str, issues: list[Issue]) -> None:
    import difflib

    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            issues.append(
                Issue(TOML_FILE, None, f"{prefix}{key}", "one of the known keys: " + ", ".join(known), f"unknown key '{key}'{hint}")
            )


def _parse_section(table, fields, prefix: str, issues: list[Issue]) -> dict:
    out = {}
    if not isinstance(table, dict):
        issues.append(Issue(TOML_FILE, None, prefix.rstrip("."), "a table", repr(table)))
        table = {}
    _unknown_keys(table, [f.name for f in fields], prefix, issues)
    for spec in fields:
        key = prefix + spec.name
        if spec.name not in table:
            if spec.required:
                issues.append(Issue(TOML_FILE, None, key, f"{spec.expected()}: {spec.description}", "missing"))
            out[spec.name] = spec.default
        else:
            out[spec.name] = _toml_value(spec, key, table[spec.name], issues)
    return out


def _parse_toml(data: dict, issues: list[Issue]) -> tuple[tuple[Chemistry, ...], Parameters, dict]:
    sections = list(schema.TOML_SECTIONS)
    top_known = [f.name for f in schema.TOML_TOP] + ["chemistries", "sources", "periods"] + sections
    _unknown_keys({k: v for k, v in data.items()}, top_known, "", issues)
    meta = _parse_section({k: v for k, v in data.items() if k in [f.name for f in schema.TOML_TOP]}, schema.TOML_TOP, "", issues) if data else {}

    chemistries: list[Chemistry] = []
    chem_table = data.get("chemistries", {}) if data else {}
    if data and not chem_table:
        issues.append(Issue(TOML_FILE, None, "chemistries", "at least one [chemistries.<name>] table (e.g. [chemistries.nmc])", "none"))
    if isinstance(chem_table, dict):
        for name, table in chem_table.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                issues.append(Issue(TOML_FILE, None, f"chemistries.{name}", "a lower-case name of letters, digits and _", repr(name)))
                continue
            vals = _parse_section(table, schema.TOML_CHEMISTRY, f"chemistries.{name}.", issues)
            chemistries.append(Chemistry(name=name, **vals))

    values: dict = {}
    for section, fields in schema.TOML_SECTIONS.items():
        if not data:
            continue
        if section not in data and any(f.required for f in fields):
            issues.append(Issue(TOML_FILE, None, section, f"a [{section}] table", "missing"))
            continue
        values.update(_parse_section(data.get(section, {}), fields, f"{section}.", issues))

    if not data or any(i.severity == "error" and i.file == TOML_FILE for i in issues):
        # Placeholder parameters so CSV checks still run and report in the same pass.
        params = Parameters(pack_cost_per_t_km=0.0, black_mass_cost_per_t_km=0.0)
    else:
        rate = values.get("min_collection_rate")
        if rate is None:
            rate = 0.0 if values.get("uncollected_penalty_per_t") is not None else 1.0
        values["min_collection_rate"] = float(rate)
        params = Parameters(**values)
    return tuple(chemistries), params, meta


def _parse_periods(table, chem_names: tuple[str, ...], issues: list[Issue]) -> Periods | None:
    """``[periods]``: years, end_year, base_year, growth (number or per-chemistry table), capex_budget."""
    if table is None:
        return None
    if not isinstance(table, dict):
        issues.append(Issue(TOML_FILE, None, "periods", "a [periods] table", repr(table)))
        return None
    known = [f.name for f in schema.TOML_PERIODS]
    _unknown_keys(table, known, "periods.", issues)
    years = table.get("years")
    if (not isinstance(years, list) or len(years) < 1 or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
            or any(b <= a for a, b in zip(years, years[1:], strict=False))):
        issues.append(Issue(TOML_FILE, None, "periods.years", "a list of period start years, ascending (e.g. [2025, 2027, 2029])",
                            repr(years)))
        return None
    steps = [b - a for a, b in zip(years, years[1:], strict=False)]
    end = table.get("end_year", years[-1] + (steps[-1] if steps else 1))
    if not isinstance(end, int) or end <= years[-1]:
        issues.append(Issue(TOML_FILE, None, "periods.end_year", f"a year after the last period start {years[-1]}", repr(end)))
        return None
    lengths = tuple(steps + [end - years[-1]])
    base = table.get("base_year", years[0])
    if not isinstance(base, int):
        issues.append(Issue(TOML_FILE, None, "periods.base_year", "a year (integer)", repr(base)))
        return None
    growth_in = table.get("growth", 0.0)
    growth: dict = {}
    if isinstance(growth_in, (int, float)) and not isinstance(growth_in, bool):
        growth["*"] = float(growth_in)
    elif isinstance(growth_in, dict):
        for k, v in growth_in.items():
            if k not in chem_names and k != "default":
                issues.append(Issue(TOML_FILE, None, f"periods.growth.{k}", "a declared chemistry (" + ", ".join(chem_names) + ") or default", repr(k)))
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not -1 < v <= 5:
                issues.append(Issue(TOML_FILE, None, f"periods.growth.{k}", "a yearly growth fraction in (-1, 5], e.g. 0.4", repr(v)))
            else:
                growth["*" if k == "default" else k] = float(v)
    else:
        issues.append(Issue(TOML_FILE, None, "periods.growth", "a number or a table of numbers per chemistry", repr(growth_in)))
    if isinstance(growth.get("*"), float) and not -1 < growth["*"] <= 5:
        issues.append(Issue(TOML_FILE, None, "periods.growth", "a yearly growth fraction in (-1, 5] (0.4 = +40 %/yr)", repr(growth["*"])))
    budget_in = table.get("capex_budget")
    budget = None
    if budget_in is not None:
        values = budget_in if isinstance(budget_in, list) else [budget_in] * len(years)
        if len(values) != len(years) or any(isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in values):
            issues.append(Issue(TOML_FILE, None, "periods.capex_budget",
                                f"a non-negative number or a list of {len(years)} (one per period)", repr(budget_in)))
        else:
            budget = tuple(float(v) for v in values)
    return Periods(tuple(years), lengths, base, growth, budget)


def _supply_by_period(inst: Instance, supply: pd.DataFrame, growth: pd.DataFrame, explicit: bool,
                      issues: list[Issue]) -> pd.DataFrame:
    """Supply per region, chemistry and period: from supply.csv, or base supply x growth path."""
    per = inst.periods
    chems = list(inst.chem_names)
    regions = list(inst.regions["id"])
    if explicit:
        known_r, known_c, known_p = set(regions), set(chems), set(per.years)
        seen = {}
        for row in supply.itertuples(index=False):
            r = int(row.source_row) if row.source_row >= 0 else None
            if row.region_id not in known_r:
                issues.append(Issue("supply.csv", r, "region_id", "a region id from regions.csv", f"unknown id '{row.region_id}'"))
            if row.chemistry not in known_c:
                issues.append(Issue("supply.csv", r, "chemistry", "a declared chemistry (" + ", ".join(chems) + ")", f"'{row.chemistry}'"))
            if row.period not in known_p:
                issues.append(Issue("supply.csv", r, "period", "a period start year from [periods] years " + str(list(per.years)), f"{row.period}"))
            key = (row.region_id, row.chemistry, row.period)
            if key in seen:
                issues.append(Issue("supply.csv", r, "region_id", "each region, chemistry and period once", f"again (first on row {seen[key]})"))
            seen[key] = r
        missing = [(rg, c, y) for rg in regions for c in chems for y in per.years if (rg, c, y) not in seen]
        if missing:
            shown = ", ".join(f"{a}/{b}/{c}" for a, b, c in missing[:8])
            issues.append(Issue("supply.csv", None, None, "a row for every region x chemistry x period (missing values are never taken as 0)",
                                f"{len(missing)} missing, e.g. {shown}"))
        out = supply[["region_id", "chemistry", "period", "supply_t"]].copy()
        out["period"] = out["period"].astype(int).astype(str)
        return out.reset_index(drop=True)
    rates = {}
    for row in growth.itertuples(index=False):
        r = int(row.source_row) if row.source_row >= 0 else None
        if row.region_id not in set(regions):
            issues.append(Issue("growth.csv", r, "region_id", "a region id from regions.csv", f"unknown id '{row.region_id}'"))
        if row.chemistry not in chems:
            issues.append(Issue("growth.csv", r, "chemistry", "a declared chemistry", f"'{row.chemistry}'"))
        rates[(row.region_id, row.chemistry)] = float(row.growth)
    rows = []
    for c in chems:
        default = per.growth.get(c, per.growth.get("*", 0.0))
        base = inst.regions[f"{c}_t"].to_numpy(dtype=float)
        for t, label in enumerate(per.labels):
            factors = np.array([per.growth_factor(rates.get((rid, c), default), t) for rid in regions])
            rows.append(pd.DataFrame({"region_id": regions, "chemistry": c, "period": label, "supply_t": base * factors}))
    return pd.concat(rows, ignore_index=True)


def _check_chem_columns(raw, spec: schema.TableSpec, chem_names: tuple[str, ...]) -> None:
    """A per-chemistry column for an undeclared chemistry gets a message saying exactly that."""
    for template in spec.chem_fields:
        pre, _, post = template.name.partition("{chem}")
        pattern = re.compile("^" + re.escape(pre) + r"(.+)" + re.escape(post) + "$")
        for col in raw.header:
            m = pattern.match(col)
            if m and m.group(1) not in chem_names and col not in [f.name for f in spec.fields]:
                raw.issues.append(
                    Issue(
                        spec.file, 1, col,
                        "a chemistry declared in instance.toml ([chemistries.<name>]: "
                        + ", ".join(chem_names) + ")",
                        f"unknown chemistry '{m.group(1)}'",
                    )
                )
                raw.header = [h if h != col else "" for h in raw.header]


def _frame(rows: list[tuple[int, dict]], specs: list[schema.FieldSpec]) -> pd.DataFrame:
    cols = {s.name: [r[1].get(s.name) for r in rows] for s in specs}
    df = pd.DataFrame(cols)
    df["source_row"] = [r[0] for r in rows]
    return _coerce(df, specs)


def _empty_frame(specs: list[schema.FieldSpec]) -> pd.DataFrame:
    df = pd.DataFrame({s.name: [] for s in specs})
    df["source_row"] = pd.Series([], dtype="int64")
    return _coerce(df, specs)


def _coerce(df: pd.DataFrame, specs: list[schema.FieldSpec]) -> pd.DataFrame:
    for s in specs:
        if s.kind == "float":
            df[s.name] = pd.to_numeric(df[s.name], errors="coerce").astype(float)
        elif s.kind == "int":
            df[s.name] = pd.to_numeric(df[s.name], errors="coerce")
        elif s.kind == "bool":
            df[s.name] = df[s.name].map(lambda v: bool(v) if v is not None else False).astype(bool)
        else:
            df[s.name] = df[s.name].map(lambda v: "" if v is None else str(v)).astype(object)
    return df


def _read_geojson(path: Path, issues: list[Issue]) -> dict | None:
    """``regions.geojson``: a FeatureCollection whose features carry a region id and a real
    polygon.  A feature with a missing, null or unreadable geometry is refused here, with its
    index: the map would otherwise fail after the solve."""
    from .limits import too_large

    if (big := too_large(path, "SPOKEHUB_MAX_INPUT_MB")) is not None:
        issues.append(Issue(GEOJSON_FILE, None, None, big, "a larger file"))
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        issues.append(Issue(GEOJSON_FILE, None, None, "a GeoJSON FeatureCollection", str(exc)))
        return None
    except RecursionError:
        issues.append(Issue(GEOJSON_FILE, None, None, "a GeoJSON FeatureCollection", "JSON nested too deeply to read"))
        return None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        issues.append(Issue(GEOJSON_FILE, None, "type", "a GeoJSON FeatureCollection", repr(data.get("type") if isinstance(data, dict) else data)[:60]))
        return None
    features = data.get("features")
    if not isinstance(features, list):
        issues.append(Issue(GEOJSON_FILE, None, "features", "a list of features", repr(features)[:60]))
        return None
    from shapely.geometry import shape

    n_before = len(issues)
    for k, feat in enumerate(features):
        where = f"features[{k}]"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            issues.append(Issue(GEOJSON_FILE, None, where, "a GeoJSON Feature", repr(feat)[:60]))
            continue
        key = geojson_key(feat)
        if key is None:
            issues.append(Issue(GEOJSON_FILE, None, f"{where}.properties.id", "each feature to carry its region id in properties.id", "no id"))
        label = f" (region '{key}')" if key else ""
        geom = feat.get("geometry")
        if geom is None:
            issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"a Polygon or MultiPolygon{label}", "null"))
            continue
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            got = geom.get("type") if isinstance(geom, dict) else geom
            issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"a Polygon or MultiPolygon{label}", repr(got)[:60]))
            continue
        try:
            poly = shape(geom)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types on bad coordinates
            issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"readable polygon coordinates{label}", str(exc)[:120]))
            continue
        if poly.is_empty:
            issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"a non-empty polygon{label}", "an empty geometry"))
        elif not poly.is_valid:
            from shapely.validation import explain_validity

            issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"a valid polygon{label} (repair it in a GIS, e.g. QGIS 'Fix geometries')",
                                explain_validity(poly)[:120]))
        else:
            lon_lat = np.asarray(poly.bounds, dtype=float)
            if not (np.all(np.isfinite(lon_lat)) and -180 <= lon_lat[0] <= lon_lat[2] <= 180 and -90 <= lon_lat[1] <= lon_lat[3] <= 90):
                issues.append(Issue(GEOJSON_FILE, None, f"{where}.geometry", f"longitude/latitude coordinates (WGS84){label}",
                                    f"bounds {tuple(round(float(v), 3) for v in lon_lat)}"))
    return data if len(issues) == n_before else None
