"""Sweeps: many scenarios of one base instance, in-process, in local processes or on Dask.

Grid file (TOML), one of three forms:

* ``[grid]`` -- the cartesian product of each factor's list of values::

      [grid]
      supply = [0.8, 1.0, 1.2]      # multiplier on every region's supply
      transport = [1.0, 1.5]        # multiplier on every transport rate

* ``[[scenarios]]`` -- a listed set, each table a scenario (``name`` plus overrides);
* ``[lhs]`` -- a Latin-hypercube sample: ``samples``, ``seed`` and ``[lhs.ranges]`` with
  ``factor = [low, high]`` for multiplier factors.

Any key a scenario file accepts may appear (see :mod:`optimizer.scenarios.overrides`); table
valued keys such as ``supply_by_chemistry`` take lists of tables in ``[grid]``.

Engineering rules: workers receive plain data (the base :class:`~optimizer.instance.Instance` and
the overrides) and return plain dicts -- no Pyomo object crosses a process boundary; HiGHS runs
with one thread per worker (Dask workers with one thread each) so workers x threads never exceed
the cores; a scenario whose worker dies is retried up to ``retries`` times, then recorded as failed
with the reason; every finished result is written to disk as soon as it arrives, so an interrupted
sweep loses nothing and ``--resume`` skips scenarios whose folder holds a result with the same
hash of base + overrides + options (a mismatch is solved again).
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import os
import re
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InstanceError, Issue, UsageError
from ..files import csv_text, write_text_atomic
from ..frames import concat_rows
from ..instance import Instance
from ..limits import limit
from ..tiers import TIERS, present
from .overrides import Scenario, apply, parse_scenario, read_toml_file, safe_folder_name

EXIT_SOME_FAILED = 5
#: Test-only fault injection: a worker exits hard on the first attempt of this scenario id
#: (the marker file in SPOKEHUB_TEST_CRASH_DIR remembers that the first attempt happened).
CRASH_ENV = "SPOKEHUB_TEST_CRASH_ON"
CRASH_DIR_ENV = "SPOKEHUB_TEST_CRASH_DIR"
CRASH_ALWAYS_ENV = "SPOKEHUB_TEST_CRASH_ALWAYS"  # "1": crash on every attempt (a scenario that cannot finish)


@dataclass
class SweepPlan:
    scenarios: list[Scenario]
    factors: list[str]  # the swept factor names, for the comparison table and charts
    mode: str  # product | list | lhs


def _slug(x) -> str:
    text = json.dumps(x, sort_keys=True) if isinstance(x, (dict, list)) else f"{x:g}" if isinstance(x, float) else str(x)
    return re.sub(r"[^A-Za-z0-9.+-]+", "", text)[:40]


def load_grid(path: str | Path, base: Instance) -> SweepPlan:
    """Read and validate a grid file; every scenario is checked before any solve."""
    path = Path(path)
    data = read_toml_file(path, "grid file")
    forms = [k for k in ("grid", "scenarios", "lhs") if k in data]
    unknown = [k for k in data if k not in ("grid", "scenarios", "lhs", "name", "description")]
    if len(forms) != 1 or unknown:
        raise InstanceError([Issue(path.name, None, ", ".join(unknown) or None,
                                   "exactly one of [grid], [[scenarios]] or [lhs]", ", ".join(forms + unknown) or "none")], str(path))
    issues: list[Issue] = []
    scenarios: list[Scenario] = []
    if "grid" in data:
        grid = data["grid"]
        factors = list(grid)
        for k, v in grid.items():
            if not isinstance(v, list) or not v:
                issues.append(Issue(path.name, None, f"grid.{k}", "a non-empty list of values", repr(v)))
        if issues:
            raise InstanceError(issues, str(path))
        n = math.prod(len(grid[k]) for k in factors)
        if n > limit("SPOKEHUB_MAX_SCENARIOS"):
            raise InstanceError([Issue(path.name, None, "grid", f"at most {limit('SPOKEHUB_MAX_SCENARIOS'):g} scenarios "
                                       "(set SPOKEHUB_MAX_SCENARIOS to allow more)", f"{n:,} (the product of the lists)")], str(path))
        for combo in itertools.product(*(grid[k] for k in factors)):
            overrides = dict(zip(factors, combo, strict=True))
            name = "_".join(f"{k}-{_slug(v)}" for k, v in overrides.items())
            scenarios.append(_checked(overrides, name, base, path.name, issues))
        mode = "product"
    elif "scenarios" in data:
        items = data["scenarios"]
        if isinstance(items, list) and len(items) > limit("SPOKEHUB_MAX_SCENARIOS"):
            raise InstanceError([Issue(path.name, None, "scenarios", f"at most {limit('SPOKEHUB_MAX_SCENARIOS'):g} scenarios",
                                       f"{len(items):,}")], str(path))
        if not isinstance(items, list):
            raise InstanceError([Issue(path.name, None, "scenarios", "an array of tables [[scenarios]]", repr(items))], str(path))
        items = [_scenario_item(path, it, k, issues) for k, it in enumerate(items)]
        factors = sorted({k for it in items for k in it if k not in ("name", "description")})
        for k, it in enumerate(items):
            name = str(it.get("name", f"scenario{k + 1}"))
            scenarios.append(_checked({a: b for a, b in it.items() if a not in ("name", "description")}, name, base,
                                      f"{path.name} [[scenarios]] #{k + 1}", issues))
        mode = "list"
    else:
        spec = data["lhs"]
        n = spec.get("samples")
        seed = spec.get("seed")
        ranges = spec.get("ranges", {})
        if not isinstance(n, int) or n < 1 or not isinstance(seed, int) or not isinstance(ranges, dict) or not ranges:
            raise InstanceError([Issue(path.name, None, "lhs", "samples (int >= 1), seed (int) and [lhs.ranges] factor = [low, high]",
                                       repr(spec)[:200])], str(path))
        if n > limit("SPOKEHUB_MAX_SCENARIOS"):
            raise InstanceError([Issue(path.name, None, "lhs.samples", f"at most {limit('SPOKEHUB_MAX_SCENARIOS'):g} samples "
                                       "(set SPOKEHUB_MAX_SCENARIOS to allow more)", f"{n:,}")], str(path))
        factors = list(ranges)
        rng = np.random.default_rng(seed)
        cols = {}
        for f in factors:
            lo_hi = ranges[f]
            if not (isinstance(lo_hi, list) and len(lo_hi) == 2 and all(isinstance(x, (int, float)) for x in lo_hi) and lo_hi[0] <= lo_hi[1]):
                issues.append(Issue(path.name, None, f"lhs.ranges.{f}", "[low, high] with low <= high", repr(lo_hi)))
                continue
            # one draw in each of n equal strata, strata shuffled per factor
            u = (rng.permutation(n) + rng.random(n)) / n
            cols[f] = lo_hi[0] + u * (lo_hi[1] - lo_hi[0])
        if issues:
            raise InstanceError(issues, str(path))
        for k in range(n):
            overrides = {f: round(float(cols[f][k]), 6) for f in factors}
            scenarios.append(_checked(overrides, f"lhs{k + 1:03d}", base, path.name, issues))
        mode = "lhs"
    if issues:
        raise InstanceError(issues, str(path))
    ids = [s.name for s in scenarios]
    if len(set(ids)) != len(ids):
        raise InstanceError([Issue(path.name, None, "name", "distinct scenario names", "duplicates")], str(path))
    taken: set[str] = set()
    scenarios = [dataclasses.replace(s, folder=safe_folder_name(s.name, taken)) for s in scenarios]
    return SweepPlan(scenarios, factors, mode)


def _scenario_item(grid: Path, item, k: int, issues: list[Issue]) -> dict:
    """One ``[[scenarios]]`` table; ``file = "x.toml"`` reads a scenario file beside the grid file
    (its name defaults to the file's stem; keys written in the table beside ``file`` override it)."""
    if not isinstance(item, dict):
        issues.append(Issue(grid.name, None, f"scenarios #{k + 1}", "a table of overrides", repr(item)[:80]))
        return {}
    if "file" not in item:
        return item
    rel = item["file"]
    target = (grid.parent / str(rel)).resolve()
    if (not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts
            or not target.is_relative_to(grid.parent.resolve()) or target.suffix != ".toml"):
        issues.append(Issue(grid.name, None, f"scenarios #{k + 1}.file",
                            "a .toml scenario file in the grid file's folder or below it (a relative path)", repr(rel)))
        return {}
    if not target.is_file():
        issues.append(Issue(grid.name, None, f"scenarios #{k + 1}.file", "an existing scenario file", f"no file {rel}"))
        return {}
    try:
        data = read_toml_file(target, "scenario file")
    except InstanceError as exc:
        issues.extend(exc.issues)
        return {}
    merged = {"name": Path(rel).stem, **data, **{a: b for a, b in item.items() if a != "file"}}
    return merged


def _checked(overrides: dict, name: str, base: Instance, source: str, issues: list[Issue]) -> Scenario:
    try:
        sc = parse_scenario(overrides, base, source)
        return Scenario(name=name, overrides=sc.overrides)
    except InstanceError as exc:
        issues.extend(exc.issues)
        return Scenario(name=name)


# --- the work done per scenario (runs in a worker: plain data in, plain data out) ---------------

def run_scenario(base: Instance, scenario: Scenario, options: dict) -> dict:
    """Apply, solve, check; return the solution as a dict plus the checker's verdict."""
    crash_on = os.environ.get(CRASH_ENV)
    if crash_on and crash_on == scenario.name:
        marker = Path(os.environ.get(CRASH_DIR_ENV, ".")) / f".crashed-{scenario.name}"
        if not marker.exists() or os.environ.get(CRASH_ALWAYS_ENV) == "1":
            marker.write_text("crashed on purpose\n")
            os._exit(17)
    from ..check import check_solution
    from ..errors import SolutionCheckError
    from ..options import SolveOptions
    from ..solver import solve

    inst = apply(base, scenario)
    t = time.perf_counter()
    sol = solve(inst, SolveOptions(**options))
    violations = check_solution(inst, sol) if sol.status.has_solution else []
    if violations:  # never passed off as a result: the scenario fails with the violations
        raise SolutionCheckError(violations, f"the solution of scenario {scenario.name!r}")
    d = sol.to_dict()
    d["provenance"]["scenario"] = {"name": scenario.name, "overrides": scenario.overrides}
    d["check"] = [str(v) for v in violations]
    d["wall_s"] = time.perf_counter() - t
    d["worker_pid"] = os.getpid()
    return d


# --- backends -----------------------------------------------------------------------------------

@dataclass
class Outcome:
    scenario: Scenario
    result: dict | None = None
    error: str | None = None
    attempts: int = 0


class _Progress:
    def __init__(self, total: int, stream=sys.stderr, quiet: bool = False):
        self.total, self.done, self.t0, self.stream, self.quiet = total, 0, time.perf_counter(), stream, quiet

    def step(self, label: str) -> None:
        self.done += 1
        if self.quiet:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done)
        bar = "#" * int(24 * self.done / self.total)
        self.stream.write(f"\r[{bar:<24}] {self.done}/{self.total} {100 * self.done / self.total:3.0f}% "
                          f"elapsed {_dur(el)} ETA {_dur(eta)}  {label[:40]:<40}")
        self.stream.flush()
        if self.done == self.total:
            self.stream.write("\n")


