"""Determinism, atomic output and numerical honesty (the README's "Guarantees")."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from optimizer import load_instance
from optimizer.cli import main
from optimizer.extract import extract_tables
from optimizer.model.network import build_network
from optimizer.solution import FLOW_TOL_T

from .helpers import DEMO, ROOT


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
    rs = net.arcs["region_spoke"]
    x = np.zeros(len(rs))
    # fill one spoke exactly to capacity, plus a round-off excess
    spoke = rs["destination"].iat[5]
    opts = net.tiers["spoke"].options
    k = int(np.flatnonzero((opts["site_id"] == spoke).to_numpy())[0])
    cap = float(opts["capacity_t"].iat[k])
    big = int(np.flatnonzero((rs["destination"] == spoke).to_numpy())[0])
    x[big] = cap * (1 + 1e-9)
    # solver noise on an arc of another region and chemistry
    other = (rs["origin"] != rs["origin"].iat[big]).to_numpy()
    tiny = int(np.flatnonzero(other)[0])
    x[tiny] = FLOW_TOL_T / 10
    y = np.zeros(len(opts))
    y[k] = 1.0
    tables = extract_tables(inst, net, {"open_spoke": y, "flow_region_spoke_t": x})
    flows = tables["flows"]
    assert (flows["flow_t"] >= FLOW_TOL_T).all() and len(flows) == 1
    r = rs.iloc[tiny]
    reg = tables["regions"].set_index(["region_id", "chemistry"])
    assert reg.at[(r["origin"], r["chemistry"]), "collected_t"] == 0.0
    assert reg.at[(r["origin"], r["chemistry"]), "uncollected_t"] == reg.at[(r["origin"], r["chemistry"]), "supply_t"]
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


def test_a_failing_map_never_loses_the_result(tmp_path, monkeypatch, capsys):
    """The map fails after the solve (a bug in the drawing, simulated): every table is written,
    map.html is not, and the message says both."""
    import optimizer.report.maps as maps

    def broken(*a, **k):
        raise ValueError("drawing failed")

    monkeypatch.setattr(maps, "network_map", broken)
    out = tmp_path / "res"
    assert main(["solve", str(DEMO), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"the results are written to {out}, but map.html could not be drawn: ValueError: drawing failed" in err
    assert {"solution.json", "sites.csv", "flows.csv", "regions.csv", "channels.csv", "costs.csv", "summary.txt"} == {
        p.name for p in out.iterdir()}


def test_an_unwritable_output_place_is_a_usage_error_naming_it(tmp_path, capsys):
    """Output under a file (no folder can be made there): exit 2 naming the place, before any
    solve; the same for map, figure and export."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "results"
    assert main(["solve", str(DEMO), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {out}: {blocker} is a file, not a folder" in err and "internal error" not in err
    stored = ROOT / "maps" / "solutions" / "demo.json"
    for cmd, flag, name in (("map", "--out", "m.html"), ("figure", "--out", "f.png"), ("export", "--xlsx", "w.xlsx")):
        assert main([cmd, str(stored), "--instance", str(DEMO), flag, str(blocker / name)]) == 2
        assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_a_usage_error(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["solve", str(DEMO), "--out", str(ro / "res")]) == 2
        assert "is not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)
