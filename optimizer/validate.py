"""Cross-table checks of an :class:`~optimizer.instance.Instance`.

Cell-level problems (types, ranges, columns) are found while reading; this module checks what
needs more than one cell: unique ids, references between files, statuses against sizes, lanes,
and value ranges of programmatically built instances.  Every broken reference is an error (never a
warning and carry on: a silently dropped site gives a wrong answer that looks right).

Ids are compared after stripping surrounding whitespace (the reader strips cells) and
case-insensitively: ``Berlin`` and ``berlin`` in one instance are refused as duplicates, because
a spreadsheet user almost never means two different places by them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import Issue
from .instance import Instance, geojson_key
from .tiers import TIERS


def validate_instance(inst: Instance) -> list[Issue]:
    """Every cross-table problem of ``inst`` (errors and warnings)."""
    issues: list[Issue] = []
    _unique_ids(inst, issues)
    _sites_and_sizes(inst, "spokes.csv", inst.spokes, "spoke_sizes.csv", inst.spoke_sizes, issues)
    _sites_and_sizes(inst, "hubs.csv", inst.hubs, "hub_sizes.csv", inst.hub_sizes, issues)
    if len(_cps(inst)) or len(_cp_modes(inst)):
        _sites_and_sizes(inst, "collection_points.csv", _cps(inst), "collection_point_modes.csv", _cp_modes(inst), issues)
    _lanes(inst, issues)
    _lane_distances(inst, issues)
    _coordinates(inst, issues)
    _swapped_coordinates(inst, issues)
    _hub_acceptance(inst, issues)
    _min_throughputs(inst, issues)
    _site_counts(inst, issues)
    _periods(inst, issues)
    _channels(inst, issues)
    _accepted_channels(inst, issues)
    if inst.boundaries:
        _boundaries(inst, issues)
    return issues


def _cps(inst: Instance) -> pd.DataFrame:
    """The collection points (an empty frame with the site columns when there are none)."""
    cp = inst.collection_points
    return cp if cp is not None else inst.spokes.iloc[:0]


def _cp_modes(inst: Instance) -> pd.DataFrame:
    m = inst.collection_point_modes
    return m if m is not None else inst.spoke_sizes.iloc[:0]


def _site_frames(inst: Instance) -> tuple[tuple[str, pd.DataFrame], ...]:
    """(file, frame) of the regions and every tier's sites."""
    return (("regions.csv", inst.regions), ("collection_points.csv", _cps(inst)), ("spokes.csv", inst.spokes),
            ("hubs.csv", inst.hubs))


def _row(df: pd.DataFrame, i) -> int | None:
    if "source_row" not in df.columns:
        return None
    r = df["source_row"].iloc[i]
    return None if r is None or (isinstance(r, float) and math.isnan(r)) or r < 0 else int(r)


def _unique_ids(inst: Instance, issues: list[Issue]) -> None:
    seen: dict[str, tuple[str, int | None, str]] = {}
    for file, df in _site_frames(inst):
        for i, ident in enumerate(df["id"].tolist()):
            if _row(df, i) is None and ident.startswith(("=", "+", "-", "@", "\t", "\r")):  # built in Python
                issues.append(Issue(file, None, "id", "an id not beginning with =, +, -, @ (a spreadsheet reads such a "
                                    "cell as a formula)", f"'{ident}'"))
            key = ident.strip().lower()
            if key in seen:
                f0, r0, id0 = seen[key]
                where = f"{f0} row {r0}" if r0 else f0
                same = "" if id0 == ident else " (ids are compared ignoring case)"
                issues.append(
                    Issue(file, _row(df, i), "id", "an id used nowhere else in regions, spokes and hubs" + (
                        " (and collection points)" if len(_cps(inst)) else ""),
                          f"'{ident}', already used by {where}{same}")
                )
            else:
                seen[key] = (file, _row(df, i), ident)


