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
from .highs import run_highs
from .instance import Instance
from .model.build import ModelOptions, build_model
from .model.network import Network, build_network
from .options import SolveOptions

SHORTFALL_TOL_T = 1e-6


def _per(period: str, single: bool) -> str:
    return "" if single else f" in period {period}"


def screens(inst: Instance, net: Network | None = None) -> list[str]:
    """Plain-language findings that explain infeasibility (empty when none apply).

    Every comparison is made period by period -- what must be collected in a year of that period
    against what can be open in it -- and names the period in a multi-period instance.
    """
    net = net or build_network(inst)
    p = inst.params
    single = net.single_period
    causes: list[str] = []
    req_all = net.supply[net.supply["required_t"] > SHORTFALL_TOL_T]

    served = set(zip(net.arcs_rs["region_id"], net.arcs_rs["chemistry"], net.arcs_rs["period"], strict=True))
    for kind, sites, cap in (("spokes", net.spoke_sites, p.max_spokes), ("hubs", net.hub_sites, p.max_hubs)):
        n_existing = int((sites["status"] == "existing").sum())
        if cap is not None and n_existing > cap:
            causes.append(f"{n_existing} existing {kind} must stay open but max_{kind} = {cap}")

    for period in net.periods:
        at = _per(period, single)
        req = req_all[req_all["period"] == period]
        unreachable = req[[(r, c, period) not in served for r, c in zip(req["region_id"], req["chemistry"], strict=True)]]
        if len(unreachable):
            regions = sorted(set(unreachable["region_id"]))
            radius = f"{p.service_radius_km:g} km service radius" if p.service_radius_km else "lanes"
            causes.append(
                f"{len(regions)} region(s) have no open-able spoke within the {radius}{at}: "
                + ", ".join(regions[:20]) + (" ..." if len(regions) > 20 else "")
                + f" ({unreachable['required_t'].sum():,.1f} t/yr required)"
            )
        for chem in net.chems:
            need = req.loc[req["chemistry"] == chem, "required_t"].sum()
            if need <= 0:
                continue
            has_hub = ((net.arcs_sh["chemistry"] == chem) & (net.arcs_sh["period"] == period)).any()
            has_merchant = inst.chemistry(chem).merchant_price_per_t is not None
            if not has_hub and not has_merchant:
                causes.append(
                    f"{chem}{at}: {need:,.1f} t/yr of packs must be collected but no open-able hub accepts {chem} "
                    f"and {chem} has no merchant outlet (merchant_price_per_t), so its black mass has nowhere to go"
                )
        total_req = req["required_t"].sum()
        open_able = net.spoke_options[net.spoke_options["period"] == period].groupby("site_id")["capacity_t"].max()
        caps = np.sort(open_able.to_numpy(dtype=float))[::-1]
        if p.max_spokes is not None:
            caps = caps[: p.max_spokes]
        if caps.sum() + SHORTFALL_TOL_T < total_req:
            causes.append(
                f"spoke capacity falls short{at}: at most {caps.sum():,.1f} t/yr of packs can be processed "
                f"but {total_req:,.1f} t/yr must be collected (short by {total_req - caps.sum():,.1f} t/yr)"
            )
        # Black mass that must go to hubs: beyond what merchant outlets can absorb.
        bm_req = 0.0
        for chem in net.chems:
            need = req.loc[req["chemistry"] == chem, "required_t"].sum() * net.black_mass_yield[chem]
            c = inst.chemistry(chem)
            if c.merchant_price_per_t is not None:
                need = max(0.0, need - (c.merchant_cap_t if c.merchant_cap_t is not None else np.inf))
            bm_req += need
        hub_open_able = net.hub_options[net.hub_options["period"] == period].groupby("site_id")["capacity_t"].max()
        hub_caps = np.sort(hub_open_able.to_numpy(dtype=float))[::-1]
        if p.max_hubs is not None:
            hub_caps = hub_caps[: p.max_hubs]
        if bm_req > hub_caps.sum() + SHORTFALL_TOL_T:
            causes.append(
                f"hub capacity falls short{at}: at least {bm_req:,.1f} t/yr of black mass must be refined "
                f"(beyond merchant caps) but hubs can take at most {hub_caps.sum():,.1f} t/yr"
            )
    return causes


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
                      "(existing sites versus max_spokes/max_hubs or the capex budget)")
    return InfeasibilityDiagnosis(shortfall=shortfall, causes=causes)
