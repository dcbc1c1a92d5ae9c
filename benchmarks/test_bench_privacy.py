"""Keyed pseudonyms (sortition.privacy): what --pseudonym-key adds to reading a pool.

Run: pytest benchmarks/test_bench_privacy.py --benchmark-only. One HMAC-SHA256 per id; a pool of
100,000 volunteers or the 30,000 invited of a registry costs a fraction of a second.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.privacy.keys import PseudonymKey
from sortition.privacy.pseudonyms import pseudonymise

KEY = PseudonymKey(bytes(range(32)))


@pytest.mark.parametrize("n", [10_000, 100_000, 1_000_000])
def test_pseudonymise(benchmark: BenchmarkFixture, n: int) -> None:
    ids = [f"person{i:07d}@example.org" for i in range(n)]
    made = benchmark.pedantic(pseudonymise, args=(KEY, ids), rounds=3, iterations=1)
    assert len(made.names) == n and made.length == 16


@pytest.mark.parametrize(("n", "threshold"), [(10_000, 5), (100_000, 5)])
def test_type_table(benchmark: BenchmarkFixture, n: int, threshold: int) -> None:
    """--publish-types: the pool grouped by type and the withheld types' keyed digests
    (sortition.record.types.type_table), for a pool of n people over 4 features."""
    from sortition.record.types import type_table

    rows = [
        {
            "id": f"{i:016x}",
            "household": None,
            "values": {"a": str(i % 7), "b": str(i % 11), "c": str(i % 13), "d": str(i % 17)},
        }
        for i in range(n)
    ]
    table = benchmark.pedantic(type_table, args=(rows, KEY, threshold), rounds=3, iterations=1)
    assert sum(unit["people"] for unit in table.units) == n
