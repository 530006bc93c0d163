"""The instance format, declared once.

Every key of ``instance.toml`` and every column of each CSV file is a :class:`FieldSpec` here,
with its type, unit, bounds, default and description.  The loader parses and checks values from
these specs, and the README's format tables are generated from them
(``python scripts/update_readme.py`` rewrites them; a test checks they are current), so the documentation cannot drift from the
code.  Columns whose name depends on the declared chemistries (``<chem>_t``, ``accepts_<chem>``)
are :class:`FieldSpec` templates with ``{chem}`` in the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .tiers import LEGS, TIERS

SCHEMA_VERSION = 1

#: Site statuses understood in spokes.csv / hubs.csv.
STATUSES = ("candidate", "existing", "excluded")


@dataclass(frozen=True)
class FieldSpec:
    """One input field.

    ``kind`` is one of ``str``, ``id``, ``float``, ``int``, ``bool``, ``choice``.
    ``lo``/``hi`` are inclusive bounds unless ``lo_open``/``hi_open`` make them strict.
    """

    name: str
    kind: str
    description: str
    unit: str = ""
    required: bool = True
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    #: plausible range: a value outside it is read, with a warning naming the cell (a likely unit
    #: slip: kg for t, t per month for t per year, cents for currency units)
    warn_lo: float | None = None
    warn_hi: float | None = None

    def expected(self) -> str:
        """Plain-language description of a valid value, used in error messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false (also 1/0, yes/no)"
        if self.kind in ("str", "id"):
            return "a non-empty text" if self.required else "a text"
        what = "an integer" if self.kind == "int" else "a finite number"
        bounds = []
        if self.lo is not None:
            bounds.append(f"{'>' if self.lo_open else '>='} {_fmt(self.lo)}")
        if self.hi is not None:
            bounds.append(f"{'<' if self.hi_open else '<='} {_fmt(self.hi)}")
        if bounds:
            what += " " + " and ".join(bounds)
        if self.unit:
            what += f" ({self.unit})"
        return what

    def plausible(self) -> str:
        """The plausible range as text, for warnings."""
        parts = []
        if self.warn_lo is not None:
            parts.append(f"at least {_fmt(self.warn_lo)}")
        if self.warn_hi is not None:
            parts.append(f"at most {_fmt(self.warn_hi)}")
        unit = f" {self.unit}" if self.unit else ""
        return f"a plausible value, {' and '.join(parts)}{unit} (a larger or smaller one is usually a unit slip)"


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class TableSpec:
    """A CSV file: fixed columns plus per-chemistry column templates."""

    file: str
    description: str
    fields: tuple[FieldSpec, ...]
    chem_fields: tuple[FieldSpec, ...] = ()
    required_file: bool = True
    #: the :class:`~optimizer.instance.Instance` attribute holding the table (loader, saver and
    #: workbook all find a file's table through this)
    attr: str = ""
    #: files whose ids this file refers to (a sizes file needs its sites file)
    needs: tuple[str, ...] = ()

    def columns_for(self, chemistries: tuple[str, ...]) -> list[FieldSpec]:
        """The table's fields with the per-chemistry templates expanded for ``chemistries``."""
        out = list(self.fields)
        for template in self.chem_fields:
            for chem in chemistries:
                out.append(
                    FieldSpec(
                        name=template.name.format(chem=chem),
                        kind=template.kind,
                        description=template.description.format(chem=chem),
                        unit=template.unit,
                        required=template.required,
                        default=template.default,
                        lo=template.lo,
                        hi=template.hi,
                        lo_open=template.lo_open,
                        hi_open=template.hi_open,
                        warn_lo=template.warn_lo,
                        warn_hi=template.warn_hi,
                    )
                )
        return out


NAME = FieldSpec("name", "str", "Human-readable name shown in reports and maps", required=False, default="")
LAT = FieldSpec("lat", "float", "Latitude (WGS84)", unit="degrees", lo=-90, hi=90)
LON = FieldSpec("lon", "float", "Longitude (WGS84)", unit="degrees", lo=-180, hi=180)

