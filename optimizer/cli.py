"""Command line: a thin shell over the Python API.

Exit codes (also in the README):

* 0 -- a solution was written (optimal, or feasible at a limit: the summary says which);
* 1 -- unexpected internal error (a bug: rerun with ``--debug`` and report the traceback);
* 2 -- invalid input or usage (including an existing output folder without ``--force``);
* 3 -- the instance is infeasible (the diagnosis is printed and written);
* 4 -- no solution within the limits;
* 5 -- ``sweep`` only: some scenarios failed (their reasons are printed and in ``sweep.json``;
  every finished scenario's result is on disk);
* 6 -- HiGHS reported an error (its own message is printed), or returned values that are not the
  solution it reports; nothing is written;
* 7 -- the solution failed the independent checker (the violations are printed); nothing is
  written.  Both 6 and 7 mean a bug in spokehub or HiGHS: please report them.

Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from .errors import InstanceError, SpokehubError, UsageError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4
EXIT_SOLVER_ERROR, EXIT_CHECK_FAILED = 6, 7


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: exit code 2, no traceback
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="spokehub", description="Design Spoke & Hub recycling networks for end-of-life EV batteries.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check an instance (folder or .xlsx workbook) without solving")
    v.add_argument("instance", type=Path, help="an instance folder or an .xlsx instance workbook")

    s = sub.add_parser("solve", help="solve an instance and write results + map")
    s.add_argument("instance", type=Path, help="an instance folder or an .xlsx instance workbook")
    s.add_argument("--out", type=Path, help="output folder (default results/<instance folder or workbook name>)")
    s.add_argument("--force", action="store_true", help="replace an existing output folder")
    s.add_argument("--time-limit", type=float, help="HiGHS time limit in seconds (build time not included)")
    s.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap to stop at (default 1e-4)")
    s.add_argument("--threads", type=int, help="HiGHS threads (default: every core available)")
    s.add_argument("--seed", type=int, default=0, help="HiGHS random seed (default 0)")
    s.add_argument("--node-limit", type=int, help="branch-and-bound node limit")
    s.add_argument("--no-heuristics", action="store_true", help="turn HiGHS primal heuristics off")
    s.add_argument("--warm-start", choices=["auto", "on", "off"], default="auto",
                   help="sparsified-network MIP start (default auto: large models only)")
    s.add_argument("--split", choices=["auto", "on", "off"], default="auto",
                   help="one sub-MIP per number of open hubs, bounded by its LP first (default auto: large one-period models)")
    s.add_argument("--single-sourcing", action="store_true", help="each region ships to exactly one spoke")
    s.add_argument("--no-marginal-values", action="store_true",
                   help="skip the fixed-network re-solves that give channels.csv its marginal values")
    s.add_argument("--handoff", choices=["direct", "pyomo"], default="direct",
                   help="how the Pyomo model reaches HiGHS (default direct)")
    s.add_argument("--no-map", action="store_true", help="skip map.html")
    s.add_argument("--scenario", type=Path, help="a scenario file (TOML overrides of the instance)")
    s.add_argument("--save-lp", type=Path, help="also write the model as an LP file (Pyomo writer)")
    s.add_argument("--log", action="store_true", help="show the HiGHS log")
    s.add_argument("--quiet", action="store_true", help="print only the output folder")

    r = sub.add_parser("report", help="print the summary and key per-tonne figures of a solution folder")
    r.add_argument("solution", type=Path, help="a folder written by spokehub solve")

    mp = sub.add_parser("map", help="write the interactive Folium map of a solution")
    mp.add_argument("solution", type=Path, help="a folder written by spokehub solve")
    mp.add_argument("--out", type=Path, required=True, help="HTML file to write")
    mp.add_argument("--offline", action="store_true", help="self-contained HTML: no network needed, no tiles")
    mp.add_argument("--period", help="period to draw (multi-period solutions; default the last)")
    mp.add_argument("--instance", type=Path, help="instance folder (default: the one recorded in the solution)")
    mp.add_argument("--force", action="store_true", help="replace an existing file")

    fg = sub.add_parser("figure", help="write a static network figure for slides (.png, .svg or .pdf)")
    fg.add_argument("solution", type=Path)
    fg.add_argument("--out", type=Path, required=True)
    fg.add_argument("--period")
    fg.add_argument("--instance", type=Path)
    fg.add_argument("--force", action="store_true")

    ex = sub.add_parser("export", help="write an Excel workbook of a solution")
    ex.add_argument("solution", type=Path)
    ex.add_argument("--xlsx", type=Path, required=True, help="workbook to write")
    ex.add_argument("--instance", type=Path)
    ex.add_argument("--force", action="store_true")

    sw = sub.add_parser("sweep", help="solve many scenarios of one instance (grid, list or Latin hypercube)")
    sw.add_argument("instance", type=Path, help="the base instance (folder or .xlsx workbook)")
    sw.add_argument("--grid", type=Path, required=True, help="grid file: [grid], [[scenarios]] or [lhs]")
    sw.add_argument("--out", type=Path, required=True, help="output folder (one subfolder per scenario)")
    sw.add_argument("--resume", action="store_true", help="skip scenarios already solved with the same inputs")
    sw.add_argument("--force", action="store_true", help="write into an existing output folder")
    sw.add_argument("--backend", choices=["inprocess", "processes", "dask"],
                    help="default: inprocess; dask with --scheduler or --workers")
    sw.add_argument("--workers", type=int, help="worker processes (with no --scheduler: a local Dask cluster)")
    sw.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786 or tls://host:8786")
    sw.add_argument("--tls-ca-file", type=Path, help="TLS: the certificate authority that signed the scheduler's certificate")
    sw.add_argument("--tls-cert", type=Path, help="TLS: this client's certificate")
    sw.add_argument("--tls-key", type=Path, help="TLS: this client's private key")
    sw.add_argument("--time-limit", type=float, help="HiGHS time limit per scenario (s)")
    sw.add_argument("--gap", type=float, default=1e-4)
    sw.add_argument("--retries", type=int, default=2, help="retries of a scenario whose worker died (default 2)")
    sw.add_argument("--maps", action="store_true", help="also write map.html in every scenario folder")
    sw.add_argument("--quiet", action="store_true")

    t = sub.add_parser("template", help="write an instance workbook (.xlsx) from the schema, or a workbook back as a folder")
    t.add_argument("instance", nargs="?", type=Path,
                   help="instance (folder or workbook) to fill the workbook from; default: an empty template")
    t.add_argument("--xlsx", type=Path, help="the workbook to write")
    t.add_argument("--folder", type=Path, help="the instance folder to write from the workbook INSTANCE")
    t.add_argument("--chemistries", default="nmc,lfp", help="chemistries of an empty template (default nmc,lfp)")
    t.add_argument("--force", action="store_true", help="replace an existing file or folder")

    b = sub.add_parser("bench", help="solve published benchmark instances and compare with published values")
    b.add_argument("set", help="orlib (multi-source CFLP), orlib-ss (single-source), tscflp (two-stage)")
    b.add_argument("instances", nargs="*", help="instance names (default: the whole set), e.g. cap41 capa-8000")
    b.add_argument("--time-limit", type=float, help="seconds per instance (HiGHS solve incl. warm start)")
    b.add_argument("--gap", type=float, default=0.0, help="relative MIP gap (default 0: prove optimality)")
    b.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")
    b.add_argument("--formulation", choices=["baseline", "spokehub"], default="spokehub",
                   help="baseline: textbook strong formulation, no cuts, no warm start")
    b.add_argument("--data", type=Path, help="benchmark data folder (default benchmarks/data)")
    b.add_argument("--csv", type=Path, help="CSV output (default results/bench-SET-FORMULATION.csv)")
    b.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (tests call this in-process)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = _parser().parse_args(argv)
        return _dispatch(args)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except SpokehubError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback without --debug
        if debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc}\n(this is a bug in spokehub; rerun with --debug "
              "and report the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def main_entry() -> None:  # console-script entry point
    """Console-script entry point: exit with :func:`main`'s code."""
    sys.exit(main())