def _sites_and_sizes(inst, site_file, sites: pd.DataFrame, size_file, sizes: pd.DataFrame, issues) -> None:
    site_ids = set(sites["id"])
    by_site: dict[str, set[str]] = {}
    for i, (sid, size) in enumerate(zip(sizes["site_id"], sizes["size"], strict=True)):
        if sid not in site_ids:
            issues.append(Issue(size_file, _row(sizes, i), "site_id", f"an id from {site_file}", _unknown(sid, site_ids)))
            continue
        names = by_site.setdefault(sid, set())
        if size.lower() in {n.lower() for n in names}:
            issues.append(Issue(size_file, _row(sizes, i), "size", "size names unique per site (ignoring case)", f"'{size}' twice for site '{sid}'"))
        names.add(size)
    for i, row in enumerate(sites.itertuples(index=False)):
        status = row.status
        existing = row.existing_size
        sized = by_site.get(row.id, set())
        if status == "existing":
            if not existing:
                issues.append(Issue(site_file, _row(sites, i), "existing_size", f"the installed size (a size of '{row.id}' in {size_file}) for an existing site", "a blank cell"))
            elif existing not in sized:
                issues.append(Issue(site_file, _row(sites, i), "existing_size", f"a size listed for '{row.id}' in {size_file}" + (f" ({', '.join(sorted(sized))})" if sized else ""), f"'{existing}'"))
        elif existing:
            issues.append(Issue(site_file, _row(sites, i), "existing_size", f"a blank cell: only status=existing names an installed size (this site is '{status}')", f"'{existing}'"))
        cc = getattr(row, "closure_cost", float("nan"))
        if cc == cc and status != "existing":  # not NaN
            issues.append(Issue(site_file, _row(sites, i), "closure_cost",
                                f"a blank cell: only existing sites may close (candidate sites never close; this site is '{status}')",
                                f"{cc:g}"))
        if status != "excluded" and not sized:
            issues.append(Issue(site_file, _row(sites, i), "id", f"at least one size option in {size_file} for a {status} site", f"none for '{row.id}'"))


def _unknown(ident: str, known: set[str]) -> str:
    """'unknown id' text, pointing out a near miss by case (references must match exactly)."""
    for k in known:
        if k.lower() == ident.lower():
            return f"'{ident}', which differs from '{k}' only by case (references must match exactly)"
    return f"unknown id '{ident}'"


def _lanes(inst: Instance, issues: list[Issue]) -> None:
    lanes = inst.lanes
    if lanes.empty:
        return
    regions = set(inst.regions["id"])
    spokes = set(inst.spokes["id"])
    hubs = set(inst.hubs["id"])
    cps = set(_cps(inst)["id"])
    seen: dict[tuple[str, str], int | None] = {}
    for i, row in enumerate(lanes.itertuples(index=False)):
        o, d = row.origin, row.destination
        r = _row(lanes, i)
        legs = "lanes go region -> spoke (packs) or spoke -> hub (black mass)"
        if o in regions:
            if d in hubs:
                issues.append(Issue("lanes.csv", r, "destination", f"a spoke id ({legs}; '{d}' is a hub, and packs reach "
                                    "hubs only as black mass from a spoke)", f"'{d}'"))
            elif d in regions:
                issues.append(Issue("lanes.csv", r, "destination", f"a spoke id ({legs}; '{d}' is a region)", f"'{d}'"))
            elif d not in spokes and d not in cps:
                issues.append(Issue("lanes.csv", r, "destination", "a spoke id (a lane from a region goes to a spoke)"
                                    if not cps else "a spoke or collection point id", _unknown(d, spokes | cps)))
        elif o in cps:
            if d not in spokes:
                issues.append(Issue("lanes.csv", r, "destination", "a spoke id (a lane from a collection point goes to a spoke)",
                                    _unknown(d, spokes)))
        elif o in spokes:
            if d in spokes or d in regions:
                what = "a spoke" if d in spokes else "a region"
                issues.append(Issue("lanes.csv", r, "destination", f"a hub id ({legs}; '{d}' is {what})", f"'{d}'"))
            elif d not in hubs:
                issues.append(Issue("lanes.csv", r, "destination", "a hub id (a lane from a spoke goes to a hub)", _unknown(d, hubs)))
        elif o in hubs:
            issues.append(Issue("lanes.csv", r, "origin", f"a region or spoke id ({legs}; '{o}' is a hub, where lanes end)", f"'{o}'"))
        else:
            issues.append(Issue("lanes.csv", r, "origin", "a region id or a spoke id" + (" or a collection point id" if cps else ""),
                                _unknown(o, regions | spokes | cps)))
        has_km = not math.isnan(row.km)
        has_cost = not math.isnan(row.cost_per_t)
        if has_km == has_cost:
            issues.append(Issue("lanes.csv", r, "km" if not has_km else "cost_per_t", "exactly one of km and cost_per_t", "both" if has_km else "neither"))
        key = (o, d)
        if key in seen:
            prev = seen[key]
            issues.append(Issue("lanes.csv", r, "origin", "each origin-destination lane once", f"'{row.origin}' -> '{row.destination}' again (first on row {prev})"))
        else:
            seen[key] = r