REGIONS = TableSpec(
    file="regions.csv",
    attr="regions",
    description="Supply regions (or supply points) releasing end-of-life packs.",
    fields=(
        FieldSpec("id", "id", "Unique id (unique across regions, spokes and hubs)"),
        NAME,
        LAT,
        LON,
        FieldSpec(
            "region", "str",
            "Administrative region this supply point belongs to (reports/maps group by it); "
            "defaults to the id",
            required=False, default="",
        ),
        FieldSpec(
            "estimate", "bool",
            "True where the supply figure is a documented proxy rather than a sourced number",
            required=False, default=False,
        ),
    ),
    chem_fields=(
        FieldSpec(
            "{chem}_t", "float",
            "Supply of {chem} packs released per year",
            unit="t packs/yr", lo=0, hi=1e8, warn_hi=1e7,
        ),
    ),
)

SITE_FIELDS = (
    FieldSpec("id", "id", "Unique site id (unique across regions, spokes and hubs)"),
    NAME,
    LAT,
    LON,
    FieldSpec(
        "status", "choice",
        "candidate: may be opened; existing: open, its installed size's capex is sunk; "
        "excluded: never opened",
        choices=STATUSES,
    ),
    FieldSpec(
        "existing_size", "str",
        "For status=existing: the size (from the sizes file) that is installed; blank otherwise",
        required=False, default="",
    ),
    FieldSpec(
        "earliest_year", "int",
        "Multi-period: first year the site may operate (permits, build time); blank = from the first period",
        required=False, lo=1900, hi=2200,
    ),
    FieldSpec(
        "closure_cost", "float",
        "Existing sites only: one-off cost of closing the site (for good, in a multi-period plan; "
        "annualised like capex in a one-period one); blank = the site may not close, 0 = it may close for free",
        unit="currency", required=False, lo=0, hi=1e15, warn_hi=1e12,
    ),
    FieldSpec(
        "processing_cost_per_t", "float",
        "Variable processing cost at this site, replacing the tier's ([processing]); blank = the tier's",
        unit="currency/t taken", required=False, lo=0, hi=1e9, warn_hi=1e7,
    ),
    FieldSpec(
        "group", "str",
        "A group name (an operator, a programme) that scenario overrides can address together; blank = none",
        required=False, default="",
    ),
)

SPOKES = TableSpec(
    file="spokes.csv",
    attr="spokes",
    description="Candidate and existing Spoke sites (pre-processing: packs to black mass).",
    fields=SITE_FIELDS,
)

HUBS = TableSpec(
    file="hubs.csv",
    attr="hubs",
    description="Candidate and existing Hub sites (hydrometallurgical refining of black mass).",
    fields=SITE_FIELDS,
    chem_fields=(
        FieldSpec(
            "accepts_{chem}", "bool",
            "Whether this hub accepts {chem} black mass",
        ),
    ),
    required_file=False,
)

_SIZE_FIELDS_COMMON = (
    FieldSpec("site_id", "id", "Site this size option belongs to"),
    FieldSpec("size", "id", "Size option name (unique per site)"),
)

SPOKE_SIZES = TableSpec(
    file="spoke_sizes.csv",
    attr="spoke_sizes",
    needs=("spokes.csv",),
    description="Size options per spoke site (at most one is built).",
    fields=_SIZE_FIELDS_COMMON
    + (
        FieldSpec("capacity_t", "float", "Pack throughput capacity", unit="t packs/yr", lo=0, lo_open=True, hi=1e8,
                  warn_lo=1, warn_hi=1e7),
        FieldSpec("capex", "float", "Up-front capital cost", unit="currency", lo=0, hi=1e15, warn_hi=1e12),
        FieldSpec("fixed_opex_per_yr", "float", "Fixed operating cost while open", unit="currency/yr", lo=0, hi=1e14, warn_hi=1e11),
        FieldSpec("min_throughput_t", "float", "Least throughput while open at this size (a plant runs or closes); blank = none",
                  unit="t packs/yr", lo=0, hi=1e8, required=False, default=0.0),
    ),
)

