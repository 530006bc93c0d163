"""Record the answers spokehub gives, to compare two versions of the code (a restructure must not
change them): for each bundled instance the LP relaxation's optimum (identical formulations give
identical values), the MILP objective at gap 0 within a time limit, its status and open sites.

    python scripts/answers.py --out before.json [--time-limit 900] [NAME ...]
    python scripts/answers.py --compare before.json after.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INSTANCES = ["demo", "north-america", "europe", "china", "north-america-2035"]


def lp_relaxation(inst) -> float:
    from optimizer.highs import run_highs
    from optimizer.model.build import build_model
    from optimizer.options import SolveOptions

    opts = SolveOptions(threads=1, mip_rel_gap=0.0)
    built = build_model(inst, opts.model_options())
    return float(run_highs(built, opts, relax=True).objective)


def record(names: list[str], time_limit: float) -> dict:
    from optimizer import check_solution, load_instance, solve

    out = {}
    for name in names:
        inst = load_instance(ROOT / "instances" / name)
        t = time.perf_counter()
        lp = lp_relaxation(inst)
        sol = solve(inst, mip_rel_gap=0.0, threads=1, time_limit=time_limit)
        open_sites = sorted(f"{r.period}:{r.site_id}:{r.size}" for r in sol.sites[sol.sites["open"]].itertuples())
        out[name] = {"lp_relaxation": lp, "objective": sol.objective, "best_bound": sol.best_bound, "status": sol.status.value,
                     "gap": sol.gap, "open": open_sites, "checker": [str(v) for v in check_solution(inst, sol)],
                     "seconds": time.perf_counter() - t}
        print(f"{name}: lp {lp:,.4f}  milp {sol.objective:,.4f} ({sol.status.value}, gap {sol.gap})  "
              f"{len(open_sites)} open  {out[name]['seconds']:.0f} s", flush=True)
    return out


def compare(a: dict, b: dict) -> int:
    bad = 0
    print("| instance | LP relaxation before | after | rel. diff | MILP before | after | rel. diff | same open sites |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a:
        if name not in b:
            continue
        x, y = a[name], b[name]
        d_lp = abs(x["lp_relaxation"] - y["lp_relaxation"]) / max(1.0, abs(x["lp_relaxation"]))
        d_obj = abs(x["objective"] - y["objective"]) / max(1.0, abs(x["objective"]))
        same = x["open"] == y["open"]
        print(f"| {name} | {x['lp_relaxation']:,.2f} | {y['lp_relaxation']:,.2f} | {d_lp:.1e} | {x['objective']:,.2f} "
              f"({x['status']}) | {y['objective']:,.2f} ({y['status']}) | {d_obj:.1e} | {'yes' if same else 'no'} |")
        bad += d_lp > 1e-9 or (x["status"] == y["status"] == "optimal" and (d_obj > 1e-9 or not same))
    return 1 if bad else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*")
    p.add_argument("--out", type=Path)
    p.add_argument("--time-limit", type=float, default=900.0)
    p.add_argument("--compare", nargs=2, type=Path)
    args = p.parse_args(argv)
    if args.compare:
        return compare(*(json.loads(f.read_text()) for f in args.compare))
    data = record(args.names or INSTANCES, args.time_limit)
    if args.out:
        args.out.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
