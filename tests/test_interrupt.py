"""Ctrl-C (SIGINT) and SIGTERM at any moment: "interrupted; nothing was written", exit 130 or 143,
nothing written, no traceback. The solvers are stopped through their own stop mechanisms, so a
run stops within moments even in the middle of a long CP-SAT or GLOP solve (sortition.cancel)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sortition.cancel import CancelToken, Interrupted, cancellable
from sortition.engine.objectives import fair_distribution
from sortition.selection.service import load_input
from tests.helpers import runnable_instance, select_args, sortition_command


def _interrupt(
    args: list[str], cwd: Path, after: float, signum: int = signal.SIGINT, group: bool = False
) -> tuple[int, str, float]:
    """Start the command, send ``signum`` after ``after`` seconds (to its whole process group,
    as a terminal's Ctrl-C does, when ``group``); return its exit code, stderr and how long it
    took to stop. A command still running 60 s after the signal is killed with its whole
    process group (its workers too), so that a failure leaves nothing behind."""
    process = subprocess.Popen(
        sortition_command() + args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(after)
    sent = time.monotonic()
    if group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
        message = (
            f"still running 60 s after signal {signum} (the command, or workers it left behind "
            f"holding its pipes), killed; stderr:\n{stderr}"
        )
        raise AssertionError(message) from None
    return process.returncode, stderr, time.monotonic() - sent


def _assert_nothing_written(cwd: Path) -> None:
    assert sorted(p.name for p in cwd.iterdir()) == [], "something was written"


def _leximin(case_name: str, *extra: str) -> list[str]:
    case = runnable_instance(case_name)
    return select_args(
        case.pool, case.quotas, case.k, *extra, algorithm="leximin", seed="s", out="out"
    )


@pytest.mark.parametrize(
    ("after", "signum", "code"),
    [
        (0.1, signal.SIGINT, 130),  # while the command's modules are imported
        (0.6, signal.SIGINT, 130),  # importing OR-Tools
        (3.0, signal.SIGINT, 130),  # the relaxation's LPs or the walk's CP-SAT calls
        (6.0, signal.SIGINT, 130),
        (3.0, signal.SIGTERM, 143),
    ],
)
def test_select_stops_at_once_and_writes_nothing(
    tmp_path: Path, after: float, signum: int, code: int
) -> None:
    # LEXIMIN over people (about 20 s here): ces11_k60 over types now ends in about 5 s, before
    # a signal sent at 6 s would arrive
    run = _leximin("ces11_k60", "--per-person")
    for _ in range(3):
        returncode, stderr, took = _interrupt(run, tmp_path, after, signum)
        _assert_nothing_written(tmp_path)
        if "init_import_site" not in stderr and not (returncode == -signum and not stderr):
            break
        # the signal came in the interpreter's own start-up (before its handler: killed by the
        # signal, silent; or in its site module, the .pth files of an editable install: about
        # 40 ms here), before any code of ours runs, which tests/test_interrupt_startup.py
        # covers; under load (two test workers on two cores) a signal at 0.1 s can, so it is
        # sent again to a new run
    assert returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted; nothing was written", stderr
    assert "Traceback" not in stderr
    assert took < 10, f"took {took:.1f} s to stop"
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize("after", [0.7, 1.2, 2.5])
def test_audit_with_worker_processes_stops_cleanly(tmp_path: Path, after: float) -> None:
    """Ctrl-C at a terminal reaches every process of the group, the sampling workers too."""
    case = runnable_instance("ces11_k60")
    args = [
        "audit",
        "--pool",
        str(case.pool),
        "--quotas",
        str(case.quotas),
        "-k",
        "60",
        "--algorithms",
        "legacy",
        "--draws",
        "2000",
        "--workers",
        "2",
        "--seed",
        "s",
        "--out",
        "out",
    ]
    returncode, stderr, _took = _interrupt(args, tmp_path, after, group=True)
    assert returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted; nothing was written"
    _assert_nothing_written(tmp_path)


def test_a_cancel_token_stops_a_running_solve() -> None:
    """The web page's cancel button: cancel the job's token from another thread."""
    case = runnable_instance("ces11_k60")
    loaded = load_input(case.pool, case.quotas, case.k)
    token = CancelToken()
    timer = threading.Timer(2.0, token.cancel)
    started = time.monotonic()
    timer.start()
    with pytest.raises(Interrupted), cancellable(token):
        fair_distribution(loaded.instance, "leximin")
    assert time.monotonic() - started < 8
    timer.cancel()
    token.reset()
    assert not token.cancelled


@pytest.mark.parametrize("reason", [Interrupted, KeyboardInterrupt])
def test_an_interrupt_while_click_parses_is_an_interrupt_not_aborted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reason: type
) -> None:
    """Under load a Ctrl-C can land while click still parses the command line; click's
    standalone mode would say "Aborted!" and exit 1."""
    from sortition_cli.main import cli, run

    def interrupted(*args: object, **kwargs: object) -> None:
        raise reason()

    monkeypatch.setattr(cli, "make_context", interrupted)
    monkeypatch.setattr(sys, "argv", ["sortition", "check", "--help"])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted; nothing was written"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--version"], 0, "sortition"),
        (["check", "--help"], 0, "Usage:"),
        (["check", "--no-such-option"], 2, "No such option"),
        (["no-such-command"], 2, "No such command"),
    ],
)
def test_run_keeps_click_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    says: str,
) -> None:
    from sortition_cli.main import run

    monkeypatch.setattr(sys, "argv", ["sortition", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == code
    captured = capsys.readouterr()
    assert says in captured.out + captured.err
