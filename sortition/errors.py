"""Errors as values with a place, raised as one exception family the CLI turns into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is (file, row, column) when known.

    Rows are counted as a spreadsheet shows them: the header is row 1, the first person row 2.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        place = []
        if self.file is not None:
            place.append(self.file)
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.column is not None:
            place.append(f"column '{self.column}'")
        return f"{', '.join(place)}: {self.message}" if place else self.message


class SortitionError(Exception):
    """Base of every error the tool reports to a user; carries the exit code."""

    exit_code = 2
    heading = "error"  # what the command line prints before the problems

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(SortitionError):
    """A file cannot be read or validated, or the arguments are wrong (exit 2)."""

    exit_code = 2
    heading = "bad input"


class InfeasibleError(SortitionError):
    """The quotas cannot be met (exit 3); ``advice`` explains how to relax them."""

    exit_code = 3
    heading = "the quotas cannot be met"

    def __init__(self, problems: list[Problem] | str, advice: list[str] | None = None) -> None:
        super().__init__(problems)
        self.advice = advice or []


class TimeLimitError(SortitionError):
    """A time limit stopped the work (exit 4)."""

    exit_code = 4
    heading = "time limit"


class LotteryCoverageError(InfeasibleError):
    """No uniform lottery over the M panels asked for puts on a panel everyone whose probability
    is at least 1/M (exit 3, like quotas that cannot be met: the request cannot be satisfied)."""

    heading = "no lottery of that many panels gives everyone their chance"


def require_file(path: Path) -> None:
    """Raise an InputError naming ``path`` unless it is an existing file (not a folder)."""
    if path.is_dir():
        raise InputError([Problem("is a folder, not a file", file=str(path))])
    if not path.exists():
        raise InputError([Problem("file not found", file=str(path))])
