"""Bad-input catalogue: each case is instances/demo with one mutation, run through the CLI.

Outcomes:

* **refused** -- exit code 2, and the error names the mutated cell as (file, row as Excel numbers
  it, field) and says what was expected;
* **accepted** -- read correctly: the instance equals the unmutated one and so does the solution;
* **warned** -- read, with a warning naming (file, row, field) and the plausible range; solved;
* **infeasible** -- exit code 3 with a diagnosis naming regions, chemistries and tonnes.

| id | mutation | outcome |
|---|---|---|
| missing_file | spokes.csv deleted | refused (spokes.csv) |
| empty_file | regions.csv emptied | refused (regions.csv) |
| bom | every CSV saved with Excel's UTF-8 byte-order mark | accepted |
| semicolon_decimal_comma | regions.csv saved by a European Excel (`;`, decimal commas) | accepted |
| semicolon_ambiguous | a semicolon file with `1.234` in a numeric cell | refused (regions.csv, 4, nmc_t) |
| crlf_blank_rows | Windows line endings and blank rows | accepted |
| reordered_columns | columns of spokes.csv in another order | accepted |
| note_column | an extra `notes` column | accepted |
| padded_cells | spaces around numbers and ids, upper-case status, `TRUE`/`yes` booleans | accepted |
| missing_column | `lon` removed from hubs.csv | refused (hubs.csv, 1, lon) |
| unknown_column | a `capacity` column added to spoke_sizes.csv | refused (spoke_sizes.csv, 1, capacity) |
| blank_cell | a blank supply cell | refused (regions.csv, 6, lfp_t) |
| nan_cell | `NaN` as supply | refused (regions.csv, 3, nmc_t) |
| text_in_number | `12k` as capacity | refused (spoke_sizes.csv, 5, capacity_t) |
| negative_value | negative supply | refused (regions.csv, 9, lfp_t) |
| infinite_value | `inf` as capex | refused (hub_sizes.csv, 3, capex) |
| lat_out_of_range | latitude 140 | refused (spokes.csv, 5, lat) |
| lat_lon_swapped | New York's lat and lon swapped (both still in range) | refused (regions.csv, 2, lat) |
| duplicate_id | a region id used twice | refused (regions.csv, 8, id) |
| id_case_duplicate | `s-newark` next to `S-NEWARK` | refused (spokes.csv, 5, id) |
| reference_case_mismatch | a size row naming `s-gary` | refused (spoke_sizes.csv, 17, site_id) |
| unknown_chemistry | an `nca_t` supply column | refused (regions.csv, 1, nca_t) |
| zero_capacity | a size with capacity 0 | refused (hub_sizes.csv, 2, capacity_t) |
| negative_capex | a size with negative capex | refused (spoke_sizes.csv, 8, capex) |
| existing_and_excluded | an excluded site naming an installed size | refused (spokes.csv, 10, existing_size) |
| existing_without_size | an existing site without its installed size | refused (spokes.csv, 2, existing_size) |
| lane_unknown_site | a lane to a hub that does not exist | refused (lanes.csv, 2, destination) |
| lane_duplicated | the same lane twice | refused (lanes.csv, 4, origin) |
| lane_both_km_and_cost | a lane with km and cost_per_t | refused (lanes.csv, 3, cost_per_t) |
| toml_syntax | `circuity = = 1.25` | refused (instance.toml, line of the key) |
| toml_unknown_key | `service_radious_km` typo | refused (instance.toml, line, transport.service_radious_km) |
| toml_missing_key | `currency` removed | refused (instance.toml, currency) |
| yield_out_of_range | `black_mass_yield = 1.4` | refused (instance.toml, line, chemistries.nmc.black_mass_yield) |
| discount_percentage | `discount_rate = 8` | refused, with the hint "write 0.08 for 8 %" |
| non_utf8 | a name written in Windows-1252 | refused (regions.csv, 8) |
| geojson_null_geometry | a `regions.geojson` feature with `"geometry": null` | refused (regions.geojson, features[1].geometry) |
| geojson_invalid_geometry | a self-intersecting (bow-tie) region outline | refused (regions.geojson, features[0].geometry) |
| supply_absurd | supply of `1e30` t | refused (regions.csv, 3, nmc_t), with the allowed range |
| supply_trillion | supply of `1e12` t | refused (regions.csv, 3, nmc_t), with the allowed range |
| capacity_implausible | a size of `1e-9` t/yr | accepted with a warning (spoke_sizes.csv, 2, capacity_t), with the plausible range |
| tab_delimited | regions.csv saved tab-delimited | refused (regions.csv, 1), saying it is tab-delimited |
| zero_width_id | a zero-width space inside a spoke id | refused (spokes.csv, 5, id), the character shown as `\u200b` |
| hubs_file_missing | hubs.csv deleted, hub_sizes.csv kept | refused (hubs.csv), saying hub_sizes.csv names its sites |
| lane_region_to_hub | a lane from a region straight to a hub | refused (lanes.csv, 3, destination), saying it is a hub |
| min_throughput_above_capacity | a 5 kt spoke size that must run at 6 kt | refused (spoke_sizes.csv, 2, min_throughput_t), naming the capacity |
| min_count_above_candidates | `min_spokes = 9` where 8 spokes can open | refused (instance.toml, line, limits.min_spokes) |
| min_count_above_max | `min_hubs = 3` with `max_hubs = 2` | refused (instance.toml, line, limits.min_hubs) |
| max_below_existing | `max_spokes = 1` with two existing spokes that may not close | refused (instance.toml, line, limits.max_spokes) |
| channel_unknown | an offer for channel `dealers` where channels.csv declares `dealer` | refused (offers.csv, 2, channel) |
| offers_not_monotone | a dearer offer level capturing a smaller share | refused (offers.csv, 3, capture_share) |
| capture_share_above_one | a capture share of 1.5 | refused (offers.csv, 2, capture_share) |
| channel_shares_not_one | channel shares adding up to 0.9 | refused (channel_shares.csv, 2, share) |
| capture_duty_above_best_offer | `min_capture_share = 0.95` where the best offer captures 90 % | refused (channels.csv, 2, min_capture_share) |
| damaged_share_above_one | a channel with `damaged_share = 1.2` | refused (channels.csv, 2, damaged_share) |
| damaged_without_surcharge | damaged packs (`damaged_share = 0.1`) but no `damaged_pack_surcharge_per_t_km` | refused (instance.toml, transport.damaged_pack_surcharge_per_t_km), naming the channel |
| cp_mode_named_twice | a collection point with modes `own` and `OWN` | refused (collection_point_modes.csv, 3, size) |
| cp_mode_unknown_site | a mode for a collection point not in collection_points.csv | refused (collection_point_modes.csv, 3, site_id) |
| cp_without_modes | a collection point with no mode at all | refused (collection_points.csv, 3, id) |
| cp_negative_capacity | a mode of capacity -100 | refused (collection_point_modes.csv, 2, capacity_t) |
| cp_unknown_channel | a point taking `dealer;dismantlers` (no such channel) | refused (collection_points.csv, 3, channels) |
| cp_accepting_no_channel | a point whose channels field is `;` | refused (collection_points.csv, 2, channels) |
| cp_first_mile_negative | `first_mile_cost_per_t_km = -0.1` | refused (instance.toml, line, transport.first_mile_cost_per_t_km) |
| infeasible_capacity | `max_spokes = 2`: only the two existing 20 kt-max spokes may open | infeasible: 40,000 t of capacity for 56,287.5 t required (0.95 x 59,250 t), short by 16,287.5 t |
| infeasible_radius | `service_radius_km = 50` | infeasible: every region but New York short by 95 % of its supply |
| infeasible_lfp_outlet | no hub accepts LFP and LFP has no merchant outlet | infeasible: all required LFP short |
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from optimizer import InstanceError, load_instance, solve
from optimizer.cli import main

from .helpers import DEMO, read_rows, set_cell, write_csv


@dataclass
class Case:
    id: str
    mutate: object  # callable(folder)
    outcome: str  # refused | accepted | infeasible
    where: tuple | None = None  # (file, row, field) for refused; row/field may be None
    text: str = ""  # a phrase the error or diagnosis must contain


def _edit(folder: Path, name: str, fn) -> None:
    p = folder / name
    p.write_bytes(fn(p.read_bytes()))


def _text(folder: Path, name: str, old: str, new: str) -> None:
    p = folder / name
    t = p.read_text(encoding="utf-8")
    assert old in t, (name, old)
    p.write_text(t.replace(old, new, 1), encoding="utf-8")


def _toml_line(folder: Path, startswith: str) -> int:
    lines = (folder / "instance.toml").read_text().splitlines()
    return 1 + next(i for i, line in enumerate(lines) if line.startswith(startswith))


def _semicolon(folder: Path) -> None:
    header, rows = read_rows(folder / "regions.csv")
    out = [";".join(header)] + [";".join(c.replace(".", ",") for c in r) for r in rows]
    (folder / "regions.csv").write_text("\n".join(out) + "\n", encoding="utf-8")


def _semicolon_ambiguous(folder: Path) -> None:
    _semicolon(folder)
    _text(folder, "regions.csv", "US-PHL;Philadelphia;39,9526;-75,1652;3800", "US-PHL;Philadelphia;39,9526;-75,1652;3.800")


def _crlf_blank_rows(folder: Path) -> None:
    for name in ("regions.csv", "spokes.csv"):
        lines = (folder / name).read_text().splitlines()
        lines.insert(3, "")
        lines.append(",,,,,")
        (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode())


def _reorder(folder: Path) -> None:
    df = pd.read_csv(folder / "spokes.csv", dtype=str, keep_default_na=False)
    df[list(reversed(df.columns))].to_csv(folder / "spokes.csv", index=False)


def _note_column(folder: Path) -> None:
    header, rows = read_rows(folder / "hubs.csv")
    write_csv(folder / "hubs.csv", header + ["notes"], [r + ["paused 2023"] for r in rows])


def _padded(folder: Path) -> None:
    _text(folder, "regions.csv", "US-BOS,Boston,42.3601,-71.0589,4200,900", " US-BOS ,Boston, 42.3601 ,-71.0589, 4200 ,900")
    _text(folder, "spokes.csv", "S-TOLEDO,\"Toledo, OH\",41.6528,-83.5379,candidate,", "S-TOLEDO,\"Toledo, OH\",41.6528,-83.5379,Candidate,")
    _text(folder, "hubs.csv", "46.3400,-72.4300,candidate,,true,true", "46.3400,-72.4300,candidate,,TRUE,yes")


def _drop_column(file: str, col: str):
    def f(folder: Path) -> None:
        header, rows = read_rows(folder / file)
        k = header.index(col)
        write_csv(folder / file, header[:k] + header[k + 1:], [r[:k] + r[k + 1:] for r in rows])
    return f


def _add_column(file: str, col: str, value: str):
    def f(folder: Path) -> None:
        header, rows = read_rows(folder / file)
        write_csv(folder / file, header + [col], [r + [value] for r in rows])
    return f


def _cell(file: str, row: int, col: str, value: str):
    return lambda folder: set_cell(folder / file, row, col, value)


def _swap_nyc(folder: Path) -> None:
    set_cell(folder / "regions.csv", 2, "lat", "-74.0060")
    set_cell(folder / "regions.csv", 2, "lon", "40.7128")


def _duplicate_lane(folder: Path) -> None:
    header, rows = read_rows(folder / "lanes.csv")
    write_csv(folder / "lanes.csv", header, rows + [rows[0]])


def _non_utf8(folder: Path) -> None:
    _edit(folder, "regions.csv", lambda b: b.replace(b"Detroit", "Détroit".encode("cp1252")))


def _no_lfp_outlet(folder: Path) -> None:
    _text(folder, "instance.toml", "merchant_price_per_t = -250      # LFP black mass is a disposal cost on the open market\nmerchant_cap_t = 1500\n", "")
    for row in (3, 4):
        set_cell(folder / "hubs.csv", row, "accepts_lfp", "false")


def _geojson(folder: Path, broken) -> None:
    """A regions.geojson with a small square around each demo region, then ``broken(features)``."""
    import json

    header, rows = read_rows(folder / "regions.csv")
    i, la, lo = header.index("id"), header.index("lat"), header.index("lon")
    feats = []
    for r in rows:
        y, x = float(r[la]), float(r[lo])
        ring = [[x - .2, y - .2], [x + .2, y - .2], [x + .2, y + .2], [x - .2, y + .2], [x - .2, y - .2]]
        feats.append({"type": "Feature", "properties": {"id": r[i]}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    broken(feats)
    (folder / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def _null_geometry(feats) -> None:
    feats[1]["geometry"] = None


def _bow_tie(feats) -> None:
    (x0, y0), _b, (x1, y1), _d, _e = feats[0]["geometry"]["coordinates"][0]
    feats[0]["geometry"]["coordinates"] = [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]


def _tabs(folder: Path) -> None:
    header, rows = read_rows(folder / "regions.csv")
    (folder / "regions.csv").write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")


def _zero_width(folder: Path) -> None:
    header, rows = read_rows(folder / "spokes.csv")
    set_cell(folder / "spokes.csv", 5, "id", rows[3][header.index("id")] + "\u200b")


def _channels(offers=None, shares=None, duty="", damaged=""):
    """Two channels (dealer 60 %, dismantler 40 %) with a dealer offer ladder, then the change."""
    def mutate(folder: Path) -> None:
        write_csv(folder / "channels.csv", ["id", "name", "min_capture_share", "damaged_share"],
                  [["dealer", "Dealers", duty, damaged], ["dismantler", "Dismantlers", "", ""]])
        write_csv(folder / "channel_shares.csv", ["region", "channel", "share"],
                  shares or [["*", "dealer", 0.6], ["*", "dismantler", 0.4]])
        write_csv(folder / "offers.csv", ["channel", "level", "price_per_t", "capture_share"],
                  offers or [["dealer", "low", 0, 0.3], ["dealer", "mid", 500, 0.6], ["dealer", "high", 1200, 0.9]])
    return mutate


def _collection_points(modes=None, points=None, channels=None):
    """Two candidate collection points (own or partner mode), then the change; ``channels``: the
    points' channels column (with the two channels of :func:`_channels`)."""
    def mutate(folder: Path) -> None:
        if channels is not None:
            _channels()(folder)
            write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status", "channels"],
                      [["C-NYC", "Queens yard", 40.73, -73.79, "candidate", channels[0]],
                       ["C-PHL", "Camden yard", 39.93, -75.12, "candidate", channels[1]]])
        else:
            write_csv(folder / "collection_points.csv", ["id", "name", "lat", "lon", "status"],
                          points or [["C-NYC", "Queens yard", 40.73, -73.79, "candidate"], ["C-PHL", "Camden yard", 39.93, -75.12, "candidate"]])
        write_csv(folder / "collection_point_modes.csv", ["site_id", "size", "capacity_t", "capex", "fixed_opex_per_yr"],
                  modes or [["C-NYC", "own", 3000, 0, 90000], ["C-NYC", "partner", 1000, 0, 20000], ["C-PHL", "own", 3000, 0, 90000]])
    return mutate


