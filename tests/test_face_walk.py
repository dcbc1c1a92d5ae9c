"""The face walk: every panel it takes is feasible and lies on the target's smallest face."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from ortools.sat.python import cp_model

from sortition.engine import walks
from sortition.engine.errors import TimeLimitReached
from sortition.engine.pricing import panel_model
from sortition.engine.walks import WalkTally, _FaceModel, _Rows, face_walk
from sortition.units import UnitInstance, from_people
from tests.brute_force import brute_panels, feasible_cases, random_mix, random_people


def _on_face_of(inst: UnitInstance, panel: np.ndarray, point: np.ndarray) -> bool:
    """Whether ``panel`` keeps every bound that is tight at ``point`` tight."""
    tol = 1e-9
    cap = inst.capacity
    if (panel[point <= tol] != 0).any() or (
        panel[point >= cap - tol] != cap[point >= cap - tol]
    ).any():
        return False
    rows_point = inst.incidence.astype(float) @ point
    rows_panel = inst.incidence.astype(np.int64) @ panel
    at_lo = np.abs(rows_point - inst.value_min) <= tol
    at_hi = np.abs(rows_point - inst.value_max) <= tol
    return bool(
        (rows_panel[at_lo] == inst.value_min[at_lo]).all()
        and (rows_panel[at_hi] == inst.value_max[at_hi]).all()
    )


def _mix_case(seed: int) -> tuple[UnitInstance, np.ndarray] | None:
    return random_mix(seed, 7000)


def test_walk_takes_feasible_panels_on_the_face_of_a_mix() -> None:
    for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
        walk = face_walk(inst, target)
        assert walk
        for panel in walk:
            assert inst.is_feasible_panel(panel)
            assert _on_face_of(inst, panel, target)


def test_a_panel_is_its_own_walk() -> None:
    values = np.array([[0, 2], [0, 3], [1, 2], [1, 3]], dtype=np.int64)
    inst, _ = from_people(
        values,
        np.array([1, 0, 1, 0]),
        np.array([1, 1, 1, 1]),
        np.array([0, 0, 1, 1]),
        None,
        2,
        by_type=False,
    )
    panel = np.array([1, 0, 0, 1])
    assert inst.is_feasible_panel(panel)
    walk = face_walk(inst, panel.astype(float))
    assert len(walk) == 1 and np.array_equal(walk[0], panel)


def test_walks_with_other_seeds_take_other_panels() -> None:
    rng = np.random.default_rng(11)
    values, vmin, vmax, fov, _, k = random_people(rng, 12, False)
    panels = brute_panels(values, vmin, vmax, None, k)
    inst, _ = from_people(values, vmin, vmax, fov, None, k, by_type=False)
    target = panels.mean(axis=0)
    first = face_walk(inst, target, seed=0)
    again = face_walk(inst, target, seed=0)
    other = face_walk(inst, target, seed=1, jitter=0.5)
    assert [p.tolist() for p in first] == [p.tolist() for p in again]
    assert {tuple(p) for p in other} != {tuple(p) for p in first}


def test_cheap_steps_take_feasible_panels_on_the_face_and_mostly_from_the_lp() -> None:
    """The LP vertex (rounded, repaired near its fractional counts) gives the panels; CP-SAT on
    the whole face stays the fallback. Both roads keep every panel feasible and on the face."""
    lp_panels = 0
    for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
        tally = WalkTally()
        walk = face_walk(inst, target, tally=tally)
        slow = face_walk(inst, target, cheap=False)
        assert walk and slow
        assert tally.lp_panels + tally.cp_panels >= len(walk)
        lp_panels += tally.lp_panels
        for panel in walk:
            assert inst.is_feasible_panel(panel)
            assert _on_face_of(inst, panel, target)
    assert lp_panels > 0


def test_the_repair_checks_a_candidate_against_every_row_of_the_panel_model() -> None:
    """A row added to the panel model (as a diversity bound would be) is read from CP-SAT's
    model: a rounded vertex that breaks it is refused, one that keeps it accepted."""
    rng = np.random.default_rng(5)
    values, vmin, vmax, fov, _, k = random_people(rng, 10, False)
    inst, _ = from_people(values, vmin, vmax, fov, None, k, by_type=False)
    built = panel_model(inst)
    built.model.add(built.vars[0] + built.vars[1] <= 1)
    rows = _Rows(built.model.proto, inst.n_units)
    assert rows.usable
    both = np.zeros(inst.n_units)
    both[[0, 1]] = 1
    one = np.zeros(inst.n_units)
    one[0] = 1
    assert rows.violated(both, rows.lo, rows.hi)
    # the size row (sum = k) is broken by ``one`` unless k == 1; the extra row is not
    extra = rows.n_rows - 1
    sums = np.bincount(rows.row, weights=rows.coeff * one[rows.col], minlength=rows.n_rows)
    assert sums[extra] <= rows.hi[extra]
    sums = np.bincount(rows.row, weights=rows.coeff * both[rows.col], minlength=rows.n_rows)
    assert sums[extra] > rows.hi[extra]


def test_a_model_the_check_cannot_read_leaves_every_step_to_cp_sat() -> None:
    """Auxiliary variables (beyond the units' counts) make candidates uncheckable in numpy."""
    rng = np.random.default_rng(5)
    values, vmin, vmax, fov, _, k = random_people(rng, 10, False)
    inst, _ = from_people(values, vmin, vmax, fov, None, k, by_type=False)
    built = panel_model(inst)
    extra = built.model.new_int_var(0, 5, "aux")
    built.model.add(built.vars[0] - extra <= 0)
    assert not _Rows(built.model.proto, inst.n_units).usable


def test_the_repair_moves_only_its_free_counts_and_keeps_every_row() -> None:
    """The repair's small CP-SAT model (the free counts alone, each row's bounds less the fixed
    counts' part) gives a feasible panel equal to the rounding outside the free units, also
    under a row added to the panel model; with no free unit it cannot mend a broken row."""
    found = 0
    for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
        faces = _FaceModel(inst, 0, True, WalkTally())
        first, second = (faces.model.get_int_var_from_proto_index(u) for u in (0, 1))
        faces.model.add(first + second <= 1)
        faces.rows = _Rows(faces.model.proto, inst.n_units)
        face = faces.whole()
        one = np.ones(inst.n_units)
        exists = faces._cp_sat(one, face, face.var_lo, face.var_hi, None, (10.0,)) is not None
        lo, hi = faces._row_bounds(face)
        counts = np.clip(np.rint(target), 0, inst.capacity).astype(np.float64)
        everyone = np.arange(inst.n_units)
        for free in (everyone, everyone[: inst.n_units // 2 + 1]):
            panel = faces._small_cp_sat(one, face, lo, hi, counts, free, 1.0)
            if panel is None:
                assert len(free) < inst.n_units or not exists
                continue
            found += 1
            assert inst.is_feasible_panel(panel)
            assert panel[0] + panel[1] <= 1
            fixed = np.ones(inst.n_units, dtype=bool)
            fixed[free] = False
            assert np.array_equal(panel[fixed], counts[fixed])
        if faces.rows.violated(counts, lo, hi):
            nobody = np.zeros(0, dtype=np.int64)
            assert faces._small_cp_sat(one, face, lo, hi, counts, nobody, 1.0) is None
    assert found >= 9


def test_the_restricted_face_lp_finds_the_whole_face_optimum(monkeypatch: Any) -> None:
    """On large instances the face's LP is a model of a pool of units, priced in by their rows'
    duals (the rows elastic): forced on small pools with one candidate (and one holder of each
    value), a pool rebuilt at every step and coefficients kept while they move by little, each
    vertex is feasible on the face and as good as the whole LP's, whether the candidates alone
    met the face's rows or not, and a face without a point gives None in both."""
    monkeypatch.setattr(walks, "_SMALL_MODEL_ABOVE", 0)
    monkeypatch.setattr(walks, "_FACE_CANDIDATES", 1)
    monkeypatch.setattr(walks, "_FACE_PER_VALUE", 1)
    rng = np.random.default_rng(11)
    compared = 0
    empty = 0
    for rebuild in (4000, 0):
        monkeypatch.setattr(walks, "_POOL_REBUILD", rebuild)
        for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
            restricted = walks._face_lp(inst, restricted=True)
            whole = walks._face_lp(inst, restricted=False)
            face = _FaceModel(inst, 0, True, WalkTally()).whole()
            preference = rng.uniform(0.0, 1.0, inst.n_units)
            for step in range(8):
                if step % 2:  # a walk's next preference: the last one scaled, a few moved
                    preference = preference * rng.uniform(1.0, 3.0)
                    preference[rng.random(inst.n_units) < 0.3] = rng.uniform(0.0, 1.0)
                else:
                    preference = rng.uniform(0.0, 1.0, inst.n_units)
                var_lo, var_hi = face.var_lo.copy(), face.var_hi.copy()
                # a few units held at 0 or at capacity, as on a face the walk meets
                held = rng.random(inst.n_units) < 0.12 * step
                at_cap = held & (target >= inst.capacity - 0.5)
                var_hi[held & ~at_cap] = 0
                var_lo[at_cap] = inst.capacity[at_cap]
                bounds = (var_lo, var_hi, face.value_lo, face.value_hi, face.full)
                x = restricted.vertex(preference, *bounds)
                y = whole.vertex(preference, *bounds)
                assert (x is None) == (y is None)
                if x is None or y is None:
                    empty += 1
                    continue
                compared += 1
                assert (x >= var_lo - 1e-9).all() and (x <= var_hi + 1e-9).all()
                assert abs(float(x.sum()) - inst.k) <= 1e-7
                rows = inst.incidence.astype(float) @ x
                assert (rows >= inst.value_min - 1e-7).all()
                assert (rows <= inst.value_max + 1e-7).all()
                for household in inst.households:
                    assert float(x[list(household)].sum()) <= 1.0 + 1e-7
                assert float(preference @ x) >= float(preference @ y) - 1e-7 * float(
                    preference.max()
                )
    assert compared >= 60
    assert empty >= 1
    assert isinstance(restricted, walks._PoolLP) and restricted.rebuilds > 0


def test_a_face_lp_solve_stops_at_the_deadline(monkeypatch: Any) -> None:
    """Both face LPs take the walk's deadline: a solve started past it raises
    TimeLimitReached; in a walk, a deadline that passes during a face LP's solve ends the walk
    with the panels it has taken (its caller reports the time limit)."""
    monkeypatch.setattr(walks, "_SMALL_MODEL_ABOVE", 0)
    _, (inst, target) = next(feasible_cases(range(12), _mix_case, floor=1))
    face = _FaceModel(inst, 0, True, WalkTally()).whole()
    bounds = (face.var_lo, face.var_hi, face.value_lo, face.value_hi, face.full)
    preference = np.ones(inst.n_units)
    for restricted in (True, False):
        lp = walks._face_lp(inst, restricted=restricted)
        with pytest.raises(TimeLimitReached):
            lp.vertex(preference, *bounds, deadline=time.perf_counter() - 1.0)
        assert lp.vertex(preference, *bounds, deadline=time.perf_counter() + 60.0) is not None
    whole = face_walk(inst, target)
    assert len(whole) >= 2
    passed = False
    solve_within = walks.solve_within

    def late(solver: Any, deadline: float | None) -> bool:
        if passed:
            raise TimeLimitReached
        return solve_within(solver, deadline)

    def on_step(taken: int) -> None:
        nonlocal passed
        passed = True  # the deadline passes once the first panel is taken

    monkeypatch.setattr(walks, "solve_within", late)
    cut = face_walk(inst, target, on_step=on_step)
    assert len(cut) == 1
    assert all(np.array_equal(a, b) for a, b in zip(cut, whole, strict=False))


def test_the_large_pool_road_takes_feasible_panels_on_the_face(monkeypatch: Any) -> None:
    """Forced on small pools, the road of pools over 2,000 units (the restricted face LP with
    one candidate, the repair's model of its free counts, other vertices of a shaken preference
    before CP-SAT on the whole face) keeps every panel feasible and on the target's face."""
    monkeypatch.setattr(walks, "_SMALL_MODEL_ABOVE", 0)
    monkeypatch.setattr(walks, "_FACE_CANDIDATES", 1)
    monkeypatch.setattr(walks, "_FACE_PER_VALUE", 1)
    lp_panels = 0
    for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
        tally = WalkTally()
        walk = face_walk(inst, target, tally=tally)
        assert walk
        lp_panels += tally.lp_panels
        for panel in walk:
            assert inst.is_feasible_panel(panel)
            assert _on_face_of(inst, panel, target)
    assert lp_panels > 0


def test_a_face_lp_that_glop_fails_from_its_warm_start_is_solved_afresh(
    monkeypatch: Any,
) -> None:
    """GLOP can fail a face LP from the last step's basis (ABNORMAL after no iteration) where
    the same model solved afresh is optimal: both face LPs then build their model afresh and
    solve again, at the face's bounds, giving a vertex as good as a model that never failed;
    two failures in a row give None, as before."""
    solve_within = walks.solve_within
    failing = 0

    def flaky(solver: Any, deadline: float | None) -> bool:
        nonlocal failing
        if failing:
            failing -= 1
            return False
        return solve_within(solver, deadline)

    monkeypatch.setattr(walks, "solve_within", flaky)
    monkeypatch.setattr(walks, "_SMALL_MODEL_ABOVE", 0)
    rng = np.random.default_rng(3)
    compared = 0
    for _, (inst, target) in feasible_cases(range(8), _mix_case, floor=6):
        face = _FaceModel(inst, 0, True, WalkTally()).whole()
        var_lo, var_hi = face.var_lo.copy(), face.var_hi.copy()
        var_hi[target <= 1e-9] = 0  # a face the walk meets
        bounds = (var_lo, var_hi, face.value_lo, face.value_hi, face.full)
        for restricted in (True, False):
            steady = walks._face_lp(inst, restricted=restricted)
            flaked = walks._face_lp(inst, restricted=restricted)
            for step in range(4):
                preference = rng.uniform(0.0, 1.0, inst.n_units)
                x = steady.vertex(preference, *bounds)
                failing = 1 if step % 2 else 0  # the warm start fails at every other step
                y = flaked.vertex(preference, *bounds)
                assert x is not None and y is not None
                assert float(preference @ y) >= float(preference @ x) - 1e-9
                assert (y >= var_lo - 1e-9).all() and (y <= var_hi + 1e-9).all()
                compared += 1
            assert steady.resets == 0 and flaked.resets == 2
            failing = 2
            assert flaked.vertex(rng.uniform(0.0, 1.0, inst.n_units), *bounds) is None
            assert flaked.resets == 3
    assert compared >= 48


def test_a_step_that_falls_back_to_cp_sat_says_why(monkeypatch: Any) -> None:
    """Each step whose panel comes from CP-SAT on the whole face leaves a ``Fallback`` in the
    walk's tally: the face's tight bounds, each vertex tried (the LP gave none; or its
    fractional counts, the rows its rounding broke and which repairs failed) and how CP-SAT's
    search ended. Forced here: the face LP fails at every step, then the repairs fail."""
    solve_within = walks.solve_within
    for broken in ("lp", "repairs"):
        with monkeypatch.context() as patch:
            if broken == "lp":
                patch.setattr(walks, "solve_within", lambda solver, deadline: False)
            else:
                patch.setattr(walks, "solve_within", solve_within)
                patch.setattr(walks, "repair_counts", lambda *args, **kwargs: None)
                patch.setattr(_FaceModel, "_cp_sat_repair", lambda *args: None)
            attempts = 0
            for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
                tally = WalkTally()
                walk = face_walk(inst, target, tally=tally)
                assert walk
                assert len(tally.fallbacks) == tally.cp_panels
                steps = [fallback.step for fallback in tally.fallbacks]
                assert steps == sorted(set(steps)) and all(s < len(walk) + 1 for s in steps)
                for fallback in tally.fallbacks:
                    assert fallback.at_zero + fallback.at_cap + fallback.free_units == inst.n_units
                    assert fallback.outcome in ("found", "empty", "unknown")
                    assert fallback.budget in walks._PANEL_BUDGETS and fallback.seconds >= 0.0
                    assert len(fallback.attempts) == 1  # no shakes on small pools
                    attempt = fallback.attempts[0]
                    if broken == "lp":
                        assert attempt.fractional is None and attempt.numpy is None
                    else:
                        # a vertex whose rounding was a panel would have been taken
                        assert attempt.fractional is not None and attempt.broken_rows >= 1
                        assert attempt.numpy is False and attempt.cp_repair is False
                        assert attempt.frees and min(attempt.frees) >= 1
                        attempts += 1
                # the walk's panels are the LP's and those CP-SAT found on the whole face
                found = sum(fallback.outcome == "found" for fallback in tally.fallbacks)
                assert found == len(walk) - tally.lp_panels
                if broken == "lp":
                    assert tally.lp_panels == 0 and tally.lp_resets == tally.cp_panels
            if broken == "repairs":
                assert attempts >= 5


def _hard_cp_sat_model() -> cp_model.CpModel:
    """Three random equal-halves subset sums over 60 booleans: CP-SAT takes seconds of
    deterministic time on it (27 s of wall for 5 under a load of 6)."""
    rng = np.random.default_rng(0)
    model = cp_model.CpModel()
    x = [model.new_int_var(0, 1, "") for _ in range(60)]
    for _ in range(3):
        a = rng.integers(1000, 100000, len(x)).tolist()
        total = int(sum(a) // 2) + int(rng.integers(0, 1000))
        model.add(cp_model.LinearExpr.weighted_sum(x, a) == total)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, rng.integers(1, 100, len(x)).tolist()))
    return model


def _solver(budget: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = budget
    return solver


def test_a_cp_sat_search_in_the_walk_stops_at_the_deadline(monkeypatch: Any) -> None:
    """CP-SAT's searches in the walk (on the whole face, and the repairs') take the walk's
    deadline beside their deterministic budget: a search started past it, or one the deadline
    stops, raises TimeLimitReached (never a result the clock cut); with the deadline far the
    budget decides. In a walk, a deadline that passes during a search ends the walk with the
    panels it has taken, and every search is given the walk's deadline."""
    model = _hard_cp_sat_model()
    with pytest.raises(TimeLimitReached):
        walks.search(_solver(0.01), model, time.perf_counter() - 1.0)
    started = time.perf_counter()
    with pytest.raises(TimeLimitReached):
        walks.search(_solver(100.0), model, started + 0.2)
    assert time.perf_counter() - started < 5.0
    solver = _solver(0.01)
    status = walks.search(solver, model, time.perf_counter() + 600.0)
    assert status == cp_model.UNKNOWN  # the budget, not the clock, ended it
    assert solver.response_proto.deterministic_time <= 0.05

    _, (inst, target) = next(feasible_cases(range(12), _mix_case, floor=1))
    whole = face_walk(inst, target, cheap=False)
    assert len(whole) >= 2
    deadline = time.perf_counter() + 600.0
    given: list[float | None] = []
    passed = False
    search = walks.search

    def late(solver: Any, model: Any, deadline: float | None) -> Any:
        given.append(deadline)
        if passed:
            raise TimeLimitReached
        return search(solver, model, deadline)

    def on_step(taken: int) -> None:
        nonlocal passed
        passed = True  # the deadline passes once the first panel is taken

    monkeypatch.setattr(walks, "search", late)
    cut = face_walk(inst, target, cheap=False, deadline=deadline, on_step=on_step)
    assert len(cut) == 1 and np.array_equal(cut[0], whole[0])
    assert len(given) >= 2 and set(given) == {deadline}
