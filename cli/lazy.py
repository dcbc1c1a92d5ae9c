"""Commands loaded when they are used: ``sortition verify`` imports the verify command's module
and no other, and ``sortition --help`` imports none (the command modules pull in pandas, NumPy
and OR-Tools, a second or more of start-up).

``LazyGroup`` is click's group with its ``commands`` a ``LazyCommands``: a mapping from each
command's name to the command, where a command named in ``lazy`` (``"module:attribute"``) is
imported the first time it is looked up. Everything that asks the group for a command (click
running it or showing its help, shell completion, the tests) gets the real command object; the
group's own ``--help`` lists the commands by their docstrings, read from the modules' source
(``source_help``) without importing them: the same text, translated and shortened the same way,
as the commands' own help (tests/test_cli_lazy.py checks it, in both languages).
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import click
from sortition_cli.i18n import Command, Group, click_message

from sortition.cancel import current


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands by name: those in ``lazy`` (name -> ``"module:attribute"``) are
    imported on first lookup and kept; ``in``, ``len`` and iteration import nothing."""

    def __init__(self, lazy: Mapping[str, str]) -> None:
        self.lazy = dict(lazy)
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded and name in self.lazy:
            module, _, attribute = self.lazy[name].partition(":")
            # Importing pandas and OR-Tools takes a second or two, and an interrupt inside an
            # extension module's initialisation surfaces as an ImportError: hold interrupts
            # while the module is imported (as the console script does at start-up), then stop.
            token = current()
            with token.holding():
                found = importlib.import_module(module)
            if token.cancelled and token.interruptible:
                token.raise_if_cancelled()
            command = getattr(found, attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[name]} is not a click command")
            self.loaded[name] = command
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        found = name in self
        self.loaded.pop(name, None)
        self.lazy.pop(name, None)
        if not found:
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.loaded or name in self.lazy

    def __iter__(self) -> Iterator[str]:
        return iter({**self.lazy, **self.loaded})

    def __len__(self) -> int:
        return len({**self.lazy, **self.loaded})

    def listed(self, name: str) -> click.Command:
        """The command as the group's ``--help`` lists it: the command itself when it is loaded,
        else a stand-in with its help read from the source (the command when the source cannot
        be read: an installation without .py files)."""
        if name in self.loaded or name not in self.lazy:
            return self[name]
        module, _, attribute = self.lazy[name].partition(":")
        text = source_help(module, attribute)
        return self[name] if text is None else Command(name, help=text)


class LazyGroup(Group):
    """A ``Group`` (help in the chosen language) whose commands are imported when used."""

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: LazyCommands = LazyCommands(lazy or {})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own, with each command as listed() gives it (no module imported)
        commands = [(name, self.commands.listed(name)) for name in self.list_commands(ctx)]
        commands = [(name, command) for name, command in commands if not command.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
        with formatter.section(click_message("Commands")):
            formatter.write_dl(rows)


def source_help(module: str, attribute: str) -> str | None:
    """The docstring of function ``attribute`` in ``module``'s source, cleaned as click cleans a
    command's help, without importing the module (its parent package is imported to find it);
    None when the source or the function cannot be found."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    for node in _parsed(spec.origin).body:
        if isinstance(node, ast.FunctionDef) and node.name == attribute:
            return ast.get_docstring(node, clean=True)
    return None


@functools.cache
def _parsed(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
