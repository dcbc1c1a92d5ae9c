"""The CLI's one error decorator: library errors become a clean message and the documented exit
code; an interrupt becomes "interrupted; nothing was written"."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from sortition.cancel import INTERRUPTED_MESSAGE as INTERRUPTED
from sortition.cancel import Interrupted
from sortition.errors import InfeasibleError, SortitionError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn library errors into a clean message on stderr and the documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SortitionError as error:
            click.echo(f"error ({error.heading}):", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            if isinstance(error, InfeasibleError) and error.advice:
                click.echo("advice (smallest change that makes a panel possible):", err=True)
                for line in error.advice:
                    click.echo(f"  {line}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:
            click.echo(INTERRUPTED, err=True)
            sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))

    return wrapper  # type: ignore[return-value]
