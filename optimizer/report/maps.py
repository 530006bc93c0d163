"""Client-ready Folium map from ``(Instance, Solution)`` only; the one module importing folium.

Layers the viewer can toggle (``LayerControl``):

* **Boundaries** -- the instance's ``regions.geojson`` outlines (the base map offline);
* **Supply: all chemistries / <chem>** -- choropleths of supply per administrative region when
  boundaries exist (one layer per chemistry, the total shown first); otherwise circles sized by
  supply;
* **Supply points** -- each row of ``regions.csv`` (circle area ~ supply), tooltip with supply by
  chemistry, where it ships, road km and transport cost per tonne;
* **Open spokes** (blue triangles) and **Open hubs** (red squares), inline SVG symbols sized by
  capacity, popups with size, inbound tonnes, utilisation, annualised capex and cost per tonne
  handled; **Closed candidates** (grey, hidden at first);
* **Flows: packs region -> spoke**, **Flows: black mass spoke -> hub** (line width ~ tonnes) and
  **Merchant sales** (an orange ring at the spoke, area ~ tonnes).

Plus a title block (instance, objective, gap, status) and a legend, fitted to the network.

Aggregation (so a map of thousands of supply points stays small and readable): flows are drawn
one line per (origin, destination) with chemistries summed (the popup lists them); when there are
more than ``MapOptions.max_pack_lines`` region->spoke lines, supply points are merged per
administrative region (``region`` column) and per spoke, drawn from the tonne-weighted centre of
the region's points.  Boundaries are simplified (``simplify_deg``) and all coordinates rounded to
five decimals (about 1 m).

``offline=True`` inlines Leaflet and jQuery (vendored from npm, see ``vendor/VENDOR.md``), uses no
tile layer and no icon fonts, so the HTML opens on a machine with no network at all.
"""

from __future__ import annotations

import copy
import html as _html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import folium
import numpy as np
import pandas as pd

from ..instance import Instance, geojson_key
from ..solution import Solution
from ..tiers import LEGS, REGION, TIERS, merchant_echelon, present

VENDOR = Path(__file__).parent / "vendor"
LEAFLET_JS = VENDOR / "leaflet-1.9.4" / "leaflet.js"
LEAFLET_CSS = VENDOR / "leaflet-1.9.4" / "leaflet.css"
JQUERY_JS = VENDOR / "jquery-3.7.1" / "jquery.min.js"
CDN = {
    "leaflet": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    "jquery": "https://cdn.jsdelivr.net/npm/jquery@3.7.1/dist/jquery.min.js",
    "leaflet_css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
}

SPOKE_COLOUR = "#1f5fbf"
HUB_COLOUR = "#c8102e"
CLOSED_COLOUR = "#9e9e9e"
PACK_COLOUR = "#2e9e44"
BLACK_MASS_COLOUR = "#7b3fa0"
MERCHANT_COLOUR = "#f08c00"
POINT_COLOUR = "#3c3c3c"
CHOROPLETH = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"]

#: Leaflet ``className`` of each kind of layer, used by the browser test to count them.
CLASS = {"collection_point": "sh-cp", "spoke": "sh-spoke", "hub": "sh-hub", "closed": "sh-closed", "pack": "sh-flow-pack",
         "first_mile": "sh-flow-first-mile", "line_haul": "sh-flow-line-haul",
         "black_mass": "sh-flow-bm", "merchant": "sh-merchant", "point": "sh-point", "region": "sh-region"}
CP_COLOUR = "#1f78b4"
FIRST_MILE_COLOUR = "#8fd18f"
LINE_HAUL_COLOUR = "#1b6e2e"


@dataclass(frozen=True)
class TierStyle:
    """How a tier's open sites are drawn (one entry per tier of :mod:`optimizer.tiers`)."""

    colour: str
    shape: str  # "triangle" | "square" | "diamond" | "circle"
    base_px: int  # symbol size of the smallest site; larger sites grow with sqrt(capacity)
    layer: str
    legend: str
    z: int  # spokes above hubs above collection points


