"""The command line starts without importing what its command does not use
(sortition_cli.lazy): ``sortition --help`` and ``--version`` import no command's module and no
pandas, NumPy or OR-Tools; a command imports its own module only; the group's --help lists every
command as its own help begins, in English and in Hebrew. How fast it starts is measured, not
asserted (the report of the change gives the numbers): these tests check what is imported."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import click
import pytest
from sortition_cli.i18n import set_language
from sortition_cli.lazy import LazyCommands, source_help
from sortition_cli.main import COMMANDS, cli

from tests.helpers import run_cli

HEAVY = ("pandas", "numpy", "ortools", "pyarrow", "scipy", "matplotlib")
COMMAND_MODULES = sorted({spec.partition(":")[0] for spec in COMMANDS.values()})


def imported_after(*args: str) -> tuple[int, set[str], str]:
    """Run ``sortition ARGS`` in a fresh interpreter (as the console script does, from
    ``sortition_cli.entry``); its exit code, the modules of interest it had imported at exit,
    and its stdout."""
    watched = [*HEAVY, *COMMAND_MODULES]
    code = (
        "import atexit, sys\n"
        f"watched = {watched!r}\n"
        "atexit.register(lambda: sys.stderr.write('IMPORTED ' + ' '.join(m for m in watched "
        "if m in sys.modules) + '\\n'))\n"
        f"sys.argv = ['sortition', *{list(args)!r}]\n"
        "from sortition_cli.entry import main\n"
        "main()\n"
    )
    environment = {**os.environ, "LANGUAGE": "en"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
    )
    line = next(ln for ln in done.stderr.splitlines() if ln.startswith("IMPORTED"))
    return done.returncode, set(line.split()[1:]), done.stdout


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["--lang", "he", "--help"]])
def test_the_group_alone_imports_no_command(args: list[str]) -> None:
    code, imported, stdout = imported_after(*args)
    assert code == 0
    assert imported == set(), imported
    if "--help" in args:
        assert "verify" in stdout and "generate-registry" in stdout


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["verify", "--help"], "sortition_cli.verify"),
        (["new-key", "--help"], "sortition_cli.privacy"),
        (["serve", "--help"], "sortition_cli.serve"),
    ],
)
def test_a_command_imports_its_own_module_only(args: list[str], module: str) -> None:
    """Its help included; these three need none of the heavy libraries to show it (the options
    module imports the library only where a command uses it)."""
    code, imported, stdout = imported_after(*args)
    assert code == 0 and "Example:" in stdout
    assert imported == {module}, imported


def test_select_imports_what_it_needs() -> None:
    code, imported, _ = imported_after("select", "--help")
    assert code == 0
    assert "sortition_cli.selection" in imported and "pandas" in imported
    assert "sortition_cli.invite" not in imported and "sortition_cli.audit" not in imported


@pytest.mark.parametrize("language", ["en", "he"])
def test_the_listing_is_each_command_s_own_help(language: str) -> None:
    """The group's --help lists a command that is not loaded by its docstring read from the
    source: the same text, translated and shortened the same way, as the command's own."""
    set_language(language)
    try:
        for name, spec in COMMANDS.items():
            module, _, attribute = spec.partition(":")
            loaded = cli.commands[name]
            assert source_help(module, attribute) == inspect.cleandoc(loaded.help or ""), name
            stand_in = LazyCommands({name: spec})
            listed = stand_in.listed(name)
            assert listed is not loaded and name not in stand_in.loaded  # nothing imported
            for limit in (30, 45, 57, 120):
                assert listed.get_short_help_str(limit) == loaded.get_short_help_str(limit)
    finally:
        set_language("en")


def test_every_command_is_registered_and_runs_its_help() -> None:
    assert sorted(cli.commands) == sorted(COMMANDS)
    for name in COMMANDS:
        assert isinstance(cli.commands[name], click.Command)
        assert run_cli([name, "--help"]).exit_code == 0


def test_the_lazy_mapping() -> None:
    commands = LazyCommands({"verify": "sortition_cli.verify:verify"})
    assert "verify" in commands and len(commands) == 1 and list(commands) == ["verify"]
    assert commands["verify"].name == "verify" and "verify" in commands.loaded
    probe = click.Command("probe")
    commands["probe"] = probe
    assert sorted(commands) == ["probe", "verify"] and commands["probe"] is probe
    del commands["probe"]
    with pytest.raises(KeyError):
        del commands["probe"]
    with pytest.raises(KeyError):
        commands["nothing"]
    wrong = LazyCommands({"x": "sortition_cli.main:COMMANDS"})
    with pytest.raises(TypeError):
        wrong["x"]


def test_shell_completion_lists_the_commands() -> None:
    environment = {
        **os.environ,
        "_SORTITION_COMPLETE": "bash_complete",
        "COMP_WORDS": "sortition ver",
        "COMP_CWORD": "1",
    }
    code = "import sys; sys.argv = ['sortition']; from sortition_cli.entry import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120
    )
    assert "plain,verify" in done.stdout.splitlines(), done.stdout + done.stderr
