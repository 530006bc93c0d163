"""Console summary and the solution output folder.

``write_solution(...)`` writes, atomically, ``solution.json`` (everything, round-trips through
:meth:`Solution.from_json`), ``sites.csv``, ``flows.csv``, ``regions.csv``, ``costs.csv``,
``summary.txt`` and ``map.html``.  CSVs are sorted and use ``.`` decimals with unit-suffixed
headers; the currency is named in ``solution.json`` and the summary.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..errors import SolutionCheckError, SpokehubError
from ..files import atomic_folder, csv_text
from ..instance import Instance
from ..solution import COMPONENTS, Solution, SolveStatus, component_kind
from ..tiers import LEGS, TIERS, processing_component

COMPONENT_LABELS = {name: label for name, (label, _kind) in COMPONENTS.items()}


def _money(x: float) -> str:
    return f"{x:,.0f}"


#: cost components the summary leaves out when they are zero (they do not apply to every instance)
QUIET_WHEN_ZERO = ("uncollected_penalty", "merchant_disposal", "merchant_revenue", "hub_revenue", "closure",
                   *(processing_component(t) for t in TIERS if t.optional),
                   *(leg.component for leg in LEGS if any(t.optional and t.name in (leg.origin, leg.destination) for t in TIERS)))


def summary_text(sol: Solution, inst: Instance | None = None) -> str:
    """The printed summary: status, objective, gap, timings, open sites, costs, collection."""
    buf = io.StringIO()
    w = buf.write
    cur = sol.currency
    w(f"spokehub: {sol.instance_name}\n")
    w(f"status: {sol.status_label} (HiGHS: {sol.termination})\n")
    for note in sol.provenance.get("notes", []):
        w(f"note: {note}\n")
    if sol.status == SolveStatus.INFEASIBLE:
        if sol.diagnosis is not None:
            w(str(sol.diagnosis) + "\n")
        return buf.getvalue()
    if not sol.status.has_solution:
        w("no feasible network was found within the limits.\n")
        w(_timings_line(sol))
        opts = sol.provenance.get("options", {}) if isinstance(sol.provenance, dict) else {}
        tips = []
        if opts.get("time_limit_s") is not None:
            tips.append(f"a longer time limit (--time-limit, this run had {opts['time_limit_s']:g} s for the solve)")
        if opts.get("node_limit") is not None:
            tips.append(f"a higher node limit (--node-limit, this run had {opts['node_limit']})")
        if opts.get("warm_start") != "on":
            tips.append("a MIP start (--warm-start on) to give HiGHS a first network early")
        if not opts.get("heuristics", True):
            tips.append("HiGHS's heuristics back on (drop --no-heuristics)")
        tips.append("a looser gap (--gap 0.01) if the run ends before proving, with a network")
        w("what to try: " + "; ".join(tips) + ".\n")
        return buf.getvalue()
    if sol.multi_period:
        label = "net present value of profit" if sol.profit_mode else "net present cost"
        value = -sol.objective if sol.profit_mode else sol.objective
        w(f"{label} over {sol.periods[0]}-{sol.periods[-1]}: {_money(value)} {cur}\n")
    else:
        label = "net annual profit" if sol.profit_mode else "net annual cost"
        value = -sol.objective if sol.profit_mode else sol.objective
        w(f"{label}: {_money(value)} {cur}/yr\n")
    if sol.gap is not None:
        bound = "" if sol.best_bound is None else f", best bound {_money(sol.best_bound)}"
        why = (" (stopped at a limit: not proven optimal)" if sol.status == SolveStatus.FEASIBLE
               else "" if sol.proven_optimal else " (stopped at the gap tolerance: not proven optimal)")
        w(f"MIP gap: {100 * sol.gap:.4f} %{bound}{why}\n")
    w(_timings_line(sol))
    prov = sol.provenance
    if prov.get("highs"):
        n = prov.get("threads")
        w(f"solver: HiGHS {prov['highs']}" + (f", {n} thread{'s' if n != 1 else ''}" if n else "") + "\n")

    if sol.multi_period:
        w("\n" + timeline_text(sol))
        last = sol.periods[-1]
        w(f"\n(sites and costs below: {last}, the last period)\n")
    for tier in TIERS:
        kind, unit = tier.name, tier.unit
        all_sites = sol.sites[sol.sites["kind"] == kind]
        if tier.optional and not len(all_sites):
            continue  # an optional tier the instance leaves out
        if sol.multi_period:
            all_sites = all_sites[all_sites["period"] == sol.periods[-1]]
        open_sites = all_sites[all_sites["open"].astype(bool)]
        n_sites = all_sites["site_id"].nunique()
        w(f"\nopen {tier.plural.replace('_', ' ')}: {open_sites['site_id'].nunique()} of {n_sites} ({unit})\n")
        if len(open_sites):
            cols = ["site_id", "name", "status", "size", "capacity_t", "inbound_t", "utilisation"]
            df = open_sites[cols].copy()
            df["capacity_t"] = df["capacity_t"].map(lambda v: f"{v:,.0f}")
            df["inbound_t"] = df["inbound_t"].map(lambda v: f"{v:,.0f}")
            df["utilisation"] = df["utilisation"].map(lambda v: f"{100 * v:.1f} %")
            w(df.to_string(index=False) + "\n")

    cost_rows = sol.costs[sol.costs["period"] == sol.periods[-1]] if sol.multi_period else sol.costs
    w(f"\ncosts ({cur}/yr; costs positive, revenues negative):\n")
    costs = cost_rows.groupby("component", sort=False)["value"].sum()
    for comp, val in costs.items():
        if abs(val) < 0.5 and comp in QUIET_WHEN_ZERO:
            continue
        w(f"  {COMPONENT_LABELS.get(comp, comp):<36} {component_kind(comp):<8} {_money(val):>18}\n")
    w(f"  {'total (net cost)':<36} {'':<8} {_money(costs.sum()):>18}\n")

    reg = sol.regions[sol.regions["period"] == sol.periods[-1]] if sol.multi_period else sol.regions
    supply = reg["supply_t"].sum()
    collected = reg["collected_t"].sum()
    captured = reg["captured_t"].sum() if "captured_t" in reg.columns else supply
    if supply > 0 and captured < supply - 0.5:
        w(f"\ncollection: {captured:,.0f} of {supply:,.0f} t packs/yr available captured ({100 * captured / supply:.1f} %); "
          f"{collected:,.0f} of the {captured:,.0f} t captured collected ({100 * collected / max(captured, 1e-9):.1f} %)\n")
    elif supply > 0:
        w(f"\ncollection: {collected:,.0f} of {supply:,.0f} t packs/yr ({100 * collected / supply:.1f} %)\n")
    w(_channels_text(sol))
    fl = sol.flows[sol.flows["period"] == sol.periods[-1]] if sol.multi_period else sol.flows
    damaged = fl["damaged_t"].sum() if "damaged_t" in fl.columns and len(fl) else 0.0
    if damaged > 0.5:
        via = fl.loc[fl["echelon"] == "region_collection_point", "damaged_t"].sum()
        w(f"damaged packs: {damaged:,.0f} t/yr shipped as dangerous goods ({via:,.0f} t via collection points)\n")
    to_hub = fl.loc[fl["echelon"] == "spoke_hub", "flow_t"].sum()
    merchant = fl.loc[fl["echelon"] == "spoke_merchant", "flow_t"].sum()
    w(f"black mass: {to_hub + merchant:,.0f} t/yr, {to_hub:,.0f} to hubs, {merchant:,.0f} sold at spoke gates\n")
    if collected > 0 and not sol.multi_period:
        w("\n" + key_figures_text(sol))
    return buf.getvalue()


def _channels_text(sol: Solution) -> str:
    """The summary's channel table; empty for an instance with the one implicit channel."""
    ch = channel_summary(sol)
    cur = sol.currency
    if len(ch) and not (ch.index.get_level_values("channel") == "all").all():
        head = (f"\nchannels ({cur}; marginal value = what one more tonne captured is worth to the network as designed):\n")
        view = pd.DataFrame({
            "available_t": ch["available_t"].map(lambda v: f"{v:,.0f}"), "captured_t": ch["captured_t"].map(lambda v: f"{v:,.0f}"),
            "share": (ch["captured_t"] / ch["available_t"]).map(lambda v: f"{100 * v:.0f} %"),
            "acquisition": ch["acquisition_cost"].map(_money), "mean price/t": ch["price_per_t"].map(lambda v: f"{v:,.0f}"),
            "marginal value/t": ch["marginal_value_per_t"].map(lambda v: "n/a" if v != v else f"{v:,.0f}")})
        return head + view.to_string() + "\n\n"
    return ""