def _lane_distances(inst: Instance, issues: list[Issue]) -> None:
    """Warnings for lanes.csv rows that will not do what their author may think: a road
    distance shorter than the straight line between the ends, or a region->spoke lane beyond the
    service radius (dropped, unless it quotes a cost per tonne)."""
    lanes = inst.lanes
    if lanes.empty:
        return
    from .geo import great_circle_km

    pos = {i: (a, b) for _, df in _site_frames(inst)
           for i, a, b in zip(df["id"], df["lat"], df["lon"], strict=True)}
    spokes = set(inst.spokes["id"])
    regions = set(inst.regions["id"])
    radius = inst.params.service_radius_km
    for i, row in enumerate(lanes.itertuples(index=False)):
        if row.origin not in pos or row.destination not in pos:
            continue
        (la1, lo1), (la2, lo2) = pos[row.origin], pos[row.destination]
        straight = float(great_circle_km(la1, lo1, la2, lo2))
        r = _row(lanes, i)
        if not math.isnan(row.km) and row.km < straight - 1e-6:
            issues.append(Issue("lanes.csv", r, "km", f"a road distance at least the great-circle distance of its ends "
                                f"({straight:,.1f} km from {row.origin} to {row.destination})", f"{row.km:g} km",
                                severity="warning"))
        if radius is not None and row.origin in regions and row.destination in spokes and math.isnan(row.cost_per_t):
            km = row.km if not math.isnan(row.km) else straight * inst.params.circuity
            if km > radius:
                issues.append(Issue("lanes.csv", r, "km", f"a lane within the {radius:g} km service radius (it is dropped: "
                                    f"{row.origin} -> {row.destination} is {km:,.1f} km; quote a cost_per_t to keep it)",
                                    f"{km:,.1f} km", severity="warning"))


def _coordinates(inst: Instance, issues: list[Issue]) -> None:
    """Range checks for programmatic instances (the reader already checked file cells)."""
    for file, df in _site_frames(inst):
        lat = df["lat"].to_numpy(dtype=float)
        lon = df["lon"].to_numpy(dtype=float)
        bad = ~np.isfinite(lat) | (np.abs(lat) > 90) | ~np.isfinite(lon) | (np.abs(lon) > 180)
        for i in np.flatnonzero(bad):
            field = "lat" if not (np.isfinite(lat[i]) and abs(lat[i]) <= 90) else "lon"
            issues.append(Issue(file, _row(df, i), field, "a latitude in [-90, 90] and a longitude in [-180, 180]", f"{lat[i]}, {lon[i]}"))


