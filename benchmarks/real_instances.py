"""Solve every bundled instance with the default options (one thread) and print the time split
and the key figures a domain reader checks first.  A benchmark: prints figures, asserts nothing.

    python benchmarks/real_instances.py [NAME ...] [--csv results/real_instances.csv]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import check_solution, load_instance, solve  # noqa: E402
from optimizer.report.tables import key_figures  # noqa: E402

NAMES = ["demo", "north-america", "europe", "china", "north-america-2035"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--csv", default=str(ROOT / "results" / "real_instances.csv"))
    ap.add_argument("--time-limit", type=float, default=1800)
    args = ap.parse_args(argv)
    rows = []
    for name in args.names or NAMES:
        t = time.perf_counter()
        inst = load_instance(ROOT / "instances" / name)
        read = time.perf_counter() - t
        sol = solve(inst, threads=1, seed=0, time_limit=args.time_limit)
        ok = not check_solution(inst, sol)
        k = key_figures(sol) if sol.status.has_solution and not sol.multi_period else {}
        last = sol.periods[-1]
        opened = sol.sites[sol.sites["open"] & (sol.sites["period"] == last)]
        row = {"instance": name, "supply_points": len(inst.regions),
               "spoke_sites": int((inst.spokes["status"] != "excluded").sum()),
               "hub_sites": int((inst.hubs["status"] != "excluded").sum()), "status": sol.status.value,
               "objective": sol.objective, "gap": sol.gap, "check": "pass" if ok else "FAIL",
               "spokes_open": int((opened["kind"] == "spoke").sum()), "hubs_open": int((opened["kind"] == "hub").sum()),
               "read_s": read, **{f"{k}_s": v for k, v in sol.timings.items() if k != "read"}, **k}
        rows.append(row)
        print(f"{name:<20} {sol.status.value:<17} obj {sol.objective:>18,.0f} {sol.currency:<4} gap {100 * (sol.gap or 0):.3f} % "
              f"spokes {row['spokes_open']:>3} hubs {row['hubs_open']:>2}  read {read:.2f} s build {sol.timings['build']:.2f} s "
              f"solve {sol.timings['solve']:.1f} s  check {row['check']}", flush=True)
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r}, key=lambda c: list(rows[0]).index(c) if c in rows[0] else 99)
    with open(args.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    print(f"written {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