def channel_summary(sol: Solution) -> pd.DataFrame:
    """Per channel and chemistry (the last period of a horizon): t available and captured,
    acquisition cost, the mean price paid per t captured and the capture-weighted mean marginal
    value over the regions."""
    ch = sol.channels
    if sol.multi_period and len(ch):
        ch = ch[ch["period"] == sol.periods[-1]]
    if not len(ch):
        return pd.DataFrame(columns=["available_t", "captured_t", "acquisition_cost", "price_per_t", "marginal_value_per_t"])
    w = ch["captured_t"].where(ch["captured_t"] > 0, ch["available_t"])  # a channel not captured: weigh by what it holds
    # per chemistry: one more NMC tonne and one more LFP tonne are worth very different amounts
    # (a mean over both says nothing of either)
    g = ch.assign(_w=w, _mv=ch["marginal_value_per_t"].astype(float) * w).groupby(["channel", "chemistry"], sort=False)
    out = g[["available_t", "captured_t", "acquisition_cost"]].sum()
    out["price_per_t"] = (out["acquisition_cost"] / out["captured_t"].where(out["captured_t"] > 0)).fillna(0.0)
    out["marginal_value_per_t"] = g["_mv"].sum(min_count=1) / g["_w"].sum()
    return out


def _timings_line(sol: Solution) -> str:
    t = sol.timings
    shown = [k for k in ("read", "build", "warm_start", "handoff", "solve", "extract") if k in t and (k != "warm_start" or t[k] > 0)]
    return "time: " + ", ".join(f"{k.replace('_', ' ')} {t[k]:.2f} s" for k in shown) + "\n"