HUB_SIZES = TableSpec(
    file="hub_sizes.csv",
    attr="hub_sizes",
    needs=("hubs.csv",),
    description="Size options per hub site (at most one is built).",
    fields=_SIZE_FIELDS_COMMON
    + (
        FieldSpec("capacity_t", "float", "Black-mass throughput capacity", unit="t black mass/yr", lo=0, lo_open=True, hi=1e8,
                  warn_lo=1, warn_hi=1e7),
        FieldSpec("capex", "float", "Up-front capital cost", unit="currency", lo=0, hi=1e15, warn_hi=1e12),
        FieldSpec("fixed_opex_per_yr", "float", "Fixed operating cost while open", unit="currency/yr", lo=0, hi=1e14, warn_hi=1e11),
        FieldSpec("min_throughput_t", "float", "Least throughput while open at this size; blank = none",
                  unit="t black mass/yr", lo=0, hi=1e8, required=False, default=0.0),
    ),
    required_file=False,
)

COLLECTION_POINTS = TableSpec(
    file="collection_points.csv",
    attr="collection_points",
    description=(
        "Optional: candidate and existing collection points (dealer drop-offs, dismantler yards, own "
        "consolidation centres, swap stations) where packs from the regions nearby are gathered and sent "
        "on to a spoke in consolidated loads (first mile in, line haul out). Without it packs go straight "
        "to spokes; with it they may still do so."
    ),
    fields=SITE_FIELDS
    + (
        FieldSpec("channels", "str", "Channels the point accepts: ids from channels.csv separated by ';' "
                  "(e.g. dealers;dismantlers); blank = every channel. The others ship straight to spokes",
                  required=False, default=""),
    ),
    required_file=False,
)

COLLECTION_POINT_MODES = TableSpec(
    file="collection_point_modes.csv",
    attr="collection_point_modes",
    needs=("collection_points.csv",),
    description=(
        "With collection_points.csv: the modes a collection point can run in, at most one per site -- "
        "e.g. own (built and run by the planner: capex and fixed opex) or partner (entrusted to a "
        "dealer or dismantler: no capex, a yearly fee as fixed opex) -- each with its capacity."
    ),
    fields=(
        FieldSpec("site_id", "id", "Collection point this mode belongs to"),
        FieldSpec("size", "id", "Mode name (own, partner, ...), unique per site"),
        FieldSpec("capacity_t", "float", "Packs the point can gather", unit="t packs/yr", lo=0, lo_open=True, hi=1e8,
                  warn_lo=1, warn_hi=1e7),
        FieldSpec("capex", "float", "Up-front capital cost (0 for a partner's site)", unit="currency", lo=0, hi=1e15, warn_hi=1e12),
        FieldSpec("fixed_opex_per_yr", "float", "Fixed cost per year while open (running cost, or the partner's fee)",
                  unit="currency/yr", lo=0, hi=1e14, warn_hi=1e11),
        FieldSpec("min_throughput_t", "float", "Least throughput while open in this mode; blank = none",
                  unit="t packs/yr", lo=0, hi=1e8, required=False, default=0.0),
        FieldSpec("processing_cost_per_t", "float", "Handling cost per t in this mode, replacing the point's and the "
                  "tier's ([processing] collection_point_cost_per_t); blank = theirs", unit="currency/t packs",
                  lo=0, hi=1e9, warn_hi=1e7, required=False),
    ),
    required_file=False,
)

#: the optional collection-point tier's two files
COLLECTION_POINT_TABLES = (COLLECTION_POINTS, COLLECTION_POINT_MODES)

LANES = TableSpec(
    file="lanes.csv",
    attr="lanes",
    description=(
        "Optional lane overrides: a road distance or a quoted cost per tonne for a region->spoke "
        "(packs) or spoke->hub (black mass) lane. Give exactly one of km and cost_per_t."
    ),
    fields=(
        FieldSpec("origin", "id", "Region id (pack lane) or spoke id (black-mass lane)"),
        FieldSpec("destination", "id", "Spoke id (pack lane) or hub id (black-mass lane)"),
        FieldSpec("km", "float", "Road distance replacing great-circle x circuity", unit="km", lo=0, required=False, hi=4e4,
                  warn_hi=2e4),
        FieldSpec("cost_per_t", "float", "Quoted transport cost replacing rate x km", unit="currency/t", lo=0, required=False,
                  hi=1e9, warn_hi=1e7),
    ),
    required_file=False,
)

