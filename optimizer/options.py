"""Solver settings: :class:`SolveOptions`, shared by the solve pipeline, the MIP starts and the
diagnosis (this module sits below all three and imports none of them).

* ``time_limit_s`` -- seconds for the solve itself (the MIP start included: the main solve gets
  what the start left).  Reading, building and the hand-off to HiGHS are *not* included; they
  are reported separately in ``Solution.timings``.  The limit holds whatever HiGHS does: a run
  still going :func:`guard_grace_s` after it is ended by spokehub, keeping the last incumbent.
* ``mip_rel_gap`` -- relative gap at which HiGHS stops, in [0, 1) (HiGHS's default 1e-4); tests
  comparing with an exact optimum set 0.
* ``threads`` -- HiGHS threads for this solve; ``None`` means every core available to the process
  (:func:`default_threads`).  Each solve runs with the count it asks for, whatever ran before in
  the process (see :mod:`optimizer.highs`), and ``Solution.provenance["threads"]`` records it.
* ``seed`` -- HiGHS's random seed; with a fixed seed and thread count a finished run is
  reproducible.
* ``node_limit`` -- branch-and-bound node limit (a machine-independent limit, used by tests).
* ``heuristics`` -- ``False`` turns HiGHS's primal heuristics off, so together with
  ``node_limit`` (and ``warm_start="off"``) a run stops at the same point on every machine.
* ``warm_start`` -- ``"auto"`` (models with at least ``WARM_START_MIN_ARCS`` region->spoke arcs)
  or ``"on"`` computes a MIP start first (:mod:`optimizer.heuristic`); it may use
  ``warm_start_share`` of the time limit (60 s when there is no limit).
* ``split`` -- ``"auto"`` (one-period models with at least ``SPLIT_MIN_ARCS`` region arcs and
  two hub sites, without a node limit) or ``"on"`` solves the MIP as one sub-MIP per number of open hubs, each bounded by its LP
  first (:mod:`optimizer.split`); ``"off"`` hands the whole MIP to HiGHS at once.
* ``cover_cuts``, ``linking`` -- formulation switches; :meth:`SolveOptions.baseline` is the
  textbook formulation without extras.
* ``isolate`` -- run HiGHS in a worker process (default where the platform allows it): the time
  limit is enforced, a HiGHS crash is an error instead of a dead Python.  ``False`` runs HiGHS in
  this process, where only HiGHS's own limit applies.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

from .errors import UsageError


def default_threads() -> int:
    """Cores available to this process (its CPU affinity where the platform tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def guard_grace_s(time_limit_s: float) -> float:
    """How long after its time limit a HiGHS run is ended by spokehub (2 s or 5 % of the limit,
    at most 60 s): HiGHS overshoots its limit a little when it stops cleanly."""
    return min(60.0, max(2.0, 0.05 * time_limit_s))


@dataclass
class SolveOptions:
    """Solver settings (see the module docstring)."""

    time_limit_s: float | None = None
    mip_rel_gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    node_limit: int | None = None
    presolve: bool = True
    heuristics: bool = True  # False sets HiGHS mip_heuristic_effort = 0 (deterministic limit tests)
    log: bool = False
    handoff: str = "direct"  # "direct" | "pyomo"
    single_sourcing: bool | None = None  # None: the instance's setting
    warm_start: str = "auto"  # "auto" (large models only) | "on" | "off"
    warm_start_share: float = 0.15  # share of the time limit the warm start may use
    split: str = "auto"  # hub-count split: "auto" (large one-period models) | "on" | "off"
    cover_cuts: bool = True  # capacity-cover rows (see model.build.add_capacity_cover)
    linking: str = "per-arc"  # "per-arc" | "aggregated"
    diagnose: bool = True  # on infeasibility, solve the elastic model to name the shortfall
    marginal_values: bool = True  # value of one more tonne per region and chemistry (optimizer.explain)
    isolate: bool = True  # run HiGHS in a worker process (enforced time limit)

    def as_dict(self) -> dict:
        """The options as a plain dict (written into a solution's provenance)."""
        return asdict(self)

    def model_options(self):
        """The formulation switches these options carry, for :func:`~optimizer.model.build.build_model`."""
        from .model.build import ModelOptions

        return ModelOptions(single_sourcing=self.single_sourcing, linking=self.linking, cover_cuts=self.cover_cuts)

    @property
    def resolved_threads(self) -> int:
        """The thread count HiGHS runs with."""
        return int(self.threads) if self.threads is not None else default_threads()

    def validated(self) -> SolveOptions:
        """``self`` if every option is within its meaning, else a :class:`UsageError` naming each."""
        problems = []
        if self.time_limit_s is not None and not (_number(self.time_limit_s) and self.time_limit_s > 0):
            problems.append(f"time limit must be a positive number of seconds, got {self.time_limit_s!r}")
        if not (_number(self.mip_rel_gap) and 0 <= self.mip_rel_gap < 1):
            hint = f" (write {self.mip_rel_gap / 100:g} for {self.mip_rel_gap:g} %)" if _number(self.mip_rel_gap) and 1 <= self.mip_rel_gap < 100 else ""
            problems.append(f"gap must be a fraction in [0, 1){hint}, got {self.mip_rel_gap!r}")
        if self.threads is not None and not (isinstance(self.threads, int) and not isinstance(self.threads, bool)
                                             and self.threads >= 1):
            problems.append(f"threads must be a whole number >= 1, got {self.threads!r}")
        if self.node_limit is not None and not (isinstance(self.node_limit, int) and self.node_limit >= 0):
            problems.append(f"node limit must be a whole number >= 0, got {self.node_limit!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be a whole number >= 0, got {self.seed!r}")
        if self.handoff not in ("direct", "pyomo"):
            problems.append(f"handoff must be 'direct' or 'pyomo', got {self.handoff!r}")
        if self.warm_start not in ("auto", "on", "off"):
            problems.append(f"warm_start must be 'auto', 'on' or 'off', got {self.warm_start!r}")
        if self.split not in ("auto", "on", "off"):
            problems.append(f"split must be 'auto', 'on' or 'off', got {self.split!r}")
        if not (_number(self.warm_start_share) and 0 < self.warm_start_share < 1):
            problems.append(f"warm_start_share must be in (0, 1), got {self.warm_start_share!r}")
        if self.linking not in ("per-arc", "aggregated"):
            problems.append(f"linking must be 'per-arc' or 'aggregated', got {self.linking!r}")
        if problems:
            raise UsageError("invalid solve options: " + "; ".join(problems))
        return self

    @staticmethod
    def baseline(**kw) -> SolveOptions:
        """The textbook strong formulation handed to plain HiGHS: per-arc linking rows, no cover
        cuts, no warm start (``spokehub bench --formulation baseline``)."""
        return SolveOptions(warm_start="off", split="off", cover_cuts=False, linking="per-arc", **kw)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
