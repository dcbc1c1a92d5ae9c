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
from sortition.errors import (
    Advice,
    InfeasibleError,
    Problem,
    SortitionError,
    split_advice,
)

# sortition.cancel.INTERRUPTED_MESSAGE, marked for the catalogue (a test checks they are equal)
INTERRUPTED = N_("interrupted; nothing was written")

F = TypeVar("F", bound=Callable[..., Any])


def problem_text(problem: Problem) -> str:
    """A problem of the library with its place, in the chosen language where the library marked
    its message for translation (``sortition.errors.problem``), else as the library wrote it."""
    return problem.text(library_message)


def advice_text(line: str, command: str | None) -> str:
    """A line of the library's advice as the command line says it, in the chosen language: a
    time limit that passed before the smallest change was found names the option that gives a
    longer one (``replace``'s own, which alone sees the derived quotas; else ``check``'s)."""
    if isinstance(line, Advice) and line.kind == Advice.TIME_LIMIT:
        seconds = dict(line.params)["seconds"]
        if command == "replace":
            return _(
                "the time limit ({seconds} s) passed before the smallest change of the quotas "
                "was found: the same 'sortition replace' with a longer --time-limit can find it"
            ).format(seconds=seconds)
        return _(
            "the time limit ({seconds} s) passed before the smallest change of the quotas was "
            "found: 'sortition check' with a longer --time-limit can find it"
        ).format(seconds=seconds)
    return library_text(line)


def show_advice(advice: list[str], command: str | None) -> None:
    """The advice of an ``InfeasibleError`` on stderr: a change of the quotas under its own
    heading, any other advice (a time limit, a smaller k ...) under "advice:"."""
    changes, others = split_advice(advice)
    if changes:
        click.echo(_("advice (smallest change that makes a panel possible):"), err=True)
        for change in changes:
            click.echo(f"  {advice_text(change, command)}", err=True)
    if others:
        click.echo(_("advice:"), err=True)
        for other in others:
            click.echo(f"  {advice_text(other, command)}", err=True)


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
                context = click.get_current_context(silent=True)
                show_advice(error.advice, None if context is None else context.command.name)
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            click.echo(_(INTERRUPTED), err=True)
            sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))

    return wrapper  # type: ignore[return-value]
