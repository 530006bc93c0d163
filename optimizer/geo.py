"""Distances and lanes.

Road distance is estimated as great-circle distance (haversine, mean Earth radius) times the
instance's circuity factor; ``lanes.csv`` replaces it per lane with a road distance or a quoted
cost per tonne.  Everything here is vectorised numpy: a 3,000 x 500 distance matrix is one call.
The service radius prunes region->spoke pairs here, so arcs beyond it never reach the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km; arguments broadcast like numpy arrays (degrees)."""
    p1 = np.radians(np.asarray(lat1, dtype=float))
    p2 = np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class Lanes:
    """Pairs (origin index, destination index) with km and cost-per-tonne arrays.

    ``cost_per_t`` is ``rate * km`` unless the lane carries a quoted cost; ``quoted`` marks
    those.  Indices refer to the origin and destination tables passed to :func:`lanes_between`.
    """

    origin: np.ndarray
    destination: np.ndarray
    km: np.ndarray
    cost_per_t: np.ndarray
    quoted: np.ndarray


def lanes_between(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    circuity: float,
    rate_per_t_km: float,
    overrides: pd.DataFrame,
    radius_km: float | None = None,
    chunk_rows: int = 2048,
) -> Lanes:
    """All origin->destination lanes within ``radius_km`` (road km), with lane overrides applied.

    ``origins``/``destinations`` need ``id, lat, lon``; ``overrides`` has ``origin,
    destination, km, cost_per_t`` (NaN where not given).  The radius applies to the lane's road
    km: the override km where given, else great-circle x circuity.  A lane with a quoted
    ``cost_per_t`` is kept whatever its distance: a user who quotes a rate means the lane to
    exist.  Work is chunked by origin rows so memory stays at ``chunk_rows x len(destinations)``
    floats.
    """
    n_o, n_d = len(origins), len(destinations)
    if n_o == 0 or n_d == 0:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=float)
        return Lanes(empty_i, empty_i, empty_f, empty_f, np.empty(0, dtype=bool))
    o_lat = origins["lat"].to_numpy(dtype=float)
    o_lon = origins["lon"].to_numpy(dtype=float)
    d_lat = destinations["lat"].to_numpy(dtype=float)
    d_lon = destinations["lon"].to_numpy(dtype=float)

    o_pos = {k: i for i, k in enumerate(origins["id"])}
    d_pos = {k: i for i, k in enumerate(destinations["id"])}
    ov_o, ov_d, ov_km, ov_cost = [], [], [], []
    for row in overrides.itertuples(index=False):
        if row.origin in o_pos and row.destination in d_pos:
            ov_o.append(o_pos[row.origin])
            ov_d.append(d_pos[row.destination])
            ov_km.append(row.km)
            ov_cost.append(row.cost_per_t)
    ov_flat = np.asarray(ov_o, dtype=np.int64) * n_d + np.asarray(ov_d, dtype=np.int64)
    ov_km_a = np.asarray(ov_km, dtype=float)
    ov_cost_a = np.asarray(ov_cost, dtype=float)
    quoted_flat = ov_flat[~np.isnan(ov_cost_a)]

    out_o, out_d, out_km = [], [], []
    for start in range(0, n_o, chunk_rows):
        stop = min(n_o, start + chunk_rows)
        km = great_circle_km(o_lat[start:stop, None], o_lon[start:stop, None], d_lat[None, :], d_lon[None, :]) * circuity
        # Road km from lanes.csv replaces the estimate before the radius test.
        in_chunk = (ov_flat >= start * n_d) & (ov_flat < stop * n_d) & ~np.isnan(ov_km_a)
        if in_chunk.any():
            local = ov_flat[in_chunk] - start * n_d
            km.flat[local] = ov_km_a[in_chunk]
        keep = km <= radius_km if radius_km is not None else np.ones_like(km, dtype=bool)
        if radius_km is not None and len(quoted_flat):
            here = quoted_flat[(quoted_flat >= start * n_d) & (quoted_flat < stop * n_d)] - start * n_d
            keep.flat[here] = True
        oi, di = np.nonzero(keep)
        out_o.append(oi + start)
        out_d.append(di)
        out_km.append(km[oi, di])
    origin = np.concatenate(out_o)
    dest = np.concatenate(out_d)
    km = np.concatenate(out_km)
    cost = km * rate_per_t_km
    quoted = np.zeros(len(km), dtype=bool)
    has_cost = ~np.isnan(ov_cost_a)
    if has_cost.any():
        flat = origin * n_d + dest
        order = np.argsort(flat)
        pos = np.searchsorted(flat, ov_flat[has_cost], sorter=order)
        pos = np.clip(pos, 0, len(flat) - 1)
        hit = flat[order[pos]] == ov_flat[has_cost]
        idx = order[pos[hit]]
        cost[idx] = ov_cost_a[has_cost][hit]
        quoted[idx] = True
    return Lanes(origin, dest, km, cost, quoted)
