"""Scenario levers: every key declared in optimizer.schema.SCENARIO_LEVERS changes what it says,
by the factor it says, on the sites it names -- and nothing else.

The expected numbers are the demo instance's own inputs times the factor, worked out here from
the files (not from the code under test).  The coverage test fails when a lever is declared
without a case here, so a lever cannot be added without being checked.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from optimizer import InstanceError, load_instance
from optimizer.scenarios.overrides import KEYS, Scenario, apply, parse_scenario

from .helpers import DEMO

ALLIANCE = {"S-NEWARK", "S-WARREN", "H-TOLEDO"}  # the group given in the base below


@pytest.fixture(scope="module")
def base():
    inst = load_instance(DEMO)
    spokes = inst.spokes.copy()
    hubs = inst.hubs.copy()
    spokes["group"] = np.where(spokes["id"].isin(ALLIANCE), "alliance", "")
    hubs["group"] = np.where(hubs["id"].isin(ALLIANCE), "alliance", "")
    spokes.loc[spokes["id"] == "S-KINGSTON", "processing_cost_per_t"] = 300.0
    spokes.loc[spokes["id"] == "S-KINGSTON", "closure_cost"] = 1e6
    sizes = inst.spoke_sizes.copy()
    sizes["min_throughput_t"] = np.where(sizes["size"] == "small", 1000.0, 0.0)
    chems = tuple(dataclasses.replace(c, hub_revenue_per_t=5000.0) for c in inst.chemistries)
    return inst.replace(spokes=spokes, hubs=hubs, spoke_sizes=sizes, chemistries=chems)


def _applied(base, overrides: dict):
    return apply(base, parse_scenario(overrides, base))


def _size_factor(base, tier: str, sites: set[str] | None, f: float) -> dict[str, np.ndarray]:
    """Expected factor per size row of each tier: f on the rows of ``sites`` (all when None) of
    ``tier`` (both when None)."""
    out = {}
    for t, table in (("spoke", base.spoke_sizes), ("hub", base.hub_sizes)):
        hit = table["site_id"].isin(sites) if sites is not None else pd.Series(True, index=table.index)
        if tier is not None and t != tier:
            hit[:] = False
        out[t] = np.where(hit, f, 1.0)
    return out


SIZE_LEVERS = {"capacity": "capacity_t", "capex": "capex", "opex": "fixed_opex_per_yr", "min_throughput": "min_throughput_t"}


def _size_cases():
    for lever, col in SIZE_LEVERS.items():
        yield lever, {lever: 2.0}, col, (None, None)
        for tier in ("spoke", "hub"):
            yield f"{tier}_{lever}", {f"{tier}_{lever}": 2.0}, col, (tier, None)
        yield f"{lever}_by_group", {f"{lever}_by_group": {"alliance": 2.0}}, col, (None, ALLIANCE)
        yield f"{lever}_by_site", {f"{lever}_by_site": {"H-TOLEDO": 2.0}}, col, (None, {"H-TOLEDO"})


@pytest.mark.parametrize("key,overrides,col,scope", list(_size_cases()), ids=[c[0] for c in _size_cases()])
def test_size_levers(base, key, overrides, col, scope):
    inst = _applied(base, overrides)
    expected = _size_factor(base, scope[0], scope[1], 2.0)
    for t, before, after in (("spoke", base.spoke_sizes, inst.spoke_sizes), ("hub", base.hub_sizes, inst.hub_sizes)):
        if col not in before.columns:
            continue
        np.testing.assert_allclose(after[col].to_numpy(float), before[col].to_numpy(float) * expected[t], err_msg=f"{t} {col}")


def _cost(inst, tier: str, sid: str) -> float:
    """The variable processing cost a site is charged: its own, else its tier's."""
    sites = inst.spokes if tier == "spoke" else inst.hubs
    own = sites.loc[sites["id"] == sid, "processing_cost_per_t"] if "processing_cost_per_t" in sites else pd.Series([np.nan])
    v = float(own.iat[0]) if len(own) else np.nan
    return v if v == v else getattr(inst.params, f"{tier}_cost_per_t")


