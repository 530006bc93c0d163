"""``spokehub bench``: solve published instances and compare with their published values.

For each instance it reports objective, published value, relative difference, status, gap,
whether the independent checker passed, and the time split: read (import), build, hand-off to
HiGHS, warm start, HiGHS solve, extract.  Results go to a CSV as each instance finishes.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from ..check import check_solution
from ..errors import UsageError
from ..options import SolveOptions
from ..solver import solve
from .importers import SETS, load_benchmark, published_values

DEFAULT_DATA = Path("benchmarks") / "data"
COLUMNS = ["set", "instance", "formulation", "status", "objective", "published", "published_kind", "rel_diff",
           "gap", "check", "read_s", "build_s", "handoff_s", "warm_start_s", "solve_s", "extract_s", "total_s"]


def find_data(data: str | Path | None) -> Path:
    """The benchmark data folder: ``--data``, else ``benchmarks/data`` here or in the source tree."""
    candidates = [Path(data)] if data else [DEFAULT_DATA, Path(__file__).resolve().parents[2] / DEFAULT_DATA]
    for c in candidates:
        if (c / "orlib-cap").is_dir():
            return c
    raise UsageError("benchmark data not found: run from the repository root (it has benchmarks/data) "
                     "or pass --data DIR")


def options_for(formulation: str, time_limit: float | None, gap: float, threads: int) -> SolveOptions:
    """Solve options of a benchmark run: ``baseline`` (textbook formulation) or ``spokehub`` (the default one)."""
    if formulation == "baseline":
        return SolveOptions.baseline(time_limit_s=time_limit, mip_rel_gap=gap, threads=threads)
    if formulation == "spokehub":
        return SolveOptions(time_limit_s=time_limit, mip_rel_gap=gap, threads=threads)
    raise UsageError(f"--formulation must be baseline or spokehub, got {formulation!r}")


def run_benchmark(set_name: str, names: list[str] | None = None, data: str | Path | None = None,
                  time_limit: float | None = None, gap: float = 0.0, threads: int = 1,
                  formulation: str = "spokehub", out_csv: str | Path | None = None, echo=print) -> list[dict]:
    """Run ``names`` (default: the whole set) and return one row per instance."""
    if set_name not in SETS:
        raise UsageError(f"unknown set '{set_name}'; known sets: {', '.join(SETS)}")
    folder = find_data(data)
    all_names = SETS[set_name][0]
    names = names or list(all_names)
    unknown = [n for n in names if n not in all_names]
    if unknown:
        raise UsageError(f"not in set '{set_name}': {', '.join(unknown)} (known: {', '.join(all_names)})")
    published = published_values(folder)
    options = options_for(formulation, time_limit, gap, threads)
    rows = []
    writer = None
    fh = None
    if out_csv:
        Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
        fh = open(out_csv, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
    echo(f"{'instance':<14} {'status':<17} {'objective':>15} {'published':>15} {'rel.diff':>10} {'gap':>9} "
         f"{'read':>6} {'build':>6} {'handoff':>7} {'warm':>6} {'solve':>7} {'extract':>7}")
    try:
        for name in names:
            t = time.perf_counter()
            inst = load_benchmark(folder, set_name, name)
            read_s = time.perf_counter() - t
            sol = solve(inst, options)
            pub = published.get((set_name, name))
            violations = check_solution(inst, sol) if sol.status.has_solution else []
            rel = (sol.objective - pub.value) / abs(pub.value) if (pub and sol.objective is not None) else None
            tm = sol.timings
            row = {
                "set": set_name, "instance": name, "formulation": formulation, "status": sol.status.value,
                "objective": sol.objective, "published": pub.value if pub else None,
                "published_kind": pub.kind if pub else "", "rel_diff": rel, "gap": sol.gap,
                "check": "pass" if not violations else f"{len(violations)} violations",
                "read_s": read_s, "build_s": tm.get("build", 0.0), "handoff_s": tm.get("handoff", 0.0),
                "warm_start_s": tm.get("warm_start", 0.0), "solve_s": tm.get("solve", 0.0),
                "extract_s": tm.get("extract", 0.0), "total_s": time.perf_counter() - t,
            }
            rows.append(row)
            echo(f"{name:<14} {row['status']:<17} {_f(sol.objective):>15} {_f(row['published']):>15} "
                 f"{_p(rel):>10} {_p(sol.gap):>9} {read_s:6.2f} {row['build_s']:6.2f} {row['handoff_s']:7.2f} "
                 f"{row['warm_start_s']:6.2f} {row['solve_s']:7.2f} {row['extract_s']:7.2f}"
                 + ("" if not violations else f"  CHECK FAILED: {violations[0]}"))
            if writer:
                writer.writerow(row)
                fh.flush()
    finally:
        if fh:
            fh.close()
    return rows


def _f(x) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _p(x) -> str:
    return "-" if x is None else f"{100 * x:.4f}%"


def main_bench(args) -> int:
    """``spokehub bench``: solve a benchmark set, write its CSV and print the comparison with the published optima."""
    run_benchmark(args.set, args.instances or None, data=args.data, time_limit=args.time_limit, gap=args.gap,
                  threads=args.threads, formulation=args.formulation,
                  out_csv=args.csv or Path("results") / f"bench-{args.set}-{args.formulation}.csv",
                  echo=lambda s: print(s, flush=True) if not args.quiet else None)
    if not args.quiet:
        print(f"results written to {args.csv or Path('results') / f'bench-{args.set}-{args.formulation}.csv'}",
              file=sys.stdout)
    return 0
