"""The network's tiers and the legs between them, described once as data.

A **tier** is a kind of site -- collection points, spokes, hubs (and, as the network grows,
reuse centres): its sites and size options live in two tables of the instance, it takes one
material in and sends another on (or none: a terminal tier), at a variable processing cost per
tonne.  A **leg** is a kind of lane: from the supply regions or a tier to a tier, carrying one
material at a rate per tonne-km, within an optional radius.

Every layer reads this description instead of naming spokes and hubs: the schema generates the
tier-specific fields from it (``min_<tier>s``, ``max_<tier>s``, ``<leg>_radius_km``), the model
writes each constraint family once over :data:`TIERS` and :data:`LEGS`, and extraction, the
checker, the diagnosis, the maps and the sweeps loop over the same tuples.  Adding a tier is a
row here (and its two input tables in :mod:`optimizer.schema`), not a copy of every constraint.

This module imports nothing of spokehub.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "region"  # the origin of legs that start at the supply points


@dataclass(frozen=True)
class Tier:
    """One kind of site."""

    name: str  # singular, lower case: the ``kind`` of its rows in sites.csv, ``open_<name>``
    plural: str  # ``min_<plural>`` / ``max_<plural>`` in [limits]
    sites: str  # Instance attribute holding its sites (file ``<sites>.csv``)
    options: str  # Instance attribute holding its size options (file ``<options>.csv``)
    takes: str  # material received: "packs" | "black_mass"
    unit: str  # what its capacities and throughputs count
    cost_param: str  # Parameters field: the tier's variable processing cost per tonne taken
    makes: str | None = None  # material sent on; None = a terminal tier (refines what it takes)
    converts: bool = False  # what it sends on is what it takes times the chemistry's yield
    accepts: bool = False  # its sites say per chemistry whether they take it (accepts_<chem>)
    revenue: bool = False  # a terminal tier earning the chemistries' hub_revenue_per_t
    merchant: bool = False  # its sites may sell what they make at the gate (the merchant market)
    cover: bool = True  # every tonne of its material passes through it (capacity-cover rows)
    optional: bool = False  # an instance may leave the tier out (its files, its processing cost: default 0)
    label: str = ""  # for people: "spoke (pre-processing)"

    @property
    def open_var(self) -> str:
        """Name of the tier's binary open/size variable in the model."""
        return f"open_{self.name}"


@dataclass(frozen=True)
class Leg:
    """One kind of lane."""

    name: str  # ``flow_<name>_t``; the ``echelon`` of its rows in flows.csv
    origin: str  # REGION or a tier name
    destination: str  # a tier name
    material: str
    rate_param: str  # Parameters field: rate per tonne-km
    radius_param: str | None  # Parameters field holding the leg's radius in road km (None: no radius)
    component: str  # the cost component its transport is reported under
    rate_fallback: str | None = None  # Parameters field used when ``rate_param`` is not given

    def rate(self, params) -> float:
        """The leg's rate per tonne-km in ``params`` (its own, else its fallback's)."""
        value = getattr(params, self.rate_param)
        if value is None and self.rate_fallback is not None:
            value = getattr(params, self.rate_fallback)
        return float(value)

    @property
    def flow_var(self) -> str:
        """Name of the leg's flow variable in the model (t/yr)."""
        return f"flow_{self.name}_t"


COLLECTION_POINT = Tier(
    "collection_point", "collection_points", "collection_points", "collection_point_modes", takes="packs",
    unit="t packs/yr", cost_param="collection_point_cost_per_t", makes="packs", cover=False, optional=True,
    label="collection point (consolidating packs for the spokes)")
SPOKE = Tier("spoke", "spokes", "spokes", "spoke_sizes", takes="packs", unit="t packs/yr", cost_param="spoke_cost_per_t",
             makes="black_mass", converts=True, merchant=True, label="spoke (pre-processing: packs to black mass)")
HUB = Tier("hub", "hubs", "hubs", "hub_sizes", takes="black_mass", unit="t black mass/yr", cost_param="hub_cost_per_t",
           accepts=True, revenue=True, label="hub (refining black mass)")
TIERS: tuple[Tier, ...] = (COLLECTION_POINT, SPOKE, HUB)

#: In flow order: every leg into a tier comes before any leg out of it.
LEGS: tuple[Leg, ...] = (
    Leg("region_collection_point", REGION, "collection_point", "packs", "first_mile_cost_per_t_km", "first_mile_radius_km",
        "transport_first_mile", rate_fallback="pack_cost_per_t_km"),
    Leg("region_spoke", REGION, "spoke", "packs", "pack_cost_per_t_km", "service_radius_km", "transport_pack"),
    Leg("collection_point_spoke", "collection_point", "spoke", "packs", "line_haul_cost_per_t_km", "line_haul_radius_km",
        "transport_line_haul", rate_fallback="pack_cost_per_t_km"),
    Leg("spoke_hub", "spoke", "hub", "black_mass", "black_mass_cost_per_t_km", "spoke_hub_radius_km", "transport_black_mass"),
)


def tier(name: str) -> Tier:
    """The tier called ``name`` (KeyError otherwise)."""
    for t in TIERS:
        if t.name == name:
            return t
    raise KeyError(name)


def legs_into(name: str) -> tuple[Leg, ...]:
    """The legs ending at tier ``name``."""
    return tuple(leg for leg in LEGS if leg.destination == name)


def legs_out_of(name: str) -> tuple[Leg, ...]:
    """The legs starting at tier ``name`` (or at :data:`REGION`)."""
    return tuple(leg for leg in LEGS if leg.origin == name)


def present(inst) -> tuple[tuple[Tier, ...], tuple[Leg, ...]]:
    """The tiers an instance has -- every tier but an optional one it leaves out (no collection
    points) -- and the legs between them: what maps, figures and tables show."""
    tiers = tuple(t for t in TIERS if not t.optional or len(getattr(inst, t.sites)))
    names = {t.name for t in tiers} | {REGION}
    return tiers, tuple(leg for leg in LEGS if leg.origin in names and leg.destination in names)


def merchant_echelon(t: Tier) -> str:
    """The ``echelon`` of a tier's merchant sales in flows.csv (``spoke_merchant``)."""
    return f"{t.name}_merchant"


def processing_component(t: Tier) -> str:
    """The cost component of a tier's variable processing (``spoke_processing``)."""
    return f"{t.name}_processing"


def revenue_component(t: Tier) -> str:
    """The cost component of a tier's revenue (``hub_revenue``, negative)."""
    return f"{t.name}_revenue"
