"""Collection channels as plain tables: who holds each region's packs, and the offers they take.

An instance may declare channels (``channels.csv``), the share of each region's supply each
holds (``channel_shares.csv``) and offer ladders (``offers.csv``); :mod:`optimizer.schema`
declares their fields.  This module resolves them into two tables the model, the checker and the
reports all read (no Pyomo, no solver; the instance layer):

``channel_supply(inst)``
    one row per (region, channel, chemistry, period) with tonnes available:
    ``region_id, channel, chemistry, period, available_t, ladder`` -- ``ladder`` names the offer
    ladder that decides how much of it is captured, or is ``""`` for a channel without offers
    (free, fully available: captured whatever the plan); ``damaged_share`` the share of them
    that travels as damaged packs (0 unless the instance gives the surcharge they pay).  An instance without channels has one
    implicit channel, ``"all"``, holding every tonne, free -- the model is then exactly the
    model without channels.
``offer_levels(inst)``
    one row per level of every ladder: ``ladder, channel, scope (a region id, or "*" for a
    national price list), chemistry, period, level, price_per_t, capture_share, forced`` --
    ``forced`` when the channel has a ``min_capture_share`` (a level must then be chosen, and
    levels capturing less are dropped).  Levels are in ascending price.

Resolution, most specific first (each a whole set: a region-specific row does not mix with the
rows for its group): shares for a (region, chemistry) come from the first of (its id, the
chemistry), (its id, blank), (its ``region`` group, the chemistry), (its group, blank), (``*``,
the chemistry), (``*``, blank) that has rows.  Offers for a (channel, region, chemistry, period) come from the first
(region key, chemistry key, period key) with rows, region keys in the order id, group, blank,
then the chemistry before blank, then the period before blank.  A national channel's offers name no region: one ladder per (channel,
chemistry, period), its level shared by every region.

The periods are the model's labels: ``"base"`` for a one-period instance, else the period's
first year as text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .instance import Instance

IMPLICIT_CHANNEL = "all"  # the one channel of an instance that declares none
SINGLE_PERIOD = "base"  # the model's label of the one period (optimizer.model.network)
SUPPLY_COLUMNS = ["region_id", "channel", "chemistry", "period", "available_t", "ladder", "damaged_share"]
LEVEL_COLUMNS = ["ladder", "channel", "scope", "chemistry", "period", "level", "price_per_t", "capture_share", "forced"]
SHARE_TOL = 1e-6


def supply_by_period(inst: Instance) -> pd.DataFrame:
    """``region_id, chemistry, period, supply_t`` with positive supply, periods as model labels."""
    if inst.periods is not None:
        sup = inst.supply_by_period
        sup = sup[sup["supply_t"] > 0][["region_id", "chemistry", "period", "supply_t"]].copy()
        sup["period"] = sup["period"].astype(str)
        return sup.sort_values(["period"], kind="stable").reset_index(drop=True)
    sup = inst.supply_long()
    sup["period"] = SINGLE_PERIOD
    return sup[["region_id", "chemistry", "period", "supply_t"]]


def region_keys(inst: Instance) -> dict[str, tuple[str, str]]:
    """Each region id with the keys that may address it: (its id, its ``region`` group)."""
    reg = inst.regions
    group = reg["region"] if "region" in reg.columns else reg["id"]
    return {i: (i, g) for i, g in zip(reg["id"], group, strict=True)}


def resolved_shares(inst: Instance) -> pd.DataFrame:
    """``region_id, chemistry, channel, share, source_row`` for every region and chemistry with
    supply, from the most specific rows of channel_shares.csv (see the module docstring)."""
    chans = list(inst.channels["id"]) if inst.has_channels else [IMPLICIT_CHANNEL]
    sh = inst.channel_shares
    out = []
    keys = region_keys(inst)
    for rid, (own, group) in keys.items():
        for chem in inst.chem_names:
            if sh is None or len(sh) == 0:
                if len(chans) == 1:  # one channel holds everything
                    out.append((rid, chem, chans[0], 1.0, -1))
                continue
            rows = sh.iloc[0:0]
            for key in (own, group, "*"):  # (region key, chemistry key) pairs, most specific first
                for ck in (chem, ""):
                    if rows.empty:
                        rows = sh[(sh["region"] == key) & (sh["chemistry"] == ck)]
            for r in rows.itertuples(index=False):
                out.append((rid, chem, r.channel, float(r.share), int(getattr(r, "source_row", -1))))
    return pd.DataFrame(out, columns=["region_id", "chemistry", "channel", "share", "source_row"])


def offer_levels(inst: Instance, periods: list[str] | None = None) -> pd.DataFrame:
    """Every level of every offer ladder (see the module docstring), ascending in price."""
    if not inst.has_channels or inst.offers is None or len(inst.offers) == 0:
        return pd.DataFrame(columns=LEVEL_COLUMNS)
    periods = periods or _period_labels(inst)
    offers = inst.offers.assign(period_label=[("" if p != p or p is None else str(int(p))) for p in inst.offers["period"]])
    ch = inst.channels.set_index("id")
    rows = []
    for chan in ch.index:
        own = offers[offers["channel"] == chan]
        if own.empty:
            continue
        national = ch.at[chan, "price_scope"] == "national"
        least = float(ch.at[chan, "min_capture_share"] or 0.0)
        scopes = [("*", ("",))] if national else [(rid, (a, b, "")) for rid, (a, b) in region_keys(inst).items()]
        for scope, keys in scopes:
            for chem in inst.chem_names:
                for period in periods:
                    lv = _first_with_rows(own, keys, chem, period)
                    if lv.empty:
                        continue
                    lv = lv.sort_values("price_per_t", kind="stable")
                    ladder = f"{chan}|{scope}|{chem}|{period}"
                    for r in lv.itertuples(index=False):
                        if least > 0 and float(r.capture_share) < least - SHARE_TOL:
                            continue  # cannot meet the channel's take-back duty
                        rows.append((ladder, chan, scope, chem, period, r.level, float(r.price_per_t),
                                     float(r.capture_share), least > 0))
    return pd.DataFrame(rows, columns=LEVEL_COLUMNS)


def _first_with_rows(offers: pd.DataFrame, region_keys_: tuple[str, ...], chem: str, period: str) -> pd.DataFrame:
    """The offers of the first (region key, chemistry key, period key) that has rows."""
    per = period if period != SINGLE_PERIOD else ""
    for rk in region_keys_:
        for ck in (chem, ""):
            for pk in dict.fromkeys((per, "")):
                hit = offers[(offers["region"] == rk) & (offers["chemistry"] == ck) & (offers["period_label"] == pk)]
                if len(hit):
                    return hit
    return offers.iloc[0:0]


def _period_labels(inst: Instance) -> list[str]:
    return [str(y) for y in inst.periods.labels] if inst.periods is not None else [SINGLE_PERIOD]


def channel_supply(inst: Instance, levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tonnes available per (region, channel, chemistry, period) and the ladder deciding their
    capture (``""``: free and fully available); rows with no tonnes are dropped."""
    sup = supply_by_period(inst)
    shares = resolved_shares(inst)[["region_id", "chemistry", "channel", "share"]]
    cs = sup.merge(shares, on=["region_id", "chemistry"], how="inner")
    cs["available_t"] = cs["supply_t"].to_numpy(float) * cs["share"].to_numpy(float)
    cs = cs[cs["available_t"] > 0].reset_index(drop=True)
    levels = offer_levels(inst) if levels is None else levels
    national = set(inst.channels.loc[inst.channels["price_scope"] == "national", "id"]) if inst.has_channels else set()
    scope = np.where(cs["channel"].isin(national), "*", cs["region_id"])
    cand = pd.Series(cs["channel"] + "|" + scope + "|" + cs["chemistry"] + "|" + cs["period"].astype(str), index=cs.index)
    cs["ladder"] = cand.where(cand.isin(set(levels["ladder"])), "")
    damaged = {}
    if inst.has_channels and "damaged_share" in inst.channels.columns and inst.params.damaged_pack_surcharge_per_t_km:
        damaged = dict(zip(inst.channels["id"], inst.channels["damaged_share"].fillna(0.0).astype(float), strict=True))
    cs["damaged_share"] = cs["channel"].map(damaged).fillna(0.0).to_numpy(float) if len(cs) else np.zeros(0)
    return cs[SUPPLY_COLUMNS]
