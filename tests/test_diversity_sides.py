"""The diversity bound made linear around a point (sortition.engine.diversity_sides), against
brute force on small pools: on every panel of the sided instance the one linear row equals the
bound's exact left side, so the sided instance's panels are exactly the panels within the bound
whose cells lie on the point's pieces; and the point (the relaxation's LEXIMIN point under the
bound) lies in the sided polytope."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from sortition.engine.diversimax import most_diverse
from sortition.engine.diversity import diversity_limit
from sortition.engine.diversity_sides import sided_instance
from sortition.engine.master import FIX_SLACK
from sortition.engine.relaxation import relaxed_leximin
from sortition.units import UnitInstance, from_people
from tests.brute_force import feasible_cases, random_people


def _count_vectors(inst: UnitInstance) -> list[np.ndarray]:
    """Every count vector of size k within the capacities (households aside)."""
    ranges = [range(int(c) + 1) for c in inst.capacity]
    return [
        np.array(counts, dtype=np.int64)
        for counts in itertools.product(*ranges)
        if sum(counts) == inst.k
    ]


def _case(seed: int) -> tuple[UnitInstance, np.ndarray] | None:
    rng = np.random.default_rng(4100 + seed)
    values, vmin, vmax, fov, households, k = random_people(
        rng, int(rng.integers(7, 12)), with_households=False
    )
    inst, _ = from_people(values, vmin, vmax, fov, households, k, True)
    if not any(inst.is_feasible_panel(c) for c in _count_vectors(inst)):
        return None
    best = most_diverse(inst)
    bounded = replace(
        inst, diversity=diversity_limit(inst, best.exact_score * Fraction(11, 10), best.counts)
    )
    vector = relaxed_leximin(bounded, np.arange(inst.n_units), FIX_SLACK)
    if vector is None:
        return None
    return bounded, vector.probability * inst.capacity


def test_the_sided_row_is_the_exact_score_and_the_point_is_inside() -> None:
    cases = [case for _, case in feasible_cases(range(40), _case, floor=10)]
    assert len(cases) >= 10
    kept = 0
    for inst, point in cases:
        sided = sided_instance(inst, point)
        limit, row = inst.diversity, sided.diversity
        assert limit is not None and row is not None and row.weights is not None
        # the point meets every row of the sided polytope, the linear bound among them
        cells = sided.incidence.astype(np.float64) @ point
        assert (cells >= sided.value_min - 1e-6).all() and (cells <= sided.value_max + 1e-6).all()
        assert row.weights @ point + row.offset <= limit.limit + 1e-6
        # the original rows are kept, and one derived feature per intersection follows them
        assert np.array_equal(sided.incidence[: inst.n_values], inst.incidence)
        assert sided.derived_from == int(inst.feature_of_value.max()) + 1
        for counts in _count_vectors(inst):
            on_sides = sided.is_feasible_panel(counts)
            if on_sides:
                kept += 1
                # linear there, and equal to the exact left side of the bound
                assert int(row.weights @ counts) + row.offset == limit.scaled(counts)
            # a panel within the bound whose cells are on the point's pieces is on the sided
            # polytope: the cell rows are the pieces, nothing more
            if inst.is_feasible_panel(counts):
                member_counts = limit.members.astype(np.int64) @ counts
                lo, hi = sided.value_min[inst.n_values :], sided.value_max[inst.n_values :]
                assert on_sides == bool(((member_counts >= lo) & (member_counts <= hi)).all())
    assert kept > 0


def test_a_sided_instance_needs_a_bound() -> None:
    rng = np.random.default_rng(3)
    values, vmin, vmax, fov, households, k = random_people(rng, 8, with_households=False)
    inst, _ = from_people(values, vmin, vmax, fov, households, k, True)
    with pytest.raises(ValueError):
        sided_instance(inst, np.full(inst.n_units, inst.k / inst.n_units))
