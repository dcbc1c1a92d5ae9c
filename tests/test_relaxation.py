"""The LP relaxation of a LEXIMIN level: a valid bound, a valid dual, and the same LEXIMIN."""

from __future__ import annotations

import time

import numpy as np
import pytest
from ortools.linear_solver import pywraplp

from sortition.cancel import solve_lp
from sortition.engine import relaxation
from sortition.engine.errors import NoFeasiblePanel, TimeLimitReached
from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.engine.relaxation import (
    nearest_polytope_point,
    relaxed_level,
    relaxed_leximin,
    relaxed_maximin,
)
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.units import Distribution, UnitInstance, from_people
from tests.brute_force import (
    brute_leximin,
    brute_panels,
    feasible_cases,
    person_probability,
    random_people,
)

PersonCase = tuple[UnitInstance, np.ndarray, np.ndarray, np.ndarray]


def _person_case(seed: int, with_households: bool) -> PersonCase | None:
    """A random pool of 6-11 people on the person path (units are people): the instance, every
    feasible panel, the people on some panel and the brute-force LEXIMIN; None if no panel."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 12))
    values, vmin, vmax, fov, hh, k = random_people(rng, n, with_households)
    panels = brute_panels(values, vmin, vmax, hh, k)
    if len(panels) == 0:
        return None
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    assert np.array_equal(unit, np.arange(n))
    return inst, panels, np.flatnonzero(panels.any(axis=0)), brute_leximin(panels)


def test_relaxation_bounds_the_level_and_its_dual_prices_every_panel() -> None:
    for _, case in feasible_cases(
        range(20), lambda seed: _person_case(3000 + seed, seed % 2 == 0), floor=15
    ):
        _check_relaxed_levels(*case)


def _check_relaxed_levels(
    inst: UnitInstance, panels: np.ndarray, active: np.ndarray, expected: np.ndarray
) -> None:
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


def _leximin_case(seed: int) -> tuple[UnitInstance, np.ndarray, Distribution] | None:
    """A random pool of 20-39 people by type and its LEXIMIN (with every lever); None if no
    panel."""
    rng = np.random.default_rng(4000 + seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(20, 40)), seed % 2 == 1)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    try:
        return inst, unit, leximin(inst)
    except NoFeasiblePanel:
        return None


def test_leximin_is_the_same_without_the_relaxation_levers() -> None:
    without_levers = EngineSettings(relax=False, exact_every_round=False, decompose=False)
    # Level by level with the relaxation's levers, but without realising its vector first.
    levels_only = EngineSettings(decompose=False)
    for _, (inst, unit, with_levers) in feasible_cases(range(8), _leximin_case, floor=6):
        without = leximin(inst, settings=without_levers)
        assert int(with_levers.stats["levels_at_relaxation_bound"]) >= 1
        assert without.stats["levels_at_relaxation_bound"] == 0
        assert "target_reached" not in without.stats
        expected = person_probability(with_levers, unit)
        assert np.allclose(expected, person_probability(without, unit), atol=1e-6)
        levels = leximin(inst, settings=levels_only)
        assert np.allclose(expected, person_probability(levels, unit), atol=1e-6)


def test_leximin_and_maximin_are_the_same_without_cheap_steps() -> None:
    """The cheap walk steps and covering (LP vertices, repaired) reach the distribution CP-SAT's
    steps reach: LEXIMIN's probabilities and MAXIMIN's smallest are equal."""
    slow = EngineSettings(cheap_steps=False)
    for _, (inst, unit, cheap) in feasible_cases(range(8), _leximin_case, floor=6):
        expected = person_probability(cheap, unit)
        assert np.allclose(expected, person_probability(leximin(inst, settings=slow), unit))
        smallest = [
            float(person_probability(maximin(inst, settings=s), unit).min())
            for s in (DEFAULT_SETTINGS, slow)
        ]
        assert abs(smallest[0] - smallest[1]) <= 1e-6
        assert abs(smallest[0] - float(expected.min())) <= 1e-6


def test_relaxed_leximin_vector_bounds_leximin_and_is_realised_when_equal() -> None:
    """The relaxation's LEXIMIN vector is at least LEXIMIN in the leximin order; when the two
    are equal, leximin() realises it in one master LP (the usual case)."""
    for _, (inst, _, active, expected) in feasible_cases(
        range(12), lambda seed: _person_case(5000 + seed, seed % 3 == 0), floor=9
    ):
        _check_relaxed_vector(inst, active, expected)


def _check_relaxed_vector(inst: UnitInstance, active: np.ndarray, expected: np.ndarray) -> None:
    vector = relaxed_leximin(inst, active)
    assert vector is not None
    relaxed = np.sort(vector.probability[active])
    exact = np.sort(expected[active])
    assert abs(float(relaxed.sum()) - float(expected.sum())) < 1e-6  # both sum to k
    differs = np.flatnonzero(np.abs(relaxed - exact) > 1e-7)
    assert len(differs) == 0 or relaxed[differs[0]] > exact[differs[0]]
    dist = leximin(inst)
    assert np.allclose(dist.unit_probability, expected, atol=1e-6)
    assert (float(dist.stats["target_reached"]) >= 1 - 1e-7) == (len(differs) == 0)


def test_leximin_falls_back_to_levels_when_the_relaxation_is_not_tight() -> None:
    """Three features, k = 2: the relaxation's LEXIMIN gives people 4 and 5 one half each, but no
    distribution over panels does (found by a random search)."""
    values = np.array(
        [[1, 2, 4], [1, 2, 4], [0, 2, 4], [0, 2, 5], [1, 3, 5], [0, 3, 4]], dtype=np.int64
    )
    vmin = np.array([1, 0, 0, 0, 1, 0])
    vmax = np.array([2, 1, 1, 1, 2, 1])
    fov = np.array([0, 0, 1, 1, 2, 2])
    inst, _ = from_people(values, vmin, vmax, fov, None, 2, by_type=False)
    panels = brute_panels(values, vmin, vmax, None, 2)
    expected = brute_leximin(panels)
    vector = relaxed_leximin(inst, np.flatnonzero(panels.any(axis=0)))
    assert vector is not None
    assert np.allclose(vector.probability, [0.25, 0.25, 0.25, 0.25, 0.5, 0.5])
    assert np.allclose(expected, [0.25, 0.25, 0.25, 0.25, 0.25, 0.75])
    dist = leximin(inst)
    assert float(dist.stats["target_reached"]) < 0.99
    assert np.allclose(dist.unit_probability, expected, atol=1e-6)


def test_nearest_polytope_point_keeps_inside_points_and_pulls_others_in() -> None:
    for seed, (inst, panels, _, _) in feasible_cases(
        range(6), lambda seed: _person_case(6000 + seed, seed % 2 == 0), floor=5
    ):
        _check_nearest_point(seed, inst, panels)


def _assert_in_polytope(inst: UnitInstance, counts: np.ndarray) -> None:
    """``counts`` is a point of the quota polytope (to 1e-9): k in all, every value's count
    within its quota, every unit's within [0, capacity], at most one of each household."""
    assert abs(counts.sum() - inst.k) < 1e-9
    rows = inst.incidence.astype(float) @ counts
    assert (rows >= inst.value_min - 1e-9).all() and (rows <= inst.value_max + 1e-9).all()
    assert (counts >= 0).all() and (counts <= inst.capacity).all()
    for household in inst.households:
        assert counts[list(household)].sum() <= 1 + 1e-9