SUPPLY = TableSpec(
    file="supply.csv",
    attr="supply_table",
    description=(
        "Optional, multi-period instances: supply per region, period and chemistry, replacing the "
        "growth path. Every region x period x chemistry must be present once."
    ),
    fields=(
        FieldSpec("region_id", "id", "A region id from regions.csv"),
        FieldSpec("period", "int", "First year of a period declared in [periods] years", lo=1900, hi=2200),
        FieldSpec("chemistry", "id", "A chemistry declared in instance.toml"),
        FieldSpec("supply_t", "float", "Packs released in a year of that period", unit="t packs/yr", lo=0, hi=1e8, warn_hi=1e7),
    ),
    required_file=False,
)

GROWTH = TableSpec(
    file="growth.csv",
    attr="growth_table",
    description="Optional, multi-period: yearly supply growth per region and chemistry, overriding [periods] growth.",
    fields=(
        FieldSpec("region_id", "id", "A region id from regions.csv"),
        FieldSpec("chemistry", "id", "A chemistry declared in instance.toml"),
        FieldSpec("growth", "float", "Yearly growth of supply as a fraction (0.4 = +40 %/yr)", unit="1/yr", lo=-1, lo_open=True, hi=5),
    ),
    required_file=False,
)

#: How a channel's offer is chosen: per region, or one price list for the whole network.
PRICE_SCOPES = ("region", "national")

CHANNELS = TableSpec(
    file="channels.csv",
    attr="channels",
    description=(
        "Optional: the collection channels end-of-life packs reach recyclers through (dealers, "
        "dismantlers, fleets, production scrap, collectors). Without this file every region's "
        "supply is one free channel, all of it collected as before."
    ),
    fields=(
        FieldSpec("id", "id", "Channel name (e.g. dealer, dismantler, fleet, production_scrap, collector)"),
        NAME,
        FieldSpec("owner", "str", "Who holds the packs (OEM dealers, scrapyards, fleet operators, battery makers)",
                  required=False, default=""),
        FieldSpec("price_scope", "choice", "Where the offer is chosen: per region, or one national price list "
                  "(every region gets the same level)", required=False, default="region", choices=PRICE_SCOPES),
        FieldSpec("min_capture_share", "float", "Least share of the channel's available tonnes that must be captured "
                  "(a take-back duty), in every region and period; blank = none", unit="-", lo=0, hi=1,
                  required=False, default=0.0),
        FieldSpec("damaged_share", "float", "Share of the channel's packs that are damaged or defective: they travel "
                  "as dangerous goods (ADR special provision 376) at [transport] damaged_pack_surcharge_per_t_km more "
                  "on their haul from the region; blank = none", unit="-", lo=0, hi=1, required=False, default=0.0),
        FieldSpec("source", "str", "Where the channel's figures come from (or 'estimate')", required=False, default=""),
    ),
    required_file=False,
)

CHANNEL_SHARES = TableSpec(
    file="channel_shares.csv",
    attr="channel_shares",
    needs=("channels.csv",),
    description=(
        "With channels.csv: the share of each region's supply each channel holds. A row for a "
        "region id overrides one for its `region` group, which overrides `*` (every region); "
        "for each region and chemistry the shares must add up to 1."
    ),
    fields=(
        FieldSpec("region", "id", "A region id, a value of regions.csv's region column, or * for every region"),
        FieldSpec("chemistry", "str", "A chemistry declared in instance.toml; blank = every chemistry",
                  required=False, default=""),
        FieldSpec("channel", "id", "A channel id from channels.csv"),
        FieldSpec("share", "float", "Share of the region's supply of the chemistry held by the channel", unit="-",
                  lo=0, hi=1),
    ),
    required_file=False,
)

