"""Synthetic instances of any size, for benchmarks of the modelling layer.

Used by ``benchmarks/modelling_layer.py`` (build, hand-off and extraction time and memory over a
size series) and, later, by the map size test with 2,000 regions.  They are not meant to be
solved for insight: sites and regions are scattered uniformly over a continent-sized box
(latitude 30-50, longitude -120..-70, roughly the contiguous US) with realistic magnitudes, so
the sparse sets have the size and shape of a real study.

:func:`synthetic_instance` is deterministic for a seed.  The service radius is computed from the
distances so that every region reaches at least ``min_spokes_per_region`` spokes that can open.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..geo import great_circle_km
from ..instance import Chemistry, Instance, Parameters
from ..load import make_instance

LAT_RANGE = (30.0, 50.0)
LON_RANGE = (-120.0, -70.0)
CIRCUITY = 1.25

#: (name, black-mass yield, merchant price per t black mass); at most four chemistries.
CHEMISTRIES = (
    ("nmc", 0.40, 3500.0),
    ("lfp", 0.33, -250.0),
    ("nca", 0.40, 4000.0),
    ("lmo", 0.33, 800.0),
)
#: Share of a chemistry's black mass (all supply x yield) the merchant market takes.
MERCHANT_CAP_SHARE = 0.25
#: Spoke sizes: (size, capacity t packs/yr, capex, fixed opex per yr), before a +-10 % site factor.
SPOKE_SIZES = (("small", 5_000.0, 8.2e6, 0.9e6), ("medium", 10_000.0, 12.5e6, 1.4e6), ("large", 20_000.0, 19.3e6, 2.3e6))
#: Hub sizes: (size, capacity t black mass/yr, capex range, fixed opex per yr).
HUB_SIZES = (("medium", 15_000.0, (300e6, 340e6), 22e6), ("large", 35_000.0, (500e6, 560e6), 41e6))
SUPPLY_RANGE_T = (100.0, 5000.0)
RADIUS_MARGIN = 1.001  # relative margin on the computed service radius (then rounded up, plus 1 km)


def synthetic_instance(n_regions: int, n_spokes: int, n_hubs: int, n_chems: int = 2, seed: int = 0,
                       min_spokes_per_region: int = 20) -> Instance:
    """A random instance with ``n_regions`` supply regions, ``n_spokes`` spoke and ``n_hubs`` hub sites.

    * Supply: uniform 100-5000 t packs/yr per region and chemistry (``nmc``, ``lfp``, ``nca``,
      ``lmo``; the first ``n_chems``), yields 0.40/0.33, a merchant price per chemistry and a
      merchant cap of a quarter of the chemistry's black mass.
    * Spokes: sizes 5k/10k/20k t packs with capex about 8-20 M and fixed opex; about 5 % are
      existing (small or medium installed) and 2 % excluded.
    * Hubs: sizes 15k/35k t black mass with capex 300-560 M; about 10 % existing; each accepts a
      random non-empty subset of the chemistries, and every chemistry is accepted by some hub.
    * Collection: at least half of each region's supply, 2,000 per t penalty on the rest.
    * ``service_radius_km``: the largest, over regions, road distance (great circle x circuity)
      to the region's ``min_spokes_per_region``-th nearest spoke that can open, plus a small
      margin; so every region reaches at least that many spokes (all of them if there are fewer).
    """
    if not 1 <= n_chems <= len(CHEMISTRIES):
        raise ValueError(f"n_chems must be 1..{len(CHEMISTRIES)}, got {n_chems}")
    if n_regions < 1 or n_spokes < 1 or n_hubs < 0:
        raise ValueError("need at least one region and one spoke (and n_hubs >= 0)")
    rng = np.random.default_rng(seed)
    chem_specs = CHEMISTRIES[:n_chems]

    # Regions and supply.
    r_lat, r_lon = _points(rng, n_regions)
    regions = pd.DataFrame({
        "id": [f"R{i:05d}" for i in range(n_regions)],
        "name": [f"Region {i}" for i in range(n_regions)],
        "lat": r_lat, "lon": r_lon,
    })
    for name, _, _ in chem_specs:
        regions[f"{name}_t"] = np.round(rng.uniform(*SUPPLY_RANGE_T, n_regions), 1)

    spokes, spoke_sizes = _spokes(rng, n_spokes)
    hubs, hub_sizes = _hubs(rng, n_hubs, chem_specs)
    s_lat, s_lon, status = spokes["lat"].to_numpy(), spokes["lon"].to_numpy(), spokes["status"].to_numpy()

    # Service radius: every region reaches its k nearest spokes that can open.
    can_open = status != "excluded"
    km = great_circle_km(r_lat[:, None], r_lon[:, None], s_lat[None, can_open], s_lon[None, can_open]) * CIRCUITY
    k = min(min_spokes_per_region, int(can_open.sum()))
    kth = np.partition(km, k - 1, axis=1)[:, k - 1]
    radius = math.ceil(float(kth.max()) * RADIUS_MARGIN) + 1.0

    chemistries = []
    for name, yld, price in chem_specs:
        black_mass = float(regions[f"{name}_t"].sum()) * yld
        chemistries.append(Chemistry(name, yld, merchant_price_per_t=price,
                                     merchant_cap_t=round(MERCHANT_CAP_SHARE * black_mass, 0)))
    params = Parameters(
        pack_cost_per_t_km=0.30, black_mass_cost_per_t_km=0.12, circuity=CIRCUITY,
        service_radius_km=radius,
        discount_rate=0.08, lifetime_years=20.0,
        spoke_cost_per_t=250.0, hub_cost_per_t=1800.0,
        uncollected_penalty_per_t=2000.0, min_collection_rate=0.5,
    )
    name = f"synthetic-{n_regions}x{n_spokes}x{n_hubs}x{n_chems}-s{seed}"
    return make_instance(
        name, chemistries, params, regions, spokes, spoke_sizes,
        hubs=hubs if n_hubs else None, hub_sizes=hub_sizes if n_hubs else None,
        description=(f"Synthetic benchmark instance (optimizer.bench.synthetic, seed {seed}): "
                     f"{n_regions} regions, {n_spokes} spokes, {n_hubs} hubs, {n_chems} chemistries; "
                     f"every region reaches at least {k} spokes"),
    )


def _spokes(rng: np.random.Generator, n_spokes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spoke sites (about 5 % existing, 2 % excluded) and their three sizes with a +-10 % site factor."""
    s_lat, s_lon = _points(rng, n_spokes)
    status = np.full(n_spokes, "candidate", dtype=object)
    existing_size = np.full(n_spokes, "", dtype=object)
    pick = rng.permutation(n_spokes)
    n_existing = int(round(0.05 * n_spokes))
    n_excluded = int(round(0.02 * n_spokes)) if n_spokes > n_existing + 1 else 0
    status[pick[:n_existing]] = "existing"
    existing_size[pick[:n_existing]] = rng.choice(["small", "medium"], n_existing)
    status[pick[n_existing:n_existing + n_excluded]] = "excluded"
    spokes = pd.DataFrame({
        "id": [f"S{i:04d}" for i in range(n_spokes)],
        "name": [f"Spoke {i}" for i in range(n_spokes)],
        "lat": s_lat, "lon": s_lon, "status": status, "existing_size": existing_size,
    })
    factor = rng.uniform(0.9, 1.1, n_spokes)
    spoke_sizes = pd.DataFrame([
        (sid, size, cap, round(capex * f, -3), round(opex * f, -3))
        for sid, f in zip(spokes["id"], factor, strict=True)
        for size, cap, capex, opex in SPOKE_SIZES
    ], columns=["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"])

    return spokes, spoke_sizes