SWAP_FAR_KM = 1500.0  # a point this far from every other point is suspicious ...
SWAP_RATIO = 0.25  # ... if swapping lat and lon brings it four times closer to the rest


def _swapped_coordinates(inst: Instance, issues: list[Issue]) -> None:
    """Refuse points whose latitude and longitude look swapped.

    A swapped point is usually still a valid coordinate (New York at lat -74, lon 40.7 lies off
    Antarctica), so ranges do not catch it.  A point far from every other point of the instance,
    which swapping lat and lon would bring much closer to them, is refused with a hint.
    """
    frames = list(_site_frames(inst))
    lat = np.concatenate([f["lat"].to_numpy(dtype=float) for _, f in frames])
    lon = np.concatenate([f["lon"].to_numpy(dtype=float) for _, f in frames])
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if ok.sum() < 3:
        return
    from scipy.spatial import cKDTree

    from .geo import EARTH_RADIUS_KM

    def xyz(la, lo):
        la, lo = np.radians(la), np.radians(lo)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    def km(chord):
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))

    idx = np.flatnonzero(ok)
    tree = cKDTree(xyz(lat[idx], lon[idx]))
    d_near, _ = tree.query(xyz(lat[idx], lon[idx]), k=2)
    d0 = km(d_near[:, 1])  # nearest other point
    far = np.flatnonzero((d0 >= SWAP_FAR_KM) & (np.abs(lon[idx]) <= 90))
    if not len(far):
        return
    d_sw, who = tree.query(xyz(lon[idx][far], lat[idx][far]), k=2)
    # the swapped point's nearest neighbour other than the point itself (lat == lon maps to itself)
    ds = km(np.where(who[:, 0] == far, d_sw[:, 1], d_sw[:, 0]))
    owner = [(file, df, i) for file, df in frames for i in range(len(df))]
    for j, k_local in enumerate(far):
        if ds[j] < SWAP_RATIO * d0[k_local]:
            k = idx[k_local]
            file, df, i = owner[k]
            issues.append(Issue(file, _row(df, i), "lat",
                                f"latitude in lat and longitude in lon (lat {lat[k]:g}, lon {lon[k]:g} is "
                                f"{d0[k_local]:,.0f} km from every other point; swapped it would be {ds[j]:,.0f} km away)",
                                "coordinates that look swapped"))


def _periods(inst: Instance, issues: list[Issue]) -> None:
    """Multi-period columns: earliest years inside the horizon, closure only with periods."""
    per = inst.periods
    for file, df in _site_frames(inst)[1:]:
        for i, row in enumerate(df.itertuples(index=False)):
            ey = getattr(row, "earliest_year", float("nan"))
            if ey == ey and per is None:
                issues.append(Issue(file, _row(df, i), "earliest_year", "a blank cell: earliest_year needs a [periods] table",
                                    f"{ey:g}", severity="warning"))
            elif ey == ey and ey > per.years[-1]:
                issues.append(Issue(file, _row(df, i), "earliest_year",
                                    f"a year up to the last period start {per.years[-1]}", f"{ey:g}", severity="warning"))
            if ey == ey and row.status == "existing":
                issues.append(Issue(file, _row(df, i), "earliest_year", "a blank cell: an existing site operates from the first period",
                                    f"{ey:g}"))


def tier_rules(inst: Instance) -> list[Issue]:
    """The rules of every tier alone (minimum throughput within capacity, site counts): cheap,
    so a sweep checks them on every scenario before any solve."""
    issues: list[Issue] = []
    _min_throughputs(inst, issues)
    _site_counts(inst, issues)
    return issues


