"""Scenarios: named overrides of a base instance, applied as a pure function.

A scenario file (TOML) holds overrides only -- the base instance is always the command's argument::

    name = "cheap hubs, more LFP"
    supply = 0.8                    # factor on every region's supply
    supply_by_chemistry = {lfp = 1.5}
    supply_by_region = {"US-CA" = 1.2}    # a region id, or a value of the region column
    mix = {lfp = 2.0}               # scale LFP's share, keeping each region's total tonnes
    transport = 1.5                 # every transport rate and quoted lane cost ...
    transport_rates = 1.2           # ... or the rates only, quoted lanes as quoted
    hub_capex = 0.8                 # a factor on one tier's capex ...
    capex_by_group = {alliance = 0.9}   # ... on a group's (the sites' group column) ...
    capacity_by_site = {"H-US-OH-COLUMBUS" = 1.5}   # ... on one site's
    spoke_min_throughput = 0.5
    penalty = 2.0
    force_open = ["H-US-OH-COLUMBUS"]
    forbid = ["S-US-CA-LOS-ANGELES"]
    service_radius_km = 500         # any instance.toml parameter, by its key: a value
    max_hubs = "none"               # "none" clears an optional one

The levers, their scopes and the value keys are declared once, in
:data:`optimizer.schema.SCENARIO_LEVERS` (the README's lever table is generated from it).
Factors of every scope that reaches a number multiply (``capex`` x ``hub_capex`` x
``capex_by_group`` x ``capex_by_site``); values replace a parameter first and factors then scale
it (``spoke_cost_per_t = 300`` with ``processing_cost = 1.1`` gives 330).

:func:`parse_scenario` checks every key, value and id against the base instance before any solve
(and the tier rules -- minimum throughput within capacity, site counts -- on the result) and
raises :class:`~optimizer.errors.InstanceError` naming the offending entry; :func:`apply` returns a
new :class:`~optimizer.instance.Instance` (the base is never modified).
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

from ..csvread import in_bounds
from ..errors import InstanceError, Issue
from ..instance import Instance
from ..schema import Lever, scenario_keys
from ..tiers import LEGS, REGION, TIERS

KEYS = scenario_keys()
META = ("name", "description")
#: keys whose change can break a tier rule (checked on the applied instance)
_RULE_LEVERS = {"capacity", "min_throughput", "forbid", *(f"{w}_{t.plural}" for t in TIERS for w in ("min", "max"))}


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


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _table_keys(base: Instance, scope: str) -> tuple[set[str], str]:
    """The keys a ``<lever>_by_<scope>`` table may hold in ``base``, and what they are called."""
    if scope == "chemistry":
        return set(base.chem_names), "a declared chemistry (" + ", ".join(base.chem_names) + ")"
    if scope == "region":
        return set(base.regions["id"]) | set(base.regions["region"]), "a region id or a value of the region column"
    if scope == "channel":
        ids = set(base.channels["id"]) if base.has_channels else set()
        return ids, "a channel id of the base instance (" + (", ".join(sorted(ids)) or "none: it declares no channels") + ")"
    if scope == "leg":
        return {leg.name for leg in LEGS}, "a leg (" + ", ".join(leg.name for leg in LEGS) + ")"
    sites = [getattr(base, t.sites) for t in TIERS]
    if scope == "site":
        return set().union(*(set(df["id"]) for df in sites)), "a site id of the base instance"
    groups = set().union(*(set(df["group"]) for df in sites if "group" in df.columns)) - {""}
    return groups, "a site group of the base instance (" + (", ".join(sorted(groups)) or "none: no site has a group") + ")"


def _id_list(key: str, value, base: Instance, kind: str, source: str, issues: list[Issue]) -> list[str] | None:
    """A list of ids of ``kind`` (site, channel) of ``base``; each unknown one an issue with a near miss."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        issues.append(_issue(source, key, f"a list of {kind} ids", value))
        return None
    known, what = _table_keys(base, kind)
    expected = "ids of sites in the base instance" if kind == "site" else what
    for ident in value:
        if ident not in known:
            close = difflib.get_close_matches(ident, sorted(known), n=1)
            issues.append(_issue(source, key, expected, f"unknown {kind} '{ident}'" + (f"; did you mean '{close[0]}'?" if close else "")))
    return list(value)


