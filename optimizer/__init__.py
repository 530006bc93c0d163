"""spokehub: design Spoke & Hub recycling networks for end-of-life EV batteries.

Pipeline (each stage callable alone; :func:`solve` runs them all)::

    inst = load_instance("instances/demo")        # instance: schema, load, validate
    built = build_model(inst)                     # model: Pyomo MILP over sparse sets
    sol = solve(inst, time_limit=60)              # solve: HiGHS, status, gap, timings
    problems = check_solution(inst, sol)          # independent checker (no Pyomo)
    write_solution(sol, inst, "results/demo")     # report: CSV/JSON/map, atomically
"""

from .check import Violation, check_solution
from .errors import InfeasibleError, InstanceError, Issue, NoSolutionError
from .highs import SolverError
from .instance import Chemistry, Instance, Parameters
from .load import load_instance, make_instance, save_instance
from .model.build import ModelOptions, build_model
from .options import SolveOptions
from .report.tables import summary_text, write_solution
from .solution import Solution, SolveStatus
from .solver import solve
from .version import __version__

__all__ = [
    "Chemistry", "Instance", "InstanceError", "InfeasibleError", "Issue", "ModelOptions", "NoSolutionError",
    "Parameters", "Solution", "SolveOptions", "SolverError", "SolveStatus", "Violation", "build_model", "check_solution",
    "load_instance", "make_instance", "save_instance", "solve", "summary_text", "write_solution", "__version__",
]
