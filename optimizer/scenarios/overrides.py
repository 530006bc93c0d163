"""Scenarios: named overrides of a base instance, applied as a pure function.

A scenario file (TOML) holds overrides only -- the base instance is always the command's argument::

    name = "cheap hubs, more LFP"
    supply = 0.8                    # multiplier on every region's supply
    supply_by_chemistry = {lfp = 1.5}
    supply_by_region = {"US-CA" = 1.2}    # a region id, or a value of the region column
    mix = {lfp = 2.0}               # scale LFP's share, keeping each region's total tonnes
    transport = 1.5                 # multiplier on every transport rate and quoted lane cost
    capex = 0.9                     # every size's capex (spokes and hubs) ...
    spoke_capex = 1.0               # ... or one kind
    hub_capex = 0.8
    opex = 1.0
    yield = 1.0                     # black-mass yields (capped at 1)
    revenue = 1.2                   # hub revenue per tonne
    merchant_price = 0.9            # merchant black-mass prices (sign kept)
    force_open = ["H-US-OH-COLUMBUS"]
    forbid = ["S-US-CA-LOS-ANGELES"]
    service_radius_km = 500
    min_collection_rate = 0.9

:func:`parse_scenario` checks every key, value and site id against the base instance before any
solve and raises :class:`~optimizer.errors.InstanceError` naming the offending entry; :func:`apply`
returns a new :class:`~optimizer.instance.Instance` (the base is never modified).  Multipliers
compose: ``supply`` x ``supply_by_chemistry`` x ``supply_by_region``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InstanceError, Issue
from ..instance import Instance

MULTIPLIERS = ("supply", "transport", "capex", "spoke_capex", "hub_capex", "opex", "yield", "revenue", "merchant_price")
TABLES = ("supply_by_chemistry", "supply_by_region", "mix")
SITE_LISTS = ("force_open", "forbid")
VALUES = ("service_radius_km", "min_collection_rate")
KNOWN = ("name", "description") + MULTIPLIERS + TABLES + SITE_LISTS + VALUES


@dataclass(frozen=True)
class Scenario:
    """Overrides of a base instance (see module docstring); empty = the base itself."""

    name: str = "base"
    overrides: dict = field(default_factory=dict)
    #: the folder a sweep writes this scenario to: a safe slug of the name, unique in its sweep
    #: (see :func:`safe_folder_name`); empty = the slug of the name
    folder: str = ""

    @property
    def dir_name(self) -> str:
        """The scenario's folder name under the sweep's ``--out`` (a safe slug of its name unless given)."""
        return self.folder or safe_folder_name(self.name)

    def key(self) -> str:
        """Stable text of the overrides (sorted), for ids and hashes."""
        return json.dumps(self.overrides, sort_keys=True, default=str)

    def hash(self, base: Instance, options: dict | None = None) -> str:
        """SHA-256 over the base instance's inputs, the overrides and the solve options (the resume key)."""
        h = hashlib.sha256()
        h.update(base.input_hash.encode())
        h.update(self.key().encode())
        h.update(json.dumps(options or {}, sort_keys=True, default=str).encode())
        return h.hexdigest()


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_folder_name(name: str, taken: set[str] | None = None) -> str:
    """A folder name made from ``name`` that stays inside its parent on every system: ASCII
    letters, digits and ``. _ + -`` only (everything else becomes ``-``; no separators, no
    ``..``), no leading dot or dash, at most 80 characters, never a reserved Windows name; with
    ``taken`` (lower-cased names already used, updated here) made unique by a ``-2``, ``-3`` ...
    suffix, compared ignoring case as macOS and Windows do."""
    import unicodedata

    slug = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._+-]+", "-", slug).strip(".-_+")[:80].rstrip(".-_+") or "scenario"
    if slug.upper().split(".")[0] in _RESERVED:
        slug = f"{slug}_"
    if taken is None:
        return slug
    out, k = slug, 2
    while out.lower() in taken:
        out = f"{slug[:76]}-{k}"
        k += 1
    taken.add(out.lower())
    return out


def _issue(source: str, key: str, expected: str, got) -> Issue:
    return Issue(source, None, key, expected, repr(got))


