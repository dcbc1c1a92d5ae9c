"""The command line's language: every message it shows goes through the ``cli`` catalogue
(sortition/locale/<language>/LC_MESSAGES/cli.po), the library's own messages through the
``library`` catalogue, click's through the ``click`` catalogue.

The language is chosen once, in the entry layer: ``sortition --lang en|he`` or else
``language_from_environment(os.environ)`` (``sortition_cli.main.run`` reads the environment; the
library never does).

Help texts are written in English where the commands are defined (docstrings, ``help=``) and
stay English in the command objects: they are translated when the help is shown, by the
``Command`` and ``Group`` classes below. So the language need not be known when the commands are
built (at import, before ``--lang`` is parsed), no lazy string has to pass for a ``str`` inside
click, and a help text another part of the tool adds is found by walking the command tree
(``help_messages``): scripts/messages extracts it, and tests/test_cli_i18n.py fails until it is
translated. Everything a command prints is wrapped in ``_()`` (with ``{name}`` placeholders,
filled in after translation), or marked with ``N_`` where it is defined and translated where it
is printed.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import click

from sortition.errors import translated
from sortition.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations

_current = {"language": DEFAULT_LANGUAGE}
HELP_OPTION_HELP = "Show this message and exit."  # click's own text, from its catalogue


def set_language(language: str) -> None:
    """Show every message from now on in ``language`` (one of ``LANGUAGES``), click's too."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _current["language"] = language
    _install_click_messages(language)


def language() -> str:
    """The language messages are shown in."""
    return _current["language"]


def _(message: str) -> str:
    """``message`` (English, as written in the code) in the chosen language."""
    if not message:  # gettext("") is the catalogue's header
        return message
    return translations("cli", _current["language"]).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the chosen language."""
    return translations("cli", _current["language"]).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined; ``_`` translates it when shown."""
    return message


def library_message(message: str) -> str:
    """A message of the library (an error's heading, a problem's template: marked with
    ``sortition.errors.N_``) in the chosen language."""
    if not message:
        return message
    return translations("library", _current["language"]).gettext(message)


def library_text(text: object) -> str:
    """A text the library returned (a warning, a line of advice, a problem) in the chosen
    language where the library made it translatable (``sortition.errors.Message``,
    ``Problem``), else as it is."""
    return translated(text, library_message)


# What click writes into its usage line and its messages from its parameter types: English
# words it never passes through gettext, translated here (scripts/catalogues.py adds them to the
# ``click`` catalogue). A parameter type's name ("integer range", "File") fills the placeholder
# ``number_type`` of "not a valid ..." and ``name`` of the path messages ("File 'x' is a
# directory."); the usage line shows the placeholders of the options and the subcommand.
USAGE_PLACEHOLDERS = ("[OPTIONS]", "COMMAND [ARGS]...")
TYPE_NAMES = ("integer", "integer range", "float", "float range", "file", "directory", "path")
# The placeholders of the help's option lines ("--pool FILE", "-k INTEGER RANGE"): click's type
# names and the tool's own metavars; a choice ("[legacy|leximin|...]") is shown as it is typed,
# and an argument's placeholder ("RECORD") as the usage line and its errors name it.
METAVARS = (
    "DIRECTORY",
    "FILE",
    "FLOAT",
    "FLOAT RANGE",
    "ID",
    "INTEGER",
    "INTEGER RANGE",
    "TEXT",
)


def click_message(message: str) -> str:
    """One of click's messages (or of ``USAGE_PLACEHOLDERS``, ``TYPE_NAMES``, ``METAVARS``) in
    the chosen language."""
    if not message:
        return message
    return translations("click", _current["language"]).gettext(message)


def _type_name(name: object) -> object:
    """A parameter type's name as click fills it in ("integer", "File": the name, title-cased
    for a path) in the chosen language; anything else as it is."""
    if isinstance(name, str) and name.lower() in TYPE_NAMES:
        translated = click_message(name.lower())
        return name if translated == name.lower() else translated
    return name


class _ClickTemplate(str):
    """A click message in the chosen language whose ``format`` translates the parameter type's
    name click fills in (only in the placeholders that hold one: ``number_type``, and ``name``
    beside a ``filename``; an option's or a command's name stays as typed)."""

    def format(self, *args: object, **kwargs: object) -> str:
        for key in ("number_type", "name"):
            if key in kwargs and (key == "number_type" or "filename" in kwargs):
                kwargs[key] = _type_name(kwargs[key])
        return str.format(self, *args, **kwargs)


