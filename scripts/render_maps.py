"""Regenerate the rendered deliverables in maps/ for every bundled instance.

For each instance: solve it (threads 1, seed 0; gaps in :func:`solve_options`), then write

* ``maps/<name>.html`` -- the offline Folium map (opens with no network),
* ``maps/<name>.png`` -- the static slide figure,
* ``maps/solutions/<name>.json`` -- the solution they were drawn from.

``--from-solutions`` redraws from the stored solutions without solving (what the drift test
does).  Run from the repository root::

    python scripts/render_maps.py [--from-solutions] [NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import load_instance, solve  # noqa: E402
from optimizer.files import write_text_atomic  # noqa: E402
from optimizer.report.figures import write_figure  # noqa: E402
from optimizer.report.maps import MapOptions, map_html  # noqa: E402
from optimizer.solution import Solution  # noqa: E402

MAPS = ROOT / "maps"
INSTANCES = ["demo", "north-america", "europe", "china", "north-america-2035"]


def solve_options(name: str) -> dict:
    """One thread and a fixed seed; the market instances (with their offer ladders) and the
    multi-period instance to a 0.5 % gap, China within 5 minutes (it takes longer to prove)."""
    opts = {"threads": 1, "seed": 0, "time_limit": 1800}
    if name != "demo":
        opts["mip_rel_gap"] = 0.005
    if name == "china":
        opts["time_limit"] = 300
    return opts


def portable(sol: Solution) -> Solution:
    """The stored solution without machine-specific provenance (absolute paths, timings)."""
    import dataclasses

    prov = {k: v for k, v in sol.provenance.items() if k not in ("source", "created_utc")}
    return dataclasses.replace(sol, provenance=prov, timings={})


def render(name: str, from_solution: bool) -> None:
    inst = load_instance(ROOT / "instances" / name)
    stored = MAPS / "solutions" / f"{name}.json"
    if from_solution:
        sol = Solution.load(stored)
    else:
        sol = portable(solve(inst, **solve_options(name)))
        write_text_atomic(stored, sol.to_json())
    write_text_atomic(MAPS / f"{name}.html", map_html(inst, sol, MapOptions(offline=True)))
    write_figure(inst, sol, MAPS / f"{name}.png")
    size = (MAPS / f"{name}.html").stat().st_size / 1e6
    print(f"{name}: {sol.status.value}, objective {sol.objective:,.0f} {sol.currency}/yr, map {size:.2f} MB")


def record_versions() -> None:
    """maps/rendered_with.txt: the Folium and Matplotlib versions that drew maps/ (the drift
    tests compare the full HTML and the pixels only on these versions)."""
    import folium
    import matplotlib

    write_text_atomic(MAPS / "rendered_with.txt", f"folium {folium.__version__}\nmatplotlib {matplotlib.__version__}\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", default=None)
    p.add_argument("--from-solutions", action="store_true")
    args = p.parse_args(argv)
    for name in args.names or [n for n in INSTANCES if (ROOT / "instances" / n).exists()]:
        render(name, args.from_solutions)
    record_versions()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
