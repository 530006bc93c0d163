"""The solution: plain, immutable, tidy data (no Pyomo objects).

A :class:`Solution` holds the solver status, objective, best bound and gap, the stage timings,
provenance, and four DataFrames with unit-suffixed columns:

``sites``
    one row per non-excluded site (and period): ``site_id, kind (spoke|hub), name, status,
    open, size, capacity_t, inbound_t, utilisation, capex_charged, capex_annualised,
    fixed_opex_per_yr, lat, lon``.  Spoke tonnes are packs, hub tonnes black mass.
``flows``
    ``echelon (region_spoke|spoke_hub|spoke_merchant), origin, destination, chemistry,
    material (packs|black_mass), flow_t, km, cost_per_t, transport_cost`` (t/yr, currency/yr).
``regions``
    ``region_id, chemistry, supply_t, captured_t, required_t, collected_t, uncollected_t``
    (``supply_t``: every channel's tonnes; ``captured_t``: what the offers chosen win of them --
    all of it without channels; collected + uncollected = captured).
``channels``
    one row per region, channel, chemistry and period (:data:`CHANNEL_COLUMNS`).
``costs``
    ``component, value`` in currency/yr; revenues are negative, so the values sum to the
    objective (net annual cost; its negative is the profit in profit mode).

Flows below :data:`FLOW_TOL_T` are reported as zero (and dropped from ``flows``) everywhere, and
utilisation is capped at 1 when a site is full up to round-off.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InfeasibilityDiagnosis, InfeasibleError, NoSolutionError, Shortfall, UsageError
from .status import SolveStatus

FLOW_TOL_T = 1e-6  # t/yr; smaller flows are solver round-off
#: A MIP gap at or below this is a proof of optimality; above it "optimal" means "within the gap
#: tolerance HiGHS was asked to stop at" and is reported as such.
PROVEN_GAP = 1e-9
SOLUTION_SCHEMA_VERSION = 1


SITE_COLUMNS = ["site_id", "kind", "name", "status", "period", "open", "size", "capacity_t", "inbound_t",
                "utilisation", "capex_charged", "capex_annualised", "fixed_opex_per_yr", "closed", "lat", "lon"]
SCHEDULE_COLUMNS = ["site_id", "kind", "name", "period", "event", "size", "capacity_t"]
#: ``damaged_t``: the damaged packs among a flow out of a region (dangerous goods, at the
#: instance's surcharge per t km, which ``transport_cost`` includes); 0 on other legs
FLOW_COLUMNS = ["echelon", "origin", "destination", "chemistry", "period", "material", "flow_t", "damaged_t", "km",
                "cost_per_t", "transport_cost"]
REGION_COLUMNS = ["region_id", "chemistry", "period", "supply_t", "captured_t", "required_t", "collected_t", "uncollected_t"]
#: One row per (region, channel, chemistry, period) with tonnes available.  ``level`` is the offer
#: chosen (``""``: none -- nothing captured -- or, with ``price_per_t`` 0 and share 1, a channel
#: without offers); ``marginal_value_per_t`` is what one more tonne captured there is worth to the
#: network as designed (currency/t, before paying for it; :mod:`optimizer.explain`), with
#: ``at_breakpoint`` where one tonne more and one tonne less are not worth the same.
CHANNEL_COLUMNS = ["region_id", "channel", "chemistry", "period", "available_t", "level", "price_per_t", "capture_share",
                   "captured_t", "acquisition_cost", "marginal_value_per_t", "at_breakpoint"]
COST_COLUMNS = ["component", "kind", "period", "value"]

#: Every cost component: (label, kind).  A ``cost`` is reported as a positive value, a
#: ``revenue`` as a negative one, so the values of a costs table sum to the objective (net cost).
#: Merchant sales are split by the sign of the chemistry's price: sold at a positive price they
#: are a revenue, at a negative price (disposal, a gate fee paid) a cost.
def _components() -> dict[str, tuple[str, str]]:
    from .tiers import LEGS, TIERS, processing_component, revenue_component

    labels = {"transport_pack": "transport, packs", "transport_black_mass": "transport, black mass",
              "transport_first_mile": "transport, packs first mile", "transport_line_haul": "transport, packs line haul"}
    out = {"capex_annualised": ("capex (annualised)", "cost"), "fixed_opex": ("fixed opex", "cost")}
    out.update({processing_component(t): (f"{t.name.replace('_', ' ')} processing", "cost") for t in TIERS})
    out.update({leg.component: (labels.get(leg.component, leg.component.replace("_", " ")), "cost") for leg in LEGS})
    out.update({"uncollected_penalty": ("uncollected penalty", "cost"),
                "merchant_disposal": ("merchant disposal (negative price)", "cost"),
                "merchant_revenue": ("merchant sales", "revenue")})
    out.update({revenue_component(t): (f"{t.name} revenue", "revenue") for t in TIERS if t.revenue})
    out["closure"] = ("site closures", "cost")
    out["acquisition"] = ("acquisition (gate fees negative)", "cost")
    return out


COMPONENTS: dict[str, tuple[str, str]] = _components()


def component_kind(name: str) -> str:
    """``cost`` or ``revenue`` (see :data:`COMPONENTS`)."""
    return COMPONENTS[name][1] if name in COMPONENTS else "cost"


@dataclass(frozen=True, eq=False)
class Solution:
    """Result of one solve (see module docstring for the tables)."""

    instance_name: str
    currency: str
    status: SolveStatus
    objective: float | None
    best_bound: float | None
    gap: float | None
    termination: str
    sites: pd.DataFrame
    flows: pd.DataFrame
    regions: pd.DataFrame
    costs: pd.DataFrame
    profit_mode: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    diagnosis: InfeasibilityDiagnosis | None = None
    periods: tuple[str, ...] = ()
    #: NPV weight of each period's annual costs (sum of its years' discount factors; 1 for a
    #: single period) and the discount factor of its first year (for one-off closure costs)
    period_weights: dict[str, float] = field(default_factory=dict)
    period_discount: dict[str, float] = field(default_factory=dict)
    channels: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANNEL_COLUMNS))

    @property
    def multi_period(self) -> bool:
        """Whether the solution covers more than one period."""
        return len(self.periods) > 1

    @property
    def proven_optimal(self) -> bool:
        """Optimal with a gap of (up to round-off) zero: a proof, not a stop at a tolerance."""
        return self.status == SolveStatus.OPTIMAL and (self.gap is None or self.gap <= PROVEN_GAP)

    @property
    def status_label(self) -> str:
        """The status as reports print it: ``optimal`` only when proven; a stop at the gap
        tolerance is ``optimal within gap 0.0076 %``; a stop at a limit says so with its gap."""
        if self.status == SolveStatus.OPTIMAL and not self.proven_optimal:
            return f"optimal within gap {_pct(self.gap)}"
        if self.status == SolveStatus.FEASIBLE and self.gap is not None:
            return f"feasible (limit), gap {_pct(self.gap)}"
        return self.status.value

    def schedule(self) -> pd.DataFrame:
        """Build schedule: one row per site event -- open, expand (to a larger size), close --
        in the period it happens (existing sites appear only when they change)."""
        rows = []
        s = self.sites
        order = {p: k for k, p in enumerate(self.periods)}
        for sid, g in s.sort_values("period", key=lambda c: c.map(order)).groupby("site_id", sort=True):
            prev_open, prev_cap = None, 0.0
            for r in g.itertuples(index=False):
                is_open = bool(r.open)
                if prev_open is None:  # first period of the horizon
                    if is_open and r.status != "existing":
                        rows.append((sid, r.kind, r.name, r.period, "open", r.size, r.capacity_t))
                    elif is_open and r.status == "existing" and r.size and r.capacity_t > 0:
                        rows.append((sid, r.kind, r.name, r.period, "existing", r.size, r.capacity_t))
                elif is_open and not prev_open:
                    rows.append((sid, r.kind, r.name, r.period, "open", r.size, r.capacity_t))
                elif is_open and r.capacity_t > prev_cap + 1e-9:
                    rows.append((sid, r.kind, r.name, r.period, "expand", r.size, r.capacity_t))
                elif prev_open and not is_open:
                    rows.append((sid, r.kind, r.name, r.period, "close", "", 0.0))
                prev_open, prev_cap = is_open, float(r.capacity_t) if is_open else 0.0
        out = pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)
        return out.sort_values(["period", "kind", "site_id"], key=lambda c: c.map(order) if c.name == "period" else c,
                               kind="stable").reset_index(drop=True)

    def check_period(self, period: str | None) -> str | None:
        """``period`` if the solution has it (``None`` passes); else a
        :class:`~optimizer.errors.UsageError` listing the periods that exist."""
        if period is None:
            return None
        if not self.multi_period:
            raise UsageError(f"--period {period}: this solution has a single period (it is not a multi-period plan); "
                             "leave --period out")
        if str(period) not in self.periods:
            raise UsageError(f"--period {period}: this solution has the periods {', '.join(self.periods)}")
        return str(period)

    def open_sites(self, kind: str | None = None) -> pd.DataFrame:
        """Rows of ``sites`` that are open (of one tier when ``kind`` is given)."""
        df = self.sites[self.sites["open"]]
        return df if kind is None else df[df["kind"] == kind]

    def cost(self, component: str) -> float:
        """The total of one cost component (currency/yr; summed over periods)."""
        return float(self.costs.loc[self.costs["component"] == component, "value"].sum())

    def raise_for_status(self) -> Solution:
        """Raise :class:`InfeasibleError`/:class:`NoSolutionError` unless a solution exists."""
        if self.status == SolveStatus.INFEASIBLE:
            raise InfeasibleError(self.diagnosis or InfeasibilityDiagnosis())
        if self.status == SolveStatus.NO_SOLUTION:
            raise NoSolutionError(f"no feasible solution found within the limits ({self.termination})")
        return self

    # --- JSON round trip -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The solution as plain JSON-ready data (tables as lists of records)."""
        diag = None
        if self.diagnosis is not None:
            diag = {"shortfall": [list(r) for r in self.diagnosis.shortfall], "causes": self.diagnosis.causes}
        return {
            "schema_version": SOLUTION_SCHEMA_VERSION,
            "instance": self.instance_name,
            "currency": self.currency,
            "status": self.status.value,
            "status_label": self.status_label,
            "termination": self.termination,
            "objective": _num(self.objective),
            "best_bound": _num(self.best_bound),
            "gap": _num(self.gap),
            "profit_mode": self.profit_mode,
            "periods": list(self.periods),
            "period_weights": self.period_weights,
            "period_discount": self.period_discount,
            "timings_s": {k: round(v, 6) for k, v in self.timings.items()},
            "provenance": self.provenance,
            "diagnosis": diag,
            "sites": _records(self.sites),
            "flows": _records(self.flows),
            "regions": _records(self.regions),
            "costs": _records(self.costs),
            "channels": _records(self.channels),
        }

    def to_json(self) -> str:
        """The solution as JSON text (solution.json); NaN and infinity refused."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=False, allow_nan=False)

    @staticmethod
    def from_dict(d: dict) -> Solution:
        """The solution :meth:`to_dict` wrote (older files without a period in the diagnosis accepted)."""
        diag = None
        if d.get("diagnosis"):
            rows = d["diagnosis"]["shortfall"]
            diag = InfeasibilityDiagnosis(shortfall=[Shortfall(*r) if len(r) == 5 else Shortfall(r[0], r[1], None, r[2], r[3])
                                                     for r in rows],
                                          causes=list(d["diagnosis"]["causes"]))
        return Solution(
            instance_name=d["instance"], currency=d["currency"], status=SolveStatus(d["status"]),
            objective=d["objective"], best_bound=d["best_bound"], gap=d["gap"], termination=d["termination"],
            sites=_frame(d["sites"], SITE_COLUMNS), flows=_flows_frame(d["flows"]),
            regions=_regions_frame(d["regions"]), costs=_costs_frame(d["costs"]),
            channels=_frame(d.get("channels", []), CHANNEL_COLUMNS),
            profit_mode=d.get("profit_mode", False), timings=d.get("timings_s", {}),
            provenance=d.get("provenance", {}), diagnosis=diag, periods=tuple(d.get("periods", ())),
            period_weights=dict(d.get("period_weights", {})), period_discount=dict(d.get("period_discount", {})),
        )

    @staticmethod
    def from_json(text: str) -> Solution:
        """The solution :meth:`to_json` wrote."""
        return Solution.from_dict(json.loads(text))

    @staticmethod
    def load(folder: str | Path) -> Solution:
        """Read ``solution.json`` from a solution folder (or the file itself)."""
        p = Path(folder)
        if p.is_dir():
            p = p / "solution.json"
        return Solution.from_json(p.read_text(encoding="utf-8"))


def _pct(gap: float) -> str:
    return f"{100 * gap:.2g} %" if gap < 1e-3 else f"{100 * gap:.3g} %" if gap < 0.1 else f"{100 * gap:.1f} %"


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    cols = list(df.columns)
    for row in df.itertuples(index=False):
        rec = {}
        for k, v in zip(cols, row, strict=True):
            if isinstance(v, (np.bool_, bool)):
                v = bool(v)
            elif isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (float, np.floating)):
                v = None if math.isnan(v) else float(v)
            rec[k] = v
        out.append(rec)
    return out


def _frame(records: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return df


def _flows_frame(records: list[dict]) -> pd.DataFrame:
    """The flows table of a stored solution (files written before ``damaged_t``: none damaged)."""
    for r in records:
        r.setdefault("damaged_t", 0.0)
    return _frame(records, FLOW_COLUMNS)


def _regions_frame(records: list[dict]) -> pd.DataFrame:
    """The regions table of a stored solution (files written before ``captured_t``: all supply)."""
    for r in records:
        r.setdefault("captured_t", r.get("supply_t"))
    return _frame(records, REGION_COLUMNS)


def _costs_frame(records: list[dict]) -> pd.DataFrame:
    """The costs table of a stored solution (files written before the ``kind`` column get it)."""
    for r in records:
        r.setdefault("kind", component_kind(r["component"]))
    return _frame(records, COST_COLUMNS)


def empty_tables() -> dict[str, pd.DataFrame]:
    """Empty sites, flows, regions, costs and schedule tables with their columns (a solution without values)."""
    return {
        "sites": pd.DataFrame(columns=SITE_COLUMNS),
        "flows": pd.DataFrame(columns=FLOW_COLUMNS),
        "regions": pd.DataFrame(columns=REGION_COLUMNS),
        "costs": pd.DataFrame(columns=COST_COLUMNS),
        "channels": pd.DataFrame(columns=CHANNEL_COLUMNS),
    }
