"""How a solve ended, as data (the solve layer's vocabulary; solutions carry it)."""

from __future__ import annotations

from enum import StrEnum


class SolveStatus(StrEnum):
    """The outcome of a solve."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible (limit)"  # stopped at a time/node limit with a solution and a gap
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no solution (limit)"  # stopped at a limit before any solution was found

    @property
    def has_solution(self) -> bool:
        """Whether a network comes with this status."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