def _parse_entry(key: str, value, lever: Lever, scope: str, base: Instance, source: str, issues: list[Issue]):
    """The checked value of one override (None after recording an issue)."""
    n = len(issues)
    if lever.kind == "factor" and (scope == "all" or scope.startswith("tier:")):
        if not _is_number(value) or value < 0:
            issues.append(_issue(source, key, "a non-negative factor (1 = unchanged)", value))
        return None if len(issues) > n else float(value)
    if lever.kind in ("factor", "mix"):
        if not isinstance(value, dict):
            issues.append(_issue(source, key, "a table of factors, e.g. {lfp = 1.5}", value))
            return None
        known, what = _table_keys(base, "chemistry" if lever.kind == "mix" else scope)
        clean = {}
        for k, v in value.items():
            if k not in known:
                close = difflib.get_close_matches(str(k), sorted(known), n=1)
                issues.append(_issue(source, f"{key}.{k}", what, f"{k}" + (f"; did you mean '{close[0]}'?" if close else "")))
            elif not _is_number(v) or v < 0:
                issues.append(_issue(source, f"{key}.{k}", "a non-negative factor", v))
            else:
                clean[str(k)] = float(v)
        return clean
    if lever.kind in ("channels", "sites"):
        return _id_list(key, value, base, lever.kind[:-1], source, issues)
    spec = lever.spec  # a value: checked against the instance field it replaces
    if isinstance(value, str) and value.strip().lower() == "none" and not spec.required:
        return None
    if spec.kind == "bool":
        if not isinstance(value, bool):
            issues.append(_issue(source, key, "true or false", value))
        return bool(value)
    if not _is_number(value) or (spec.kind == "int" and float(value) != int(value)) or not in_bounds(spec, float(value)):
        clear = '; "none" clears it' if not spec.required else ""
        issues.append(_issue(source, key, spec.expected() + clear, value))
        return None
    return int(value) if spec.kind == "int" else float(value)


def parse_scenario(data: dict, base: Instance, source: str = "scenario") -> Scenario:
    """Validate a scenario's overrides against ``base``; raise InstanceError with every problem."""
    issues: list[Issue] = []
    out: dict = {}
    for key, value in data.items():
        if key in META:
            continue
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            issues.append(_issue(source, key, "a known override (see the README's scenario levers)",
                                 f"unknown factor '{key}'" + (f"; did you mean '{close[0]}'?" if close else "")))
            continue
        lever, scope = KEYS[key]
        n = len(issues)
        parsed = _parse_entry(key, value, lever, scope, base, source, issues)
        if len(issues) == n:
            out[key] = parsed
    excluded = set().union(*(set(df.loc[df["status"] == "excluded", "id"]) for df in (getattr(base, t.sites) for t in TIERS)))
    for sid in out.get("force_open", []):
        if sid in excluded:
            issues.append(_issue(source, "force_open", "a site that is not excluded in the base instance", sid))
    for sid in sorted(set(out.get("force_open", [])) & set(out.get("forbid", []))):
        issues.append(_issue(source, "force_open", "a site not also in forbid", sid))
    if not issues and any(KEYS[k][0].name in _RULE_LEVERS for k in out):
        from ..validate import tier_rules

        applied = apply(base, Scenario("check", out))
        for i in tier_rules(applied):
            if i.severity == "error":
                issues.append(Issue(source, None, ", ".join(k for k in out if KEYS[k][0].name in _RULE_LEVERS),
                                    f"overrides that keep the instance's rules: {i.file}, field '{i.field}' expected "
                                    f"{i.expected}", i.got))
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


def _factor(o: dict, lever: str, scope_key: str | None = None) -> float:
    """The product of a lever's plain factor and one narrower plain factor (``hub_capex``)."""
    f = o.get(lever, 1.0)
    return f * o.get(scope_key, 1.0) if scope_key else f


def _site_factors(o: dict, lever: str, t, sites: pd.DataFrame) -> np.ndarray:
    """Per site of tier ``t``: lever x <tier>_lever x by_group[group] x by_site[id]."""
    f = np.full(len(sites), _factor(o, lever, f"{t.name}_{lever}"))
    by_group, by_site = o.get(f"{lever}_by_group", {}), o.get(f"{lever}_by_site", {})
    if by_group and "group" in sites.columns:
        f *= sites["group"].map(lambda g: by_group.get(g, 1.0)).to_numpy(dtype=float)
    if by_site:
        f *= sites["id"].map(lambda i: by_site.get(i, 1.0)).to_numpy(dtype=float)
    return f


