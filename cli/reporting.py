"""The CLI's one error decorator: library errors become a clean message and the documented exit
code; an interrupt becomes "interrupted; nothing was written"."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sortition_cli.i18n import N_, _, library_message, library_text

from sortition.cancel import Interrupted
from sortition.errors import InfeasibleError, Problem, SortitionError

# sortition.cancel.INTERRUPTED_MESSAGE, marked for the catalogue (a test checks they are equal)
INTERRUPTED = N_("interrupted; nothing was written")

F = TypeVar("F", bound=Callable[..., Any])


def problem_text(problem: Problem) -> str:
    """A problem of the library with its place, in the chosen language where the library marked
    its message for translation (``sortition.errors.problem``), else as the library wrote it."""
    return problem.text(library_message)


def reports_errors(command: F) -> F:
    """Turn library errors into a clean message on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SortitionError as error:
            click.echo(
                _("error ({heading}):").format(heading=library_message(error.heading)), err=True
            )
            for problem in error.problems:
                click.echo(f"  {problem_text(problem)}", err=True)
            if isinstance(error, InfeasibleError) and error.advice:
                click.echo(_("advice (smallest change that makes a panel possible):"), err=True)
                for line in error.advice:
                    click.echo(f"  {library_text(line)}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            click.echo(_(INTERRUPTED), err=True)
            sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))

    return wrapper  # type: ignore[return-value]