def _hubs(rng: np.random.Generator, n_hubs: int, chem_specs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hub sites (a tenth existing), the non-empty set of chemistries each accepts (every chemistry
    accepted somewhere) and their two sizes."""
    n_chems = len(chem_specs)
    h_lat, h_lon = _points(rng, n_hubs)
    h_status = np.full(n_hubs, "candidate", dtype=object)
    h_existing = np.full(n_hubs, "", dtype=object)
    n_h_existing = n_hubs // 10
    h_pick = rng.permutation(n_hubs)[:n_h_existing]
    h_status[h_pick] = "existing"
    h_existing[h_pick] = "medium"
    hubs = pd.DataFrame({
        "id": [f"H{i:03d}" for i in range(n_hubs)],
        "name": [f"Hub {i}" for i in range(n_hubs)],
        "lat": h_lat, "lon": h_lon, "status": h_status, "existing_size": h_existing,
    })
    accepts = rng.random((n_hubs, n_chems)) < 0.5
    empty = ~accepts.any(axis=1)
    accepts[empty, rng.integers(0, n_chems, int(empty.sum()))] = True
    for j in range(n_chems if n_hubs else 0):
        if not accepts[:, j].any():
            accepts[rng.integers(0, n_hubs), j] = True
    for j, (name, _, _) in enumerate(chem_specs):
        hubs[f"accepts_{name}"] = accepts[:, j]
    hub_rows = []
    for sid in hubs["id"]:
        for size, cap, (lo, hi), opex in HUB_SIZES:
            hub_rows.append((sid, size, cap, round(float(rng.uniform(lo, hi)), -5), opex))
    hub_sizes = pd.DataFrame(hub_rows, columns=["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"])

    return hubs, hub_sizes


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform over the box (lat, lon rounded to 1e-4 degrees, about 10 m)."""
    lat = np.round(rng.uniform(*LAT_RANGE, n), 4)
    lon = np.round(rng.uniform(*LON_RANGE, n), 4)
    return lat, lon