def _dur(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _run_inprocess(base, todo, options, retries, on_done):
    for sc in todo:
        out = Outcome(sc)
        try:
            out.attempts = 1
            out.result = run_scenario(base, sc, options)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed scenario
            out.error = f"{type(exc).__name__}: {exc}"
        on_done(out)


def _run_processes(base, todo, options, retries, on_done, workers: int):
    """A pool of spawned processes.  When a worker dies the pool breaks and every unfinished
    scenario fails with it, so the unfinished ones are re-run each in a fresh one-process pool:
    only a scenario whose own process dies is charged an attempt (up to ``retries`` retries)."""
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")
    unfinished = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(run_scenario, base, sc, options): sc for sc in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                sc = futures[fut]
                try:
                    on_done(Outcome(sc, fut.result(), attempts=1))
                except BrokenProcessPool:
                    unfinished.append(sc)
                except Exception as exc:  # noqa: BLE001 - the scenario itself raised
                    on_done(Outcome(sc, error=f"{type(exc).__name__}: {exc}", attempts=1))
    for sc in sorted(unfinished, key=lambda s: todo.index(s)):
        for attempt in range(1, retries + 2):
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as solo:
                try:
                    on_done(Outcome(sc, solo.submit(run_scenario, base, sc, options).result(), attempts=attempt))
                    break
                except BrokenProcessPool as exc:
                    if attempt == retries + 1:
                        on_done(Outcome(sc, error=f"worker died {attempt} times ({exc})", attempts=attempt))
                except Exception as exc:  # noqa: BLE001
                    on_done(Outcome(sc, error=f"{type(exc).__name__}: {exc}", attempts=attempt))
                    break


def dask_security(tls: dict | None):
    """A ``distributed.security.Security`` for a remote scheduler: from the given certificate
    files (``ca_file``, ``cert``, ``key``), else from Dask's own configuration
    (``distributed.comm.tls.*`` in a Dask config file or ``DASK_DISTRIBUTED__COMM__TLS__*``)."""
    from distributed.security import Security

    if not tls:
        return Security()
    return Security(tls_ca_file=tls.get("ca_file"), tls_client_cert=tls.get("cert"), tls_client_key=tls.get("key"),
                    require_encryption=True)


def _run_dask(base, todo, options, retries, on_done, workers: int | None, scheduler: str | None, tls: dict | None = None):
    import logging

    import dask
    from distributed import Client, LocalCluster, as_completed

    settings = {"distributed.scheduler.allowed-failures": retries, "distributed.worker.daemon": False}
    with dask.config.set(settings):
        if scheduler:
            client, cluster = Client(scheduler, security=dask_security(tls)), None
        else:
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.CRITICAL)
            client = Client(cluster)
        try:
            base_f = client.scatter(base, broadcast=True)
            futures = {client.submit(run_scenario, base_f, sc, options, key=f"scenario-{sc.name}-{os.getpid()}",
                                     pure=False): sc for sc in todo}
            for fut in as_completed(list(futures)):
                sc = futures[fut]
                try:
                    on_done(Outcome(sc, fut.result(), attempts=1))
                except Exception as exc:  # noqa: BLE001 - KilledWorker after the allowed failures
                    on_done(Outcome(sc, error=f"{type(exc).__name__}: {exc}", attempts=retries + 1))
        finally:
            # quiet shutdown: workers' heartbeats to a closing scheduler are expected to fail
            for name in ("distributed", "distributed.core", "distributed.worker", "distributed.nanny",
                         "distributed.scheduler", "distributed.comm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            client.close()
            if cluster is not None:
                cluster.close()


# --- the sweep ----------------------------------------------------------------------------------

@dataclass
class SweepResult:
    out: Path
    comparison: pd.DataFrame
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def sweep(base: Instance, plan: SweepPlan, out: str | Path, options: dict | None = None, backend: str = "inprocess",
          workers: int | None = None, scheduler: str | None = None, resume: bool = False, force: bool = False,
          tls: dict | None = None,
          retries: int = 2, quiet: bool = False, write_maps: bool = False) -> SweepResult:
    """Solve every scenario of ``plan``; write one folder per scenario and the comparison.

    ``scheduler`` sends the work to an existing Dask scheduler; ``tls`` (``ca_file``, ``cert``,
    ``key``) secures the connection to one that is not on this machine (``tls://`` address).
    What crosses to the workers is pickled plain data -- the base instance (DataFrames and
    dataclasses) and each scenario's overrides -- and plain dicts come back: point a sweep only
    at a scheduler you trust, since a Dask cluster runs what its clients send.
    """
    from ..files import check_target

    out = Path(out)
    options = {"threads": 1, "seed": 0, **(options or {})}
    options["threads"] = 1  # one HiGHS thread per worker: workers x threads <= cores
    cores = os.cpu_count() or 1
    if scheduler is None and backend in ("processes", "dask") and workers and workers > cores and not quiet:
        # allowed (a user may know better), but every scenario will run slower than it could
        print(f"warning: {workers} local workers on {cores} cores: workers will share cores; "
              f"--workers {cores} is usually faster", file=sys.stderr)
    if out.exists() and not (resume or force):
        check_target(out, False)
    out.mkdir(parents=True, exist_ok=True)
    _inside(out, plan)  # every folder a scenario writes stays in --out, checked before any solve
    hashes = {sc.name: sc.hash(base, options) for sc in plan.scenarios}
    todo, skipped = [], []
    for sc in plan.scenarios:
        sol_path = out / sc.dir_name / "solution.json"
        if resume and sol_path.exists():
            try:
                stored = json.loads(sol_path.read_text(encoding="utf-8"))
                if stored.get("provenance", {}).get("scenario_hash") == hashes[sc.name]:
                    skipped.append(sc.name)
                    continue
            except (ValueError, OSError):
                pass
        todo.append(sc)
    progress = _Progress(len(todo), quiet=quiet)
    failed: list[tuple[str, str]] = []
    t0 = time.perf_counter()

    def on_done(o: Outcome) -> None:
        if o.result is not None:
            o.result["provenance"]["scenario_hash"] = hashes[o.scenario.name]
            _write_scenario(base, o.scenario, o.result, out / o.scenario.dir_name, write_maps)
        else:
            failed.append((o.scenario.name, o.error or "unknown error"))
        progress.step(o.scenario.name)

    if todo:
        if backend == "inprocess":
            _run_inprocess(base, todo, options, retries, on_done)
        elif backend == "processes":
            _run_processes(base, todo, options, retries, on_done, workers or os.cpu_count() or 1)
        elif backend == "dask":
            _run_dask(base, todo, options, retries, on_done, workers, scheduler, tls)
        else:
            raise UsageError(f"unknown backend {backend!r}")
    wall = time.perf_counter() - t0
    comparison = write_summary(base, plan, out, failed)
    return SweepResult(out, comparison, failed, skipped, wall)


def _inside(out: Path, plan: SweepPlan) -> None:
    """Refuse (exit 2) a plan any of whose scenario folders would resolve outside ``out``."""
    root = out.resolve()
    names = [sc.dir_name for sc in plan.scenarios]
    if len({n.lower() for n in names}) != len(names):
        raise UsageError("two scenarios would share a folder: " + ", ".join(sorted(names)))
    for sc in plan.scenarios:
        target = (out / sc.dir_name).resolve()
        if target.parent != root:
            raise UsageError(f"scenario {sc.name!r} would write to {target}, outside the sweep's folder {root}")


def _write_scenario(base: Instance, sc: Scenario, result: dict, folder: Path, write_maps: bool) -> None:
    """The scenario's folder, as `spokehub solve` writes it (atomically, replacing a stale one)."""
    from ..report.tables import write_solution
    from ..solution import Solution

    sol = Solution.from_dict(result)
    write_solution(sol, apply(base, sc), folder, force=True, with_map=write_maps)
    # keep the scenario provenance and the checker's verdict next to the solution
    data = json.loads((folder / "solution.json").read_text(encoding="utf-8"))
    data["provenance"] = result["provenance"]
    data["check"] = result.get("check", [])
    write_text_atomic(folder / "solution.json", json.dumps(data, indent=1))


def write_summary(base: Instance, plan: SweepPlan, out: Path, failed) -> pd.DataFrame:
    """comparison.csv, objective-vs-factor chart, robustness map, sweep.json -- from what is on disk."""
    from ..solution import Solution

    rows, sols = [], {}
    for sc in plan.scenarios:
        path = out / sc.dir_name / "solution.json"
        row = {"scenario": sc.name, "folder": sc.dir_name, **{f: sc.overrides.get(f) for f in plan.factors}}
        if path.exists():
            sol = Solution.load(path)
            sols[sc.name] = sol
            n_open = sol.sites[sol.sites["open"].astype(bool)]
            last = sol.periods[-1] if sol.periods else None
            if last is not None and sol.multi_period:
                n_open = n_open[n_open["period"] == last]
            row.update(status=sol.status.value, status_label=sol.status_label, objective=sol.objective, gap=sol.gap,
                       **{f"{t.plural}_open": int((n_open["kind"] == t.name).sum()) for t in present(base)[0]},
                       check="pass" if not json.loads(path.read_text()).get("check") else "FAILED")
            for comp, val in sol.costs.groupby("component")["value"].sum().items():
                row[f"cost_{comp}"] = val
        else:
            reason = dict(failed).get(sc.name, "no result")
            row.update(status="failed", error=reason)
        rows.append(row)
    comp = pd.DataFrame(rows)
    write_text_atomic(out / "comparison.csv", csv_text(comp, float_format="%.6f"))
    write_text_atomic(out / "sweep.json", json.dumps({
        "base": base.name, "input_hash": base.input_hash, "mode": plan.mode, "factors": plan.factors,
        "scenarios": [{"name": s.name, "overrides": s.overrides} for s in plan.scenarios],
        "failed": [{"scenario": n, "reason": r} for n, r in failed],
    }, indent=1, default=str))
    if sols:
        _objective_chart(comp, plan.factors, out / "objective_vs_factors.png", _objective_label(base))
        table = robustness(base, sols)
        write_text_atomic(out / "robustness.csv", csv_text(table, float_format="%.6f"))
        robustness_map(base, table, plan.factors, out / "robustness_map.html")
    return comp


def _objective_label(base: Instance) -> str:
    """Axis label of the objective in the base's words: what it is, its unit, its sign."""
    what = f"net cost, NPV [M {base.currency}]" if base.periods is not None else f"net cost [M {base.currency}/yr]"
    return what + ("\n(negative = profit)" if base.profit_mode else "")


def _objective_chart(comp: pd.DataFrame, factors: list[str], path: Path, ylabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = comp[comp["status"].isin(["optimal", "feasible (limit)"])]
    numeric = [f for f in factors if pd.api.types.is_numeric_dtype(ok[f])] if len(ok) else []
    n = max(1, len(numeric))
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.8), squeeze=False)
    for ax, f in zip(axes[0], numeric or [None], strict=False):
        if f is None:
            ax.plot(range(len(ok)), ok["objective"] / 1e6, "o")
            ax.set_xlabel("scenario")
        else:
            ax.scatter(ok[f], ok["objective"] / 1e6, alpha=0.6)
            mean = ok.groupby(f)["objective"].mean() / 1e6
            ax.plot(mean.index, mean.values, "-", color="#c8102e", label="mean")
            ax.set_xlabel(f)
            ax.legend(loc="best")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})
    write_text_atomic(path, buf.getvalue())
    plt.close(fig)