OFFERS = TableSpec(
    file="offers.csv",
    attr="offers",
    needs=("channels.csv",),
    description=(
        "With channels.csv: the acquisition offers a channel can be made, as ladders of levels "
        "(price per t -> share of the available tonnes captured). The planner chooses one level "
        "of each ladder, or none (nothing captured); one posted price applies to every tonne "
        "captured at that level. A channel without offers is free and fully available. A ladder "
        "is the rows of one channel, region, chemistry and period; a higher price never "
        "captures less."
    ),
    fields=(
        FieldSpec("channel", "id", "A channel id from channels.csv"),
        FieldSpec("region", "str", "A region id or a value of regions.csv's region column; blank = every region "
                  "(always blank for a national channel)", required=False, default=""),
        FieldSpec("chemistry", "str", "A chemistry declared in instance.toml; blank = every chemistry",
                  required=False, default=""),
        FieldSpec("period", "int", "Multi-period: first year of the period the offer holds in; blank = every period",
                  required=False, lo=1900, hi=2200),
        FieldSpec("level", "id", "Name of the level (unique in its ladder)"),
        FieldSpec("price_per_t", "float", "Price paid per tonne captured (negative = a gate fee the recycler earns)",
                  unit="currency/t packs", lo=-1e9, hi=1e9, warn_lo=-1e6, warn_hi=1e6),
        FieldSpec("capture_share", "float", "Share of the channel's available tonnes captured at this price",
                  unit="-", lo=0, hi=1),
    ),
    required_file=False,
)

CHANNEL_TABLES = (CHANNELS, CHANNEL_SHARES, OFFERS)

TABLES = (REGIONS, SPOKES, HUBS, SPOKE_SIZES, HUB_SIZES, LANES, *CHANNEL_TABLES, *COLLECTION_POINT_TABLES)
PERIOD_TABLES = (SUPPLY, GROWTH)
#: every file of an instance folder, in the order the loader reads them
ALL_TABLES = TABLES + PERIOD_TABLES

#: [periods] keys (parsed by optimizer.instance._parse_periods; listed here for the README).
TOML_PERIODS = (
    FieldSpec("years", "list of int", "First year of each period, ascending (e.g. [2025, 2027, 2029])"),
    FieldSpec("end_year", "int", "Year after the last period ends (default: the last year plus the previous step)",
              required=False),
    FieldSpec("base_year", "int", "Year the regions.csv supply figures refer to (default: the first period)",
              required=False),
    FieldSpec("growth", "float or table", "Yearly supply growth: one fraction, or one per chemistry "
              "({nmc = 0.35, lfp = 0.5}); growth.csv overrides per region; ignored when supply.csv is given",
              unit="1/yr", required=False, default=0.0),
    FieldSpec("capex_budget", "float or list", "Capex that may be spent in each period (one value for all, or "
              "one per period); omit for none", unit="currency", required=False),
)


# --- instance.toml ------------------------------------------------------------------------------

TOML_TOP = (
    FieldSpec("name", "str", "Instance name"),
    FieldSpec("description", "str", "What the instance represents and where its data comes from", required=False, default=""),
    FieldSpec("currency", "str", "Currency of every money figure (e.g. USD, EUR, CNY)"),
    FieldSpec("schema_version", "int", "Instance format version", required=False, default=SCHEMA_VERSION, lo=1, hi=SCHEMA_VERSION),
)

TOML_CHEMISTRY = (
    FieldSpec("black_mass_yield", "float", "Black mass produced per tonne of packs", unit="t/t", lo=0, hi=1, lo_open=True),
    FieldSpec(
        "merchant_price_per_t", "float",
        "Price of black mass sold at the spoke gate (negative = disposal cost); omit for no merchant outlet",
        unit="currency/t black mass", required=False, lo=-1e9, hi=1e9, warn_lo=-1e7, warn_hi=1e7,
    ),
    FieldSpec("merchant_cap_t", "float", "Network-wide cap on merchant sales; omit for no cap", unit="t black mass/yr", lo=0,
              required=False, hi=1e9, warn_hi=1e8),
    FieldSpec(
        "hub_revenue_per_t", "float",
        "Revenue per tonne of black mass refined at a hub (profit mode); omit in cost mode",
        unit="currency/t black mass", required=False, lo=0, hi=1e9, warn_hi=1e7,
    ),
)

