"""Error types that reach users.

Every problem with an instance is an :class:`Issue` naming the file, the row as a spreadsheet
numbers it (header = row 1, first data row = 2; ``None`` for whole-file or TOML problems), the
field (CSV column or dotted TOML key), what was expected and what was found.  The loader collects
all issues before raising one :class:`InstanceError`, so a user fixes a spreadsheet in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class Issue:
    """One problem found in the input files."""

    file: str
    row: int | None
    field: str | None
    expected: str
    got: str = ""
    severity: str = "error"  # "error" refuses the instance; "warning" is printed and carried on

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {'line' if self.file.endswith('.toml') else 'row'} {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        text = f"{where}: expected {self.expected}"
        if self.got != "":
            text += f", got {_shown(self.got)}"
        return text


def _shown(text: str) -> str:
    """Invisible characters in a message shown as escapes (a zero-width space in an id would
    otherwise print as nothing and the message would look wrong)."""
    import unicodedata

    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn") and ch not in "\n\t"
                   else ch for ch in str(text))


class SpokehubError(Exception):
    """Base class for errors spokehub reports to users without a traceback."""

    exit_code = 1


class InstanceError(SpokehubError):
    """The instance files are invalid; carries every :class:`Issue` found."""

    exit_code = 2

    def __init__(self, issues: list[Issue], source: str = ""):
        self.issues = [i for i in issues if i.severity == "error"]
        self.warnings = [i for i in issues if i.severity != "error"]
        self.source = source
        head = f"invalid instance {source}: " if source else "invalid instance: "
        n = len(self.issues)
        lines = [f"{head}{n} problem{'s' if n != 1 else ''} found"]
        lines += [f"  - {i}" for i in self.issues]
        super().__init__("\n".join(lines))


class UsageError(SpokehubError):
    """Wrong command-line use (for example an existing output folder without --force)."""

    exit_code = 2


class Shortfall(NamedTuple):
    """Tonnes of packs that must be collected but cannot be, in one region, chemistry and period
    (``period`` is ``None`` for a one-period instance)."""

    region_id: str
    chemistry: str
    period: str | None
    required_t: float
    shortfall_t: float


@dataclass
class InfeasibilityDiagnosis:
    """Why an instance has no feasible network.

    ``shortfall`` lists :class:`Shortfall` rows: the tonnes of packs that must be collected but
    cannot be, in a minimum-total-shortfall relaxation, per region, chemistry and period.
    ``causes`` are plain-language findings of the pre-solve screens, each naming its period.
    """

    shortfall: list[Shortfall] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)

    @property
    def total_shortfall_t(self) -> float:
        """Tonnes of packs that cannot be collected, over all regions, chemistries and periods."""
        return float(sum(row.shortfall_t for row in self.shortfall))

    def __str__(self) -> str:
        lines = ["the instance is infeasible: no network can meet every requirement."]
        if self.shortfall:
            periods = {r.period for r in self.shortfall}
            per_year = " in each year of the period named" if periods != {None} else ""
            lines.append(
                f"Minimum shortfall {self.total_shortfall_t:,.1f} t of packs/yr{per_year} that must be "
                f"collected but cannot be, by region and chemistry:"
            )
            for r in self.shortfall:
                per = f" in period {r.period}" if r.period is not None else ""
                lines.append(f"  - region {r.region_id}, {r.chemistry}{per}: {r.shortfall_t:,.1f} t short of "
                             f"{r.required_t:,.1f} t required")
        if self.causes:
            lines.append("Likely causes:")
            lines += [f"  - {c}" for c in self.causes]
        return "\n".join(lines)


class InfeasibleError(SpokehubError):
    """The instance has no feasible solution; carries a diagnosis."""

    exit_code = 3

    def __init__(self, diagnosis: InfeasibilityDiagnosis):
        self.diagnosis = diagnosis
        super().__init__(str(diagnosis))


class NoSolutionError(SpokehubError):
    """The solver stopped at a limit before finding any feasible solution."""

    exit_code = 4


class SolutionCheckError(SpokehubError):
    """A solution failed the independent checker: it is not written and not passed off as a
    result (a bug in spokehub or HiGHS; the violations say where)."""

    exit_code = 7

    def __init__(self, violations: list, what: str = "the solution"):
        self.violations = list(violations)
        shown = [f"  - {v}" for v in self.violations[:20]]
        more = len(self.violations) - len(shown)
        super().__init__(
            f"{what} failed the independent checker ({len(self.violations)} violation"
            f"{'s' if len(self.violations) != 1 else ''}), so nothing was written:\n" + "\n".join(shown)
            + (f"\n  ... and {more} more" if more > 0 else "")
            + "\nThis is a bug in spokehub or HiGHS: please report it with the instance and the command.")
