"""Which decisions' relaxation the LP bound loses on: the gap between the LP relaxation and a good
network, and how much of it each family of binaries accounts for.  A benchmark: prints figures,
asserts nothing.

    python benchmarks/gap_attribution.py china [--scenario instances/china/scenarios/business-models/third-party.toml]

For the instance (with the scenario applied) it solves as ``spokehub solve`` does (one thread,
gap 1 %: warm start, hub-count split) for a network, then re-solves the LP relaxation

* with one family of binaries (collection points, spokes, hubs, offer levels) fixed at that
  network: the share of the LP gap that fixing it alone closes;
* with every family but one fixed: the share that family's relaxation leaves open on its own.

A family whose "alone" share is large is where a tighter formulation would pay; this is how the
channels issue's closing note found the spokes (not the hubs) behind China's solve times.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import SolveOptions, build_model, load_instance  # noqa: E402
from optimizer.heuristic import warm_start  # noqa: E402
from optimizer.highs import run_matrix  # noqa: E402
from optimizer.model.compile import compile_model  # noqa: E402
from optimizer.scenarios.overrides import apply, load_scenario  # noqa: E402
from optimizer.split import run_split  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--scenario")
    ap.add_argument("--time-limit", type=float, default=240.0, help="seconds for the network's solve (default 240)")
    args = ap.parse_args(argv)
    path = Path(args.instance)
    if not path.exists():
        path = ROOT / "instances" / args.instance
    inst = load_instance(path)
    if args.scenario:
        inst = apply(inst, load_scenario(args.scenario, inst))
    opts = SolveOptions(threads=1, mip_rel_gap=0.01).validated()
    built = build_model(inst, opts.model_options())
    mf = compile_model(built.model)

    t = time.perf_counter()
    start = warm_start(inst, built.net, opts.model_options(), opts, 0.25 * args.time_limit)
    left = max(1.0, args.time_limit - (time.perf_counter() - t))
    run = run_split(mf, replace(opts, time_limit_s=left), mip_start=start.values if start else None)
    if not run.status.has_solution:
        print(f"no network within {args.time_limit:.0f} s ({run.status.value})")
        return 1
    network = {name: np.round(np.asarray(v)) for name, v in run.values.items()}
    families = [n for n, (_s, k) in mf.var_blocks.items() if k and (n.startswith("open_") or n in ("offer_level", "closed_site"))]

    def lp(fixed: list[str]) -> float:
        lo, hi = mf.col_lo.copy(), mf.col_hi.copy()
        for name in fixed:
            s, n = mf.var_blocks[name]
            lo[s:s + n] = hi[s:s + n] = network[name]
        return run_matrix(replace(mf, col_lo=lo, col_hi=hi), opts, relax=True).objective

    bound, best = lp([]), float(run.objective)
    gap = best - bound
    print(f"{inst.name}: network {best:,.0f}"
          f" ({time.perf_counter() - t:.0f} s, gap {run.gap:.2%}), LP relaxation {bound:,.0f}"
          f" ({abs(gap) / max(1.0, abs(best)):.2%} below)")
    print(f"{'family':<24}{'binaries':>9}{'fixing it closes':>18}{'left open by it alone':>23}")
    for name in families:
        alone = lp([f for f in families if f != name])
        print(f"{name:<24}{mf.var_blocks[name][1]:>9}{(lp([name]) - bound) / gap:>18.1%}{(best - alone) / gap:>23.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
