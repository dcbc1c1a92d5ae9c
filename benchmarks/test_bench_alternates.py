"""Alternates on the two survey instances (issue 16's comparison): k/5 alternates under a 10 %
uniform dropout rate, chosen on 100 scenarios, then compared with the practitioners' baselines on
1,000 fresh scenarios (the exact best subset per scenario). The benchmark times the choice; the
comparison's figures go to extra_info (and must favour the optimal set).

Run: pytest benchmarks/test_bench_alternates.py --benchmark-only
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.dropouts.models import uniform_model
from sortition.engine import alternates as al
from sortition.engine.dropout_model import draw_scenarios, panel_stay
from sortition.engine.legacy import LegacySampler
from sortition.randomness import SeededStream
from sortition.selection.service import load_input
from tests.helpers import runnable_instance


@pytest.mark.parametrize("name", ["ces11_k60", "gss_k150"])
def test_alternates(benchmark: BenchmarkFixture, name: str) -> None:
    case = runnable_instance(name)
    instance = load_input(case.pool, case.quotas, case.k).instance
    panel = LegacySampler(instance).draw(SeededStream("benchmark panel")).panel
    units = al.candidate_units(instance, panel)
    budget = instance.k // 5
    stay = panel_stay(instance, panel, uniform_model(0.1))
    low, high = instance.quotas.mins, instance.quotas.maxs
    train = al.Scenarios.of(instance, panel, draw_scenarios(stay, 100, SeededStream("train")))
    stream = SeededStream("benchmark")
    baselines = {
        "scaled quotas": al.scaled_quota_set(instance, units, budget),
        "nearest neighbour": al.nearest_neighbour_set(instance, panel, units, stay, budget, stream),
    }
    start = min(baselines.values(), key=lambda s: int(al.losses(units, s, train, low, high).sum()))
    allowed = al.shortlist(instance, panel, units, stay, list(baselines.values()))
    chosen = benchmark.pedantic(
        al.local_search, (units, allowed, train, low, high, start), rounds=1, iterations=1
    )
    fresh = al.Scenarios.of(instance, panel, draw_scenarios(stay, 1000, SeededStream("fresh")))
    means = {
        method: float(al.losses(units, counts, fresh, low, high).mean())
        for method, counts in {"optimal": chosen, **baselines}.items()
    }
    means["no alternates"] = float(al.losses(units, np.zeros_like(chosen), fresh, low, high).mean())
    benchmark.extra_info.update(means)
    assert means["optimal"] < min(means["scaled quotas"], means["nearest neighbour"])
