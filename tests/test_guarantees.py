"""Determinism, atomic output and numerical honesty (the README's "Guarantees")."""

from __future__ import annotations

import json

import numpy as np

from optimizer import load_instance
from optimizer.cli import main
from optimizer.extract import extract_tables
from optimizer.model.network import build_network
from optimizer.solution import FLOW_TOL_T

from .helpers import DEMO


def _normalised_json(path):
    d = json.loads(path.read_text())
    d.pop("timings_s")
    d["provenance"].pop("created_utc")
    return d


def test_same_input_same_output(tmp_path):
    """Two runs with the same input and options write identical results (timings aside)."""
    args = ["--gap", "0", "--seed", "7", "--threads", "1", "--no-map", "--quiet"]
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "a"), *args]) == 0
    assert main(["solve", str(DEMO), "--out", str(tmp_path / "b"), *args]) == 0
    assert _normalised_json(tmp_path / "a" / "solution.json") == _normalised_json(tmp_path / "b" / "solution.json")
    for name in ("sites.csv", "flows.csv", "regions.csv", "costs.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_interrupted_write_leaves_nothing_half_written(tmp_path, monkeypatch):
    """A failure while writing (here: while drawing the map) leaves neither a partial result
    folder nor temporary files, and an existing result replaced with --force stays intact."""
    import optimizer.report.maps as maps

    out = tmp_path / "res"
    assert main(["solve", str(DEMO), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(maps, "network_map", boom)
    assert main(["solve", str(DEMO), "--out", str(out), "--force", "--quiet"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no temporary folders left

    fresh = tmp_path / "fresh"
    assert main(["solve", str(DEMO), "--out", str(fresh), "--quiet"]) == 130
    assert not fresh.exists()


def test_round_off_is_reported_consistently():
    """Flows below the tolerance are zero everywhere; a site full up to round-off shows 100 %."""
    inst = load_instance(DEMO)
    net = build_network(inst)
    x = np.zeros(len(net.arcs_rs))
    # fill one spoke exactly to capacity, plus a round-off excess
    spoke = net.arcs_rs["spoke_id"].iat[5]
    opts = net.spoke_options
    k = int(np.flatnonzero((opts["site_id"] == spoke).to_numpy())[0])
    cap = float(opts["capacity_t"].iat[k])
    big = int(np.flatnonzero((net.arcs_rs["spoke_id"] == spoke).to_numpy())[0])
    x[big] = cap * (1 + 1e-9)
    # solver noise on an arc of another region and chemistry
    other = (net.arcs_rs["region_id"] != net.arcs_rs["region_id"].iat[big]).to_numpy()
    tiny = int(np.flatnonzero(other)[0])
    x[tiny] = FLOW_TOL_T / 10
    y = np.zeros(len(opts))
    y[k] = 1.0
    tables = extract_tables(inst, net, {"open_spoke": y, "open_hub": np.zeros(len(net.hub_options)), "flow_pack_t": x,
                                        "flow_black_mass_t": np.zeros(len(net.arcs_sh)), "merchant_t": np.zeros(len(net.merchant))})
    flows = tables["flows"]
    assert (flows["flow_t"] >= FLOW_TOL_T).all() and len(flows) == 1
    r = net.arcs_rs.iloc[tiny]
    reg = tables["regions"].set_index(["region_id", "chemistry"])
    assert reg.at[(r["region_id"], r["chemistry"]), "collected_t"] == 0.0
    assert reg.at[(r["region_id"], r["chemistry"]), "uncollected_t"] == reg.at[(r["region_id"], r["chemistry"]), "supply_t"]
    site = tables["sites"].set_index("site_id").loc[spoke]
    assert site["utilisation"] == 1.0
    assert (tables["sites"]["utilisation"] <= 1.0).all()



def test_outputs_get_ordinary_permissions(tmp_path):
    """Atomic writes go through mkstemp/mkdtemp (0600/0700); what lands must carry the
    permissions a plain open()/mkdir() would give under the user's umask, or a colleague
    sharing the folder could not read the result."""
    import os
    import stat

    old = os.umask(0o027)
    try:
        out = tmp_path / "res"
        assert main(["solve", str(DEMO), "--out", str(out), "--quiet"]) == 0
        assert main(["export", str(out), "--xlsx", str(tmp_path / "r.xlsx")]) == 0
        assert main(["figure", str(out), "--out", str(tmp_path / "n.png")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    files = [*out.iterdir(), tmp_path / "r.xlsx", tmp_path / "n.png"]
    assert {p.name for p in files} >= {"solution.json", "sites.csv", "map.html", "r.xlsx", "n.png"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o640, p.name
