"""The first "interrupted" line follows --lang or the environment before click has parsed the
command line: while the console script imports the command's modules, or while click parses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sortition_cli.i18n import set_language

from tests.helpers import EXAMPLE, sortition_command


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


@pytest.mark.parametrize(
    ("args", "environment", "expected"),
    [
        (["--lang", "he", "select"], {}, "he"),
        (["--lang=he", "check"], {}, "he"),
        (["--debug", "--lang", "he", "check", "--pool", "p.csv"], {}, "he"),
        (["--lang", "en", "select"], {"LANG": "he_IL.UTF-8"}, "en"),
        (["select"], {"LANGUAGE": "he"}, "he"),
        (["select", "--lang", "he"], {}, "en"),  # a command's own option, not the group's
        (["serve", "--lang", "he"], {"LANG": "C.UTF-8"}, "en"),  # serve's page language
        (["--lang", "xx", "select"], {"LANG": "he_IL.UTF-8"}, "he"),  # click says what is wrong
        (["--lang"], {}, "en"),
        ([], {}, "en"),
    ],
)
def test_the_language_before_click_parses(
    args: list[str], environment: dict[str, str], expected: str
) -> None:
    from sortition_cli.main import early_language

    assert early_language(args, environment) == expected


def test_an_interrupt_while_click_parses_follows_lang(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sortition_cli.main import cli, run

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "make_context", interrupted)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    cases = {
        ("--lang", "he", "check", "--help"): "הופסק; שום דבר לא נכתב",
        ("check", "--help"): "interrupted; nothing was written",
    }
    for args, line in cases.items():
        monkeypatch.setattr(sys, "argv", ["sortition", *args])
        with pytest.raises(SystemExit) as stop:
            run()
        assert stop.value.code == 130
        assert capsys.readouterr().err.strip().splitlines()[-1] == line
    monkeypatch.setenv("LANG", "he_IL.UTF-8")
    monkeypatch.setattr(sys, "argv", ["sortition", "check", "--help"])
    with pytest.raises(SystemExit):
        run()
    assert capsys.readouterr().err.strip().splitlines()[-1] == "הופסק; שום דבר לא נכתב"


def test_an_interrupt_at_start_up_follows_lang(tmp_path: Path) -> None:
    """As a user types it: Ctrl-C while the command's modules are still imported (the console
    script holds it until they are, then says so) is said in the language of --lang."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")
    }
    environment["LANG"] = "C.UTF-8"
    args = ["--lang", "he", "check", "--pool", EXAMPLE / "pool.csv", "--quotas",
            EXAMPLE / "quotas.csv", "-k", "20"]  # fmt: skip
    process = subprocess.Popen(
        [*sortition_command(), *map(str, args)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    )
    # Ctrl-C before the entry's first lines ends Python itself (cli/entry.py): wait until they
    # have caught SIGTERM, which Python leaves to the default (a fixed sleep was too short on a
    # loaded machine)
    _wait_until_caught(process.pid, signal.SIGTERM)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    if process.returncode == 0:
        pytest.skip("the check finished before the interrupt arrived (a fast machine)")
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "הופסק; שום דבר לא נכתב", stderr
    assert "Traceback" not in stderr


def _wait_until_caught(pid: int, signum: int, timeout: float = 30.0) -> None:
    """Wait until process ``pid`` has a handler for ``signum`` (Linux's /proc status)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        time.sleep(0.3)  # no /proc: the entry's handlers are in place after some 30 ms
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in status.read_text().splitlines():
            if line.startswith("SigCgt:") and int(line.split()[1], 16) >> (signum - 1) & 1:
                return
        time.sleep(0.002)
    pytest.fail(f"the command had no handler for signal {signum} after {timeout} s")
