"""Every algorithm on the small synthetic case of ``python -m benchmarks --quick`` (one round each).

Run: pytest benchmarks/test_bench_synthetic.py --benchmark-only. The large cases run one by one
in child processes under ``python -m benchmarks`` (time limit, peak memory); see README.md here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.suite import OUR_ALGORITHMS, SEED, Case, all_cases, prepare_inputs
from sortition.engine.legacy import LegacySampler
from sortition.engine.objectives import fair_distribution
from sortition.model import Instance
from sortition.randomness import SeededStream
from sortition.selection.service import load_input

SMALL = [c for c in all_cases() if c.quick and c.source == "synthetic"]


def _instance(case: Case, folder: Path) -> Instance:
    inputs = prepare_inputs(case, folder)
    assert inputs is not None
    return load_input(
        inputs.pool, inputs.quotas, case.k, household_columns=inputs.household_columns
    ).instance


@pytest.mark.parametrize("algorithm", OUR_ALGORITHMS)
@pytest.mark.parametrize("case", SMALL, ids=[c.name for c in SMALL])
def test_synthetic(
    benchmark: BenchmarkFixture,
    tmp_path_factory: pytest.TempPathFactory,
    case: Case,
    algorithm: str,
) -> None:
    instance = _instance(case, tmp_path_factory.getbasetemp() / "inputs")
    if algorithm == "legacy":
        sampler = LegacySampler(instance)
        draw = benchmark(sampler.draw, SeededStream(SEED))
        assert len(draw.panel) == case.k
        return
    result = benchmark.pedantic(
        fair_distribution, args=(instance, algorithm), rounds=1, iterations=1
    )
    probability = result.person_probability
    assert abs(probability.sum() - case.k) < 1e-6
    benchmark.extra_info.update(
        {"min_probability": float(probability.min()), "units": result.units.n_units}
    )
