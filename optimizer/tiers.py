"""The network's tiers and the legs between them, described once as data.

A **tier** is a kind of site -- spokes, hubs (and, as the network grows, collection points and
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

    @property
    def flow_var(self) -> str:
        """Name of the leg's flow variable in the model (t/yr)."""
        return f"flow_{self.name}_t"


SPOKE = Tier("spoke", "spokes", "spokes", "spoke_sizes", takes="packs", unit="t packs/yr", cost_param="spoke_cost_per_t",
             makes="black_mass", converts=True, merchant=True, label="spoke (pre-processing: packs to black mass)")
HUB = Tier("hub", "hubs", "hubs", "hub_sizes", takes="black_mass", unit="t black mass/yr", cost_param="hub_cost_per_t",
           accepts=True, revenue=True, label="hub (refining black mass)")
TIERS: tuple[Tier, ...] = (SPOKE, HUB)

LEGS: tuple[Leg, ...] = (
    Leg("region_spoke", REGION, "spoke", "packs", "pack_cost_per_t_km", "service_radius_km", "transport_pack"),
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


def merchant_echelon(t: Tier) -> str:
    """The ``echelon`` of a tier's merchant sales in flows.csv (``spoke_merchant``)."""
    return f"{t.name}_merchant"


def processing_component(t: Tier) -> str:
    """The cost component of a tier's variable processing (``spoke_processing``)."""
    return f"{t.name}_processing"


def revenue_component(t: Tier) -> str:
    """The cost component of a tier's revenue (``hub_revenue``, negative)."""
    return f"{t.name}_revenue"