def timeline_text(sol: Solution) -> str:
    """The build schedule as a compact timeline: one line per site, one column per period."""
    s = sol.sites
    changed = set(sol.schedule()["site_id"])
    ever_open = set(s.loc[s["open"].astype(bool), "site_id"])
    ids = sorted(ever_open, key=lambda i: (s.loc[s["site_id"] == i, "kind"].iat[0] != "hub", i))
    width = max(8, *(len(str(x)) for x in s["size"])) + 1
    head = f"  {'build schedule':<24}" + "".join(f"{p:>{width}}" for p in sol.periods)
    lines = [head]
    for sid in ids:
        g = s[s["site_id"] == sid].set_index("period")
        cells = []
        prev = None
        for p in sol.periods:
            if p not in g.index:
                cells.append("")
                continue
            r = g.loc[p]
            if bool(r["open"]):
                txt = str(r["size"]) if prev != r["size"] else "|"
                prev = r["size"]
            else:
                txt = "closed" if prev is not None else "."
                prev = None if not bool(r.get("closed", False)) else prev
            cells.append(txt)
        tag = "" if sid in changed else " (no change)"
        kind = s.loc[s["site_id"] == sid, "kind"].iat[0]
        lines.append(f"  {kind[0].upper()} {sid[:21]:<22}" + "".join(f"{c:>{width}}" for c in cells) + tag)
    lines.append("  (size = opened/expanded, | = unchanged, . = not built)")
    return "\n".join(lines) + "\n"


def key_figures(sol: Solution) -> dict[str, float]:
    """The per-tonne figures a domain reader checks first (all periods together).

    ``cost_per_t`` (net cost per tonne of packs collected, currency/t), ``gross_cost_per_t``
    (before merchant and hub revenue), ``transport_share`` (transport over gross cost),
    ``haul_pack_km`` / ``haul_black_mass_km`` (tonne-weighted average haul per echelon),
    ``spoke_utilisation`` / ``hub_utilisation`` (inbound over capacity of the open sites),
    ``collected_t``, ``collection_rate``, ``black_mass_t``.
    """
    costs = sol.costs.groupby("component")["value"].sum()
    gross = float(costs[costs > 0].sum())
    transport = float(sum(costs.get(leg.component, 0.0) for leg in LEGS))
    reg = sol.regions
    collected = float(reg["collected_t"].sum())
    supply = float(reg["supply_t"].sum())
    fl = sol.flows

    def haul(echelon: str) -> float:
        sel = fl[fl["echelon"] == echelon]
        t = float(sel["flow_t"].sum())
        return float((sel["flow_t"] * sel["km"]).sum() / t) if t > 0 else 0.0

    def util(kind: str) -> float:
        o = sol.sites[(sol.sites["kind"] == kind) & sol.sites["open"].astype(bool)]
        cap = float(o["capacity_t"].sum())
        return float(o["inbound_t"].sum() / cap) if cap > 0 else 0.0

    net = float(costs.sum())
    return {
        "collected_t": collected,
        "collection_rate": collected / supply if supply > 0 else 0.0,
        "black_mass_t": float(fl.loc[fl["material"] == "black_mass", "flow_t"].sum()),
        "cost_per_t": net / collected if collected > 0 else 0.0,
        "gross_cost_per_t": gross / collected if collected > 0 else 0.0,
        "transport_share": transport / gross if gross > 0 else 0.0,
        "haul_pack_km": haul("region_spoke"),
        "haul_black_mass_km": haul("spoke_hub"),
        "spoke_utilisation": util("spoke"),
        "hub_utilisation": util("hub"),
    }


