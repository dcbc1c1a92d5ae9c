"""Benchmarks read the shared reference instances like the tests do."""

from tests.helpers import RUNNABLE, runnable_instance  # noqa: F401