def _scaled_tier(o: dict, t, params: dict, sites: pd.DataFrame, sizes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One tier's sites and size options with the site-scoped factors applied (``params``, the
    instance's parameters as a dict, gets the tier's processing cost scaled)."""
    sites, sizes = sites.copy(), sizes.copy()
    by_id = dict(zip(sites["id"], range(len(sites)), strict=True))
    rows = sizes["site_id"].map(by_id).to_numpy(dtype=np.int64)  # int also when the tier has no sites
    for lever, column in (("capacity", "capacity_t"), ("capex", "capex"), ("opex", "fixed_opex_per_yr"),
                          ("min_throughput", "min_throughput_t")):
        if column in sizes.columns:
            sizes[column] = sizes[column].to_numpy(dtype=float) * _site_factors(o, lever, t, sites)[rows]
    if "closure_cost" in sites.columns:
        sites["closure_cost"] = sites["closure_cost"].to_numpy(dtype=float) * _site_factors(o, "closure_cost", t, sites)
    # processing cost: the tier-wide factor scales the tier's parameter and every site's own
    # cost; a group or site factor gives its sites their own cost (theirs or the tier's, scaled)
    tier_f = _factor(o, "processing_cost", f"{t.name}_processing_cost")
    full = _site_factors(o, "processing_cost", t, sites)
    tier_cost = params[t.cost_param]
    params[t.cost_param] = tier_cost * tier_f
    narrowed = full != tier_f
    if "processing_cost_per_t" in sites.columns or narrowed.any():
        own = sites.get("processing_cost_per_t", pd.Series(np.nan, index=sites.index)).to_numpy(dtype=float)
        new = own * tier_f
        new[narrowed] = np.where(np.isnan(own), tier_cost, own)[narrowed] * full[narrowed]
        sites["processing_cost_per_t"] = new
    return sites, sizes


def _leg_of_lane(base: Instance) -> np.ndarray:
    """The leg name of each lanes.csv row (from the kinds of its origin and destination)."""
    kind = {i: REGION for i in base.regions["id"]}
    for t in TIERS:
        kind.update({i: t.name for i in getattr(base, t.sites)["id"]})
    leg = {(g.origin, g.destination): g.name for g in LEGS}
    return np.array([leg.get((kind.get(o), kind.get(d)), "") for o, d in zip(base.lanes["origin"], base.lanes["destination"],
                                                                              strict=True)], dtype=object)


def _params(base: Instance, o: dict) -> dict:
    """The instance's parameters with the scenario's values and parameter factors applied."""
    params = dataclasses.asdict(base.params)
    for key, value in o.items():
        if KEYS[key][0].kind == "value":
            params[key] = value
    def leg_factor(leg) -> float:
        return (_factor(o, "transport") * o.get("transport_by_leg", {}).get(leg.name, 1.0)
                * _factor(o, "transport_rates") * o.get("transport_rates_by_leg", {}).get(leg.name, 1.0))

    factors = {leg.rate_param: leg_factor(leg) for leg in LEGS}
    for leg in LEGS:
        if params[leg.rate_param] is not None:
            params[leg.rate_param] *= factors[leg.rate_param]
        elif factors[leg.rate_param] != 1.0 or factors.get(leg.rate_fallback, 1.0) != 1.0:
            # a leg on its fallback rate gets its own value, so a factor on either leg stays on that leg
            params[leg.rate_param] = leg.rate(base.params) * factors[leg.rate_param]
    if params["uncollected_penalty_per_t"] is not None:
        params["uncollected_penalty_per_t"] *= o.get("penalty", 1.0)
    return params


def _channel_tables(base: Instance, o: dict) -> dict:
    """Offers, channel shares and channels (damaged shares) with the scenario's channel levers applied."""
    if not base.has_channels:
        return {}
    out = {}
    if base.offers is not None and len(base.offers) and any(k in o for k in ("offer_price", "offer_price_by_channel",
                                                                               "capture_share", "capture_share_by_channel")):
        off = base.offers.copy()
        f_price = o.get("offer_price", 1.0) * off["channel"].map(o.get("offer_price_by_channel", {})).fillna(1.0).to_numpy(float)
        f_share = o.get("capture_share", 1.0) * off["channel"].map(o.get("capture_share_by_channel", {})).fillna(1.0).to_numpy(float)
        off["price_per_t"] = off["price_per_t"].to_numpy(float) * f_price
        off["capture_share"] = np.minimum(1.0, off["capture_share"].to_numpy(float) * f_share)
        out["offers"] = off
    owned = set(o.get("own_channels", []))
    if owned and base.offers is not None and len(base.offers):
        # An owned channel is free and fully available: its ladders no longer apply, and its
        # take-back duty (if any) is met by capturing everything.
        off = out.get("offers", base.offers)
        out["offers"] = off[~off["channel"].isin(owned)].reset_index(drop=True)
    by_channel = o.get("channel_share_by_channel", {})
    sh = base.channel_shares
    if by_channel and sh is not None and len(sh):
        sh = sh.copy()
        for _, g in sh.groupby(["region", "chemistry"], sort=False):  # each set of rows adds up to 1
            share = g["share"].to_numpy(float)
            f = g["channel"].map(by_channel).to_numpy(float)
            hit = ~np.isnan(f)
            new = share.copy()
            new[hit] = np.minimum(1.0, share[hit] * f[hit])
            rest, room = share[~hit].sum(), 1.0 - new[hit].sum()
            if room < 0 or rest <= 0:  # the named channels hold everything: normalise them
                new[hit] = new[hit] / new[hit].sum() if new[hit].sum() > 0 else new[hit]
                new[~hit] = 0.0
            else:
                new[~hit] = share[~hit] * room / rest
            sh.loc[g.index, "share"] = new
        out["channel_shares"] = sh
    if ("damaged_share" in o or "damaged_share_by_channel" in o) and "damaged_share" in base.channels.columns:
        ch = base.channels.copy()
        f = o.get("damaged_share", 1.0) * ch["id"].map(o.get("damaged_share_by_channel", {})).fillna(1.0).to_numpy(float)
        ch["damaged_share"] = np.minimum(1.0, ch["damaged_share"].fillna(0.0).to_numpy(float) * f)
        out["channels"] = ch
    return out


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
    params = _params(base, o)
    lanes = base.lanes.copy()
    if len(lanes) and ("transport" in o or "transport_by_leg" in o):
        by_leg = o.get("transport_by_leg", {})
        f = np.array([by_leg.get(leg, 1.0) for leg in _leg_of_lane(base)]) * o.get("transport", 1.0)
        lanes["cost_per_t"] = lanes["cost_per_t"].to_numpy(dtype=float) * f  # quoted costs; km rows stay NaN
    def chem_factor(lever: str, name: str) -> float:
        return o.get(lever, 1.0) * o.get(f"{lever}_by_chemistry", {}).get(name, 1.0)

    chem_objs = tuple(
        dataclasses.replace(
            c,
            black_mass_yield=min(1.0, c.black_mass_yield * chem_factor("yield", c.name)),
            merchant_price_per_t=None if c.merchant_price_per_t is None else c.merchant_price_per_t * chem_factor("merchant_price", c.name),
            merchant_cap_t=None if c.merchant_cap_t is None else c.merchant_cap_t * chem_factor("merchant_cap", c.name),
            hub_revenue_per_t=None if c.hub_revenue_per_t is None else c.hub_revenue_per_t * chem_factor("revenue", c.name),
        ) for c in base.chemistries)
    tables = {}
    for t in TIERS:
        tables[t.sites], tables[t.options] = _scaled_tier(o, t, params, getattr(base, t.sites), getattr(base, t.options))
    forbid = set(o.get("forbid", []))
    notes = list(base.notes)
    for t in TIERS:
        df, sizes = tables[t.sites], getattr(base, t.options)
        closing = df[df["id"].isin(forbid) & (df["status"] == "existing")]
        for r in closing.itertuples(index=False):
            cap = sizes.loc[(sizes["site_id"] == r.id) & (sizes["size"] == r.existing_size), "capacity_t"]
            notes.append(f"scenario '{scenario.name}' forbids the existing {t.name} {r.id}"
                         + (f" ({r.name})" if r.name else "") + f": it is closed in this scenario and its installed "
                         f"{r.existing_size} size ({float(cap.iat[0]) if len(cap) else 0:,.0f} {t.unit}) goes unused")
        df.loc[df["id"].isin(forbid), "status"] = "excluded"
        df.loc[df["id"].isin(forbid), "existing_size"] = ""
        if "closure_cost" in df.columns:
            df.loc[df["id"].isin(forbid), "closure_cost"] = np.nan
    return dataclasses.replace(
        base, name=f"{base.name} [{scenario.name}]", regions=regions, supply_by_period=supply_by_period,
        supply_table=supply_table, growth_table=growth_table, params=dataclasses.replace(base.params, **params),
        lanes=lanes, chemistries=chem_objs, **tables, **_channel_tables(base, o),
        forced_open=tuple(sorted(set(base.forced_open) | set(o.get("force_open", [])))), notes=tuple(notes),
    )