def _install_click_messages(language: str) -> None:
    """click's own messages ("Usage:", "Missing option ...", "Show this message and exit.") in
    ``language``: click's modules call ``gettext.gettext`` as ``_``, bound when they were
    imported, so each module's ``_`` and ``ngettext`` are pointed at the ``click`` catalogue
    (through ``_ClickTemplate``, so that the type names click fills in are translated too)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types
    import click.utils

    catalogue = translations("click", language)

    def gettext(message: str) -> str:
        return _ClickTemplate(catalogue.gettext(message))

    def ngettext(singular: str, plural: str, n: int) -> str:
        return _ClickTemplate(catalogue.ngettext(singular, plural, n))

    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.termui,
        click.types,
        click.utils,
    ):
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def help_text(text: str | None) -> str | None:
    """A command's help (its docstring, as click cleans it) in the chosen language."""
    return None if text is None else _(inspect.cleandoc(text))


def epilog_text(text: str | None) -> str | None:
    """An epilog line by line: the heading and the prose lines are in the catalogue
    (cli/examples.py marks them), the command lines are not and stay as typed."""
    if text is None:
        return None
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + _(line.strip()) if line.strip() else line
        for line in text.split("\n")
    )


def option_help(text: str | None) -> str | None:
    """An option's help in the chosen language: ours from the ``cli`` catalogue, click's own
    (--help, --version: made in English when the command was built) from ``click``'s."""
    if not text:
        return text
    translated = _(text)
    if translated == text:
        translated = translations("click", _current["language"]).gettext(text)
    return translated


class _Translated(click.Command):
    """Help, short help, epilog and the options' help shown in the chosen language."""

    @contextlib.contextmanager
    def _translated(self, ctx: click.Context | None = None) -> Iterator[None]:
        params = self.params if ctx is None else self.get_params(ctx)  # with --help
        options = [p for p in params if isinstance(p, click.Option)]
        saved = (self.help, self.short_help, self.epilog, [p.help for p in options])
        metavars = [p.metavar for p in options]
        try:
            self.help = help_text(self.help)
            self.short_help = help_text(self.short_help)
            self.epilog = epilog_text(self.epilog)
            for option in options:
                option.help = option_help(option.help)
            if ctx is not None:  # an option line's placeholder ("--pool FILE"); an argument's
                for option in options:  # stays, as the usage line and its errors name it
                    shown = option.make_metavar(ctx)
                    if shown in METAVARS:
                        option.metavar = click_message(shown)
            yield
        finally:
            self.help, self.short_help, self.epilog, helps = saved
            for option, text in zip(options, helps, strict=True):
                option.help = text
            for option, metavar in zip(options, metavars, strict=True):
                option.metavar = metavar

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        # click makes --help once, its text in the language of that moment: keep it English,
        # like every other help text, and translate it when shown.
        fresh = getattr(self, "_help_option", None) is None
        option = super().get_help_option(ctx)
        if fresh and option is not None:
            option.help = HELP_OPTION_HELP
        return option

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        # the usage line ("sortition select [OPTIONS]"), in --help and in a usage error
        return [
            click_message(piece) if piece in USAGE_PLACEHOLDERS else piece
            for piece in super().collect_usage_pieces(ctx)
        ]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._translated(ctx):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with self._translated():
            return super().get_short_help_str(limit)


class Command(_Translated):
    """A command whose help is shown in the chosen language."""


class Group(_Translated, click.Group):
    """The group of commands, its help and its commands' list in the chosen language."""


def command(*args: Any, **kwargs: Any) -> Any:
    """``click.command`` making a ``Command``: every command of the tool is defined with it."""
    return click.command(*args, cls=Command, **kwargs)


def help_messages(group: click.Group) -> list[str]:
    """Every help text of ``group`` and its commands as the catalogue holds it: the messages
    scripts/messages adds to cli.pot beside the ``_`` and ``N_`` calls of the code."""
    found: list[str] = []
    for cmd in [group, *(group.commands[name] for name in sorted(group.commands))]:
        for text in (cmd.help, cmd.short_help):
            if text:
                found.append(inspect.cleandoc(text))
        for param in cmd.params:
            if isinstance(param, click.Option) and param.help:
                found.append(param.help)
    return list(dict.fromkeys(found))