# (key, overrides, {(tier, site): expected cost}); demo: spokes 250/t, hubs 1800/t, Kingston 300 (its own)
PROCESSING = [
    ("processing_cost", {"processing_cost": 2.0}, {("spoke", "S-KINGSTON"): 600, ("spoke", "S-NEWARK"): 500, ("hub", "H-TOLEDO"): 3600}),
    ("spoke_processing_cost", {"spoke_processing_cost": 2.0},
     {("spoke", "S-KINGSTON"): 600, ("spoke", "S-NEWARK"): 500, ("hub", "H-TOLEDO"): 1800}),
    ("hub_processing_cost", {"hub_processing_cost": 2.0}, {("spoke", "S-KINGSTON"): 300, ("hub", "H-TOLEDO"): 3600}),
    ("processing_cost_by_group", {"processing_cost_by_group": {"alliance": 2.0}},
     {("spoke", "S-KINGSTON"): 300, ("spoke", "S-NEWARK"): 500, ("spoke", "S-WARREN"): 500, ("spoke", "S-GARY"): 250,
      ("hub", "H-TOLEDO"): 3600, ("hub", "H-ROCHESTER"): 1800}),
    ("processing_cost_by_site", {"processing_cost_by_site": {"S-KINGSTON": 2.0, "S-GARY": 0.5}},
     {("spoke", "S-KINGSTON"): 600, ("spoke", "S-GARY"): 125, ("spoke", "S-NEWARK"): 250}),
]


@pytest.mark.parametrize("key,overrides,expected", PROCESSING, ids=[c[0] for c in PROCESSING])
def test_processing_cost_levers(base, key, overrides, expected):
    inst = _applied(base, overrides)
    for (tier, sid), cost in expected.items():
        assert _cost(inst, tier, sid) == pytest.approx(cost), (tier, sid)


def test_value_then_factor(base):
    """Values replace a parameter first, factors then scale it: 300 x 1.1 = 330."""
    inst = _applied(base, {"spoke_cost_per_t": 300.0, "processing_cost": 1.1})
    assert _cost(inst, "spoke", "S-NEWARK") == pytest.approx(330.0)
    assert _cost(inst, "spoke", "S-KINGSTON") == pytest.approx(330.0)  # its own 300, scaled


CLOSURE = [("closure_cost", {"closure_cost": 2.0}, 2e6), ("spoke_closure_cost", {"spoke_closure_cost": 2.0}, 2e6),
           ("hub_closure_cost", {"hub_closure_cost": 2.0}, 1e6),
           ("closure_cost_by_group", {"closure_cost_by_group": {"alliance": 2.0}}, 1e6),
           ("closure_cost_by_site", {"closure_cost_by_site": {"S-KINGSTON": 3.0}}, 3e6)]


@pytest.mark.parametrize("key,overrides,expected", CLOSURE, ids=[c[0] for c in CLOSURE])
def test_closure_cost_levers(base, key, overrides, expected):
    inst = _applied(base, overrides)
    assert float(inst.spokes.loc[inst.spokes["id"] == "S-KINGSTON", "closure_cost"].iat[0]) == pytest.approx(expected)


# demo: packs 0.30 /t-km, black mass 0.12 /t-km; the quoted lane S-KINGSTON -> H-BECANCOUR (spoke_hub) costs 38 /t
TRANSPORT = [
    ("transport", {"transport": 2.0}, (0.60, 0.24, 76.0)),
    ("transport_rates", {"transport_rates": 2.0}, (0.60, 0.24, 38.0)),
    ("transport_by_leg", {"transport_by_leg": {"spoke_hub": 2.0}}, (0.30, 0.24, 76.0)),
    ("transport_rates_by_leg", {"transport_rates_by_leg": {"region_spoke": 2.0}}, (0.60, 0.12, 38.0)),
]


