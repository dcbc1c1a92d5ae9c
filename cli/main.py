"""The `sortition` command: the group, its commands (one module per part of the tool), and
``run``, which turns errors the library did not foresee into "internal error" (exit 70).

``sortition --debug COMMAND`` shows the traceback of such an error and the library's log (the
``sortition`` loggers at DEBUG level: solver logs, timings) on stderr. The console script's entry
is ``sortition_cli.entry.main``, which installs the signal handling and then calls ``run``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence

import click
from sortition_cli.i18n import _, set_language
from sortition_cli.lazy import LazyGroup
from sortition_cli.reporting import INTERRUPTED

from sortition import __version__
from sortition.cancel import Interrupted, current
from sortition.i18n import LANGUAGES, language_from_environment

DEBUG_LOG_FORMAT = "%(relativeCreated)8.0f ms %(name)s: %(message)s"
_debug = {"on": False}  # set by the group's --debug, read by run() when a command fails


class _StderrHandler(logging.StreamHandler):
    """Writes each record to ``sys.stderr`` as it is at that moment (a test runner replaces it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


_debug_handler = _StderrHandler()
_debug_handler.setFormatter(logging.Formatter(DEBUG_LOG_FORMAT))


def early_language(args: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language before click has parsed the command line: a valid ``--lang`` among the
    group's options (the words before the command: ``sortition --debug --lang he select ...``),
    else the environment's. So an interrupt or a problem that comes before ``--lang``'s own
    callback is already in the language asked for (click then sets it again, or says what is
    wrong with a ``--lang`` that is not one of ``LANGUAGES``)."""
    for position, word in enumerate(args):
        if word == "--lang" or word.startswith("--lang="):
            value = word.partition("=")[2] if "=" in word else None
            if value is None and position + 1 < len(args):
                value = args[position + 1]
            if value in LANGUAGES:
                return value
            break
        if word == "--" or not word.startswith("-"):  # the command: its options follow
            break
    return language_from_environment(environ)


def interrupted_message(args: Sequence[str], environ: Mapping[str, str]) -> str:
    """The "interrupted" line in the language of ``early_language`` (for the console script's
    start-up, before ``run``)."""
    set_language(early_language(args, environ))
    return _(INTERRUPTED)


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--lang, or else the environment's language (gettext's lookup order, never setlocale).
    An explicit --lang is kept in the context for commands that have their own default language
    (``serve``'s page)."""
    if value is not None:
        ctx.meta["sortition.lang"] = value
    set_language(value if value is not None else language_from_environment(os.environ))


# The commands, one module per part of the tool: each module is imported only when its command
# is run, completed or its help shown (sortition_cli.lazy), so that `sortition --help` or
# `sortition verify` does not wait for every other command's libraries.
COMMANDS = {
    "check": "sortition_cli.selection:check",
    "select": "sortition_cli.selection:select",
    "commit": "sortition_cli.selection:commit",
    "draw": "sortition_cli.selection:draw",
    "replace": "sortition_cli.dropouts:replace",
    "alternates": "sortition_cli.dropouts:alternates",
    "verify": "sortition_cli.verify:verify",
    "demo": "sortition_cli.selection:demo",
    "generate": "sortition_cli.synthetic:generate",
    "audit": "sortition_cli.audit:audit",
    "invite": "sortition_cli.invite:invite",
    "match": "sortition_cli.invite:match",
    "generate-registry": "sortition_cli.synthetic:generate_registry_command",
    "new-key": "sortition_cli.privacy:new_key_command",
    "pseudonym": "sortition_cli.privacy:pseudonym_command",
    "groups": "sortition_cli.groups:groups",
    "serve": "sortition_cli.serve:serve",
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sortition")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    is_eager=True,  # before --help, so that `sortition --lang he --help` is in Hebrew
    expose_value=False,
    callback=_choose_language,
    help="Language of the messages (default: from LANGUAGE, LC_ALL, LC_MESSAGES or LANG, "
    "else English). Files and records are the same in every language.",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Show the library's log (solver logs, timings) on stderr, and the traceback of an "
    "internal error.",
)
def cli(debug: bool) -> None:
    """Draw citizens' assemblies by lot: fair, fast and verifiable."""
    _debug["on"] = debug
    debug_log(debug)


def debug_log(on: bool) -> None:
    """With ``on``, the ``sortition`` loggers at DEBUG level, written to stderr (the library only
    logs; the command decides where it goes); without, as Python leaves them (warnings and
    above, through logging's last resort)."""
    logger = logging.getLogger("sortition")
    if on:
        if _debug_handler not in logger.handlers:
            logger.addHandler(_debug_handler)
        logger.setLevel(logging.DEBUG)
    elif _debug_handler in logger.handlers:
        logger.removeHandler(_debug_handler)
        logger.setLevel(logging.NOTSET)


def run() -> None:
    """The commands, with any error the library did not foresee reported as a bug (exit 70):
    one line, or with ``--debug`` the traceback first."""
    set_language(early_language(sys.argv[1:], os.environ))  # until --lang's callback
    try:
        # Not click's standalone mode: it would turn an interrupt that arrives while it parses
        # the command line into "Aborted!" and exit 1.
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort as abort:
        interrupt = abort.__cause__
        if not isinstance(interrupt, KeyboardInterrupt):
            click.echo(_("Aborted!"), err=True)
            sys.exit(1)
        click.echo(_(INTERRUPTED), err=True)
        sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))
    except click.ClickException as error:  # bad usage: click's message and exit code (2)
        error.show()
        sys.exit(error.exit_code)
    except KeyboardInterrupt as interrupt:  # outside a command: while click parses, say
        click.echo(_(INTERRUPTED), err=True)
        sys.exit(getattr(interrupt, "exit_code", Interrupted.exit_code))
    except Exception as error:
        token = current()
        if token.cancelled and token.interruptible:
            # The interrupt's doing: Python raises it wherever the main thread is, and inside
            # a C extension's initialisation (OR-Tools, imported when a command first needs
            # it) it comes out as "ImportError: initialization failed".
            if _debug["on"]:
                traceback.print_exc(file=sys.stderr)
            click.echo(_(INTERRUPTED), err=True)
            sys.exit(token.exit_code)
        if _debug["on"]:
            traceback.print_exc(file=sys.stderr)
        click.echo(
            _("internal error: {error}").format(error=f"{type(error).__name__}: {error}"),
            err=True,
        )
        click.echo(
            _("this is a bug in sortition")
            if _debug["on"]
            else _("this is a bug in sortition; 'sortition --debug ...' shows the traceback"),
            err=True,
        )
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
