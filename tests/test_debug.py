"""`sortition --debug`: the traceback of an internal error and the library's log on stderr;
without it, one line naming the bug and the flag, exit 70 either way."""

from __future__ import annotations

import logging
import sys

import pytest
import sortition_cli.main as cli_main
from click.testing import CliRunner


def _internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` fails with an error no part of sortition foresaw."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("an unforeseen failure")

    monkeypatch.setattr(cli_main.cli.commands["check"], "callback", broken)


CHECK = ["check", "--pool", "pool.csv", "--quotas", "quotas.csv", "-k", "1"]


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["sortition", *args])
    with pytest.raises(SystemExit) as stopped:
        cli_main.run()
    return int(stopped.value.code or 0), capsys.readouterr().err


def test_internal_error_without_debug_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _internal_error(monkeypatch)
    code, err = _run(monkeypatch, capsys, CHECK)
    assert code == 70
    assert "Traceback" not in err
    assert "internal error: RuntimeError: an unforeseen failure" in err
    assert "sortition --debug" in err


def test_internal_error_with_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _internal_error(monkeypatch)
    try:
        code, err = _run(monkeypatch, capsys, ["--debug", *CHECK])
    finally:
        cli_main.debug_log(False)
    assert code == 70
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: an unforeseen failure" in err


def test_debug_turns_on_the_library_log_on_stderr() -> None:
    logger = logging.getLogger("sortition.engine")
    runner = CliRunner()
    try:
        result = runner.invoke(cli_main.cli, ["--debug", "generate", "--help"])
        assert result.exit_code == 0
        assert logger.isEnabledFor(logging.DEBUG)
        handlers = logging.getLogger("sortition").handlers
        assert any(isinstance(h, logging.StreamHandler) for h in handlers)
        result = runner.invoke(cli_main.cli, ["generate", "--help"])
        assert result.exit_code == 0
        assert not logger.isEnabledFor(logging.DEBUG)  # the next command without --debug
    finally:
        cli_main.debug_log(False)
