"""The session's fixtures and hooks; the helpers the test modules share are in tests/helpers.py.

With $SORTITION_REQUIRE_SHARED_DATA=1 (.ci/run sets it) the session stops before the first test
when the shared data is absent; without it, the tests that need the data are skipped and the run
ends with one line saying how many.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    EXAMPLE,
    REQUIRE_SHARED_DATA,
    SHARED_DATA_MISSING,
    run_cli,
    shared_data,
    shared_data_required,
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if shared_data_required() and not shared_data().is_dir():
        raise pytest.UsageError(
            f"${REQUIRE_SHARED_DATA} is set but the shared data is missing: no folder "
            f"{shared_data()} (lay ../shared/data beside the checkout, or set "
            "$SORTITION_SHARED_DATA)"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    missing = [r for r in skipped if SHARED_DATA_MISSING in str(getattr(r, "longrepr", ""))]
    if missing:
        terminalreporter.write_line(
            f"{len(missing)} tests skipped: {SHARED_DATA_MISSING} under {shared_data()} "
            f"(CI sets ${REQUIRE_SHARED_DATA}=1, which fails them instead)",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture
def groups_record(tmp_path: Path) -> tuple[Path, Path]:
    """A groups record of 12 people at 3 tables over 2 rounds (the i18n tests' verify cases),
    and its panel file."""
    panel = tmp_path / "panel.csv"
    rows = [f"p{i},{'north' if i % 2 else 'south'}" for i in range(12)]
    panel.write_text("id,area\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["groups", "--panel", panel, "--tables", 3, "--rounds", 2, "--balance", "area"]
    result = run_cli([*args, "--seed", "hebrew", "--effort", 50, "--out", out])
    assert result.exit_code == 0, result.stderr
    return out / "groups.json", panel