#: Robustness classes: (upper bound of the share, colour, label).  "Always" and "never" get their
#: own classes because they are the answers a strategy team acts on.
ROBUSTNESS_CLASSES = (
    (0.0, "#d9d9d9", "never"),
    (0.25, "#deebf7", "up to 25 %"),
    (0.5, "#9ecae1", "25–50 %"),
    (0.75, "#4292c6", "50–75 %"),
    (0.999999, "#08519c", "over 75 %, not all"),
    (1.0, "#e6550d", "every scenario"),  # a different hue: the sites in the plan whatever happens
)


def read_robustness(path: str | Path) -> pd.DataFrame:
    """A ``robustness.csv`` as written by a sweep (names kept as text, blanks as '')."""
    return pd.read_csv(path, dtype={"site_id": str, "kind": str, "name": str, "status": str, "sizes": str},
                       keep_default_na=False)


def robustness(base: Instance, sols: dict) -> pd.DataFrame:
    """Per candidate site: in how many of the solved scenarios it is open (last period for
    multi-period plans), that share, and the sizes chosen (``"20kt: 40; 10kt: 16"``, most often
    chosen first).  Excluded sites are left out; sorted most robust first."""
    open_rows = []
    n = 0
    for sol in sols.values():
        if not sol.status.has_solution:
            continue
        n += 1
        s = sol.sites
        if sol.multi_period:
            s = s[s["period"] == sol.periods[-1]]
        open_rows.append(s.loc[s["open"].astype(bool), ["site_id", "size"]].drop_duplicates("site_id"))
    opened = concat_rows(open_rows, ["site_id", "size"])
    counts = opened["site_id"].value_counts()
    by_size = opened.groupby(["site_id", "size"]).size().reset_index(name="n")
    by_size = by_size.sort_values(["site_id", "n", "size"], ascending=[True, False, True], kind="stable")
    # a plain dict, not groupby.apply: on no rows apply returns a DataFrame (pandas 3) or a Series
    sizes: dict[str, str] = {}
    for sid, size, k in zip(by_size["site_id"], by_size["size"], by_size["n"], strict=True):
        sizes[sid] = f"{sizes[sid]}; {size}: {k}" if sid in sizes else f"{size}: {k}"
    sites = concat_rows([getattr(base, t.sites).assign(kind=t.name) for t in TIERS])
    sites = sites[sites["status"] != "excluded"]
    out = sites[["id", "kind", "name", "status", "lat", "lon"]].rename(columns={"id": "site_id"}).copy()
    out["scenarios_open"] = out["site_id"].map(counts).fillna(0).astype(int)
    out["scenarios_solved"] = n
    out["share_open"] = out["scenarios_open"] / max(n, 1)
    out["sizes"] = [sizes.get(sid, "") for sid in out["site_id"]]
    return out.sort_values(["share_open", "kind", "site_id"], ascending=[False, True, True], kind="stable").reset_index(drop=True)


