"""Wall time of one sweep in-process and on a Dask LocalCluster, measured in one run.

    python benchmarks/sweep_backends.py [--instance instances/north-america]
        [--grid benchmarks/sweeps/north-america-64.toml] [--workers 2] [--gap 0.005] [--out results/sweep-bench]
    python benchmarks/sweep_backends.py --redraw   # maps/robustness-<instance>.html from the committed table

Both runs solve the same scenarios with the same options (HiGHS one thread per worker); the
script checks that their objectives agree and copies the robustness map to maps/.  A benchmark:
prints figures, asserts only that the two runs agree.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import load_instance  # noqa: E402
from optimizer.scenarios.sweep import load_grid, read_robustness, robustness_map, sweep  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(ROOT / "instances" / "north-america"))
    ap.add_argument("--grid", default=str(ROOT / "benchmarks" / "sweeps" / "north-america-64.toml"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--out", default=str(ROOT / "results" / "sweep-bench"))
    ap.add_argument("--redraw", action="store_true", help="only redraw the robustness map from benchmarks/results")
    args = ap.parse_args(argv)
    base = load_instance(args.instance)
    plan = load_grid(args.grid, base)
    if args.redraw:
        table = read_robustness(ROOT / "benchmarks" / "results" / f"sweep-{base.name}-64-robustness.csv")
        robustness_map(base, table, plan.factors, ROOT / "maps" / f"robustness-{base.name}.html")
        return 0
    opts = {"mip_rel_gap": args.gap, "time_limit_s": args.time_limit}
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    a = sweep(base, plan, out / "inprocess", options=opts, backend="inprocess", quiet=False)
    b = sweep(base, plan, out / "dask", options=opts, backend="dask", workers=args.workers, quiet=False)
    oa = a.comparison.set_index("scenario")["objective"]
    ob = b.comparison.set_index("scenario")["objective"]
    worst = float(((oa - ob).abs() / oa.abs().clip(lower=1.0)).max())
    print(f"{len(plan.scenarios)} scenarios of {base.name}, gap {args.gap:g}")
    print(f"in-process:               {a.wall_s:8.1f} s ({a.wall_s / len(plan.scenarios):.1f} s per scenario), failed {len(a.failed)}")
    print(f"LocalCluster({args.workers} workers):   {b.wall_s:8.1f} s ({b.wall_s / len(plan.scenarios):.1f} s per scenario), failed {len(b.failed)}")
    print(f"speed-up {a.wall_s / b.wall_s:.2f}x; largest relative objective difference between the runs {worst:.2e}")
    print(a.comparison.groupby(list(plan.factors[:1]))["objective"].describe().to_string())
    shutil.copy(out / "dask" / "robustness_map.html", ROOT / "maps" / f"robustness-{base.name}.html")
    shutil.copy(out / "dask" / "comparison.csv", ROOT / "benchmarks" / "results" / f"sweep-{base.name}-64.csv")
    shutil.copy(out / "dask" / "robustness.csv", ROOT / "benchmarks" / "results" / f"sweep-{base.name}-64-robustness.csv")
    shutil.copy(out / "dask" / "objective_vs_factors.png", ROOT / "benchmarks" / "results" / f"sweep-{base.name}-64-objective.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