CASES = [
    Case("missing_file", lambda f: (f / "spokes.csv").unlink(), "refused", ("spokes.csv", None, None)),
    Case("empty_file", lambda f: (f / "regions.csv").write_text(""), "refused", ("regions.csv", None, None), "empty"),
    Case("bom", lambda f: [_edit(f, n, lambda b: b"\xef\xbb\xbf" + b) for n in ("regions.csv", "spokes.csv", "hubs.csv", "spoke_sizes.csv")], "accepted"),
    Case("semicolon_decimal_comma", _semicolon, "accepted"),
    Case("semicolon_ambiguous", _semicolon_ambiguous, "refused", ("regions.csv", 4, "nmc_t"), "decimal point or a thousands separator"),
    Case("crlf_blank_rows", _crlf_blank_rows, "accepted"),
    Case("reordered_columns", _reorder, "accepted"),
    Case("note_column", _note_column, "accepted"),
    Case("padded_cells", _padded, "accepted"),
    Case("missing_column", _drop_column("hubs.csv", "lon"), "refused", ("hubs.csv", 1, "lon")),
    Case("unknown_column", _add_column("spoke_sizes.csv", "capacity", "1"), "refused", ("spoke_sizes.csv", 1, "capacity")),
    Case("blank_cell", _cell("regions.csv", 6, "lfp_t", ""), "refused", ("regions.csv", 6, "lfp_t"), "blank"),
    Case("nan_cell", _cell("regions.csv", 3, "nmc_t", "NaN"), "refused", ("regions.csv", 3, "nmc_t"), "finite"),
    Case("text_in_number", _cell("spoke_sizes.csv", 5, "capacity_t", "12k"), "refused", ("spoke_sizes.csv", 5, "capacity_t"), "not a number"),
    Case("negative_value", _cell("regions.csv", 9, "lfp_t", "-500"), "refused", ("regions.csv", 9, "lfp_t"), ">= 0"),
    Case("infinite_value", _cell("hub_sizes.csv", 3, "capex", "inf"), "refused", ("hub_sizes.csv", 3, "capex"), "finite"),
    Case("lat_out_of_range", _cell("spokes.csv", 5, "lat", "140"), "refused", ("spokes.csv", 5, "lat"), "<= 90"),
    Case("lat_lon_swapped", _swap_nyc, "refused", ("regions.csv", 2, "lat"), "swapped"),
    Case("duplicate_id", _cell("regions.csv", 8, "id", "US-BOS"), "refused", ("regions.csv", 8, "id"), "already used"),
    Case("id_case_duplicate", _cell("spokes.csv", 5, "id", "s-newark"), "refused", ("spokes.csv", 5, "id"), "ignoring case"),
    Case("reference_case_mismatch", _cell("spoke_sizes.csv", 17, "site_id", "s-gary"), "refused", ("spoke_sizes.csv", 17, "site_id"), "only by case"),
    Case("unknown_chemistry", _add_column("regions.csv", "nca_t", "0"), "refused", ("regions.csv", 1, "nca_t"), "unknown chemistry"),
    Case("zero_capacity", _cell("hub_sizes.csv", 2, "capacity_t", "0"), "refused", ("hub_sizes.csv", 2, "capacity_t"), "> 0"),
    Case("negative_capex", _cell("spoke_sizes.csv", 8, "capex", "-1000"), "refused", ("spoke_sizes.csv", 8, "capex"), ">= 0"),
    Case("existing_and_excluded", _cell("spokes.csv", 10, "existing_size", "small"), "refused", ("spokes.csv", 10, "existing_size"), "only status=existing"),
    Case("existing_without_size", _cell("spokes.csv", 2, "existing_size", ""), "refused", ("spokes.csv", 2, "existing_size"), "installed size"),
    Case("lane_unknown_site", _cell("lanes.csv", 2, "destination", "H-ALBANY"), "refused", ("lanes.csv", 2, "destination"), "unknown id"),
    Case("lane_duplicated", _duplicate_lane, "refused", ("lanes.csv", 4, "origin"), "once"),
    Case("lane_both_km_and_cost", _cell("lanes.csv", 3, "cost_per_t", "12"), "refused", ("lanes.csv", 3, "cost_per_t"), "exactly one"),
    Case("toml_syntax", lambda f: _text(f, "instance.toml", "circuity = 1.25", "circuity = = 1.25"), "refused", ("instance.toml", "circuity", None), "TOML"),
    Case("toml_unknown_key", lambda f: _text(f, "instance.toml", "service_radius_km = 650", "service_radious_km = 650"), "refused",
         ("instance.toml", "service_radious_km", "transport.service_radious_km"), "did you mean 'service_radius_km'"),
    Case("toml_missing_key", lambda f: _text(f, "instance.toml", 'currency = "USD"\n', ""), "refused", ("instance.toml", None, "currency")),
    Case("yield_out_of_range", lambda f: _text(f, "instance.toml", "black_mass_yield = 0.40", "black_mass_yield = 1.4"), "refused",
         ("instance.toml", "black_mass_yield = 1.4", "chemistries.nmc.black_mass_yield"), "<= 1"),
    Case("discount_percentage", lambda f: _text(f, "instance.toml", "discount_rate = 0.08", "discount_rate = 8"), "refused",
         ("instance.toml", "discount_rate", "finance.discount_rate"), "write 0.08 for 8 %"),
    Case("non_utf8", _non_utf8, "refused", ("regions.csv", 9, None), "UTF-8"),
    Case("geojson_null_geometry", lambda f: _geojson(f, _null_geometry), "refused", ("regions.geojson", None, "features[1].geometry"),
         "expected a Polygon or MultiPolygon (region 'US-BOS'), got null"),
    Case("geojson_invalid_geometry", lambda f: _geojson(f, _bow_tie), "refused", ("regions.geojson", None, "features[0].geometry"),
         "Self-intersection"),
    Case("supply_absurd", _cell("regions.csv", 3, "nmc_t", "1e30"), "refused", ("regions.csv", 3, "nmc_t"), "<= 1e+08 (t packs/yr)"),
    Case("supply_trillion", _cell("regions.csv", 3, "nmc_t", "1e12"), "refused", ("regions.csv", 3, "nmc_t"), "<= 1e+08 (t packs/yr)"),
    Case("capacity_implausible", _cell("spoke_sizes.csv", 2, "capacity_t", "1e-9"), "warned", ("spoke_sizes.csv", 2, "capacity_t"),
         "a plausible value, at least 1 and at most 1e+07 t packs/yr"),
    Case("tab_delimited", _tabs, "refused", ("regions.csv", 1, None), "a tab-delimited file"),
    Case("zero_width_id", _zero_width, "refused", ("spokes.csv", 5, "id"), "expected an id of visible characters only, got 'S-HARRISBURG\\u200b' (an id with U+200B ZERO WIDTH SPACE"),
    Case("hubs_file_missing", lambda f: (f / "hubs.csv").unlink(), "refused", ("hubs.csv", None, None),
         "the file hubs.csv (hub_sizes.csv names its sites)"),
    Case("lane_region_to_hub", _cell("lanes.csv", 3, "destination", "H-TOLEDO"), "refused", ("lanes.csv", 3, "destination"),
         "'H-TOLEDO' is a hub"),
    Case("min_throughput_above_capacity", lambda f: (_add_column("spoke_sizes.csv", "min_throughput_t", "")(f),
                                                     set_cell(f / "spoke_sizes.csv", 2, "min_throughput_t", "6000")),
         "refused", ("spoke_sizes.csv", 2, "min_throughput_t"), "at most the size's capacity_t (5,000 t packs/yr"),
    Case("min_count_above_candidates", lambda f: _text(f, "instance.toml", "max_hubs = 2", "max_hubs = 2\nmin_spokes = 9"), "refused",
         ("instance.toml", "min_spokes", "limits.min_spokes"), "at most the spokes that can open (8 in spokes.csv not excluded)"),
    Case("min_count_above_max", lambda f: _text(f, "instance.toml", "max_hubs = 2", "max_hubs = 2\nmin_hubs = 3"), "refused",
         ("instance.toml", "min_hubs", "limits.min_hubs"), "at most limits.max_hubs (2)"),
    Case("max_below_existing", lambda f: _text(f, "instance.toml", "max_hubs = 2", "max_hubs = 2\nmax_spokes = 1"), "refused",
         ("instance.toml", "max_spokes", "limits.max_spokes"), "at least the existing spokes that may not close (2"),
    Case("channel_unknown", _channels(offers=[["dealers", "low", 0, 0.3]]), "refused", ("offers.csv", 2, "channel"),
         "expected a channel id from channels.csv, got unknown id 'dealers'"),
    Case("offers_not_monotone", _channels(offers=[["dealer", "a", 0, 0.5], ["dealer", "b", 100, 0.4]]), "refused",
         ("offers.csv", 3, "capture_share"), "a ladder monotone in price and share"),
    Case("capture_share_above_one", _channels(offers=[["dealer", "a", 0, 1.5]]), "refused", ("offers.csv", 2, "capture_share"), "<= 1"),
    Case("channel_shares_not_one", _channels(shares=[["*", "dealer", 0.6], ["*", "dismantler", 0.3]]), "refused",
         ("channel_shares.csv", 2, "share"), "shares adding up to 1 for region 'US-NYC', chemistry nmc"),
    Case("capture_duty_above_best_offer", _channels(duty=0.95), "refused", ("channels.csv", 2, "min_capture_share"),
         "at most the best offer's capture share in every ladder of the channel (0.9 in offers.csv)"),
    Case("damaged_share_above_one", _channels(damaged=1.2), "refused", ("channels.csv", 2, "damaged_share"), "<= 1"),
    Case("damaged_without_surcharge", _channels(damaged=0.1), "refused",
         ("instance.toml", "[transport]", "transport.damaged_pack_surcharge_per_t_km"), "the extra rate damaged packs travel at"),
    Case("cp_mode_named_twice", _collection_points(modes=[["C-NYC", "own", 3000, 0, 1], ["C-NYC", "OWN", 1000, 0, 1],
                                                           ["C-PHL", "own", 3000, 0, 1]]),
         "refused", ("collection_point_modes.csv", 3, "size"), "size names unique per site"),
    Case("cp_mode_unknown_site", _collection_points(modes=[["C-NYC", "own", 3000, 0, 1], ["C-BOS", "own", 3000, 0, 1],
                                                            ["C-PHL", "own", 3000, 0, 1]]),
         "refused", ("collection_point_modes.csv", 3, "site_id"), "an id from collection_points.csv"),
    Case("cp_without_modes", _collection_points(modes=[["C-NYC", "own", 3000, 0, 1]]), "refused", ("collection_points.csv", 3, "id"),
         "at least one size option"),
    Case("cp_negative_capacity", _collection_points(modes=[["C-NYC", "own", -100, 0, 1], ["C-PHL", "own", 3000, 0, 1]]), "refused",
         ("collection_point_modes.csv", 2, "capacity_t"), "> 0"),
    Case("cp_unknown_channel", _collection_points(channels=("dealer", "dealer;dismantlers")), "refused",
         ("collection_points.csv", 3, "channels"), "unknown id 'dismantlers'"),
    Case("cp_accepting_no_channel", _collection_points(channels=(";", "")), "refused", ("collection_points.csv", 2, "channels"),
         "at least one channel id"),
    Case("cp_first_mile_negative", lambda f: (_collection_points()(f), _text(f, "instance.toml", "service_radius_km = 650",
                                                                             "service_radius_km = 650\nfirst_mile_cost_per_t_km = -0.1")),
         "refused", ("instance.toml", "first_mile_cost_per_t_km", "transport.first_mile_cost_per_t_km"), ">= 0"),
    Case("infeasible_capacity", lambda f: _text(f, "instance.toml", "max_hubs = 2", "max_hubs = 2\nmax_spokes = 2"), "infeasible",
         text="spoke capacity falls short: at most 40,000.0 t/yr of packs can be processed but 56,287.5 t/yr must be collected (short by 16,287.5 t/yr)"),
    Case("infeasible_radius", lambda f: _text(f, "instance.toml", "service_radius_km = 650", "service_radius_km = 50"), "infeasible",
         text="region US-BOS, nmc: 3,990.0 t short of 3,990.0 t required"),
    Case("infeasible_lfp_outlet", _no_lfp_outlet, "infeasible", text="lfp: "),
]


