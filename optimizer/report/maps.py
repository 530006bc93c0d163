"""Folium network map from ``(Instance, Solution)`` only; the one module that imports folium.

Layers: regions (circles sized by supply), open spokes, open hubs, closed candidates (grey),
region->spoke flows and spoke->hub flows (width proportional to tonnes).
"""

from __future__ import annotations

import math

import folium

from ..instance import Instance
from ..solution import Solution

SPOKE_COLOUR = "#1f77b4"
HUB_COLOUR = "#d62728"
PACK_FLOW_COLOUR = "#2ca02c"
BM_FLOW_COLOUR = "#9467bd"
CLOSED_COLOUR = "#9e9e9e"


def network_map(inst: Instance, sol: Solution) -> folium.Map:
    """A Folium map of the solved network, fitted to its points."""
    regions = inst.regions
    fmap = folium.Map(location=[float(regions["lat"].mean()), float(regions["lon"].mean())], zoom_start=5,
                      tiles="OpenStreetMap")
    supply = regions[[f"{c}_t" for c in inst.chem_names]].sum(axis=1)
    max_supply = max(float(supply.max()), 1.0)

    layer_regions = folium.FeatureGroup(name="Regions (supply)")
    for (_, r), s in zip(regions.iterrows(), supply, strict=True):
        folium.CircleMarker(
            [r["lat"], r["lon"]], radius=3 + 12 * math.sqrt(s / max_supply), color="#555555", weight=1,
            fill=True, fill_opacity=0.35,
            tooltip=f"{r['name'] or r['id']}: " + ", ".join(f"{c} {r[f'{c}_t']:,.0f} t" for c in inst.chem_names),
        ).add_to(layer_regions)
    layer_regions.add_to(fmap)

    coords = {rid: (lat, lon) for rid, lat, lon in zip(regions["id"], regions["lat"], regions["lon"], strict=True)}
    for df in (inst.spokes, inst.hubs):
        coords.update({sid: (lat, lon) for sid, lat, lon in zip(df["id"], df["lat"], df["lon"], strict=True)})

    flows = sol.flows
    for echelon, name, colour in (("region_spoke", "Flows: packs region to spoke", PACK_FLOW_COLOUR),
                                  ("spoke_hub", "Flows: black mass spoke to hub", BM_FLOW_COLOUR)):
        layer = folium.FeatureGroup(name=name)
        sel = flows[flows["echelon"] == echelon]
        agg = sel.groupby(["origin", "destination"], as_index=False)["flow_t"].sum()
        top = max(float(agg["flow_t"].max()) if len(agg) else 1.0, 1.0)
        for r in agg.itertuples(index=False):
            folium.PolyLine([coords[r.origin], coords[r.destination]], color=colour, weight=1 + 7 * r.flow_t / top,
                            opacity=0.7, tooltip=f"{r.origin} → {r.destination}: {r.flow_t:,.0f} t/yr").add_to(layer)
        layer.add_to(fmap)

    sites = sol.sites
    for kind, colour, label in (("spoke", SPOKE_COLOUR, "Open spokes"), ("hub", HUB_COLOUR, "Open hubs")):
        layer = folium.FeatureGroup(name=label)
        for r in sites[(sites["kind"] == kind) & sites["open"].astype(bool)].itertuples(index=False):
            folium.RegularPolygonMarker(
                [r.lat, r.lon], number_of_sides=4 if kind == "hub" else 3, radius=9 if kind == "hub" else 7,
                color=colour, fill=True, fill_color=colour, fill_opacity=0.9,
                tooltip=f"{kind} {r.name or r.site_id}: size {r.size}, {r.inbound_t:,.0f} t/yr in, "
                        f"{100 * r.utilisation:.0f} % used",
            ).add_to(layer)
        layer.add_to(fmap)
    closed = folium.FeatureGroup(name="Closed candidates", show=False)
    for r in sites[~sites["open"].astype(bool)].drop_duplicates("site_id").itertuples(index=False):
        folium.CircleMarker([r.lat, r.lon], radius=4, color=CLOSED_COLOUR, fill=True,
                            tooltip=f"{r.kind} candidate {r.name or r.site_id} (not opened)").add_to(closed)
    closed.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    lats = [c[0] for c in coords.values()]
    lons = [c[1] for c in coords.values()]
    fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    return fmap