def _min_throughputs(inst: Instance, issues: list[Issue]) -> None:
    """A size's minimum throughput must fit in its capacity (else the size can never run)."""
    for t in TIERS:
        sizes = getattr(inst, t.options)
        if "min_throughput_t" not in sizes.columns:
            continue
        low = sizes["min_throughput_t"].to_numpy(dtype=float)
        cap = sizes["capacity_t"].to_numpy(dtype=float)
        for i in np.flatnonzero(low > cap * (1 + 1e-12)):
            issues.append(Issue(f"{t.options}.csv", _row(sizes, i), "min_throughput_t",
                                f"at most the size's capacity_t ({cap[i]:,.6g} {t.unit}; a size that must run above "
                                "its capacity can never open)", f"{low[i]:,.6g}"))


def _site_counts(inst: Instance, issues: list[Issue]) -> None:
    """[limits] min_<tier>s against max_<tier>s and against the sites that can open at all."""
    for t in TIERS:
        lo, hi = getattr(inst.params, f"min_{t.plural}", None), getattr(inst.params, f"max_{t.plural}", None)
        sites = getattr(inst, t.sites)
        can_open = int((sites["status"] != "excluded").sum()) if len(sites) else 0
        if lo is not None and hi is not None and lo > hi:
            issues.append(Issue("instance.toml", None, f"limits.min_{t.plural}",
                                f"at most limits.max_{t.plural} ({hi})", str(lo)))
        elif lo is not None and lo > can_open:
            issues.append(Issue("instance.toml", None, f"limits.min_{t.plural}",
                                f"at most the {t.plural} that can open ({can_open} in {t.sites}.csv not excluded)", str(lo)))
        existing = int((sites["status"] == "existing").sum()) if len(sites) else 0
        if hi is not None and existing > hi and "closure_cost" in sites.columns:
            stay = int(((sites["status"] == "existing") & sites["closure_cost"].isna()).sum())
            if stay > hi:
                issues.append(Issue("instance.toml", None, f"limits.max_{t.plural}",
                                    f"at least the existing {t.plural} that may not close ({stay}: blank closure_cost "
                                    f"in {t.sites}.csv)", str(hi)))


def _hub_acceptance(inst: Instance, issues: list[Issue]) -> None:
    for i, row in enumerate(inst.hubs.itertuples(index=False)):
        if row.status == "excluded":
            continue
        if not any(bool(getattr(row, f"accepts_{c}")) for c in inst.chem_names):
            issues.append(Issue("hubs.csv", _row(inst.hubs, i), "accepts_*", "a hub that accepts at least one chemistry", f"'{row.id}' accepts none", severity="warning"))


def _boundaries(inst: Instance, issues: list[Issue]) -> None:
    keys = {str(r).lower() for r in inst.regions["id"]} | {
        str(r).lower() for r in inst.regions["region"] if r
    }
    for k, feat in enumerate(inst.boundaries.get("features", [])):
        key = geojson_key(feat)
        if key is not None and key.lower() not in keys:
            issues.append(Issue("regions.geojson", None, f"features[{k}].properties.id", "a region id (or region column value) from regions.csv", f"'{key}'", severity="warning"))


# --- collection channels -------------------------------------------------------------------------