@pytest.fixture(scope="module")
def reference():
    inst = load_instance(DEMO)
    return inst, solve(inst, mip_rel_gap=0)


def test_catalogue_size():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {"refused", "accepted", "warned", "infeasible"}


def _tables(inst):
    return {k: getattr(inst, k).drop(columns="source_row").reset_index(drop=True)
            for k in ("regions", "spokes", "hubs", "spoke_sizes", "hub_sizes", "lanes")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, tmp_path, capsys, reference):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    case.mutate(folder)
    out = tmp_path / "out"
    code = main(["solve", str(folder), "--out", str(out), "--gap", "0", "--no-map"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out

    if case.outcome == "refused":
        assert code == 2, captured.out + captured.err
        with pytest.raises(InstanceError) as exc:
            load_instance(folder)
        file, row, field = case.where
        if isinstance(row, str):  # a TOML line: find it in the mutated file
            row = _toml_line(folder, row)
        hits = [i for i in exc.value.issues if (i.file, i.row, i.field) == (file, row, field)
                or (field is None and (i.file, i.row) == (file, row))]
        assert hits, [str(i) for i in exc.value.issues]
        assert case.text in captured.err, captured.err
        assert hits[0].expected
        assert not out.exists()
    elif case.outcome == "warned":
        assert code == 0, captured.err
        file, row, field = case.where
        assert f"warning: {file}, row {row}, field '{field}'" in captured.err, captured.err
        assert case.text in captured.err, captured.err
    elif case.outcome == "accepted":
        assert code == 0, captured.err
        ref_inst, ref_sol = reference
        mine = load_instance(folder)
        for name, df in _tables(mine).items():
            pd.testing.assert_frame_equal(df, _tables(ref_inst)[name], check_like=True, obj=name)
        from optimizer.solution import Solution

        sol = Solution.load(out)
        assert sol.objective == pytest.approx(ref_sol.objective, rel=1e-9)
        pd.testing.assert_frame_equal(sol.sites[["site_id", "open", "size"]], ref_sol.sites[["site_id", "open", "size"]],
                                      check_dtype=False)
    else:
        assert code == 3, captured.out + captured.err
        assert case.text in captured.out, captured.out
        assert re.search(r"region \S+, (nmc|lfp): [\d,.]+ t short", captured.out)
