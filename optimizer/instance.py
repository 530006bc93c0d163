"""The instance: plain data describing one siting problem.

An :class:`Instance` is frozen and holds pandas DataFrames with typed, unit-suffixed columns; it
never holds Pyomo objects, so it pickles cheaply to worker processes.  This module holds the data
types only; :mod:`optimizer.load` reads and writes instance folders (``instance.toml`` + CSV
files, see the README's format section) and :mod:`optimizer.validate` checks them across tables.

Units: supply and spoke capacity in tonnes of packs per year, hub capacity and merchant/hub flows
in tonnes of black mass per year, money in ``Instance.currency``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Chemistry:
    """A battery chemistry and its black-mass economics."""

    name: str
    black_mass_yield: float  # t black mass per t packs
    merchant_price_per_t: float | None = None  # currency per t black mass; None = no outlet
    merchant_cap_t: float | None = None  # t black mass/yr, network-wide; None = no cap
    hub_revenue_per_t: float | None = None  # currency per t black mass refined (profit mode)


@dataclass(frozen=True)
class Parameters:
    """Scalar parameters from ``instance.toml`` (see :mod:`optimizer.schema` for units)."""

    pack_cost_per_t_km: float
    black_mass_cost_per_t_km: float
    first_mile_cost_per_t_km: float | None = None  # None: pack_cost_per_t_km
    line_haul_cost_per_t_km: float | None = None  # None: pack_cost_per_t_km
    damaged_pack_surcharge_per_t_km: float | None = None  # extra per t km for damaged packs out of a region
    circuity: float = 1.0
    service_radius_km: float | None = None
    first_mile_radius_km: float | None = None
    line_haul_radius_km: float | None = None
    spoke_hub_radius_km: float | None = None
    discount_rate: float = 0.0
    lifetime_years: float = 1.0
    collection_point_cost_per_t: float = 0.0
    spoke_cost_per_t: float = 0.0
    hub_cost_per_t: float = 0.0
    uncollected_penalty_per_t: float | None = None
    min_collection_rate: float = 1.0
    min_collection_points: int | None = None
    max_collection_points: int | None = None
    min_spokes: int | None = None
    max_spokes: int | None = None
    min_hubs: int | None = None
    max_hubs: int | None = None
    max_capex: float | None = None
    single_sourcing: bool = False

    @property
    def capital_recovery_factor(self) -> float:
        """Annuity per unit of capex: r(1+r)^n / ((1+r)^n - 1), or 1/n at r = 0."""
        return capital_recovery_factor(self.discount_rate, self.lifetime_years)


@dataclass(frozen=True)
class Periods:
    """Planning periods of a multi-period instance (``[periods]`` in instance.toml).

    Period ``t`` starts in ``years[t]`` and lasts ``lengths[t]`` years; its label is the year as
    text.  A period's annual figures are weighted in the objective by the sum of the discount
    factors of its years, counted from the first year, so the objective is a net present value.
    """

    years: tuple[int, ...]
    lengths: tuple[int, ...]
    base_year: int
    growth: dict = field(default_factory=dict)  # chemistry -> yearly growth ("*" = default)
    capex_budget: tuple[float | None, ...] | None = None  # per period

    @property
    def labels(self) -> tuple[str, ...]:
        """Period labels (the first year of each period, as text)."""
        return tuple(str(y) for y in self.years)

    def weights(self, rate: float) -> dict[str, float]:
        """Sum of discount factors of each period's years (the NPV weight of its annual costs)."""
        y0 = self.years[0]
        return {str(y): float(sum((1 + rate) ** -(y + j - y0) for j in range(n)))
                for y, n in zip(self.years, self.lengths, strict=True)}

    def start_discount(self, rate: float) -> dict[str, float]:
        """Discount factor of each period's first year (for one-off costs such as closures)."""
        return {str(y): float((1 + rate) ** -(y - self.years[0])) for y in self.years}

    def growth_factor(self, rate_per_year: float, period_index: int) -> float:
        """Average over the period's years of (1 + g)^(year - base_year)."""
        y, n = self.years[period_index], self.lengths[period_index]
        return float(np.mean([(1 + rate_per_year) ** (y + j - self.base_year) for j in range(n)]))


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annuity per unit of capex: r(1+r)^n / ((1+r)^n - 1), or 1/n at r = 0."""
    if rate == 0:
        return 1.0 / years
    growth = (1.0 + rate) ** years
    return rate * growth / (growth - 1.0)


@dataclass(frozen=True, eq=False)
class Instance:
    """One siting problem.

    DataFrames (all ids are strings; ``source_row`` is the Excel row the record came from, or
    -1 for programmatic instances):

    ``regions``
        ``id, name, lat, lon, region, estimate`` and ``<chem>_t`` supply columns (t packs/yr).
    ``spokes`` / ``hubs``
        ``id, name, lat, lon, status, existing_size``; hubs also ``accepts_<chem>`` (bool).
    ``spoke_sizes`` / ``hub_sizes``
        ``site_id, size, capacity_t, capex, fixed_opex_per_yr`` (spoke capacity in t packs/yr,
        hub capacity in t black mass/yr).
    ``lanes``
        ``origin, destination, km, cost_per_t`` (one of the last two is NaN).
    """

    name: str
    currency: str
    chemistries: tuple[Chemistry, ...]
    params: Parameters
    regions: pd.DataFrame
    spokes: pd.DataFrame
    hubs: pd.DataFrame
    spoke_sizes: pd.DataFrame
    hub_sizes: pd.DataFrame
    lanes: pd.DataFrame
    description: str = ""
    boundaries: dict | None = None
    source: str = ""
    input_hash: str = ""
    raw_toml: dict = field(default_factory=dict)
    periods: Periods | None = None
    #: multi-period supply, rows ``region_id, chemistry, period, supply_t`` (t packs/yr in each
    #: year of the period); ``None`` for a single-period instance (supply = regions.csv)
    supply_by_period: pd.DataFrame | None = None
    #: supply.csv and growth.csv as given (``None`` where the instance has none): the inputs
    #: ``supply_by_period`` is derived from, kept for saving and for the independent checker
    supply_table: pd.DataFrame | None = None
    growth_table: pd.DataFrame | None = None
    #: collection channels (channels.csv, channel_shares.csv, offers.csv; ``None`` or empty where
    #: the instance has none: one implicit free channel holding all supply)
    channels: pd.DataFrame | None = None
    channel_shares: pd.DataFrame | None = None
    offers: pd.DataFrame | None = None
    #: the optional collection-point tier (collection_points.csv, collection_point_modes.csv;
    #: empty frames where the instance has none -- the loaders always set them)
    collection_points: pd.DataFrame | None = None
    collection_point_modes: pd.DataFrame | None = None
    #: sites a scenario forces open (every period they may operate in)
    forced_open: tuple[str, ...] = ()
    #: what a scenario changed that a reader of the results must be told (solutions and
    #: summaries repeat them), e.g. an existing site it forbids
    notes: tuple[str, ...] = ()

    @property
    def multi_period(self) -> bool:
        """Whether the instance has ``[periods]`` (a phased build-out)."""
        return self.periods is not None

    @property
    def chem_names(self) -> tuple[str, ...]:
        """The chemistries' names, in instance order."""
        return tuple(c.name for c in self.chemistries)

    def chemistry(self, name: str) -> Chemistry:
        """The chemistry called ``name`` (KeyError otherwise)."""
        for c in self.chemistries:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def has_channels(self) -> bool:
        """Whether the instance declares collection channels (channels.csv with rows)."""
        return self.channels is not None and len(self.channels) > 0

    @property
    def profit_mode(self) -> bool:
        """True when any chemistry carries a hub revenue: the objective is then net profit."""
        return any(c.hub_revenue_per_t is not None for c in self.chemistries)

    def supply_long(self) -> pd.DataFrame:
        """Supply as rows ``region_id, chemistry, supply_t`` (zeros dropped), in file order."""
        parts = []
        for c in self.chem_names:
            part = pd.DataFrame(
                {"region_id": self.regions["id"].to_numpy(), "chemistry": c,
                 "supply_t": self.regions[f"{c}_t"].to_numpy(dtype=float)}
            )
            parts.append(part)
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["region_id", "chemistry", "supply_t"])
        return out[out["supply_t"] > 0].reset_index(drop=True)

    def total_supply_t(self) -> dict[str, float]:
        """Supply per chemistry over all regions (t packs/yr)."""
        return {c: float(self.regions[f"{c}_t"].sum()) for c in self.chem_names}

    def replace(self, **changes) -> Instance:
        """A copy with the given fields changed (the instance itself is frozen)."""
        return dataclasses.replace(self, **changes)

def instance_warnings(inst: Instance) -> list[str]:
    """Soft concerns found while loading (printed by the CLI)."""
    return list(inst.raw_toml.get("_warnings", []))


def geojson_key(feature: dict) -> str | None:
    """The region id a GeoJSON feature carries (``properties.id``, ``properties.region_id`` or the feature id), or None.

    """
    props = feature.get("properties") or {}
    for key in ("id", "region_id"):
        if props.get(key) not in (None, ""):
            return str(props[key])
    if feature.get("id") not in (None, ""):
        return str(feature["id"])
    return None
