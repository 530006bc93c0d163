"""Solve each market's three business-model presets as issue 17 asks (one thread, gap 1 %) and
print the time, gap and key figures of each.  A benchmark: prints figures, asserts nothing.

    python benchmarks/business_models.py [MARKET ...] [--time-limit S] [--gap 0.01] [--seeds 0 1 2]

With several ``--seeds`` each preset is solved once per HiGHS random seed and a last table gives
the spread of the wall times (min / median / max): a MIP's time to a 1 % gap depends on which
incumbent its search meets when, so one seed's time is one draw, not the preset's time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import check_solution, load_instance, solve  # noqa: E402
from optimizer.scenarios.overrides import apply, load_scenario  # noqa: E402

MARKETS = ["north-america", "europe", "china"]
MODELS = ["third-party", "battery-maker", "oem-alliance"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("markets", nargs="*")
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--time-limit", type=float, default=None,
                    help="seconds per solve (default: none, as `spokehub solve`; the warm start then gets 60 s)")
    ap.add_argument("--gap", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warm-start", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--split", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="HiGHS random seeds, one solve each (default 0)")
    args = ap.parse_args(argv)
    walls: dict[tuple[str, str], list[float]] = {}
    for market in args.markets or MARKETS:
        base = load_instance(ROOT / "instances" / market)
        for model in args.models:
            inst = apply(base, load_scenario(ROOT / "instances" / market / "scenarios" / "business-models" / f"{model}.toml", base))
            for seed in args.seeds:
                t = time.perf_counter()
                sol = solve(inst, threads=args.threads, seed=seed, time_limit=args.time_limit, gap=args.gap,
                            marginal_values=False, warm_start=args.warm_start, split=args.split)
                wall = time.perf_counter() - t
                walls.setdefault((market, model), []).append(wall)
                ok = not check_solution(inst, sol)
                opened = sol.sites[sol.sites["open"].astype(bool)]
                counts = opened["kind"].value_counts().to_dict()
                gap = float("nan") if sol.gap is None else 100 * sol.gap
                print(f"{market:<14} {model:<14} seed {seed:<3} {sol.status.value:<16} profit {-sol.objective / 1e6:>9,.1f} M "
                      f"{sol.currency} gap {gap:6.2f} %  sites {counts}  build {sol.timings['build']:.1f} s "
                      f"warm start {sol.timings.get('warm_start', 0.0):.1f} s solve {sol.timings['solve']:.1f} s "
                      f"wall {wall:.1f} s  check {'pass' if ok else 'FAIL'}  [{sol.termination}]", flush=True)
    if len(args.seeds) > 1:
        print(f"\nwall time over seeds {args.seeds} (s): min / median / max")
        for (market, model), ws in walls.items():
            print(f"{market:<14} {model:<14} {min(ws):7.1f} {statistics.median(ws):7.1f} {max(ws):7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
