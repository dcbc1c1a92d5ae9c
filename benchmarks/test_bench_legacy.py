"""LEGACY draws and feasibility checks on the four runnable instances.

Run: pytest benchmarks/test_bench_legacy.py --benchmark-only
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.engine.legacy import LegacySampler
from sortition.model import Instance
from sortition.randomness import SeededStream
from sortition.selection.feasibility import diagnose
from sortition.selection.service import load_input
from tests.helpers import RUNNABLE, runnable_instance


def _instance(name: str) -> Instance:
    case = runnable_instance(name)
    return load_input(case.pool, case.quotas, case.k).instance


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_legacy_draw(benchmark: BenchmarkFixture, name: str) -> None:
    sampler = LegacySampler(_instance(name))
    stream = SeededStream("benchmark")
    draw = benchmark(sampler.draw, stream)
    assert len(draw.panel) == sampler.instance.k


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_check(benchmark: BenchmarkFixture, name: str) -> None:
    instance = _instance(name)
    diagnosis = benchmark(diagnose, instance)
    assert diagnosis.feasible