def _channels(inst: Instance, issues: list[Issue]) -> None:
    """channels.csv, channel_shares.csv and offers.csv against each other and the regions:
    known ids, shares adding up to 1, monotone ladders, reachable take-back duties."""
    chans = inst.channels if inst.channels is not None else pd.DataFrame(columns=["id"])
    shares = inst.channel_shares if inst.channel_shares is not None else pd.DataFrame(columns=["channel"])
    offers = inst.offers if inst.offers is not None else pd.DataFrame(columns=["channel"])
    if chans.empty:
        for file, df in (("channel_shares.csv", shares), ("offers.csv", offers)):
            if len(df):
                issues.append(Issue(file, _row(df, 0), "channel", "a channels.csv declaring the channels this file names",
                                    "no channels.csv (or one without rows)"))
        return
    _damaged(inst, chans, issues)
    known = set(chans["id"])
    seen: dict[str, int | None] = {}
    for i, ident in enumerate(chans["id"]):
        if ident.lower() in seen:
            issues.append(Issue("channels.csv", _row(chans, i), "id", "a channel id used once", f"'{ident}', already on row {seen[ident.lower()]}"))
        seen[ident.lower()] = _row(chans, i)
    region_ids = set(inst.regions["id"])
    groups = set(inst.regions["region"]) if "region" in inst.regions.columns else set()
    chems = set(inst.chem_names)
    for file, df in (("channel_shares.csv", shares), ("offers.csv", offers)):
        for i, r in enumerate(df.itertuples(index=False)):
            if r.channel not in known:
                issues.append(Issue(file, _row(df, i), "channel", "a channel id from channels.csv", _unknown(r.channel, known)))
            if r.chemistry and r.chemistry not in chems:
                issues.append(Issue(file, _row(df, i), "chemistry", "a chemistry declared in instance.toml, or blank",
                                    _unknown(r.chemistry, chems)))
            allowed = region_ids | groups | ({"*"} if file == "channel_shares.csv" else {""})
            if r.region not in allowed:
                issues.append(Issue(file, _row(df, i), "region", "a region id, a value of regions.csv's region column"
                                    + (" or *" if file == "channel_shares.csv" else " or blank"), _unknown(r.region, allowed)))
    if any(i.severity == "error" for i in issues):
        return
    _channel_shares_add_up(inst, shares, issues)
    _offer_ladders(inst, chans, offers, issues)


def accepted_channels(text: str) -> tuple[str, ...]:
    """The channel ids of a collection point's ``channels`` field (blank: every channel, ``()``)."""
    return tuple(c.strip() for c in str(text or "").split(";") if c.strip())


def _accepted_channels(inst: Instance, issues: list[Issue]) -> None:
    """A collection point's ``channels``: blank, or known channel ids, at least one."""
    cps = _cps(inst)
    if not len(cps) or "channels" not in cps.columns:
        return
    known = set(inst.channels["id"]) if inst.channels is not None and len(inst.channels) else set()
    for i, text in enumerate(cps["channels"].fillna("").astype(str)):
        if not text.strip():
            continue
        ids = accepted_channels(text)
        where = ("collection_points.csv", _row(cps, i), "channels")
        if not known:
            issues.append(Issue(*where, "blank: the instance has no channels.csv, so the point takes every pack",
                                f"'{text}'"))
        elif not ids:
            issues.append(Issue(*where, "at least one channel id from channels.csv separated by ';' (blank = every channel)",
                                f"'{text}' (a point accepting no channel)"))
        else:
            issues.extend(Issue(*where, "channel ids from channels.csv separated by ';'", _unknown(c, known))
                          for c in ids if c not in known)


def _channel_shares_add_up(inst: Instance, shares: pd.DataFrame, issues: list[Issue]) -> None:
    from .channels import resolved_shares

    if shares.empty:
        if len(inst.channels) > 1:
            issues.append(Issue("channel_shares.csv", None, None, "the share of each region's supply each channel holds "
                                f"(channels.csv declares {len(inst.channels)} channels)", "no such file"))
        return
    res = resolved_shares(inst)
    sup = inst.supply_long()
    has = set(zip(sup["region_id"], sup["chemistry"], strict=True))
    total = res.groupby(["region_id", "chemistry"])["share"].sum()
    reported = 0
    for (rid, chem) in sorted(has):
        got = float(total.get((rid, chem), 0.0))
        if abs(got - 1.0) > 1e-6 and reported < 20:  # one line per region and chemistry, at most 20
            rows = res[(res["region_id"] == rid) & (res["chemistry"] == chem)]
            first = int(rows["source_row"].min()) if len(rows) and rows["source_row"].min() >= 0 else None
            issues.append(Issue("channel_shares.csv", first, "share",
                                f"shares adding up to 1 for region '{rid}', chemistry {chem} (the rows for its id, else its "
                                "region group, else *; the chemistry before blank)", f"{got:.6g}"))
            reported += 1


