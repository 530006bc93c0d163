"""Why is an instance infeasible?  Name regions, chemistries and tonnes.

Two complementary answers:

1. **Screens** (plain arithmetic on the instance): regions with no spoke within the service
   radius, chemistries with no accepting hub and no merchant outlet, more existing sites than a
   cap allows, open capacity below the required collection at each echelon.
2. **Elastic model**: the same MILP with a slack ``shortfall_t`` on every supply row and the
   objective "minimise total shortfall".  Its optimum is the least required tonnage that no
   network can collect, broken down by region and chemistry -- this finds infeasibility no
   aggregate screen sees (say LFP supply whose only accepting hub is beyond a cap on hubs).
"""

from __future__ import annotations

import numpy as np

from .errors import InfeasibilityDiagnosis, Shortfall
from .frames import concat_rows
from .highs import run_highs
from .instance import Instance
from .model.build import ModelOptions, build_model
from .model.network import Network, build_network
from .options import SolveOptions
from .tiers import LEGS, REGION, TIERS

SHORTFALL_TOL_T = 1e-6


def _per(period: str, single: bool) -> str:
    return "" if single else f" in period {period}"


def screens(inst: Instance, net: Network | None = None) -> list[str]:
    """Plain-language findings that explain infeasibility (empty when none apply).

    Every comparison is made period by period -- what must be collected in a year of that period
    against what can be open in it -- and names the period in a multi-period instance; the
    capacity screens run over every tier that all material passes (:mod:`optimizer.tiers`).
    """
    from .model.build import _cover_needs

    net = net or build_network(inst)
    p = inst.params
    single = net.single_period
    causes: list[str] = []
    req_all = net.supply[net.supply["required_t"] > SHORTFALL_TOL_T]
    first = concat_rows([net.arcs[leg.name] for leg in LEGS if leg.origin == REGION], ["origin", "chemistry", "period"])
    served = set(zip(first["origin"], first["chemistry"], first["period"], strict=True))
    for t in TIERS:
        sites = net.tiers[t.name].sites
        stays = sites["status"] == "existing"
        if "closure_cost" in sites.columns:
            stays &= sites["closure_cost"].isna()  # an existing site with a closure cost may close
        n_existing, cap = int(stays.sum()), getattr(p, f"max_{t.plural}")
        if cap is not None and n_existing > cap:
            causes.append(f"{n_existing} existing {t.plural} may not close but max_{t.plural} = {cap}")
        low, hi = getattr(p, f"min_{t.plural}"), getattr(p, f"max_{t.plural}")
        if low is not None and low > len(sites):
            causes.append(f"min_{t.plural} = {low} but only {len(sites)} {t.plural} may open")
        if low is not None and hi is not None and low > hi:
            causes.append(f"min_{t.plural} = {low} is above max_{t.plural} = {hi}")
    needs = _cover_needs(inst, net)
    for period in net.periods:
        at = _per(period, single)
        req = req_all[req_all["period"] == period]
        unreachable = req[[(r, c, period) not in served for r, c in zip(req["region_id"], req["chemistry"], strict=True)]]
        if len(unreachable):
            regions = sorted(set(unreachable["region_id"]))
            radius = f"{p.service_radius_km:g} km service radius" if p.service_radius_km else "lanes"
            causes.append(
                f"{len(regions)} region(s) have no open-able {' or '.join(dict.fromkeys(leg.destination.replace('_', ' ') for leg in LEGS if leg.origin == REGION and len(net.tiers[leg.destination].sites)))} "
                f"within the {radius}{at}: "
                + ", ".join(regions[:20]) + (" ..." if len(regions) > 20 else "")
                + f" ({unreachable['required_t'].sum():,.1f} t/yr required)")
        causes += _channel_screens(inst, net, period, at)
        causes += _outlet_screens(inst, net, req, period, at)
        for t in TIERS:
            if t.cover:
                causes += _capacity_screen(inst, net, t, needs[t.name], period, at)
    return causes


