"""Static network figure for slides: geopandas/matplotlib over the bundled boundaries.

Same content as the map's default view: boundaries shaded by supply, supply points, pack and
black-mass flows (line width ~ tonnes, same aggregation as the map), merchant sales rings, open
spokes (triangles) and hubs (squares), closed candidates, a legend and a title block.  Written
as PNG (2000 x 1125 px, 16:9), SVG or PDF by the file suffix.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..errors import UsageError  # noqa: E402
from ..files import temporary_sibling  # noqa: E402
from ..frames import concat_rows
from ..instance import Instance  # noqa: E402
from ..solution import Solution  # noqa: E402
from ..tiers import present  # noqa: E402
from .maps import (  # noqa: E402
    CHOROPLETH,
    CLOSED_COLOUR,
    LEG_STYLE,
    MERCHANT_COLOUR,
    POINT_COLOUR,
    TIER_STYLE,
    MapOptions,
    plan_layers,
)

MARKER = {"triangle": "^", "square": "s", "diamond": "D", "circle": "o"}
#: marker area (points^2) per tier: downstream tiers larger, so a site of each on one spot shows both
MARKER_AREA = {"collection_point": 40, "spoke": 90, "hub": 260}

LABEL_SPOKES = 8  # spokes labelled by name in the figure (the largest)
SLIDE_IN = (12.5, 7.03125)  # exactly 2000 x 1125 px (16:9) at 160 dpi
DPI = 160


def network_figure(inst: Instance, sol: Solution, options: MapOptions | None = None):
    """A matplotlib Figure of the solved network."""
    from matplotlib.colors import ListedColormap

    options = options or MapOptions()
    plan = plan_layers(inst, sol, options)
    fig, ax = plt.subplots(figsize=SLIDE_IN, dpi=DPI)
    regions = inst.regions
    chem_cols = [f"{c}_t" for c in inst.chem_names]
    if inst.boundaries:
        import geopandas as gpd

        from ..instance import geojson_key

        gdf = gpd.GeoDataFrame.from_features(inst.boundaries["features"], crs="EPSG:4326")
        gdf["key"] = [geojson_key(f) for f in inst.boundaries["features"]]
        supply = regions.groupby("region")[chem_cols].sum().sum(axis=1)
        gdf["supply"] = gdf["key"].map(supply).fillna(0.0)
        gdf.plot(ax=ax, column="supply", cmap=ListedColormap(CHOROPLETH), edgecolor="#777777", linewidth=0.4,
                 legend=True, legend_kwds={"label": "supply per region [t packs/yr]", "shrink": 0.5,
                                           "orientation": "horizontal", "pad": 0.08, "aspect": 40})
    total = regions[chem_cols].sum(axis=1).to_numpy()
    ax.scatter(regions["lon"], regions["lat"], s=4 + 60 * np.sqrt(total / max(total.max(), 1.0)), c=POINT_COLOUR,
               alpha=0.55, linewidths=0, zorder=3)
    tiers, legs = present(inst)
    for leg in legs:
        df = plan["lines"][leg.name]
        top = max(float(df["flow_t"].max()) if len(df) else 1.0, 1.0)
        for r in df.itertuples(index=False):
            ax.plot([r.o_lon, r.d_lon], [r.o_lat, r.d_lat], color=LEG_STYLE[leg.name].colour, alpha=0.75,
                    linewidth=0.6 + 4.5 * r.flow_t / top, zorder=4, solid_capstyle="round")
    closed = plan["closed"].drop_duplicates("site_id")
    ax.scatter(closed["lon"], closed["lat"], s=14, c=CLOSED_COLOUR, zorder=5, linewidths=0)
    opened = plan["sites"]
    every = concat_rows(list(opened.values()))
    m = plan["merchant"].merge(every[["site_id", "lat", "lon"]], left_on="origin", right_on="site_id")
    if len(m):
        top = max(float(m["flow_t"].max()), 1.0)
        ax.scatter(m["lon"], m["lat"], s=120 + 500 * np.sqrt(m["flow_t"] / top), facecolors="none",
                   edgecolors=MERCHANT_COLOUR, linewidths=2, zorder=6)
    # downstream tiers first and larger, so a site nearer supply on the same spot stays visible on top
    for k, t in enumerate(reversed(tiers)):
        df, style = opened[t.name], TIER_STYLE[t.name]
        ax.scatter(df["lon"], df["lat"], s=MARKER_AREA.get(t.name, 60), marker=MARKER[style.shape], c=style.colour,
                   edgecolors="white", zorder=7 + k)
    # label the last tier's sites and the largest sites of the first tier only, so dense areas stay readable
    first, last = opened[next(t for t in tiers if not t.optional).name], opened[tiers[-1].name]
    top_first = first.sort_values(["capacity_t", "inbound_t"], ascending=False).head(LABEL_SPOKES)
    for r in concat_rows([last, top_first]).drop_duplicates("site_id").itertuples(index=False):
        ax.annotate(str(r.name or r.site_id), (r.lon, r.lat), xytext=(6, 6), textcoords="offset points", fontsize=8,
                    zorder=9 + len(tiers), bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    lats = np.concatenate([regions["lat"].to_numpy(), sol.sites["lat"].to_numpy(dtype=float)])
    lons = np.concatenate([regions["lon"].to_numpy(), sol.sites["lon"].to_numpy(dtype=float)])
    pad_lat = max(0.5, 0.06 * (lats.max() - lats.min()))
    pad_lon = max(0.5, 0.06 * (lons.max() - lons.min()))
    ax.set_xlim(lons.min() - pad_lon, lons.max() + pad_lon)
    ax.set_ylim(lats.min() - pad_lat, lats.max() + pad_lat)
    ax.set_aspect(1 / np.cos(np.radians(np.mean(lats))))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    handles = [Line2D([], [], marker=MARKER[TIER_STYLE[t.name].shape], linestyle="", color=TIER_STYLE[t.name].colour, markersize=10,
                      label=f"open {t.name.replace('_', ' ')} ({len(opened[t.name])})") for t in tiers]
    handles.append(Line2D([], [], marker="o", linestyle="", color=CLOSED_COLOUR, markersize=6, label="candidate not opened"))
    handles += [Line2D([], [], color=LEG_STYLE[leg.name].colour, linewidth=3, label=LEG_STYLE[leg.name].legend.split(" (")[0])
                for leg in legs]
    handles += [Line2D([], [], marker="o", linestyle="", markerfacecolor="none", markeredgecolor=MERCHANT_COLOUR,
                       markeredgewidth=2, markersize=12, label="black mass sold at the spoke"),
                Line2D([], [], marker="o", linestyle="", color=POINT_COLOUR, alpha=0.6, markersize=6, label="supply point")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, framealpha=0.9,
              borderaxespad=0.0)
    cur = sol.currency
    if sol.objective is not None and sol.multi_period:
        value = -sol.objective if sol.profit_mode else sol.objective
        label = "net present profit" if sol.profit_mode else "net present cost"
        period = sol.check_period(options.period) or sol.periods[-1]
        sub = (f"{label} {sol.periods[0]}-{sol.periods[-1]}: {value / 1e6:,.1f} M {cur}"
               + ("" if sol.gap is None else f", gap {100 * sol.gap:.2f} %") + f" -- network in {period}")
    elif sol.objective is not None:
        value = -sol.objective if sol.profit_mode else sol.objective
        label = "net annual profit" if sol.profit_mode else "net annual cost"
        sub = f"{label} {value / 1e6:,.1f} M {cur}/yr" + ("" if sol.gap is None else f", gap {100 * sol.gap:.2f} %")
    else:
        sub = sol.status.value
    ax.set_title(f"{options.title or inst.name}\n{sub}", fontsize=15, loc="left")
    fig.tight_layout()
    return fig


def write_figure(inst: Instance, sol: Solution, path: str | Path, options: MapOptions | None = None) -> Path:
    """Save as PNG/SVG/PDF (by suffix), atomically."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise UsageError(f"{path}: a figure is written as .png, .svg or .pdf (by the file's suffix), not '{path.suffix or 'no suffix'}'")
    fig = network_figure(inst, sol, options)
    try:
        with temporary_sibling(path, f".{fmt}") as tmp:
            meta = {"Software": None} if fmt == "png" else ({"Date": None} if fmt == "svg" else {"CreationDate": None})
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=meta)
    finally:
        plt.close(fig)
    return path