TOML_SECTIONS: dict[str, tuple[FieldSpec, ...]] = {
    "transport": (
        FieldSpec("pack_cost_per_t_km", "float", "Road rate for packs (hazardous goods, class 9)", unit="currency/(t km)", lo=0,
                  hi=1e5, warn_hi=1e3),
        FieldSpec("black_mass_cost_per_t_km", "float", "Road rate for black mass", unit="currency/(t km)", lo=0, hi=1e5, warn_hi=1e3),
        FieldSpec("first_mile_cost_per_t_km", "float", "Rate for packs from a region to a collection point (small lots); "
                  "omit for pack_cost_per_t_km", unit="currency/(t km)", lo=0, hi=1e5, warn_hi=1e3, required=False),
        FieldSpec("line_haul_cost_per_t_km", "float", "Rate for packs from a collection point to a spoke (consolidated "
                  "loads); omit for pack_cost_per_t_km", unit="currency/(t km)", lo=0, hi=1e5, warn_hi=1e3, required=False),
        FieldSpec("damaged_pack_surcharge_per_t_km", "float", "Extra rate for damaged packs (channels.csv damaged_share) "
                  "on their haul from a region, to a collection point or a spoke (special packaging, part loads); "
                  "required when a channel has damaged packs (the transport levers leave it as it is)", unit="currency/(t km)", lo=0, hi=1e5, warn_hi=1e3,
                  required=False),
        FieldSpec("circuity", "float", "Road distance over great-circle distance", unit="-", lo=1, hi=3),
        FieldSpec("service_radius_km", "float", "Longest region->spoke haul (road km); omit for none", unit="km", lo=0, lo_open=True,
                  required=False, hi=4e4, warn_hi=1e4),
        *(FieldSpec(leg.radius_param, "float", f"Longest {leg.origin}->{leg.destination} haul (road km); omit for none",
                    unit="km", lo=0, lo_open=True, required=False, hi=4e4, warn_hi=1e4)
          for leg in LEGS if leg.radius_param and leg.radius_param != "service_radius_km"),
    ),
    "finance": (
        FieldSpec("discount_rate", "float", "Discount rate as a fraction (0.08 = 8 %)", unit="1/yr", lo=0, hi=1, hi_open=True),
        FieldSpec("lifetime_years", "float", "Plant lifetime for capex annualisation", unit="yr", lo=1, hi=1000, warn_hi=100),
    ),
    "processing": tuple(
        FieldSpec(t.cost_param, "float", f"Variable processing cost at {t.plural} (a site's processing_cost_per_t replaces it)"
                  + ("; omit for 0" if t.optional else ""), unit=f"currency/t {t.takes.replace('_', ' ')}", lo=0, hi=1e9,
                  warn_hi=1e7, required=not t.optional, default=0.0 if t.optional else None) for t in TIERS),
    "collection": (
        FieldSpec(
            "uncollected_penalty_per_t", "float",
            "Penalty per tonne of supply left uncollected; omit for none",
            unit="currency/t packs", lo=0, required=False, hi=1e11, warn_hi=1e9,
        ),
        FieldSpec(
            "min_collection_rate", "float",
            "Share of each region's supply of each chemistry that must be collected "
            "(default 1 when no penalty is given, 0 when one is)",
            unit="-", lo=0, hi=1, required=False,
        ),
    ),
    "limits": (
        *(f for t in TIERS for f in (
            FieldSpec(f"min_{t.plural}", "int", f"Fewest {t.plural} open in every period (existing included); omit for none",
                      lo=0, required=False),
            FieldSpec(f"max_{t.plural}", "int", f"Most {t.plural} open (existing included); omit for none", lo=0, required=False))),
        FieldSpec("max_capex", "float", "Budget for up-front capex charged (sunk capex excluded); omit for none", unit="currency", lo=0,
                  required=False, hi=1e17, warn_hi=1e14),
        FieldSpec("single_sourcing", "bool", "Each region ships all its collected packs to one spoke", required=False, default=False),
    ),
}


# --- scenario overrides --------------------------------------------------------------------------

