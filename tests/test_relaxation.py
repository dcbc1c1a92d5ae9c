"""The LP relaxation of a LEXIMIN level: a valid bound, a valid dual, and the same LEXIMIN."""

from __future__ import annotations

import numpy as np
import pytest

from sortition.algorithms.column_generation import leximin
from sortition.algorithms.relaxation import relaxed_level
from sortition.units import from_people
from tests.test_fair_algorithms import (
    _brute_leximin,
    _brute_panels,
    _person_prob,
    _random_people,
)


@pytest.mark.parametrize("seed", range(20))
def test_relaxation_bounds_the_level_and_its_dual_prices_every_panel(seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    n = int(rng.integers(6, 12))
    values, vmin, vmax, fov, hh, k = _random_people(rng, n, seed % 2 == 0)
    panels = _brute_panels(values, vmin, vmax, hh, k)
    if len(panels) == 0:
        return
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    assert np.array_equal(unit, np.arange(n))  # the person path: units are people
    active = np.flatnonzero(panels.any(axis=0))
    expected = _brute_leximin(panels)
    level = relaxed_level(inst, active, {})
    assert level is not None
    assert level.bound >= expected[active].min() - 1e-9
    assert level.tight and set(level.tight) <= set(active.tolist())
    # The dual is feasible for the panel problem: no panel prices above theta.
    assert float((panels @ level.g).max()) <= level.theta + 1e-9
    # With the first level's units fixed at their values, it still bounds the next level.
    first = expected[active].min()
    fixed = {int(u): float(first) for u in active if expected[u] <= first + 1e-9}
    if len(fixed) < len(active):
        nxt = relaxed_level(inst, active, fixed)
        assert nxt is not None
        rest = [int(u) for u in active if int(u) not in fixed]
        assert nxt.bound >= expected[rest].min() - 1e-7
        assert float((panels @ nxt.g).max()) <= nxt.theta + 1e-7


@pytest.mark.parametrize("seed", range(8))
def test_leximin_is_the_same_without_the_relaxation_levers(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(4000 + seed)
    values, vmin, vmax, fov, hh, k = _random_people(rng, int(rng.integers(20, 40)), seed % 2 == 1)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    try:
        with_levers = leximin(inst)
    except ValueError:  # no feasible panel
        return
    monkeypatch.setenv("SORTITION_CG_OPTS", "relax=0,exact_every_round=0")
    without = leximin(inst)
    assert with_levers.stats["levels_at_relaxation_bound"] >= 1
    assert without.stats["levels_at_relaxation_bound"] == 0
    assert np.allclose(_person_prob(with_levers, unit), _person_prob(without, unit), atol=1e-6)
