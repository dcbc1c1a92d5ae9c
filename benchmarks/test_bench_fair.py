"""LEXIMIN, MAXIMIN, NASH and GOLDILOCKS on the four runnable instances (one round each).

Run: pytest benchmarks/test_bench_fair.py --benchmark-only
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.engine.objectives import PoolDistribution, fair_distribution
from sortition.selection.service import load_input
from tests.helpers import RUNNABLE, runnable_instance


@pytest.mark.parametrize("algorithm", ["leximin", "maximin", "nash", "goldilocks"])
@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_fair_algorithm(benchmark: BenchmarkFixture, name: str, algorithm: str) -> None:
    case = runnable_instance(name)
    instance = load_input(case.pool, case.quotas, case.k).instance
    result: PoolDistribution = benchmark.pedantic(
        fair_distribution, args=(instance, algorithm), rounds=1, iterations=1
    )
    probability = result.person_probability
    assert abs(probability.sum() - case.k) < 1e-6
    benchmark.extra_info.update(
        {"min_probability": float(probability.min()), "units": result.units.n_units}
    )