#: the ways a scenario lever can be narrowed, and the key each gives (``<lever>`` is its name):
#: tier -> ``<tier>_<lever>``; the others -> ``<lever>_by_<scope>`` = a table {key = factor}
SCOPES = {
    "tier": "one tier: `<tier>_<lever>` (e.g. `hub_capex`)",
    "group": "sites of a group (the `group` column): `<lever>_by_group = {alliance = 0.8}`",
    "site": "one site: `<lever>_by_site = {\"H-OH-COLUMBUS\" = 1.2}`",
    "chemistry": "one chemistry: `<lever>_by_chemistry = {lfp = 1.5}`",
    "region": "a region id or a value of the `region` column: `<lever>_by_region = {\"US-CA\" = 1.2}`",
    "leg": "one leg of the network: `<lever>_by_leg = {spoke_hub = 1.3}`",
    "channel": "one collection channel (channels.csv): `<lever>_by_channel = {dealer = 1.2}`",
}


@dataclass(frozen=True)
class Lever:
    """One family of scenario overrides.

    ``kind``: ``factor`` (a non-negative multiplier, 1 = unchanged; factors of every scope that
    reaches a number multiply), ``value`` (replaces an ``instance.toml`` parameter, checked
    against its :class:`FieldSpec`; ``"none"`` clears an optional one), ``sites`` (a list of site
    ids), ``channels`` (a list of channel ids) or ``mix`` (a table of chemistry share factors).
    """

    name: str
    kind: str
    description: str
    scopes: tuple[str, ...] = ()
    spec: FieldSpec | None = None

    def keys(self) -> dict[str, str]:
        """Every scenario key of this lever -> the scope it addresses (``all`` for the plain key)."""
        out = {self.name: "all"}
        for scope in self.scopes:
            if scope == "tier":
                out.update({f"{t.name}_{self.name}": f"tier:{t.name}" for t in TIERS})
            else:
                out[f"{self.name}_by_{scope}"] = scope
        return out


_SITE_SCOPES = ("tier", "group", "site")
SCENARIO_LEVERS: tuple[Lever, ...] = (
    Lever("supply", "factor", "Supply of packs (t packs/yr) of every region, chemistry and period", ("chemistry", "region")),
    Lever("mix", "mix", "Scale the named chemistries' shares of each region's supply, keeping its total tonnes"),
    Lever("capacity", "factor", "`capacity_t` of every size option", _SITE_SCOPES),
    Lever("capex", "factor", "`capex` of every size option (sunk capex of installed sizes stays sunk)", _SITE_SCOPES),
    Lever("opex", "factor", "`fixed_opex_per_yr` of every size option", _SITE_SCOPES),
    Lever("min_throughput", "factor", "`min_throughput_t` of every size option", _SITE_SCOPES),
    Lever("processing_cost", "factor", "Variable processing cost per tonne taken (a site's own, else its tier's)",
          _SITE_SCOPES),
    Lever("closure_cost", "factor", "`closure_cost` of existing sites that may close", _SITE_SCOPES),
    Lever("transport", "factor", "Transport rates per t-km and quoted lane costs (lanes.csv cost_per_t)", ("leg",)),
    Lever("transport_rates", "factor", "Transport rates per t-km only: quoted lane costs stay as quoted", ("leg",)),
    Lever("penalty", "factor", "`uncollected_penalty_per_t`"),
    Lever("yield", "factor", "Black-mass yields (capped at 1)", ("chemistry",)),
    Lever("revenue", "factor", "Hub revenue per tonne refined", ("chemistry",)),
    Lever("merchant_price", "factor", "Merchant black-mass prices (sign kept)", ("chemistry",)),
    Lever("merchant_cap", "factor", "Merchant market caps (t black mass/yr)", ("chemistry",)),
    Lever("offer_price", "factor", "`price_per_t` of every offer level (offers.csv; a gate fee keeps its sign)", ("channel",)),
    Lever("capture_share", "factor", "`capture_share` of every offer level (capped at 1; a ladder stays monotone)", ("channel",)),
    Lever("channel_share", "factor", "A channel's share of every region's supply (channel_shares.csv); the region's other "
          "channels fill the rest in proportion, so the shares still add up to 1", ("channel",)),
    Lever("damaged_share", "factor", "A channel's `damaged_share` (channels.csv; capped at 1)", ("channel",)),
    Lever("own_channels", "channels", "Channels the planner owns (its dealers, its own production scrap): every tonne "
          "they hold is captured at no acquisition price, their offers.csv ladders set aside"),
    Lever("force_open", "sites", "Sites opened in every period they may operate in"),
    Lever("forbid", "sites", "Sites never opened (an existing one is closed, and the results say so)"),
    *(Lever(f.name, "value", f"Replaces `[{section}] {f.name}`: {f.description[0].lower()}{f.description[1:]}", spec=f)
      for section, fields in TOML_SECTIONS.items() for f in fields),
)