def test_a_leg_on_its_fallback_rate_keeps_its_own_factor(base):
    """The demo gives no first-mile or line-haul rate (both follow pack_cost_per_t_km, 0.30): a
    factor on region_spoke doubles the pack rate only; one on the first mile gives it 0.3 x 3."""
    inst = _applied(base, {"transport_by_leg": {"region_spoke": 2.0}})
    assert inst.params.pack_cost_per_t_km == pytest.approx(0.60)
    assert inst.params.first_mile_cost_per_t_km == pytest.approx(0.30)
    assert inst.params.line_haul_cost_per_t_km == pytest.approx(0.30)
    inst = _applied(base, {"transport_by_leg": {"region_collection_point": 3.0}})
    assert inst.params.first_mile_cost_per_t_km == pytest.approx(0.90)
    assert inst.params.pack_cost_per_t_km == pytest.approx(0.30) and inst.params.line_haul_cost_per_t_km is None


@pytest.mark.parametrize("key,overrides,expected", TRANSPORT, ids=[c[0] for c in TRANSPORT])
def test_transport_levers(base, key, overrides, expected):
    inst = _applied(base, overrides)
    pack, bm, quoted = expected
    assert inst.params.pack_cost_per_t_km == pytest.approx(pack)
    assert inst.params.black_mass_cost_per_t_km == pytest.approx(bm)
    lane = inst.lanes[(inst.lanes["origin"] == "S-KINGSTON") & (inst.lanes["destination"] == "H-BECANCOUR")]
    assert float(lane["cost_per_t"].iat[0]) == pytest.approx(quoted)
    km_lane = inst.lanes[inst.lanes["origin"] == "CA-MTL"]
    assert float(km_lane["km"].iat[0]) == 290 and np.isnan(km_lane["cost_per_t"].iat[0])  # a road distance stays one


# demo: nmc yield 0.40, merchant 3500 /t capped at 6000 t; lfp 0.33, -250 /t, 1500 t; revenue 5000 (the base above)
CHEMISTRY = [
    ("yield", {"yield": 2.0}, {"nmc": ("black_mass_yield", 0.80), "lfp": ("black_mass_yield", 0.66)}),
    ("yield_by_chemistry", {"yield_by_chemistry": {"lfp": 2.0}}, {"nmc": ("black_mass_yield", 0.40), "lfp": ("black_mass_yield", 0.66)}),
    ("revenue", {"revenue": 1.5}, {"nmc": ("hub_revenue_per_t", 7500.0), "lfp": ("hub_revenue_per_t", 7500.0)}),
    ("revenue_by_chemistry", {"revenue_by_chemistry": {"nmc": 0.5}}, {"nmc": ("hub_revenue_per_t", 2500.0), "lfp": ("hub_revenue_per_t", 5000.0)}),
    ("merchant_price", {"merchant_price": 2.0}, {"nmc": ("merchant_price_per_t", 7000.0), "lfp": ("merchant_price_per_t", -500.0)}),
    ("merchant_price_by_chemistry", {"merchant_price_by_chemistry": {"lfp": 0.0}},
     {"nmc": ("merchant_price_per_t", 3500.0), "lfp": ("merchant_price_per_t", 0.0)}),
    ("merchant_cap", {"merchant_cap": 0.5}, {"nmc": ("merchant_cap_t", 3000.0), "lfp": ("merchant_cap_t", 750.0)}),
    ("merchant_cap_by_chemistry", {"merchant_cap_by_chemistry": {"nmc": 2.0}}, {"nmc": ("merchant_cap_t", 12000.0), "lfp": ("merchant_cap_t", 1500.0)}),
]


@pytest.mark.parametrize("key,overrides,expected", CHEMISTRY, ids=[c[0] for c in CHEMISTRY])
def test_chemistry_levers(base, key, overrides, expected):
    inst = _applied(base, overrides)
    for chem, (field, value) in expected.items():
        assert getattr(inst.chemistry(chem), field) == pytest.approx(value), chem


