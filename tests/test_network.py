"""The model's index sets are sparse: only arcs that can carry flow exist."""

from optimizer import build_model, load_instance
from optimizer.model.network import build_network

from .bruteforce import haversine
from .helpers import DEMO


def test_region_spoke_arcs_pruned_by_radius_and_exclusion():
    inst = load_instance(DEMO)
    net = build_network(inst)
    p = inst.params
    lane_km = {(o, d): k for o, d, k in zip(inst.lanes["origin"], inst.lanes["destination"], inst.lanes["km"], strict=True)}
    expected = set()
    for r in inst.regions.itertuples(index=False):
        for s in inst.spokes.itertuples(index=False):
            if s.status == "excluded":
                continue
            km = lane_km.get((r.id, s.id))
            if km is None or km != km:
                km = haversine(r.lat, r.lon, s.lat, s.lon) * p.circuity
            if km <= p.service_radius_km:
                for c in inst.chem_names:
                    if getattr(r, f"{c}_t") > 0:
                        expected.add((r.id, s.id, c))
    a = net.arcs["region_spoke"]
    got = set(zip(a["origin"], a["destination"], a["chemistry"], strict=True))
    assert got == expected
    assert 0 < len(got) < len(inst.regions) * 8 * 2  # strictly sparser than the dense product


def test_spoke_hub_arcs_only_for_accepted_chemistries():
    inst = load_instance(DEMO)
    built = build_model(inst)
    for (_s, h, c, _t) in built.model.ARCS_SPOKE_HUB:
        assert bool(inst.hubs.set_index("id").at[h, f"accepts_{c}"])
    # H-ROCHESTER accepts nmc only
    assert not [a for a in built.model.ARCS_SPOKE_HUB if a[1] == "H-ROCHESTER" and a[2] == "lfp"]