def key_figures_text(sol: Solution) -> str:
    """The key figures (cost per tonne, utilisation, collection share, distances) as console text."""
    k = key_figures(sol)
    cur = sol.currency
    return (
        "key figures:\n"
        f"  net cost per tonne of packs collected   {k['cost_per_t']:>12,.0f} {cur}/t ({k['cost_per_t'] / 1000:.2f} {cur}/kg)\n"
        f"  gross cost per tonne (before revenues)  {k['gross_cost_per_t']:>12,.0f} {cur}/t\n"
        f"  transport share of gross cost           {100 * k['transport_share']:>11.1f} %\n"
        f"  average haul, packs region->spoke       {k['haul_pack_km']:>12,.0f} km\n"
        f"  average haul, black mass spoke->hub     {k['haul_black_mass_km']:>12,.0f} km\n"
        f"  spoke utilisation (open capacity)       {100 * k['spoke_utilisation']:>11.1f} %\n"
        f"  hub utilisation (open capacity)         {100 * k['hub_utilisation']:>11.1f} %\n"
    )


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    keys = [k for k in keys if k in df.columns]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if len(df) else df


def solution_csvs(sol: Solution) -> dict[str, str]:
    """The CSV files of a solution folder, as text (sorted, deterministic)."""
    return {
        "sites.csv": csv_text(_sorted(sol.sites, ["period", "kind", "site_id"]), float_format="%.6f"),
        "flows.csv": csv_text(_sorted(sol.flows, ["period", "echelon", "origin", "destination", "chemistry"]), float_format="%.6f"),
        "regions.csv": csv_text(_sorted(sol.regions, ["period", "region_id", "chemistry"]), float_format="%.6f"),
        "channels.csv": csv_text(_sorted(sol.channels, ["period", "region_id", "channel", "chemistry"]), float_format="%.6f"),
        "costs.csv": csv_text(sol.costs, float_format="%.6f"),
        **({"schedule.csv": csv_text(sol.schedule(), float_format="%.6f")} if sol.multi_period else {}),
    }


def write_solution(sol: Solution, inst: Instance, out: str | Path, force: bool = False, with_map: bool = True) -> Path:
    """Write the output folder atomically; refuses an existing folder unless ``force``.

    A solution with a network is first re-checked by :func:`~optimizer.check.check_solution`:
    one that fails raises :class:`~optimizer.errors.SolutionCheckError` and nothing is written.
    The map is drawn first, in memory; the folder is then written in one atomic step.  A map
    that cannot be drawn does not stop the tables: they are written without ``map.html`` and
    :class:`MapError` says so (a solved result is never lost to a failing map); an interruption
    writes nothing.
    """
    if sol.status.has_solution:
        from ..check import check_solution

        violations = check_solution(inst, sol)
        if violations:
            raise SolutionCheckError(violations)
    html, map_failure = None, None
    if with_map and sol.status.has_solution:
        from .maps import MapOptions, map_html

        try:  # drawn before anything is written: an interruption leaves the old result as it was
            html = map_html(inst, sol, MapOptions(offline=True))
        except SpokehubError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as what it is; the tables are still written
            map_failure = exc
    with atomic_folder(out, force=force) as tmp:
        (tmp / "solution.json").write_text(sol.to_json(), encoding="utf-8")
        for name, text in solution_csvs(sol).items():
            (tmp / name).write_text(text, encoding="utf-8")
        (tmp / "summary.txt").write_text(summary_text(sol, inst), encoding="utf-8")
        if html is not None:
            (tmp / "map.html").write_text(html, encoding="utf-8")
    if map_failure is not None:
        raise MapError(f"the results are written to {out}, but map.html could not be drawn: "
                       f"{type(map_failure).__name__}: {map_failure}") from map_failure
    return Path(out)


class MapError(SpokehubError):
    """The map of a written solution could not be drawn (the tables are on disk)."""

    exit_code = 1
