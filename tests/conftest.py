"""The session's fixtures; the helpers the test modules share are in tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import EXAMPLE


@pytest.fixture
def example_dir() -> Path:
    return EXAMPLE