@dataclass(frozen=True)
class LegStyle:
    """How a leg's flows are drawn."""

    colour: str
    css: str
    layer: str
    legend: str


TIER_STYLE = {
    "collection_point": TierStyle(CP_COLOUR, "circle", 10, "Open collection points",
                                  "open collection point (gathers packs)", 250),
    "spoke": TierStyle(SPOKE_COLOUR, "triangle", 14, "Open spokes", "open spoke (packs -> black mass)", 1000),
    "hub": TierStyle(HUB_COLOUR, "square", 24, "Open hubs", "open hub (refinery)", 500),
}
LEG_STYLE = {
    "region_collection_point": LegStyle(FIRST_MILE_COLOUR, CLASS["first_mile"], "Flows: packs region -> collection point",
                                        "packs, first mile region -> collection point"),
    "collection_point_spoke": LegStyle(LINE_HAUL_COLOUR, CLASS["line_haul"], "Flows: packs collection point -> spoke",
                                       "packs, line haul collection point -> spoke"),
    "region_spoke": LegStyle(PACK_COLOUR, CLASS["pack"], "Flows: packs region -> spoke", "packs, region -> spoke (width ~ t/yr)"),
    "spoke_hub": LegStyle(BLACK_MASS_COLOUR, CLASS["black_mass"], "Flows: black mass spoke -> hub", "black mass, spoke -> hub"),
}


@dataclass
class MapOptions:
    offline: bool = False
    period: str | None = None  # multi-period solutions: the period to draw (default the last)
    max_pack_lines: int = 3000
    simplify_deg: float = 0.02
    title: str | None = None


def _r(x: float) -> float:
    return round(float(x), 5)


def _fmt(x: float, unit: str = "") -> str:
    """A tonnage or an amount with its unit, ready for HTML (the unit may hold the currency)."""
    return f"{x:,.0f}{(' ' + safe_text(unit)) if unit else ''}"


def _period(sol: Solution, options: MapOptions) -> str:
    periods = list(sol.periods) or ["base"]
    return sol.check_period(options.period) or periods[-1]


def plan_layers(inst: Instance, sol: Solution, options: MapOptions | None = None) -> dict:
    """The drawn objects as tables (after aggregation): what the map shows, and what tests count.

    Keys: ``sites`` (tier -> its open sites), ``lines`` (leg -> one row per line), ``closed``
    (candidates not opened), ``merchant`` (one row per ring), ``points`` (supply points drawn),
    ``aggregated``.
    """
    options = options or MapOptions()
    period = _period(sol, options)
    sites = sol.sites[sol.sites["period"] == period] if len(sol.sites) else sol.sites
    flows = sol.flows[sol.flows["period"] == period] if len(sol.flows) else sol.flows
    is_open = sites["open"].astype(bool)
    regions = inst.regions
    coords = {rid: (lat, lon) for rid, lat, lon in zip(regions["id"], regions["lat"], regions["lon"], strict=True)}
    region_flows = flows[flows["echelon"].isin([leg.name for leg in LEGS if leg.origin == REGION])]
    aggregated = len(region_flows.groupby(["origin", "destination"])) > options.max_pack_lines
    if aggregated:
        w = regions.assign(total=regions[[f"{c}_t" for c in inst.chem_names]].sum(axis=1) + 1e-9)
        centre = w.groupby("region").apply(
            lambda g: (float(np.average(g["lat"], weights=g["total"])), float(np.average(g["lon"], weights=g["total"]))),
            include_groups=False)
        coords.update(centre.to_dict())
    coords.update({sid: (lat, lon) for sid, lat, lon in zip(sites["site_id"], sites["lat"], sites["lon"], strict=True)})
    lines = {}
    for leg in LEGS:
        f = flows[flows["echelon"] == leg.name]
        if aggregated and leg.origin == REGION:
            f = f.assign(origin=f["origin"].map(dict(zip(regions["id"], regions["region"], strict=True))))
        df = f.groupby(["origin", "destination"], as_index=False).agg(flow_t=("flow_t", "sum"), km=("km", "first"),
                                                                    transport_cost=("transport_cost", "sum"))
        if aggregated and leg.origin == REGION:
            df["km"] = np.nan
        for end, col in (("o", "origin"), ("d", "destination")):
            df[f"{end}_lat"] = df[col].map(lambda k: coords[k][0])
            df[f"{end}_lon"] = df[col].map(lambda k: coords[k][1])
        lines[leg.name] = df
    merchant = flows[flows["echelon"].isin([merchant_echelon(t) for t in TIERS if t.merchant])]
    return {
        "sites": {t.name: sites[is_open & (sites["kind"] == t.name)] for t in TIERS},
        "lines": lines,
        "closed": sites[~is_open],
        "merchant": merchant.groupby("origin", as_index=False)["flow_t"].sum(),
        "points": regions,
        "aggregated": pd.DataFrame({"aggregated": [aggregated]}),
    }


