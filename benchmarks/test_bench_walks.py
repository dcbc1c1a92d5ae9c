"""LEXIMIN's face walk on the runnable instances (one walk towards the relaxation's vector, as
``leximin`` takes it), and where its steps' panels came from (benchmarks/results/
2026-11-30-walks.md, "Session 6").

Run: pytest benchmarks/test_bench_walks.py --benchmark-only
"""

from __future__ import annotations

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from sortition.engine.master import FIX_SLACK
from sortition.engine.relaxation import nearest_polytope_point, relaxed_leximin
from sortition.engine.walks import WalkTally, face_walk
from sortition.selection.service import load_input
from sortition.units import unit_instance
from tests.helpers import RUNNABLE, runnable_instance


@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_face_walk(benchmark: BenchmarkFixture, name: str) -> None:
    case = runnable_instance(name)
    units, _ = unit_instance(load_input(case.pool, case.quotas, case.k).instance, True)
    vector = relaxed_leximin(units, np.arange(units.n_units), FIX_SLACK)
    assert vector is not None
    counts = nearest_polytope_point(units, vector.probability * units.capacity)
    assert counts is not None
    tally = WalkTally()
    panels = benchmark.pedantic(
        face_walk, args=(units, counts), kwargs={"tally": tally}, rounds=1, iterations=1
    )
    assert panels and all(units.is_feasible_panel(panel) for panel in panels)
    benchmark.extra_info.update(
        {
            "units": units.n_units,
            "panels": len(panels),
            "rounded": tally.rounded_panels,
            "numpy_repairs": tally.numpy_panels,
            "numpy_seconds": tally.numpy_seconds,
            "cp_sat_repairs": tally.cp_repair_panels,
            "cp_sat_repair_seconds": tally.cp_repair_seconds,
            "whole_face_searches": tally.cp_panels,
        }
    )