def test_yield_is_capped_at_one(base):
    assert _applied(base, {"yield": 5.0}).chemistry("nmc").black_mass_yield == 1.0


def test_penalty_lever(base):
    assert _applied(base, {"penalty": 2.5}).params.uncollected_penalty_per_t == pytest.approx(5000.0)  # demo: 2000


# demo supply: 59,250 t in total; US-CHI's row 6,000 nmc + 1,600 lfp (regions.csv)
SUPPLY = [("supply", {"supply": 0.5}, 0.5 * 59250.0), ("supply_by_chemistry", {"supply_by_chemistry": {"lfp": 0.0}}, None),
          ("supply_by_region", {"supply_by_region": {"US-CHI": 2.0}}, None), ("mix", {"mix": {"lfp": 2.0}}, 59250.0)]


@pytest.mark.parametrize("key,overrides,total", SUPPLY, ids=[c[0] for c in SUPPLY])
def test_supply_levers(base, key, overrides, total):
    before = base.regions.set_index("id")[["nmc_t", "lfp_t"]]
    after = _applied(base, overrides).regions.set_index("id")[["nmc_t", "lfp_t"]]
    if total is not None:
        assert after.to_numpy().sum() == pytest.approx(total)
    if key == "supply_by_chemistry":
        assert (after["lfp_t"] == 0).all() and after["nmc_t"].equals(before["nmc_t"])
    if key == "supply_by_region":
        assert after.loc["US-CHI"].tolist() == pytest.approx([2 * x for x in before.loc["US-CHI"].tolist()])
        assert after.drop(index="US-CHI").equals(before.drop(index="US-CHI"))
    if key == "mix":  # each region keeps its total; lfp's share doubles where it fits
        np.testing.assert_allclose(after.sum(axis=1), before.sum(axis=1))
        assert after.loc["US-CHI", "lfp_t"] == pytest.approx(2 * 1600.0)


def test_site_lists(base):
    inst = _applied(base, {"force_open": ["H-TOLEDO"], "forbid": ["S-KINGSTON"]})
    assert inst.forced_open == ("H-TOLEDO",)
    row = inst.spokes.set_index("id").loc["S-KINGSTON"]
    assert row["status"] == "excluded" and row["existing_size"] == "" and np.isnan(row["closure_cost"])
    assert any("forbids the existing spoke S-KINGSTON" in n for n in inst.notes)


# a valid value different from the demo's, per value key
VALUES = {"pack_cost_per_t_km": 0.5, "black_mass_cost_per_t_km": 0.2, "circuity": 1.4, "service_radius_km": 700.0,
          "spoke_hub_radius_km": 900.0, "discount_rate": 0.1, "lifetime_years": 15.0, "spoke_cost_per_t": 300.0,
          "hub_cost_per_t": 1500.0, "uncollected_penalty_per_t": 3000.0, "min_collection_rate": 0.8, "min_spokes": 3,
          "max_spokes": 6, "min_hubs": 1, "max_hubs": 3, "max_capex": 1e9, "single_sourcing": True,
          "first_mile_cost_per_t_km": 0.9, "line_haul_cost_per_t_km": 0.2, "first_mile_radius_km": 100.0,
          "line_haul_radius_km": 600.0, "collection_point_cost_per_t": 20.0, "min_collection_points": 0,
          "max_collection_points": 4, "damaged_pack_surcharge_per_t_km": 0.3}


@pytest.mark.parametrize("key", sorted(VALUES))
def test_value_levers(base, key):
    inst = _applied(base, {key: VALUES[key]})
    assert getattr(inst.params, key) == VALUES[key]
    assert getattr(base.params, key) != VALUES[key]