def parse_scenario(data: dict, base: Instance, source: str = "scenario") -> Scenario:
    """Validate a scenario's overrides against ``base``; raise InstanceError with every problem."""
    issues: list[Issue] = []
    out: dict = {}
    site_ids = set(base.spokes["id"]) | set(base.hubs["id"])
    region_keys = set(base.regions["id"]) | set(base.regions["region"])
    for key, value in data.items():
        if key in ("name", "description"):
            continue
        if key not in KNOWN:
            close = difflib.get_close_matches(key, KNOWN, n=1)
            issues.append(_issue(source, key, "a known override (" + ", ".join(KNOWN[2:]) + ")",
                                 f"unknown factor '{key}'" + (f"; did you mean '{close[0]}'?" if close else "")))
            continue
        if key in MULTIPLIERS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                issues.append(_issue(source, key, "a non-negative multiplier (1 = unchanged)", value))
                continue
            out[key] = float(value)
        elif key in TABLES:
            if not isinstance(value, dict):
                issues.append(_issue(source, key, "a table of multipliers, e.g. {lfp = 1.5}", value))
                continue
            clean = {}
            for k, v in value.items():
                known = region_keys if key == "supply_by_region" else set(base.chem_names)
                if k not in known:
                    what = "a region id or region" if key == "supply_by_region" else "a declared chemistry (" + ", ".join(base.chem_names) + ")"
                    issues.append(_issue(source, f"{key}.{k}", what, k))
                elif isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                    issues.append(_issue(source, f"{key}.{k}", "a non-negative multiplier", v))
                else:
                    clean[k] = float(v)
            out[key] = clean
        elif key in SITE_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                issues.append(_issue(source, key, "a list of site ids", value))
                continue
            for sid in value:
                if sid not in site_ids:
                    close = difflib.get_close_matches(sid, sorted(site_ids), n=1)
                    issues.append(_issue(source, key, "ids of spokes or hubs in the base instance",
                                         f"unknown site '{sid}'" + (f"; did you mean '{close[0]}'?" if close else "")))
            out[key] = list(value)
        elif key == "service_radius_km":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                issues.append(_issue(source, key, "a radius in km > 0", value))
                continue
            out[key] = float(value)
        elif key == "min_collection_rate":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                issues.append(_issue(source, key, "a share in [0, 1]", value))
                continue
            out[key] = float(value)
    excluded = set(base.spokes.loc[base.spokes["status"] == "excluded", "id"]) | set(base.hubs.loc[base.hubs["status"] == "excluded", "id"])
    for sid in out.get("force_open", []):
        if sid in excluded:
            issues.append(_issue(source, "force_open", "a site that is not excluded in the base instance", sid))
    both = set(out.get("force_open", [])) & set(out.get("forbid", []))
    for sid in sorted(both):
        issues.append(_issue(source, "force_open", "a site not also in forbid", sid))
    if issues:
        raise InstanceError(issues, source)
    return Scenario(name=str(data.get("name", "scenario")), overrides=out)