def safe_text(value) -> str:
    """Text from the data made inert wherever Folium puts it: HTML-escaped (``<``, ``>``, ``&``,
    quotes), and the characters that matter inside a JavaScript template literal (a backtick,
    ``$``, a backslash) as entities -- Folium writes tooltips and popups inside backtick strings,
    where ``${...}`` would run."""
    text = _html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def symbol_svg(shape: str, size: int, colour: str) -> str:
    """An inline SVG map symbol (no icon fonts: the offline map needs none)."""
    if shape == "square":
        body = f'<rect x="1.5" y="1.5" width="{size - 3}" height="{size - 3}" fill="{colour}" stroke="white" stroke-width="1.5"/>'
    elif shape == "diamond":
        h = size / 2
        body = f'<polygon points="{h},1.5 {size - 1.5},{h} {h},{size - 1.5} 1.5,{h}" fill="{colour}" stroke="white" stroke-width="1.5"/>'
    elif shape == "circle":
        body = f'<circle cx="{size / 2}" cy="{size / 2}" r="{size / 2 - 1.5}" fill="{colour}" stroke="white" stroke-width="1.5"/>'
    else:
        body = (f'<polygon points="{size / 2},1.5 {size - 1.5},{size - 1.5} 1.5,{size - 1.5}" fill="{colour}" '
                f'stroke="white" stroke-width="1.5"/>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">{body}</svg>'


def _site_popup(r, sol: Solution, inst: Instance, t) -> str:
    cur = sol.currency
    own = getattr(inst, t.sites).set_index("id")["processing_cost_per_t"].get(r.site_id, float("nan"))
    var_cost = own if own == own else float(getattr(inst.params, t.cost_param))
    annual = r.capex_annualised + r.fixed_opex_per_yr + var_cost * r.inbound_t
    per_t = annual / r.inbound_t if r.inbound_t > 0 else float("nan")
    return (f"<b>{safe_text(str(r.name or r.site_id))}</b> ({t.name}, {safe_text(r.status)})<br>"
            f"size: {safe_text(str(r.size))} ({_fmt(r.capacity_t, t.unit)})<br>"
            f"inbound: {_fmt(r.inbound_t, t.unit)}<br>utilisation: {100 * r.utilisation:.1f} %<br>"
            f"capex annualised: {_fmt(r.capex_annualised, cur + '/yr')}<br>"
            f"cost per tonne handled: {'-' if math.isnan(per_t) else _fmt(per_t, cur + '/t')}")


def _title_html(inst: Instance, sol: Solution, title: str | None, period: str) -> str:
    cur = sol.currency
    head = safe_text(title or inst.name)
    if sol.objective is None:
        line = safe_text(sol.status.value)
    elif sol.multi_period:
        label = "net present profit" if sol.profit_mode else "net present cost"
        value = -sol.objective if sol.profit_mode else sol.objective
        line = f"{label} {sol.periods[0]}-{sol.periods[-1]}: {value / 1e6:,.1f} M {safe_text(cur)}"
    else:
        label = "net annual profit" if sol.profit_mode else "net annual cost"
        value = -sol.objective if sol.profit_mode else sol.objective
        line = f"{label}: {value / 1e6:,.1f} M {safe_text(cur)}/yr"
    gap = "" if sol.gap is None else f" &middot; gap {100 * sol.gap:.2f} %"
    per = " &middot; choose the period at the top right" if sol.multi_period else ""
    return (f'<div id="sh-title" style="position:fixed;top:10px;left:55px;z-index:1000;background:white;'
            f'padding:6px 10px;border:1px solid #999;border-radius:4px;font:13px sans-serif">'
            f'<b style="font-size:15px">{head}</b><br>{line}{gap}<br><span style="color:#555">'
            f'status: {safe_text(sol.status.value)}{per}</span></div>')


def _legend_html(inst: Instance) -> str:
    def row(symbol: str, text: str) -> str:
        return f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">{symbol}<span>{text}</span></div>'

    line = '<svg width="26" height="10"><line x1="0" y1="5" x2="26" y2="5" stroke="{c}" stroke-width="4"/></svg>'
    circle = '<svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="{f}" stroke="{c}" stroke-width="2"/></svg>'
    ramp = "".join(f'<span style="display:inline-block;width:14px;height:10px;background:{c}"></span>' for c in CHOROPLETH)
    tiers, legs = present(inst)
    rows = [row(symbol_svg(TIER_STYLE[t.name].shape, 14, TIER_STYLE[t.name].colour), TIER_STYLE[t.name].legend) for t in tiers]
    rows.append(row(circle.format(f=CLOSED_COLOUR, c=CLOSED_COLOUR), "candidate not opened"))
    rows += [row(line.format(c=LEG_STYLE[leg.name].colour), LEG_STYLE[leg.name].legend) for leg in legs]
    rows += [row(circle.format(f="none", c=MERCHANT_COLOUR), "black mass sold at the spoke gate"),
             row(circle.format(f=POINT_COLOUR, c=POINT_COLOUR), "supply point (area ~ t/yr)")]
    if inst.boundaries:
        rows.append(row(ramp, "supply per region, low -> high"))
    return ('<div id="sh-legend" style="position:fixed;bottom:28px;right:10px;z-index:1000;background:white;'
            'padding:6px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif">'
            + "".join(rows) + "</div>")


def _simplified(boundaries: dict, tolerance: float) -> tuple[dict, list[str]]:
    """The outlines simplified and stripped of every property: the GeoJSON lands as JSON inside a
    <script> block, where a property holding "</script>" would end it.  Features carry only
    their position ``k``; the region keys come back as a list, in feature order."""
    from shapely.geometry import mapping, shape

    out = {"type": "FeatureCollection", "features": []}
    keys = []
    for k, feat in enumerate(boundaries.get("features", [])):
        geom = shape(feat["geometry"])
        simple = geom.simplify(tolerance, preserve_topology=True) if tolerance > 0 else geom
        out["features"].append({"type": "Feature", "properties": {"k": k},
                                "geometry": json.loads(json.dumps(mapping(simple)), parse_float=lambda s: round(float(s), 4))})
        keys.append(geojson_key(feat))
    return out, keys


def boundary_layer(boundaries: dict, tolerance: float, name: str, style: dict):
    """The plain outline layer (no data in it but the geometry)."""
    geo, _keys = _simplified(boundaries, tolerance)
    return folium.GeoJson(geo, name=name, style_function=lambda _f: style, control=True, show=True)


def network_map(inst: Instance, sol: Solution, options: MapOptions | None = None) -> folium.Map:
    """The Folium map (see module docstring)."""
    options = options or MapOptions()
    period = _period(sol, options)
    plan = plan_layers(inst, sol, options)
    regions = inst.regions
    cur = sol.currency

    fmap = folium.Map(location=[float(regions["lat"].mean()), float(regions["lon"].mean())], zoom_start=5,
                      tiles=None if options.offline else "OpenStreetMap", prefer_canvas=True, control_scale=True)
    fmap.default_js = [("leaflet", CDN["leaflet"]), ("jquery", CDN["jquery"])]
    fmap.default_css = [("leaflet_css", CDN["leaflet_css"])]

    chem_cols = [f"{c}_t" for c in inst.chem_names]
    supply = regions[chem_cols].sum(axis=1)
    if inst.boundaries:
        geo, keys = _simplified(inst.boundaries, options.simplify_deg)
        names = [feat.get("properties", {}).get("name") or key for feat, key in zip(inst.boundaries["features"], keys, strict=True)]
        folium.GeoJson(geo, name="Boundaries", style_function=lambda _f: {
            "color": "#666666", "weight": 0.8, "fillColor": "#f2f2f2", "fillOpacity": 0.6},
            control=True, show=True).add_to(fmap)
        by_region = regions.groupby("region")[chem_cols].sum()
        by_region["all"] = by_region[chem_cols].sum(axis=1)
        for label, col in [("all chemistries", "all")] + [(c.upper(), f"{c}_t") for c in inst.chem_names]:
            values = by_region[col]
            top = max(float(values.max()), 1.0)
            colour_of = {k: CHOROPLETH[min(len(CHOROPLETH) - 1, int(len(CHOROPLETH) * v / top))] for k, v in values.items()}
            layer_geo = copy.deepcopy(geo)
            fill = {}
            for feat, key, name in zip(layer_geo["features"], keys, names, strict=True):
                row = by_region.loc[key] if key in by_region.index else None
                k = feat["properties"]["k"]
                fill[k] = colour_of.get(key, "#ffffff")
                feat["properties"] = {"k": k, "name": safe_text(name),
                                      "supply": "-" if row is None else " / ".join(
                                          f"{c}: {_fmt(row[f'{c}_t'])} t" for c in inst.chem_names)}
            folium.GeoJson(
                layer_geo, name=f"Supply: {label} (t packs/yr)", show=label == "all chemistries",
                style_function=lambda f, fill=fill: {
                    "color": "#555555", "weight": 0.6, "fillOpacity": 0.55,
                    "fillColor": fill.get(f["properties"]["k"], "#ffffff")},
                tooltip=folium.GeoJsonTooltip(fields=["name", "supply"], aliases=["region", "supply"]),
            ).add_to(fmap)

    # Supply points: where each ships, distance, cost per tonne.
    points = folium.FeatureGroup(name="Supply points", show=True)
    rs = sol.flows[(sol.flows["echelon"] == "region_spoke") & (sol.flows["period"] == period)]
    ships = rs.groupby("origin").apply(lambda g: "<br>".join(
        f"&rarr; {safe_text(d)}: {_fmt(t)} t {safe_text(c)}, {k:,.0f} km, {cpt:,.0f} {safe_text(cur)}/t"
        for d, t, c, k, cpt in zip(g["destination"], g["flow_t"], g["chemistry"], g["km"], g["cost_per_t"], strict=True)),
        include_groups=False) if len(rs) else pd.Series(dtype=object)
    top = max(float(supply.max()), 1.0)
    for (r, s) in zip(regions.itertuples(index=False), supply, strict=True):
        text = (f"<b>{safe_text(str(r.name or r.id))}</b> ({safe_text(str(r.region))})<br>"
                + "<br>".join(f"{c}: {_fmt(getattr(r, f'{c}_t'))} t/yr" for c in inst.chem_names)
                + ("<br>" + ships.get(r.id, "not collected") if len(rs) else ""))
        folium.CircleMarker([_r(r.lat), _r(r.lon)], radius=2 + 9 * math.sqrt(s / top), color=POINT_COLOUR, weight=1,
                            fill=True, fill_opacity=0.6, class_name=CLASS["point"],
                            tooltip=text).add_to(points)
    points.add_to(fmap)

    if sol.multi_period and options.period is None:
        # one base layer per period: the layer control's radio buttons step through the build-out
        for p in sol.periods:
            group = folium.FeatureGroup(name=f"Build-out {p}", overlay=False, show=p == sol.periods[-1])
            _draw_network({k: group for k in _layer_keys(inst)}, inst, sol,
                          plan_layers(inst, sol, MapOptions(**{**options.__dict__, "period": p})), p)
            group.add_to(fmap)
    else:
        names = {**{leg.name: LEG_STYLE[leg.name].layer for leg in LEGS}, "merchant": "Merchant sales (black mass at the spoke gate)",
                 "closed": "Closed candidates", **{t.name: TIER_STYLE[t.name].layer for t in reversed(TIERS)}}
        groups = {k: folium.FeatureGroup(name=names[k], show=k != "closed") for k in _layer_keys(inst)}
        _draw_network(groups, inst, sol, plan, period)
        for g in groups.values():
            g.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_title_html(inst, sol, options.title, period)))
    fmap.get_root().html.add_child(folium.Element(_legend_html(inst)))
    lats = list(regions["lat"]) + list(sol.sites["lat"])
    lons = list(regions["lon"]) + list(sol.sites["lon"])
    fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    return fmap