def _dispatch(args) -> int:
    if args.command == "validate":
        return _validate(args)
    if args.command == "solve":
        return _solve(args)
    if args.command == "report":
        return _report(args)
    if args.command in ("map", "figure", "export"):
        return _render(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "template":
        return _template(args)
    if args.command == "bench":
        from .bench.runner import main_bench

        return main_bench(args)
    raise UsageError(f"unknown command {args.command}")  # pragma: no cover - argparse guards


def _validate(args) -> int:
    from .instance import instance_warnings
    from .load import load_instance

    inst = load_instance(args.instance)
    for w in instance_warnings(inst):
        print(f"warning: {w}", file=sys.stderr)
    supply = inst.total_supply_t()
    print(f"ok: {inst.name} ({inst.currency}): {len(inst.regions)} regions, "
          f"{(inst.spokes['status'] != 'excluded').sum()} spoke sites, {(inst.hubs['status'] != 'excluded').sum()} hub sites, "
          "supply " + ", ".join(f"{c} {t:,.0f} t/yr" for c, t in supply.items())
          + (" (regions.csv)" if inst.multi_period else ""))
    if inst.multi_period:
        by = inst.supply_by_period.groupby(["period", "chemistry"])["supply_t"].sum().unstack(fill_value=0.0)
        for period, row in by.iterrows():
            print(f"  period {period}: " + ", ".join(f"{c} {row.get(c, 0.0):,.0f} t/yr" for c in inst.chem_names))
    return EXIT_OK


def _template(args) -> int:
    """``template [INSTANCE] --xlsx FILE`` or ``template WORKBOOK --folder DIR``."""
    from .files import check_target
    from .load import load_instance, save_instance
    from .workbook_template import write_template

    if (args.xlsx is None) == (args.folder is None):
        raise UsageError("template writes one thing: give --xlsx FILE (a workbook) or --folder DIR (an instance folder)")
    if args.folder is not None:
        if args.instance is None or args.instance.suffix.lower() != ".xlsx":
            raise UsageError("template --folder DIR writes an instance workbook back as a folder: give the workbook, "
                             "e.g. spokehub template demo.xlsx --folder demo")
        check_target(args.folder, args.force)
        save_instance(load_instance(args.instance), args.folder, force=args.force)
        print(args.folder)
        return EXIT_OK
    if args.xlsx.suffix.lower() != ".xlsx":
        raise UsageError(f"{args.xlsx}: template --xlsx writes an .xlsx workbook, not '{args.xlsx.suffix or 'no suffix'}'")
    check_target(args.xlsx, args.force)
    inst = load_instance(args.instance) if args.instance is not None else None
    chems = tuple(c.strip() for c in args.chemistries.split(",") if c.strip())
    write_template(args.xlsx, inst, chemistries=chems, force=args.force)
    print(args.xlsx)
    return EXIT_OK


def _load_solution(folder: Path):
    from .solution import Solution

    path = folder / "solution.json" if folder.is_dir() else folder
    if not path.exists():
        raise UsageError(f"{path} not found: pass a folder written by 'spokehub solve'")
    try:
        return Solution.load(path)
    except (ValueError, KeyError) as exc:
        raise UsageError(f"{path} is not a spokehub solution ({exc})") from exc


def _instance_of(sol, given: Path | None):
    """The instance a solution was computed from (warns if its files changed since)."""
    from .load import load_instance

    source = given or (Path(sol.provenance["source"]) if sol.provenance.get("source") else None)
    if source is None or not source.exists():
        raise UsageError(f"the instance of this solution ({source}) is not available: pass --instance FOLDER")
    inst = load_instance(source)
    if sol.provenance.get("input_hash") and inst.input_hash != sol.provenance["input_hash"]:
        print(f"warning: the files in {source} changed since this solution was computed", file=sys.stderr)
    return inst


def _report(args) -> int:
    from .report.tables import summary_text

    print(summary_text(_load_solution(args.solution)))
    return EXIT_OK


def _render(args) -> int:
    from .files import check_target

    sol = _load_solution(args.solution)
    if not sol.status.has_solution:
        raise UsageError(f"{args.solution} holds no network to draw (status: {sol.status.value})")
    sol.check_period(getattr(args, "period", None))
    out = args.xlsx if args.command == "export" else args.out
    wanted = {"figure": (".png", ".svg", ".pdf"), "map": (".html", ".htm"), "export": (".xlsx",)}[args.command]
    if out.suffix.lower() not in wanted:
        raise UsageError(f"{out}: {args.command} writes {' or '.join(wanted)} files (by the file's suffix), "
                         f"not '{out.suffix or 'no suffix'}'")
    check_target(out, args.force)
    inst = _instance_of(sol, args.instance)
    if args.command == "map":
        from .report.maps import MapOptions, write_map

        write_map(inst, sol, out, MapOptions(offline=args.offline, period=args.period))
    elif args.command == "figure":
        from .report.figures import write_figure
        from .report.maps import MapOptions

        write_figure(inst, sol, out, MapOptions(period=args.period))
    else:
        from .report.workbook import write_workbook

        write_workbook(sol, out, inst)
    print(out)
    return EXIT_OK


def _sweep(args) -> int:
    from .load import load_instance
    from .scenarios.sweep import EXIT_SOME_FAILED, load_grid, sweep

    if args.out.exists() and not (args.resume or args.force):
        raise UsageError(f"{args.out} already exists; pass --resume to continue it or --force to write into it")
    base = load_instance(args.instance)
    plan = load_grid(args.grid, base)  # every scenario is checked before any solve
    backend = args.backend or ("dask" if (args.scheduler or args.workers) else "inprocess")
    options = {"time_limit_s": args.time_limit, "mip_rel_gap": args.gap}
    tls = {k: str(v) for k, v in (("ca_file", args.tls_ca_file), ("cert", args.tls_cert), ("key", args.tls_key)) if v}
    if tls and not (args.scheduler or "").startswith("tls://"):
        raise UsageError("--tls-ca-file/--tls-cert/--tls-key secure a tls:// scheduler address; give --scheduler tls://HOST:PORT")
    if tls and len(tls) != 3:
        raise UsageError("a TLS connection needs all three of --tls-ca-file, --tls-cert and --tls-key")
    if (args.scheduler or "").startswith("tls://") and not tls:
        import dask

        if not dask.config.get("distributed.comm.tls.ca-file", None):
            raise UsageError("a tls:// scheduler needs certificates: give --tls-ca-file, --tls-cert and --tls-key, or set "
                             "Dask's distributed.comm.tls configuration")
    for name, path in tls.items():
        if not Path(path).is_file():
            raise UsageError(f"--tls-{name.replace('_', '-')} {path}: no such file")
    from .options import SolveOptions

    SolveOptions(**options).validated()  # refused before any scenario is solved
    res = sweep(base, plan, args.out, options=options, backend=backend, workers=args.workers,
                scheduler=args.scheduler, tls=tls or None, resume=args.resume, force=True, retries=args.retries,
                quiet=args.quiet, write_maps=args.maps)
    if not args.quiet:
        print(sweep_table(res.comparison, plan.factors, base.currency, base.periods is not None))
        print(f"{len(plan.scenarios)} scenarios ({len(res.skipped)} already done, {len(res.failed)} failed) "
              f"in {res.wall_s:.1f} s with backend {backend}; results in {args.out}")
    for name, reason in res.failed:
        print(f"failed: {name}: {reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if res.failed else EXIT_OK


def sweep_table(comparison, factors: list[str], currency: str, npv: bool) -> str:
    """The sweep's console table in the summary's formats: money with thousands separators,
    gaps in per cent, the status as the summary words it."""
    cols = ["scenario", *factors, "status_label", "objective", "gap", "spokes_open", "hubs_open"]
    df = comparison[[c for c in cols if c in comparison.columns]].copy()
    if "status_label" not in df.columns and "status" in comparison.columns:
        df.insert(1 + len(factors), "status_label", comparison["status"])
    unit = currency if npv else f"{currency}/yr"
    if "objective" in df.columns:
        df["objective"] = [f"{v:,.0f}" if v == v and v is not None else "" for v in df["objective"]]
        df = df.rename(columns={"objective": f"net cost [{unit}]"})
    if "gap" in df.columns:
        df["gap"] = [f"{100 * v:.2g} %" if v == v and v is not None else "" for v in df["gap"]]
    for c in ("spokes_open", "hubs_open"):
        if c in df.columns:
            df[c] = [f"{int(v)}" if v == v else "" for v in df[c]]
    return df.rename(columns={"status_label": "status"}).fillna("").to_string(index=False)


def _solve(args) -> int:
    from .files import check_target
    from .instance import instance_warnings
    from .load import load_instance
    from .options import SolveOptions
    from .report.tables import summary_text, write_solution
    from .solution import SolveStatus
    from .solver import solve

    book = args.instance.suffix.lower() == ".xlsx" and not args.instance.is_dir()
    out = args.out or Path("results") / (args.instance.resolve().stem if book else args.instance.resolve().name)
    check_target(out, args.force)  # before the solve: do not make the user wait for a refusal
    t = time.perf_counter()
    inst = load_instance(args.instance)
    read_s = time.perf_counter() - t
    for w in instance_warnings(inst):
        print(f"warning: {w}", file=sys.stderr)
    scenario = None
    if args.scenario:
        from .scenarios.overrides import apply, load_scenario

        scenario = load_scenario(args.scenario, inst)
        inst = apply(inst, scenario)
    options = SolveOptions(
        time_limit_s=args.time_limit, mip_rel_gap=args.gap, threads=args.threads, seed=args.seed,
        node_limit=args.node_limit, heuristics=not args.no_heuristics, warm_start=args.warm_start, split=args.split,
        log=args.log, handoff=args.handoff,
        single_sourcing=True if args.single_sourcing else None,
        marginal_values=not args.no_marginal_values,
    )
    if args.save_lp:
        from .model.build import build_model

        built = build_model(inst, options.model_options())
        built.model.write(str(args.save_lp), io_options={"symbolic_solver_labels": True})
    sol = solve(inst, options)
    sol.timings["read"] = read_s
    if scenario is not None:
        sol.provenance["scenario"] = {"name": scenario.name, "overrides": scenario.overrides}
    write_solution(sol, inst, out, force=args.force, with_map=not args.no_map)
    if args.quiet:
        print(out)
    else:
        print(summary_text(sol, inst))
        print(f"results written to {out}")
    if sol.status == SolveStatus.INFEASIBLE:
        return EXIT_INFEASIBLE
    if sol.status == SolveStatus.NO_SOLUTION:
        return EXIT_NO_SOLUTION
    return EXIT_OK


__all__ = ["main", "InstanceError"]
