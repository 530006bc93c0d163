"""Published facility-location benchmark sets as spokehub instances.

* **OR-Library ``cap``** (Beasley 1990): capacitated warehouse location.  Imported as a spoke-only
  network: customers -> regions (supply = demand, one chemistry ``unit`` with yield 1),
  warehouses -> spokes with one size (capacity, fixed cost as fixed opex, no capex), lane costs
  per unit = the file's cost of serving all of a customer's demand / that demand, black mass
  leaving through the merchant outlet at price 0.  The spokehub objective then equals the CFLP
  objective exactly.  ``capa/capb/capc`` carry the word ``capacity``; the instance is solved
  once per capacity value (``capa-8000``).
* **Two-stage CFLP** (Fernandes et al. 2014, ``PSC<p>-C<c>-50``): customers -> regions, depots
  -> spokes, plants -> hubs (accepting the one chemistry), unit lane costs from the file, yield
  1, no merchant outlet.

Published values: ``capopt.txt`` (multi-source optima), ``sscflp-orlib-os.txt`` (single-source
optima, rounded to cents), ``bks-50.txt`` (best-known, ``*`` = proven optimal) and ``lb-50.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..frames import concat_rows
from ..instance import Chemistry, Instance, Parameters
from ..load import make_instance

CHEM = "unit"

ORLIB_SMALL = [f"cap{g}{k}" for g in (4, 6, 7, 9, 10, 12, 13) for k in (1, 2, 3, 4)] + ["cap51"] + [
    f"cap{g}{k}" for g in (8, 11) for k in (1, 2, 3, 4)]
ORLIB_LARGE_CAPS = {"capa": (8000, 10000, 12000, 14000), "capb": (5000, 6000, 7000, 8000),
                    "capc": (5000, 5750, 6500, 7250)}
ORLIB_LARGE = [f"{k}-{c}" for k, caps in ORLIB_LARGE_CAPS.items() for c in caps]
SSCFLP_ORDER = [f"cap{g}{k}" for g in (6, 7, 9, 10, 12, 13) for k in (1, 2, 3, 4)] + ORLIB_LARGE
TSCFLP = [f"PSC{p}-C{c}-50" for p in range(1, 6) for c in range(1, 6)]


def _numbers(path: Path) -> list[str]:
    return path.read_text().split()


@dataclass
class CFLPData:
    name: str
    capacity: np.ndarray
    fixed: np.ndarray
    demand: np.ndarray
    cost: np.ndarray  # customers x warehouses, cost of serving all of the customer's demand


def read_orlib(folder: Path, name: str) -> CFLPData:
    """Parse ``cap*.txt`` (``capa-8000`` sets the word ``capacity`` to 8000)."""
    base, _, cap = name.partition("-")
    tok = _numbers(folder / f"{base}.txt")
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    capacity, fixed = np.empty(m), np.empty(m)
    for i in range(m):
        c = tok[pos]
        capacity[i] = float(cap) if c == "capacity" else float(c)
        fixed[i] = float(tok[pos + 1])
        pos += 2
    demand = np.empty(n)
    cost = np.empty((n, m))
    for j in range(n):
        demand[j] = float(tok[pos])
        cost[j] = np.asarray(tok[pos + 1: pos + 1 + m], dtype=float)
        pos += 1 + m
    return CFLPData(name, capacity, fixed, demand, cost)


def orlib_instance(folder: str | Path, name: str, single_source: bool = False) -> Instance:
    """An OR-Library capacitated facility-location instance (Beasley's cap/capa-c files) as a one-tier spokehub
    instance: customers are regions, warehouses spokes.
    """
    d = read_orlib(Path(folder), name)
    n, m = d.cost.shape
    regions = pd.DataFrame({"id": [f"c{j + 1}" for j in range(n)], "lat": 0.0, "lon": 0.0, f"{CHEM}_t": d.demand})
    spokes = pd.DataFrame({"id": [f"w{i + 1}" for i in range(m)], "lat": 0.0, "lon": 0.0, "status": "candidate",
                           "existing_size": ""})
    sizes = pd.DataFrame({"site_id": spokes["id"], "size": "only", "capacity_t": d.capacity, "capex": 0.0,
                          "fixed_opex_per_yr": d.fixed})
    jj, ii = np.nonzero(np.broadcast_to(d.demand[:, None] > 0, (n, m)))
    unit = d.cost[jj, ii] / d.demand[jj]
    lanes = pd.DataFrame({"origin": regions["id"].to_numpy()[jj], "destination": spokes["id"].to_numpy()[ii],
                          "km": np.nan, "cost_per_t": unit})
    params = Parameters(pack_cost_per_t_km=0.0, black_mass_cost_per_t_km=0.0, circuity=1.0, discount_rate=0.0,
                        lifetime_years=1.0, single_sourcing=single_source)
    return make_instance(name, (Chemistry(CHEM, 1.0, merchant_price_per_t=0.0),), params, regions, spokes, sizes,
                         lanes=lanes, currency="cost units",
                         description=f"OR-Library {name} ({'single' if single_source else 'multi'}-source CFLP)")


def read_tscflp(path: Path):
    """Parse a two-stage capacitated facility-location file: (demand, plants, plant-depot costs, depots, depot-customer
    costs).
    """
    tok = np.asarray(_numbers(path), dtype=float)
    n_plants, n_depots, n_customers = (int(x) for x in tok[:3])
    pos = 3
    demand = tok[pos: pos + n_customers]
    pos += n_customers
    plant = tok[pos: pos + 2 * n_plants].reshape(n_plants, 2)
    pos += 2 * n_plants
    c_pd = tok[pos: pos + n_plants * n_depots].reshape(n_plants, n_depots)
    pos += n_plants * n_depots
    depot = tok[pos: pos + 2 * n_depots].reshape(n_depots, 2)
    pos += 2 * n_depots
    c_dc = tok[pos: pos + n_depots * n_customers].reshape(n_depots, n_customers)
    pos += n_depots * n_customers
    if pos != len(tok):
        raise ValueError(f"{path.name}: {len(tok) - pos} unread numbers (format mismatch)")
    return demand, plant, c_pd, depot, c_dc


def tscflp_instance(folder: str | Path, name: str) -> Instance:
    """A two-stage CFLP benchmark as a two-tier instance: customers are regions, depots spokes, plants hubs."""
    demand, plant, c_pd, depot, c_dc = read_tscflp(Path(folder) / f"{name}.txt")
    P, D, K = len(plant), len(depot), len(demand)
    regions = pd.DataFrame({"id": [f"k{k + 1}" for k in range(K)], "lat": 0.0, "lon": 0.0, f"{CHEM}_t": demand})
    spokes = pd.DataFrame({"id": [f"d{j + 1}" for j in range(D)], "lat": 0.0, "lon": 0.0, "status": "candidate",
                           "existing_size": ""})
    spoke_sizes = pd.DataFrame({"site_id": spokes["id"], "size": "only", "capacity_t": depot[:, 0], "capex": 0.0,
                                "fixed_opex_per_yr": depot[:, 1]})
    hubs = pd.DataFrame({"id": [f"p{i + 1}" for i in range(P)], "lat": 0.0, "lon": 0.0, "status": "candidate",
                         "existing_size": "", f"accepts_{CHEM}": True})
    hub_sizes = pd.DataFrame({"site_id": hubs["id"], "size": "only", "capacity_t": plant[:, 0], "capex": 0.0,
                              "fixed_opex_per_yr": plant[:, 1]})
    dj, kk = np.meshgrid(np.arange(D), np.arange(K), indexing="ij")
    lanes_rs = pd.DataFrame({"origin": regions["id"].to_numpy()[kk.ravel()], "destination": spokes["id"].to_numpy()[dj.ravel()],
                             "km": np.nan, "cost_per_t": c_dc.ravel()})
    pi, dd = np.meshgrid(np.arange(P), np.arange(D), indexing="ij")
    lanes_sh = pd.DataFrame({"origin": spokes["id"].to_numpy()[dd.ravel()], "destination": hubs["id"].to_numpy()[pi.ravel()],
                             "km": np.nan, "cost_per_t": c_pd.ravel()})
    params = Parameters(pack_cost_per_t_km=0.0, black_mass_cost_per_t_km=0.0, circuity=1.0, discount_rate=0.0,
                        lifetime_years=1.0)
    return make_instance(name, (Chemistry(CHEM, 1.0),), params, regions, spokes, spoke_sizes, hubs, hub_sizes,
                         lanes=concat_rows([lanes_rs, lanes_sh]), currency="cost units",
                         description=f"Fernandes et al. (2014) two-stage CFLP {name}")


@dataclass(frozen=True)
class Published:
    value: float
    kind: str  # "optimal" | "best-known" | "best-known (proven optimal)"
    lower_bound: float | None = None


def published_values(folder: str | Path) -> dict[tuple[str, str], Published]:
    """{(set, instance): Published} for sets ``orlib`` (multi), ``orlib-ss`` and ``tscflp``."""
    folder = Path(folder)
    out: dict[tuple[str, str], Published] = {}
    text = (folder / "orlib-cap" / "capopt.txt").read_text().splitlines()
    current = None
    for line in text[1:]:
        m = re.match(r"^\s*(cap\w*)?\s+([\d.]+)(?:\s*\(capacity (\d+)\))?", line)
        if not m or not line.strip():
            continue
        if m.group(1):
            current = m.group(1)
        name = current if m.group(3) is None else f"{current}-{m.group(3)}"
        out[("orlib", name)] = Published(float(m.group(2)), "optimal")
    ss = [float(x) for x in (folder / "orlib-cap" / "sscflp-orlib-os.txt").read_text().split()]
    for name, v in zip(SSCFLP_ORDER, ss, strict=True):
        out[("orlib-ss", name)] = Published(v, "optimal")
    lbs = {}
    for line in (folder / "tscflp-fernandes2014" / "lb-50.txt").read_text().splitlines():
        if line.strip():
            key, val = line.split()
            c, i, _ = key.split("-")
            lbs[f"PSC{i}-{c}-50"] = float(val)
    for line in (folder / "tscflp-fernandes2014" / "bks-50.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        cls, inst, val = parts[:3]
        name = f"PSC{inst}-C{cls}-50"
        kind = "best-known (proven optimal)" if len(parts) > 3 and parts[3] == "*" else "best-known"
        out[("tscflp", name)] = Published(float(val), kind, lbs.get(name))
    return out


SETS = {
    "orlib": (ORLIB_SMALL + ORLIB_LARGE, lambda d, n: orlib_instance(d / "orlib-cap", n)),
    "orlib-ss": (SSCFLP_ORDER, lambda d, n: orlib_instance(d / "orlib-cap", n, single_source=True)),
    "tscflp": (TSCFLP, lambda d, n: tscflp_instance(d / "tscflp-fernandes2014", n)),
}


def load_benchmark(data: str | Path, set_name: str, name: str) -> Instance:
    """The instance ``name`` of benchmark set ``set_name`` read from ``data`` (KeyError naming the known sets/instances
    otherwise).
    """
    if set_name not in SETS:
        raise KeyError(f"unknown benchmark set '{set_name}' (known: {', '.join(SETS)})")
    names, loader = SETS[set_name]
    if name not in names:
        raise KeyError(f"'{name}' is not in set '{set_name}'")
    return loader(Path(data), name)