def scenario_keys() -> dict[str, tuple[Lever, str]]:
    """Every key a scenario file may hold (besides ``name`` and ``description``) -> (lever, scope)."""
    out: dict[str, tuple[Lever, str]] = {}
    for lever in SCENARIO_LEVERS:
        for key, scope in lever.keys().items():
            assert key not in out, f"scenario key {key} declared twice"
            out[key] = (lever, scope)
    return out


def scenario_markdown() -> str:
    """The README's table of scenario levers, generated from :data:`SCENARIO_LEVERS`."""
    rows = ["| lever | kind | changes | narrowed by |", "|---|---|---|---|"]
    for lever in SCENARIO_LEVERS:
        if lever.kind == "value":
            continue
        keys = [k for k in lever.keys() if k != lever.name]
        rows.append(f"| `{lever.name}` | {lever.kind} | {lever.description} | "
                    + (", ".join(f"`{k}`" for k in keys) or "—") + " |")
    values = [lever.name for lever in SCENARIO_LEVERS if lever.kind == "value"]
    rows.append(f"| every `instance.toml` parameter | value | its value, checked like the instance's "
                f"(`\"none\"` clears an optional one) | {', '.join(f'`{v}`' for v in values)} |")
    return "\n".join(rows) + "\n"


def _range_text(f: FieldSpec) -> str:
    """The allowed range (refused outside) and, in brackets, the plausible one (warned outside)."""
    if f.kind not in ("float", "int"):
        return ""
    lo = "" if f.lo is None else f"{'>' if f.lo_open else '≥'} {_fmt(f.lo)}"
    hi = "" if f.hi is None else f"{'<' if f.hi_open else '≤'} {_fmt(f.hi)}"
    text = ", ".join(x for x in (lo, hi) if x)
    plaus = ", ".join(x for x in ((f"≥ {_fmt(f.warn_lo)}" if f.warn_lo is not None else ""),
                                  (f"≤ {_fmt(f.warn_hi)}" if f.warn_hi is not None else "")) if x)
    return text + (f" ({plaus})" if plaus else "")


def markdown_tables() -> str:
    """The README's format reference, generated from the specs above."""
    out: list[str] = []

    def table(fields) -> None:
        out.append("| field | type | unit | required | allowed (plausible) | description |")
        out.append("|---|---|---|---|---|---|")
        for f in fields:
            req = "yes" if f.required else f"no (default {f.default!r})" if f.default not in (None, "") else "no"
            out.append(f"| `{f.name}` | {f.kind} | {f.unit} | {req} | {_range_text(f)} | {f.description} |")
        out.append("")

    out.append("#### `instance.toml` (top level)\n")
    table(TOML_TOP)
    out.append("#### `instance.toml` `[chemistries.<chem>]` (one table per chemistry)\n")
    table(TOML_CHEMISTRY)
    for section, fields in TOML_SECTIONS.items():
        out.append(f"#### `instance.toml` `[{section}]`\n")
        table(fields)
    out.append("#### `instance.toml` `[periods]` (optional: multi-period planning)\n")
    table(TOML_PERIODS)
    for spec in TABLES + PERIOD_TABLES:
        req = "" if spec.required_file else " (optional file)"
        out.append(f"#### `{spec.file}`{req}\n\n{spec.description}\n")
        table(spec.fields + spec.chem_fields)
    return "\n".join(out)