def read_toml_file(path: Path, what: str) -> dict:
    """A TOML file's data, or an InstanceError naming the file and what went wrong."""
    from ..limits import too_large

    if (big := too_large(path, "SPOKEHUB_MAX_TOML_MB")) is not None:
        raise InstanceError([Issue(path.name, None, None, big, "a larger file")], str(path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except RecursionError:
        raise InstanceError([Issue(path.name, None, None, f"a TOML {what}", "values nested too deeply to read")], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError([Issue(path.name, None, None, f"a readable UTF-8 TOML {what}", str(exc))], str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InstanceError([Issue(path.name, None, None, "valid TOML syntax", str(exc))], str(path)) from exc


def load_scenario(path: str | Path, base: Instance) -> Scenario:
    """A scenario file (TOML of overrides) checked against ``base``; its name defaults to the file's stem."""
    path = Path(path)
    data = read_toml_file(path, "scenario file")
    sc = parse_scenario(data, base, path.name)
    return dataclasses.replace(sc, name=str(data.get("name", path.stem)))


def _scale_supply(df: pd.DataFrame, chems, o: dict, region_of: dict | None, wide: bool) -> pd.DataFrame:
    df = df.copy()
    g = o.get("supply", 1.0)
    by_c = o.get("supply_by_chemistry", {})
    by_r = o.get("supply_by_region", {})
    if wide:
        rf = np.array([by_r.get(rid, by_r.get(region_of.get(rid, ""), 1.0)) for rid in df["id"]])
        for c in chems:
            df[f"{c}_t"] = df[f"{c}_t"].to_numpy(float) * g * by_c.get(c, 1.0) * rf
        return df
    rf = np.array([by_r.get(rid, by_r.get(region_of.get(rid, ""), 1.0)) for rid in df["region_id"]])
    cf = df["chemistry"].map(lambda c: by_c.get(c, 1.0)).to_numpy(float)
    df["supply_t"] = df["supply_t"].to_numpy(float) * g * cf * rf
    return df


def _mix(df: pd.DataFrame, chems, mix: dict, wide: bool) -> pd.DataFrame:
    """Scale the named chemistries' shares; the rest shrink in proportion; totals per row kept."""
    if not mix:
        return df
    df = df.copy()
    if not wide:  # long supply: pivot to wide per (region, period), apply, melt back
        w = df.pivot_table(index=["region_id", "period"], columns="chemistry", values="supply_t", aggfunc="sum").fillna(0.0)
        w.columns = [f"{c}_t" for c in w.columns]
        w = _mix(w.reset_index().rename(columns={"region_id": "id"}), chems, mix, True)
        long = w.melt(id_vars=["id", "period"], value_vars=[f"{c}_t" for c in chems], var_name="chemistry", value_name="supply_t")
        long["chemistry"] = long["chemistry"].str.removesuffix("_t")
        return long.rename(columns={"id": "region_id"})[["region_id", "chemistry", "period", "supply_t"]]
    cols = [f"{c}_t" for c in chems]
    total = df[cols].sum(axis=1).to_numpy(float)
    scaled = {c: df[f"{c}_t"].to_numpy(float) * mix.get(c, 1.0) for c in chems}
    moved = sum(scaled[c] for c in chems if c in mix)
    moved = np.minimum(moved, total)
    rest_before = sum(df[f"{c}_t"].to_numpy(float) for c in chems if c not in mix)
    factor = np.divide(total - moved, rest_before, out=np.zeros_like(total), where=rest_before > 0)
    named = sum(scaled[c] for c in chems if c in mix)
    cap = np.divide(moved, named, out=np.zeros_like(total), where=named > 0)
    for c in chems:
        df[f"{c}_t"] = scaled[c] * cap if c in mix else df[f"{c}_t"].to_numpy(float) * factor
    return df


def apply(base: Instance, scenario: Scenario) -> Instance:
    """The base instance with the scenario's overrides applied (a new Instance)."""
    o = scenario.overrides
    if not o:
        return base
    chems = list(base.chem_names)
    region_of = dict(zip(base.regions["id"], base.regions["region"], strict=True))
    regions = _mix(_scale_supply(base.regions, chems, o, region_of, True), chems, o.get("mix", {}), True)
    supply_by_period = base.supply_by_period
    supply_table, growth_table = base.supply_table, base.growth_table
    if supply_by_period is not None:
        supply_by_period = _mix(_scale_supply(supply_by_period, chems, o, region_of, False), chems, o.get("mix", {}), False)
        if any(k in o for k in ("supply", "supply_by_chemistry", "supply_by_region", "mix")):
            # the scenario's supply per period is now given, not a growth path from the base
            supply_table = supply_by_period.assign(period=supply_by_period["period"].astype(int))[
                ["region_id", "period", "chemistry", "supply_t"]].reset_index(drop=True)
            growth_table = None
    p = base.params
    params = dataclasses.replace(
        p,
        pack_cost_per_t_km=p.pack_cost_per_t_km * o.get("transport", 1.0),
        black_mass_cost_per_t_km=p.black_mass_cost_per_t_km * o.get("transport", 1.0),
        service_radius_km=o.get("service_radius_km", p.service_radius_km),
        min_collection_rate=o.get("min_collection_rate", p.min_collection_rate),
    )
    lanes = base.lanes.copy()
    if "transport" in o and len(lanes):
        lanes["cost_per_t"] = lanes["cost_per_t"] * o["transport"]
    chem_objs = tuple(
        dataclasses.replace(
            c,
            black_mass_yield=min(1.0, c.black_mass_yield * o.get("yield", 1.0)),
            merchant_price_per_t=None if c.merchant_price_per_t is None else c.merchant_price_per_t * o.get("merchant_price", 1.0),
            hub_revenue_per_t=None if c.hub_revenue_per_t is None else c.hub_revenue_per_t * o.get("revenue", 1.0),
        ) for c in base.chemistries)
    spoke_sizes = base.spoke_sizes.copy()
    hub_sizes = base.hub_sizes.copy()
    spoke_sizes["capex"] *= o.get("capex", 1.0) * o.get("spoke_capex", 1.0)
    hub_sizes["capex"] *= o.get("capex", 1.0) * o.get("hub_capex", 1.0)
    for sz in (spoke_sizes, hub_sizes):
        sz["fixed_opex_per_yr"] *= o.get("opex", 1.0)
    spokes, hubs = base.spokes.copy(), base.hubs.copy()
    forbid = set(o.get("forbid", []))
    notes = list(base.notes)
    for kind, df, sizes in (("spoke", spokes, base.spoke_sizes), ("hub", hubs, base.hub_sizes)):
        closing = df[df["id"].isin(forbid) & (df["status"] == "existing")]
        for r in closing.itertuples(index=False):
            cap = sizes.loc[(sizes["site_id"] == r.id) & (sizes["size"] == r.existing_size), "capacity_t"]
            unit = "t packs/yr" if kind == "spoke" else "t black mass/yr"
            notes.append(f"scenario '{scenario.name}' forbids the existing {kind} {r.id}"
                         + (f" ({r.name})" if r.name else "") + f": it is closed in this scenario and its installed "
                         f"{r.existing_size} size ({float(cap.iat[0]) if len(cap) else 0:,.0f} {unit}) goes unused")
        df.loc[df["id"].isin(forbid), "status"] = "excluded"
        df.loc[df["id"].isin(forbid), "existing_size"] = ""
    return dataclasses.replace(
        base, name=f"{base.name} [{scenario.name}]", regions=regions, supply_by_period=supply_by_period,
        supply_table=supply_table, growth_table=growth_table,
        params=params, lanes=lanes, chemistries=chem_objs, spoke_sizes=spoke_sizes, hub_sizes=hub_sizes,
        spokes=spokes, hubs=hubs, forced_open=tuple(sorted(set(base.forced_open) | set(o.get("force_open", [])))),
        notes=tuple(notes),
    )