def _ring_word(i: int, n: int) -> str:
    """thin for the first of ``n`` tiers, thick for the last, medium between."""
    return "thin" if i == 0 else "thick" if i == n - 1 else "medium"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def robustness_class(share: float) -> tuple[str, str]:
    """(colour, label) of a share in [0, 1]."""
    for upper, colour, label in ROBUSTNESS_CLASSES:
        if share <= upper + 1e-12:
            return colour, label
    return ROBUSTNESS_CLASSES[-1][1:]


def robustness_map(base: Instance, table: pd.DataFrame, factors: list[str], path: Path) -> None:
    """Every candidate site coloured by the share of scenarios that open it (offline HTML)."""
    import folium

    from ..report.maps import CDN, boundary_layer, inline_assets
    from ..report.maps import safe_text as escape

    n = int(table["scenarios_solved"].max()) if len(table) else 0
    fmap = folium.Map(location=[float(table["lat"].mean()), float(table["lon"].mean())], zoom_start=4, tiles=None,
                      prefer_canvas=True)
    fmap.default_js = [("leaflet", CDN["leaflet"]), ("jquery", CDN["jquery"])]
    fmap.default_css = [("leaflet_css", CDN["leaflet_css"])]
    if base.boundaries:
        boundary_layer(base.boundaries, 0.0, "Boundaries", {
            "color": "#777777", "weight": 0.6, "fillColor": "#f4f4f4", "fillOpacity": 0.7}).add_to(fmap)
    # ring radius and weight grow with the tier's place downstream: thin = first tier, thick = last
    # (an integral weight stays an int: the committed map says weight 1, not 1.0)
    tiers = present(base)[0]
    rings = {t.name: (6 + 4 * i, 1 + 3 * i // 2 if i % 2 == 0 else 1 + 1.5 * i) for i, t in enumerate(tiers)}
    for t in tiers:
        kind, (radius, weight) = t.name, rings[t.name]
        layer = folium.FeatureGroup(name=f"{t.plural}: share of scenarios opening them")
        # least robust first, so the always-open sites are drawn on top
        for r in table[table["kind"] == kind].iloc[::-1].itertuples(index=False):
            colour, _label = robustness_class(r.share_open)
            folium.CircleMarker([round(r.lat, 5), round(r.lon, 5)], radius=radius, color="#333333",
                                weight=weight, fill=True, fill_color=colour, fill_opacity=0.95,
                                class_name=f"sh-robust-{kind}",
                                tooltip=escape(f"{kind} {r.name or r.site_id} ({r.status}): open in {r.scenarios_open} of "
                                               f"{n} scenarios ({100 * r.share_open:.0f} %)"
                                               + (f"; sizes {r.sizes}" if r.sizes else ""))).add_to(layer)
        layer.add_to(fmap)
    always = table[table["share_open"] >= 1.0]
    title = (f'<div id="sh-title" style="position:fixed;top:10px;left:55px;z-index:1000;background:white;'
             f'padding:6px 10px;border:1px solid #999;border-radius:4px;font:13px sans-serif">'
             f'<b>{escape(base.name)}: robustness over {n} scenarios</b><br>'
             f'swept: {escape(", ".join(factors) or "listed scenarios")}<br>'
             'open in every scenario: '
             + ", ".join(_plural(int((always["kind"] == t.name).sum()), t.name.replace("_", " ")) for t in tiers) + '</div>')
    legend = ('<div style="position:fixed;bottom:20px;right:10px;z-index:1000;background:white;padding:6px 10px;'
              'border:1px solid #999;border-radius:4px;font:12px sans-serif"><b>share of scenarios opening the site</b><br>'
              + "".join(f'<span style="display:inline-block;width:14px;height:10px;background:{c};margin-right:4px">'
                        f'</span>{escape(lab)}<br>' for _u, c, lab in ROBUSTNESS_CLASSES)
              + ", ".join(f"{_ring_word(i, len(tiers))} ring = {t.name.replace('_', ' ')}" for i, t in enumerate(tiers))
              + "</div>")
    fmap.get_root().html.add_child(folium.Element(title))
    fmap.get_root().html.add_child(folium.Element(legend))
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[table["lat"].min(), table["lon"].min()], [table["lat"].max(), table["lon"].max()]])
    write_text_atomic(path, inline_assets(fmap.get_root().render()))