def _layer_keys(inst: Instance) -> list[str]:
    """Map layers in drawing order: flows by leg, merchant rings, closed candidates, then the
    tiers' open sites downstream first, so the sites nearest supply stay visible on top."""
    tiers, legs = present(inst)
    return [leg.name for leg in legs] + ["merchant", "closed"] + [t.name for t in reversed(tiers)]


def _draw_network(groups: dict, inst: Instance, sol: Solution, plan: dict, period: str) -> None:
    """Flows, merchant rings, closed candidates and open sites of one period into ``groups``."""
    flows = sol.flows[(sol.flows["period"] == period)]
    by_chem: dict = {}
    for o, d, c, t in zip(flows["origin"], flows["destination"], flows["chemistry"], flows["flow_t"], strict=True):
        by_chem.setdefault((o, d), []).append(f"{safe_text(str(c))} {_fmt(t)} t")
    tiers, legs = present(inst)
    for leg in legs:
        style, df = LEG_STYLE[leg.name], plan["lines"][leg.name]
        top = max(float(df["flow_t"].max()) if len(df) else 1.0, 1.0)
        for r in df.itertuples(index=False):
            km = "" if (isinstance(r.km, float) and math.isnan(r.km)) else f", {r.km:,.0f} km"
            tip = f"{safe_text(str(r.origin))} &rarr; {safe_text(str(r.destination))}: {_fmt(r.flow_t)} t/yr{km}"
            detail = by_chem.get((r.origin, r.destination), [])
            if len(detail) > 1:
                tip += "<br>" + ", ".join(detail)
            folium.PolyLine([[_r(r.o_lat), _r(r.o_lon)], [_r(r.d_lat), _r(r.d_lon)]], color=style.colour,
                            weight=round(1.5 + 8 * r.flow_t / top, 2), opacity=0.75, class_name=style.css,
                            tooltip=tip).add_to(groups[leg.name])

    xy = {r.site_id: (r.lat, r.lon) for df in plan["sites"].values() for r in df.itertuples(index=False)}
    top = max(float(plan["merchant"]["flow_t"].max()) if len(plan["merchant"]) else 1.0, 1.0)
    for r in plan["merchant"].itertuples(index=False):
        lat, lon = xy[r.origin]
        folium.CircleMarker([_r(lat), _r(lon)], radius=8 + 14 * math.sqrt(r.flow_t / top), color=MERCHANT_COLOUR, weight=3,
                            fill=False, class_name=CLASS["merchant"],
                            tooltip=f"{safe_text(str(r.origin))} sells {_fmt(r.flow_t)} t black mass/yr").add_to(groups["merchant"])

    for r in plan["closed"].itertuples(index=False):
        folium.CircleMarker([_r(r.lat), _r(r.lon)], radius=4, color=CLOSED_COLOUR, fill=True, fill_opacity=0.7,
                            class_name=CLASS["closed"],
                            tooltip=f"{r.kind} candidate {safe_text(str(r.name or r.site_id))} (not opened)").add_to(groups["closed"])

    for t in reversed(tiers):
        style, df = TIER_STYLE[t.name], plan["sites"][t.name]
        top = max(float(df["capacity_t"].max()) if len(df) else 1.0, 1.0)
        for r in df.itertuples(index=False):
            size = int(style.base_px + 12 * math.sqrt(r.capacity_t / top))
            icon = folium.DivIcon(html=symbol_svg(style.shape, size, style.colour), icon_size=(size, size),
                                  icon_anchor=(size // 2, size // 2), class_name=CLASS.get(t.name, f"sh-{t.name}"))
            folium.Marker([_r(r.lat), _r(r.lon)], icon=icon, z_index_offset=style.z, tooltip=f"{t.name} {safe_text(str(r.name or r.site_id))}",
                          popup=folium.Popup(_site_popup(r, sol, inst, t), max_width=320)).add_to(groups[t.name])


def _data_uri(path: Path) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def inline_assets(html: str) -> str:
    """Replace the CDN script and stylesheet tags by the vendored files' contents."""
    css = LEAFLET_CSS.read_text(encoding="utf-8")
    css = re.sub(r"url\(images/([\w\-.]+\.png)\)", lambda m: f"url({_data_uri(LEAFLET_CSS.parent / 'images' / m.group(1))})", css)
    replacements = {
        f'<script src="{CDN["leaflet"]}"></script>': f"<script>{LEAFLET_JS.read_text(encoding='utf-8')}</script>",
        f'<script src="{CDN["jquery"]}"></script>': f"<script>{JQUERY_JS.read_text(encoding='utf-8')}</script>",
        f'<link rel="stylesheet" href="{CDN["leaflet_css"]}"/>': f"<style>{css}</style>",
    }
    for old, new in replacements.items():
        if old not in html:
            raise RuntimeError(f"offline map: expected asset tag not found: {old}")
        html = html.replace(old, new)
    leftover = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    if leftover:
        raise RuntimeError(f"offline map still references remote assets: {leftover[:3]}")
    return html


def map_html(inst: Instance, sol: Solution, options: MapOptions | None = None) -> str:
    """The network map as HTML text (Leaflet inlined when ``options.offline``)."""
    options = options or MapOptions()
    html = network_map(inst, sol, options).get_root().render()
    return inline_assets(html) if options.offline else html


def write_map(inst: Instance, sol: Solution, path: str | Path, options: MapOptions | None = None, force: bool = True) -> Path:
    """Write the network map to ``path`` atomically (an existing file is replaced only with ``force``)."""
    from ..files import write_text_atomic

    return write_text_atomic(path, map_html(inst, sol, options), force=force)


def normalise_ids(html: str) -> str:
    """Folium names elements ``<kind>_<32 hex>`` at random; number the ids in order of appearance."""
    seen: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key not in seen:
            seen[key] = f"{len(seen):032d}"
        return "_" + seen[key]

    return re.sub(r"_([0-9a-f]{32})(?![0-9a-f])", sub, html)


def map_content(html: str) -> dict[str, list]:
    """What a map shows, independent of the Folium (and GEOS) version that wrote its HTML: every
    marker and line coordinate, every tooltip and popup text, every style value, every layer
    name, and how many boundary geometries there are (their simplified outlines depend on the
    GEOS version behind shapely, so their coordinates are left out).  Drift tests compare this on
    any version and the full HTML on the versions that drew the committed file."""
    html = normalise_ids(html)
    geometries = len(re.findall(r'"coordinates":', html))
    html = re.sub(r'"coordinates":\s*[\[\]0-9eE.,\s+-]+', '"coordinates": []', html)
    coords = re.findall(r"\[\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?),\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*\]", html)
    texts = [re.sub(r'\s+id="[^"]*"', "", t) for t in re.findall(r"`([^`]*)`", html)]
    styles = re.findall(r'"(color|fillColor|weight|radius|fillOpacity|opacity|dashArray|className)":\s*("[^"]*"|[-\d.e]+)', html)
    layers = re.findall(r'"([^"]+)"\s*:\s*(?:feature_group|geo_json|tile_layer)_\d+', html)
    return {
        "coordinates": sorted((round(float(a), 5), round(float(b), 5)) for a, b in coords),
        "texts": sorted(texts),
        "styles": sorted(styles),
        "layers": sorted(layers),
        "geometries": [geometries],
    }