def _channel_screens(inst: Instance, net: Network, period: str, at: str) -> list[str]:
    """Where the tonnes that must be collected come from, per channel: a take-back duty forces
    the cheapest level capturing at least its share; a channel without offers is captured whole.
    Nothing for an instance without channels (all supply is required, as the shortfall says)."""
    if not inst.has_channels or inst.params.min_collection_rate <= 0:
        return []
    rho = inst.params.min_collection_rate
    cs = net.channel_supply[net.channel_supply["period"] == period]
    lv = net.offers
    forced = lv[lv["forced"].astype(bool)] if "forced" in lv.columns else lv.iloc[:0]
    least = forced.groupby("ladder")["capture_share"].min()
    out = []
    duty = dict(zip(inst.channels["id"], inst.channels["min_capture_share"].fillna(0.0).astype(float), strict=True))
    for channel, g in cs.groupby("channel", sort=True):
        free = g[g["ladder"] == ""]
        dutied = g[g["ladder"].isin(least.index)]
        t_free = float(free["available_t"].sum())
        t_duty = float((dutied["available_t"] * dutied["ladder"].map(least)).sum())
        if t_free > SHORTFALL_TOL_T:
            out.append(f"channel '{channel}'{at} has no offers, so all {t_free:,.1f} t/yr it holds are captured and "
                       f"{rho * t_free:,.1f} t/yr must be collected (min_collection_rate {rho:g})")
        if t_duty > SHORTFALL_TOL_T:
            shares = sorted(set(dutied["ladder"].map(least).round(6)))
            out.append(f"channel '{channel}'{at}: its take-back duty (min_capture_share {duty.get(channel, 0.0):g}) forces "
                       f"an offer capturing at least {', '.join(f'{100 * x:g} %' for x in shares)} of it: "
                       f"{t_duty:,.1f} t/yr captured, {rho * t_duty:,.1f} t/yr of them must be collected "
                       f"(min_collection_rate {rho:g})")
    return out


def _outlet_screens(inst: Instance, net: Network, req, period: str, at: str) -> list[str]:
    """Chemistries whose black mass has nowhere to go: no accepting site and no merchant outlet."""
    out = []
    refining = [leg for leg in LEGS if leg.material == "black_mass"]
    for chem in net.chems:
        need = req.loc[req["chemistry"] == chem, "required_t"].sum()
        if need <= 0:
            continue
        has_hub = any(((net.arcs[leg.name]["chemistry"] == chem) & (net.arcs[leg.name]["period"] == period)).any() for leg in refining)
        if not has_hub and inst.chemistry(chem).merchant_price_per_t is None:
            out.append(f"{chem}{at}: {need:,.1f} t/yr of packs must be collected but no open-able hub accepts {chem} "
                       f"and {chem} has no merchant outlet (merchant_price_per_t), so its black mass has nowhere to go")
    return out


def _capacity_screen(inst: Instance, net: Network, t, need, period: str, at: str) -> list[str]:
    """The tier's largest open-able capacity (within its count cap) against what must reach it."""
    opts = net.tiers[t.name].options
    caps = np.sort(opts[opts["period"] == period].groupby("site_id")["capacity_t"].max().to_numpy(dtype=float))[::-1]
    n = getattr(inst.params, f"max_{t.plural}")
    if n is not None:
        caps = caps[:n]
    total = float(sum(max(0.0, float(need.get((period, c), 0.0))) for c in net.chems))
    if total <= caps.sum() + SHORTFALL_TOL_T:
        return []
    if t.takes == "packs":
        return [f"{t.name} capacity falls short{at}: at most {caps.sum():,.1f} t/yr of packs can be processed "
                f"but {total:,.1f} t/yr must be collected (short by {total - caps.sum():,.1f} t/yr)"]
    return [f"{t.name} capacity falls short{at}: at least {total:,.1f} t/yr of black mass must be refined "
            f"(beyond merchant caps) but {t.plural} can take at most {caps.sum():,.1f} t/yr"]


def diagnose(inst: Instance, options=None) -> InfeasibilityDiagnosis:
    """Screens plus the minimum-shortfall breakdown from the elastic model."""
    net = build_network(inst)
    causes = screens(inst, net)
    opts = SolveOptions(**(options.as_dict() if options is not None else {}))
    opts.handoff = "direct"
    built = build_model(inst, ModelOptions(single_sourcing=opts.single_sourcing, linking=opts.linking, elastic=True), net=net)
    run = run_highs(built, opts)
    shortfall: list[Shortfall] = []
    if run.status.has_solution:
        s = np.asarray(run.values.get("shortfall_t", []), dtype=float)
        sup = net.supply
        for i in np.flatnonzero(s > SHORTFALL_TOL_T):
            shortfall.append(Shortfall(str(sup["region_id"].iat[i]), str(sup["chemistry"].iat[i]),
                                       None if net.single_period else str(sup["period"].iat[i]),
                                       float(sup["required_t"].iat[i]), float(s[i])))
        order = {p: k for k, p in enumerate(net.periods)}
        shortfall.sort(key=lambda r: (order.get(r.period, 0), -r.shortfall_t, r.region_id, r.chemistry))
        if not shortfall:
            causes.append("the elastic model collects everything required: the infeasibility lies in "
                          "site caps or the capex budget together with existing sites")
    else:
        causes.append("even with unlimited shortfall allowed the site rules cannot be met "
                      "(existing sites versus the site counts, minimum throughputs or the capex budget)")
    return InfeasibilityDiagnosis(shortfall=shortfall, causes=causes)
