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
