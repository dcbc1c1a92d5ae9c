"""Ctrl-C while the command starts: at every import of its start-up (the console script's own,
the command's module loaded when the command is chosen, pandas and OR-Tools loaded inside it,
an OR-Tools extension that is initialising), "interrupted; nothing was written" and exit 130
(143 for SIGTERM), never a traceback or "internal error".

The interrupt is sent by the process itself at the moment a given module starts to be imported
(an audit hook on the "import" event; the console script's entry is run as the script runs it),
so each case is exact and does not depend on timing. The loop over delays after a start, as a
user's Ctrl-C comes, is the slow test at the end: timing-dependent, so it only says what may
happen before the command's own code runs at all (Python's start-up, tests don't pin it).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import EXAMPLE, sortition_command

REPO = Path(__file__).resolve().parents[1]
MESSAGE = "interrupted; nothing was written"
CHECK = ["check", "--pool", str(EXAMPLE / "pool.csv"), "--quotas", str(EXAMPLE / "quotas.csv")]
CHECK += ["-k", "20"]
HOOKED = """
import os, signal, sys
module, signum = sys.argv[1], int(sys.argv[2])
def hook(event, args):
    if event == "import" and args[0] == module:
        os.kill(os.getpid(), signum)
sys.addaudithook(hook)
sys.argv = ["sortition", *sys.argv[3:]]
from sortition_cli.entry import main
main()
"""


def interrupted_at(module: str, args: list[str], signum: int = signal.SIGINT) -> tuple[int, str]:
    """Run the command, sending ``signum`` to itself when ``module`` starts to be imported;
    its exit code and stderr."""
    environment = {**os.environ, "LANGUAGE": "en"}
    done = subprocess.run(
        [sys.executable, "-c", HOOKED, module, str(int(signum)), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    "module",
    [
        "sortition.cancel",  # the console script's first imports, before its handling is in place
        "sortition_cli.main",  # the group
        "click",
        "sortition.selection.service",  # the command's module, loaded when check is chosen
        "pandas",
        "ortools.util",  # OR-Tools' extension, initialising: an ImportError if not held
        "ortools.util.python.sorted_interval_list",
    ],
)
def test_an_interrupt_at_each_step_of_the_start_is_clean(module: str) -> None:
    code, stderr = interrupted_at(module, CHECK)
    assert (code, stderr.strip()) == (130, MESSAGE), stderr


def test_an_interrupt_while_a_command_imports_what_it_runs_is_clean(tmp_path: Path) -> None:
    """verify imports the library when it runs (its --help needs none of it)."""
    code, stderr = interrupted_at("ortools.util", ["verify", str(tmp_path / "record.json")])
    assert (code, stderr.strip()) == (130, MESSAGE), stderr


def test_sigterm_at_the_start_is_143() -> None:
    code, stderr = interrupted_at("ortools.util", CHECK, signal.SIGTERM)
    assert (code, stderr.strip()) == (143, MESSAGE), stderr


def _outcome(process: subprocess.Popen[str]) -> str:
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 130 and stderr.strip() == MESSAGE:
        return "clean"
    # Python's own start-up, before the console script's code runs: the default SIGINT action
    # (-2), or a KeyboardInterrupt in the site module or in importing the entry module itself
    ours = (f'File "{REPO / "cli"}{os.sep}', f'File "{REPO / "sortition"}{os.sep}')
    project = [line for line in stderr.splitlines() if line.strip().startswith(ours)]
    if process.returncode in (-2, 1) and not project:
        return "before the entry"
    return f"{process.returncode}: {stderr[-800:]}"


@pytest.mark.slow
def test_ctrl_c_in_the_first_200_ms() -> None:
    """SIGINT 0 .. 200 ms after the start, as a user's Ctrl-C comes: every outcome is the clean
    one, or an end inside Python's own start-up before any of the command's code ran (which no
    code of the command can catch: tens of ms with an editable install, whose import finder the
    site module loads, a few ms otherwise). Timing-dependent, so slow: it says what a user may
    see, the exact cases are pinned above."""
    outcomes: collections.Counter[str] = collections.Counter()
    for delay in [step / 1000 for step in range(0, 200, 5)]:
        process = subprocess.Popen(
            [*sortition_command(), *CHECK],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LANGUAGE": "en"},
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        outcomes[_outcome(process)] += 1
    assert set(outcomes) <= {"clean", "before the entry"}, outcomes
    assert outcomes["clean"] > 0