def _check_nearest_point(seed: int, inst: UnitInstance, panels: np.ndarray) -> None:
    rng = np.random.default_rng(seed)
    inside = rng.dirichlet(np.ones(len(panels))) @ panels.astype(float)
    assert np.allclose(nearest_polytope_point(inst, inside), inside, atol=1e-9)
    outside = inside + rng.normal(0.0, 1e-3, inside.shape)
    point = nearest_polytope_point(inst, outside)
    assert point is not None
    _assert_in_polytope(inst, point)


def test_nearest_point_over_shifts_is_as_near_as_over_counts() -> None:
    """Large pools find the nearest point over the shifts (no row per unit): on small pools,
    with and without households, it is in the polytope and exactly as near as the counts' LP."""
    from sortition.engine.relaxation import _nearest_by_shifts

    for seed, (inst, panels, _, _) in feasible_cases(
        range(8), lambda seed: _person_case(6100 + seed, seed % 2 == 0), floor=6
    ):
        rng = np.random.default_rng(seed)
        inside = rng.dirichlet(np.ones(len(panels))) @ panels.astype(float)
        outside = inside + rng.normal(0.0, 1e-3, inside.shape)
        by_counts = nearest_polytope_point(inst, outside)
        by_shifts = _nearest_by_shifts(inst, outside)
        assert by_counts is not None and by_shifts is not None
        cap = inst.capacity.astype(float)
        near_shifts = float((np.abs(by_shifts - outside) / cap).sum())
        near_counts = float((np.abs(by_counts - outside) / cap).sum())
        assert abs(near_shifts - near_counts) < 1e-9
        _assert_in_polytope(inst, by_shifts)
        assert np.allclose(_nearest_by_shifts(inst, inside), inside, atol=1e-9)


