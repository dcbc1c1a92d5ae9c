"""The `sortition` command: the group, its commands (one module per part of the tool), and the
entry that turns errors the library did not foresee into "internal error" (exit 70)."""

from __future__ import annotations

import os
import sys

import click
from sortition_cli.audit import audit
from sortition_cli.invite import invite, match
from sortition_cli.reporting import INTERRUPTED
from sortition_cli.selection import check, commit, demo, draw, select
from sortition_cli.synthetic import generate, generate_registry_command
from sortition_cli.verify import verify

from sortition import __version__
from sortition.cancel import Interrupted


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sortition")
def cli() -> None:
    """Draw citizens' assemblies by lot: fair, fast and verifiable."""


for _command in (
    check,
    select,
    commit,
    draw,
    verify,
    demo,
    generate,
    audit,
    invite,
    match,
    generate_registry_command,
):
    cli.add_command(_command)


def run() -> None:
    """The commands, with any error the library did not foresee reported as a bug (exit 70)."""
    if os.environ.get("SORTITION_DEBUG"):
        cli()
        return
    try:
        cli()
    except KeyboardInterrupt as interrupt:  # outside a command: while click parses, say
        click.echo(INTERRUPTED, err=True)
        sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))
    except Exception as error:
        click.echo(
            f"internal error: {type(error).__name__}: {error}\n"
            "this is a bug in sortition; set SORTITION_DEBUG=1 to see the traceback",
            err=True,
        )
        sys.exit(70)


def main() -> None:
    """The console script's entry (``sortition_cli.entry.main``): signal handling, then ``run``."""
    from sortition_cli.entry import main as entry

    entry()


if __name__ == "__main__":
    main()