def _with_channels(inst):
    """Three channels: dealer 50 %, fleet 30 %, dismantler 20 % everywhere; ladders for dealer and fleet."""
    channels = pd.DataFrame({"id": ["dealer", "fleet", "dismantler"], "name": "", "owner": "", "price_scope": "region",
                             "min_capture_share": 0.0, "source": ""})
    shares = pd.DataFrame({"region": "*", "chemistry": "", "channel": ["dealer", "fleet", "dismantler"], "share": [0.5, 0.3, 0.2]})
    offers = pd.DataFrame({"channel": ["dealer", "dealer", "fleet"], "region": "", "chemistry": "", "period": np.nan,
                           "level": ["low", "high", "posted"], "price_per_t": [-100.0, 800.0, 300.0],
                           "capture_share": [0.4, 0.8, 0.7]})
    return inst.replace(channels=channels, channel_shares=shares, offers=offers)


# (overrides, expected price_per_t, capture_share per offer row, shares per channel), worked by hand
CHANNEL_CASES = [
    ({"offer_price": 1.5}, [-150.0, 1200.0, 450.0], [0.4, 0.8, 0.7], [0.5, 0.3, 0.2]),
    ({"offer_price_by_channel": {"fleet": 2.0}}, [-100.0, 800.0, 600.0], [0.4, 0.8, 0.7], [0.5, 0.3, 0.2]),
    ({"capture_share": 1.5}, [-100.0, 800.0, 300.0], [0.6, 1.0, 1.0], [0.5, 0.3, 0.2]),  # capped at 1
    ({"capture_share_by_channel": {"dealer": 0.5}}, [-100.0, 800.0, 300.0], [0.2, 0.4, 0.7], [0.5, 0.3, 0.2]),
    # dealer 0.5 -> 0.8; fleet and dismantler share the remaining 0.2 as 3:2
    ({"channel_share_by_channel": {"dealer": 1.6}}, [-100.0, 800.0, 300.0], [0.4, 0.8, 0.7], [0.8, 0.12, 0.08]),
    ({"channel_share": 2.0}, [-100.0, 800.0, 300.0], [0.4, 0.8, 0.7], [0.5, 0.3, 0.2]),  # every channel: no change
    # the dealer channel owned: its two levels set aside (free, all captured); the fleet's stays
    ({"own_channels": ["dealer"]}, [300.0], [0.7], [0.5, 0.3, 0.2]),
    ({"own_channels": ["dealer"], "offer_price": 2.0}, [600.0], [0.7], [0.5, 0.3, 0.2]),
]


@pytest.mark.parametrize(("overrides", "price", "capture", "shares"), CHANNEL_CASES)
def test_channel_levers(base, overrides, price, capture, shares):
    b = _with_channels(base)
    inst = _applied(b, overrides)
    np.testing.assert_allclose(inst.offers["price_per_t"], price)
    np.testing.assert_allclose(inst.offers["capture_share"], capture)
    np.testing.assert_allclose(inst.channel_shares["share"], shares)
    pd.testing.assert_frame_equal(b.offers, _with_channels(base).offers)  # the base is untouched


@pytest.mark.parametrize(("overrides", "damaged"), [
    ({"damaged_share": 2.0}, [0.2, 1.0, 0.0]),  # 0.6 x 2 capped at 1
    ({"damaged_share_by_channel": {"fleet": 0.5}}, [0.1, 0.3, 0.0]),
])
def test_damaged_share_levers(base, overrides, damaged):
    b = _with_channels(base)
    b = b.replace(channels=b.channels.assign(damaged_share=[0.1, 0.6, 0.0]))
    inst = _applied(b, overrides)
    np.testing.assert_allclose(inst.channels["damaged_share"], damaged)
    np.testing.assert_allclose(b.channels["damaged_share"], [0.1, 0.6, 0.0])  # the base is untouched


def test_a_channel_lever_names_a_channel(base):
    with pytest.raises(InstanceError) as e:
        parse_scenario({"offer_price_by_channel": {"dealers": 1.1}}, _with_channels(base))
    assert "did you mean 'dealer'" in str(e.value)