def _largest_share(inst: UnitInstance, counts: np.ndarray) -> float:
    """max z over the polytope's points x with x_u >= z * counts_u, by an LP with a row per
    unit (what ``scaled_polytope_point`` reaches without them)."""
    solver, x = relaxation.polytope_model(inst, "primal_feasibility_tolerance: 1e-12")
    z = solver.NumVar(0.0, 1.0, "")
    for u in range(inst.n_units):
        solver.Add(x[u] - float(counts[u]) * z >= 0.0)
    solver.Maximize(z)
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return float(z.solution_value())


def test_the_scaled_point_keeps_the_largest_share_of_every_count() -> None:
    """``scaled_polytope_point`` (LEXIMIN's target on large pools): a point of the polytope
    that gives every unit the largest share z of its count the polytope allows (the LP with a
    row per unit's z), at least the nearest point's smallest share, and an inside point
    itself; with and without households, counts at their capacities included."""
    below = 0
    for seed, (inst, panels, _, _) in feasible_cases(
        range(30), lambda seed: _person_case(6200 + seed, seed % 2 == 0), floor=20
    ):
        rng = np.random.default_rng(seed)
        inside = rng.dirichlet(np.ones(len(panels))) @ panels.astype(float)
        cap = inst.capacity.astype(float)
        outside = np.clip(inside * (1.0 + rng.normal(0.0, 1e-3, inside.shape)), 0.0, cap)
        point = relaxation.scaled_polytope_point(inst, outside)
        near = nearest_polytope_point(inst, outside)
        assert point is not None and near is not None
        held = outside > 0
        share = float((point[held] / outside[held]).min())
        assert share == pytest.approx(_largest_share(inst, outside), abs=1e-9)
        assert share >= float((near[held] / outside[held]).min()) - 1e-9
        below += share < 1.0 - 1e-6
        _assert_in_polytope(inst, point)
        kept = relaxation.scaled_polytope_point(inst, inside)
        assert kept is not None and np.allclose(kept, inside, atol=1e-9)
    assert below >= 5  # points outside the polytope, pulled in


def test_leximin_on_the_large_pools_road_is_leximin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forced on small pools, LEXIMIN's road above ``_SHIFTS_ABOVE`` units (the levels over
    shifts, the scaled point as the walks' target, the lazy covering, a walk's own weights)
    gives the brute-force LEXIMIN, certified to 2e-6, and takes the scaled point."""
    from sortition.engine import columns, realise

    monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 0)
    monkeypatch.setattr(columns, "LAZY_COVER_ABOVE", 0)
    monkeypatch.setattr(realise, "_PRESOLVE_ROWS", 0)
    scaled = []
    point = relaxation.scaled_polytope_point

    def counted(*args: object) -> object:
        scaled.append(1)
        return point(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(relaxation, "scaled_polytope_point", counted)
    for _, (inst, _, selectable, expected) in feasible_cases(
        range(30), lambda seed: _person_case(6300 + seed, seed % 2 == 0), floor=15
    ):
        dist = leximin(inst)
        for panel in dist.panels:
            assert inst.is_feasible_panel(panel)
        assert np.allclose(dist.unit_probability, expected, atol=2e-6)
        assert dist.certificate is not None and dist.certificate.gap <= 2e-6
        never = set(range(inst.n_units)) - set(selectable.tolist())
        assert set(dist.never_selectable) == never
    assert len(scaled) >= 15


def _pool_case(seed: int) -> tuple[UnitInstance, np.ndarray] | None:
    """A random pool of 8-39 people, by type or by person, with households on even seeds: the
    instance and its units on some panel (all of them; None when no panel meets the quotas)."""
    rng = np.random.default_rng(7000 + seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(8, 40)), seed % 2 == 0)
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=seed % 3 != 0)
    if relaxed_maximin(inst, np.arange(inst.n_units)) is None:
        return None
    return inst, np.arange(inst.n_units)


def test_levels_without_unit_rows_are_the_levels_with_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above ``_SHIFTS_ABOVE`` units the levels hold p_u >= z as the bound of a shift and add
    x_u <= capacity_u rows only where the point exceeds them: forced on small pools (by person
    and by type, with and without households) they give the same LEXIMIN vector over the
    polytope, the same MAXIMIN bound with its point in the polytope, and rows were added."""
    added = []
    solve = relaxation._ShiftedLevels.solve

    def counted(self: relaxation._ShiftedLevels, fixed: dict[int, float]) -> object:
        solved = solve(self, fixed)
        added.append(len(self.upper))
        return solved

    monkeypatch.setattr(relaxation._ShiftedLevels, "solve", counted)
    for _, (inst, active) in feasible_cases(range(40), _pool_case, floor=25):
        monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 10**9)
        rows_vector = relaxed_leximin(inst, active)
        rows_point = relaxed_maximin(inst, active)
        monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 0)
        vector = relaxed_leximin(inst, active)
        point = relaxed_maximin(inst, active)
        assert rows_vector is not None and vector is not None
        assert rows_point is not None and point is not None
        assert np.allclose(vector.probability, rows_vector.probability, atol=1e-8)
        assert vector.levels[0].bound == pytest.approx(rows_vector.levels[0].bound, abs=1e-10)
        assert point.level.bound == pytest.approx(rows_point.level.bound, abs=1e-10)
        cap = inst.capacity.astype(float)
        counts = point.counts
        _assert_in_polytope(inst, counts)
        assert (counts[active] / cap[active] >= point.level.bound - 1e-9).all()
    assert max(added) > 0  # some count exceeded its capacity and got its row