def _damaged(inst: Instance, chans: pd.DataFrame, issues: list[Issue]) -> None:
    """A channel with damaged packs needs the rate they travel at."""
    if "damaged_share" not in chans.columns or inst.params.damaged_pack_surcharge_per_t_km is not None:
        return
    share = chans["damaged_share"].fillna(0.0).astype(float).to_numpy()
    for i in np.flatnonzero(share > 0)[:1]:
        issues.append(Issue("instance.toml", None, "transport.damaged_pack_surcharge_per_t_km",
                            f"the extra rate damaged packs travel at (channels.csv row {_row(chans, int(i))}: channel "
                            f"'{chans['id'].iat[int(i)]}' has damaged_share {share[i]:g})", "no value"))


def _offer_ladders(inst: Instance, chans: pd.DataFrame, offers: pd.DataFrame, issues: list[Issue]) -> None:
    """Each ladder as written (rows of one channel, region, chemistry, period): distinct levels,
    a higher price never capturing less; a national channel's offers name no region; a
    take-back duty no level can meet is an error."""
    if offers.empty:
        return
    national = set(chans.loc[chans["price_scope"] == "national", "id"])
    per = offers["period"].map(lambda p: "" if p != p or p is None else str(int(p)))
    if inst.periods is None and (per != "").any():
        i = int(np.flatnonzero((per != "").to_numpy())[0])
        issues.append(Issue("offers.csv", _row(offers, i), "period", "a blank cell (periods need a [periods] table)", per.iat[i]))
    elif inst.periods is not None:
        labels = set(inst.periods.labels)
        for i in np.flatnonzero(((per != "") & ~per.isin(labels)).to_numpy()):
            issues.append(Issue("offers.csv", _row(offers, i), "period", "the first year of a period in [periods] years, or blank",
                                per.iat[i]))
    for i in np.flatnonzero((offers["channel"].isin(national) & (offers["region"] != "")).to_numpy()):
        issues.append(Issue("offers.csv", _row(offers, i), "region", "a blank cell: the channel's price list is national "
                            "(price_scope in channels.csv)", offers["region"].iat[i]))
    keyed = offers.assign(_per=per, _pos=np.arange(len(offers)))
    for _, lad in keyed.groupby(["channel", "region", "chemistry", "_per"], sort=False):
        names = lad["level"].str.lower()
        for j in np.flatnonzero(names.duplicated().to_numpy()):
            issues.append(Issue("offers.csv", _row(offers, int(lad["_pos"].iat[j])), "level", "a level name used once in its ladder",
                                f"'{lad['level'].iat[j]}' again"))
        lad = lad.sort_values("price_per_t", kind="stable")
        price, share = lad["price_per_t"].to_numpy(float), lad["capture_share"].to_numpy(float)
        for j in range(1, len(lad)):
            if price[j] == price[j - 1] or share[j] < share[j - 1] - 1e-12:
                issues.append(Issue("offers.csv", _row(offers, int(lad["_pos"].iat[j])), "capture_share",
                                    "a ladder monotone in price and share: a higher price than every other level capturing "
                                    f"no less (level '{lad['level'].iat[j - 1]}': {price[j - 1]:g} -> {share[j - 1]:g})",
                                    f"{price[j]:g} -> {share[j]:g}"))
    for i, c in enumerate(chans.itertuples(index=False)):
        least = float(c.min_capture_share or 0.0)
        own = keyed[keyed["channel"] == c.id]
        if least > 0 and len(own):
            best = float(own.groupby(["region", "chemistry", "_per"])["capture_share"].max().min())
            if best < least - 1e-9:
                issues.append(Issue("channels.csv", _row(chans, i), "min_capture_share",
                                    f"at most the best offer's capture share in every ladder of the channel ({best:g} in offers.csv)",
                                    f"{least:g}"))