def test_every_declared_key_has_a_case_here():
    covered = {c[0] for c in _size_cases()} | {c[0] for c in PROCESSING} | {c[0] for c in CLOSURE} | {c[0] for c in TRANSPORT}
    covered |= {k for c in CHANNEL_CASES for k in c[0]} | {"damaged_share", "damaged_share_by_channel"}
    covered |= {c[0] for c in CHEMISTRY} | {c[0] for c in SUPPLY} | set(VALUES) | {"penalty", "force_open", "forbid"}
    from .test_collection_points import (
        CP_LEVERS,  # the collection-point tier's levers, on an instance that has one
    )

    covered |= set(CP_LEVERS)
    assert covered == set(KEYS)


def test_factors_of_every_scope_multiply(base):
    inst = _applied(base, {"capex": 0.5, "hub_capex": 0.5, "capex_by_site": {"H-TOLEDO": 2.0}})
    ratio = (inst.hub_sizes["capex"] / base.hub_sizes["capex"]).groupby(base.hub_sizes["site_id"]).first()
    assert ratio.to_dict() == pytest.approx({"H-BECANCOUR": 0.25, "H-ROCHESTER": 0.25, "H-TOLEDO": 0.5})
    np.testing.assert_allclose(inst.spoke_sizes["capex"], 0.5 * base.spoke_sizes["capex"])


def test_the_base_is_never_modified(base):
    before = {k: getattr(base, k).copy() for k in ("spokes", "hubs", "spoke_sizes", "hub_sizes", "lanes")}
    _applied(base, {"capacity": 2.0, "processing_cost_by_site": {"S-GARY": 2.0}, "transport": 3.0, "forbid": ["S-KINGSTON"]})
    for k, df in before.items():
        pd.testing.assert_frame_equal(getattr(base, k), df)


REFUSED = [
    ({"hub_capx": 0.8}, "hub_capx", "did you mean 'hub_capex'"),
    ({"capex_by_group": {"allience": 0.8}}, "capex_by_group.allience", "did you mean 'alliance'"),
    ({"capacity_by_site": {"H-NOWHERE": 2.0}}, "capacity_by_site.H-NOWHERE", "a site id of the base instance"),
    ({"transport_by_leg": {"rail": 2.0}}, "transport_by_leg.rail", "a leg (region_collection_point, region_spoke, collection_point_spoke, spoke_hub)"),
    ({"capex": -1.0}, "capex", "a non-negative factor"),
    ({"spoke_capex": "cheap"}, "spoke_capex", "a non-negative factor"),
    ({"discount_rate": 8}, "discount_rate", "a finite number >= 0 and < 1 (1/yr)"),
    ({"min_spokes": 2.5}, "min_spokes", "an integer >= 0"),
    ({"service_radius_km": 0}, "service_radius_km", "a finite number > 0"),
    ({"circuity": "none"}, "circuity", "a finite number >= 1"),  # a required parameter cannot be cleared
    ({"single_sourcing": 1}, "single_sourcing", "true or false"),
    ({"min_hubs": 3}, "min_hubs", "at most limits.max_hubs (2)"),
    ({"spoke_capacity": 0.1}, "spoke_capacity", "at most the size's capacity_t (500 t packs/yr"),
    ({"max_spokes": 0}, "max_spokes", "at least the existing spokes that may not close (1"),  # Kingston may close
]


@pytest.mark.parametrize("overrides,field,text", REFUSED, ids=[r[1] for r in REFUSED])
def test_refused_overrides_name_the_key(base, overrides, field, text):
    with pytest.raises(InstanceError) as exc:
        parse_scenario(overrides, base, "s.toml")
    assert any(field in (i.field or "") and text in str(i) for i in exc.value.issues), [str(i) for i in exc.value.issues]


def test_none_clears_an_optional_parameter(base):
    assert base.params.max_hubs == 2
    sc = parse_scenario({"max_hubs": "none"}, base)
    assert apply(base, sc).params.max_hubs is None


def test_an_empty_scenario_is_the_base(base):
    assert apply(base, Scenario("base", {})) is base