def test_levels_without_unit_rows_bound_the_level_and_price_every_panel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shifted levels' duals (the shifts' reduced costs) are duals of the panel problem:
    the brute-force checks of ``relaxed_level``, with the threshold forced to 0."""
    monkeypatch.setattr(relaxation, "_SHIFTS_ABOVE", 0)
    for _, case in feasible_cases(
        range(20), lambda seed: _person_case(3000 + seed, seed % 2 == 0), floor=15
    ):
        _check_relaxed_levels(*case)
    for _, (inst, _, active, expected) in feasible_cases(
        range(12), lambda seed: _person_case(5000 + seed, seed % 3 == 0), floor=9
    ):
        vector = relaxed_leximin(inst, active)
        assert vector is not None
        relaxed = np.sort(vector.probability[active])
        exact = np.sort(expected[active])
        differs = np.flatnonzero(np.abs(relaxed - exact) > 1e-7)
        assert len(differs) == 0 or relaxed[differs[0]] > exact[differs[0]]


def test_relaxation_stops_at_the_deadline() -> None:
    """Every relaxation takes the engine's deadline: GLOP's time limit is the time left, and a
    deadline already past raises TimeLimitReached (the time-limit outcome, exit 4)."""
    found = _pool_case(1)
    assert found is not None
    inst, active = found
    past = time.perf_counter() - 1.0
    for shifts_above in (10**9, 0):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(relaxation, "_SHIFTS_ABOVE", shifts_above)
            with pytest.raises(TimeLimitReached):
                relaxed_leximin(inst, active, deadline=past)
            with pytest.raises(TimeLimitReached):
                relaxed_maximin(inst, active, deadline=past)
            with pytest.raises(TimeLimitReached):
                relaxed_level(inst, active, {}, deadline=past)
            with pytest.raises(TimeLimitReached):
                nearest_polytope_point(inst, np.zeros(inst.n_units), deadline=past)
    assert relaxed_leximin(inst, active, deadline=time.perf_counter() + 60.0) is not None


def test_solve_lp_stops_glop_at_the_deadline() -> None:
    """``cancel.solve_lp`` with a deadline gives GLOP the time left as its limit: an LP that
    takes far longer stops near the deadline, not optimal (which the engine reports as its time
    limit); without a deadline the same LP is solved."""
    rng = np.random.default_rng(0)
    size = 400
    solver = pywraplp.Solver.CreateSolver("GLOP")
    x = [solver.NumVar(0.0, solver.infinity(), "") for _ in range(size)]
    for row in rng.random((size, size)):
        constraint = solver.Constraint(-solver.infinity(), 1.0)
        for var, a in zip(x, row.tolist(), strict=True):
            constraint.SetCoefficient(var, a)
    objective = solver.Objective()
    for var, c in zip(x, rng.random(size).tolist(), strict=True):
        objective.SetCoefficient(var, c)
    objective.SetMaximization()
    started = time.perf_counter()
    status = solve_lp(solver, deadline=started + 0.002)
    assert status != pywraplp.Solver.OPTIMAL
    assert time.perf_counter() - started < 1.0
    solver.SetTimeLimit(60_000)
    assert solve_lp(solver) == pywraplp.Solver.OPTIMAL
