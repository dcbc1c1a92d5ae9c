"""The walk step's numpy repair (``engine.repair``): whatever counts it returns meet every row of
the panel model within the face's bounds and move only its free units; it mends most roundings
of LP vertices on small random pools; and when it fails, the walk's CP-SAT repair still gives
feasible panels on the face."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.engine import walks
from sortition.engine.repair import RepairTally, SparseRows, repair_counts
from sortition.engine.walks import WalkTally, _FaceModel, face_walk
from sortition.units import UnitInstance
from tests.brute_force import feasible_cases, random_case
from tests.test_face_walk import _mix_case, _on_face_of


def _pool(seed: int, by_type: bool) -> tuple[UnitInstance, np.ndarray] | None:
    """A random pool (households one time in three) and a random mix of its panels."""
    rng = np.random.default_rng(9100 + seed)
    case = random_case(rng, seed, by_type)
    if case is None:
        return None
    inst, unit_of_person, panels = case
    mix = rng.dirichlet(np.ones(len(panels))) @ panels.astype(float)
    counts = np.bincount(unit_of_person, weights=mix, minlength=inst.n_units)
    return inst, counts


def _vertex_case(
    seed: int, by_type: bool, preference_seed: int
) -> tuple[_FaceModel, np.ndarray, np.ndarray] | None:
    """A face model, a vertex of its whole polytope's LP for a random preference, and the
    preference; None if the pool has no panel."""
    case = _pool(seed, by_type)
    if case is None:
        return None
    inst, _ = case
    faces = _FaceModel(inst, 0, True, WalkTally())
    assert faces.lp is not None
    face = faces.whole()
    preference = np.random.default_rng(preference_seed).uniform(0.0, 1.0, inst.n_units)
    x = faces.lp.vertex(
        preference, face.var_lo, face.var_hi, face.value_lo, face.value_hi, face.full
    )
    return (faces, x, preference) if x is not None else None


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.booleans(),
    st.integers(0, 10_000),
    st.integers(0, 2**32 - 1),
    st.integers(0, 40),
)
def test_what_the_repair_returns_meets_every_row(
    seed: int, by_type: bool, preference_seed: int, start_seed: int, moves: int
) -> None:
    """From any start within the bounds (a rounded LP vertex, perturbed at random) and any set
    of free units, the repair returns None or counts within the bounds that meet every row of
    the panel model and equal the start outside the free units."""
    case = _vertex_case(seed, by_type, preference_seed)
    if case is None:
        return
    faces, x, preference = case
    inst = faces.inst
    rng = np.random.default_rng(start_seed)
    start = np.clip(np.rint(x) + rng.integers(-1, 2, inst.n_units), 0, inst.capacity)
    free = np.flatnonzero(rng.random(inst.n_units) < rng.uniform(0.2, 1.0))
    face = faces.whole()
    lo, hi = faces._row_bounds(face)
    rows = faces.rows.sparse
    panel = repair_counts(
        start, face.var_lo, face.var_hi, rows, lo, hi, free, preference, moves=moves
    )
    if panel is None:
        return
    assert inst.is_feasible_panel(panel)
    assert not faces.rows.violated(panel.astype(float), lo, hi)
    fixed = np.ones(inst.n_units, dtype=bool)
    fixed[free] = False
    assert np.array_equal(panel[fixed], start[fixed])


def test_the_repair_mends_most_broken_vertices() -> None:
    """With every unit free, the repair mends nearly every LP vertex on small random pools
    after two of its counts are moved by one (the vertices of these small polytopes are mostly
    whole: the moves break rows as rounding does at scale; the search is local, it may miss
    some); with none free it mends none."""
    tally = RepairTally()
    broken = mended = 0
    # case i: pool i // 6, by type or by person, preference i % 3
    for i, case in feasible_cases(
        range(240), lambda i: _vertex_case(i // 6, i % 2 == 0, i % 3), floor=100
    ):
        faces, x, preference = case
        inst = faces.inst
        face = faces.whole()
        lo, hi = faces._row_bounds(face)
        start = np.rint(x).astype(np.int64)
        rng = np.random.default_rng(i)
        start[rng.integers(0, inst.n_units, 2)] += rng.choice([-1, 1], 2)
        start = np.clip(start, face.var_lo, face.var_hi)
        if not faces.rows.violated(start.astype(float), lo, hi):
            continue
        broken += 1
        args = (face.var_lo, face.var_hi, faces.rows.sparse, lo, hi)
        nobody = np.zeros(0, dtype=np.int64)
        assert repair_counts(start, *args, nobody, preference) is None
        panel = repair_counts(start, *args, np.arange(inst.n_units), preference, tally=tally)
        if panel is not None:
            mended += 1
            assert inst.is_feasible_panel(panel)
    assert broken >= 50
    assert mended >= 0.9 * broken
    assert tally.calls == broken and tally.mended == mended and tally.moves >= mended


def test_rows_with_other_coefficients_are_declined() -> None:
    """The search assumes 0/1 rows; a row with another coefficient over a free unit gives None."""
    rows = SparseRows(
        row=np.array([0, 0]), col=np.array([0, 1]), coeff=np.array([2.0, 1.0]), n_rows=1
    )
    low, high = np.zeros(2, dtype=np.int64), np.ones(2, dtype=np.int64)
    one = np.array([1.0])
    both, prefer = np.array([0, 1]), np.ones(2)
    assert repair_counts(np.array([0, 0]), low, high, rows, one, one, both, prefer) is None
    # a start that already meets the rows is returned as it is
    kept = repair_counts(np.array([0, 1]), low, high, rows, one, one, both, prefer)
    assert kept is not None and list(kept) == [0, 1]


def test_a_failed_numpy_repair_falls_back_to_cp_sat(monkeypatch: Any) -> None:
    """Forced to fail (None, or counts that break a row), the numpy repair leaves the step to
    CP-SAT near the fractional counts, and the walk still takes feasible panels on the face."""
    for broken in (False, True):

        def failing(start: np.ndarray, *args: Any, broken: bool = broken, **kw: Any) -> Any:
            if not broken:
                return None
            panel = np.asarray(start, dtype=np.int64).copy()
            panel[0] += 1  # past the panel size: the walk's own check must reject it
            return panel

        monkeypatch.setattr(walks, "repair_counts", failing)
        cp_repairs = 0
        for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
            tally = WalkTally()
            walk = face_walk(inst, target, tally=tally)
            assert walk
            assert tally.numpy_panels == 0
            cp_repairs += tally.cp_repair_panels
            assert tally.rounded_panels + tally.cp_repair_panels == tally.lp_panels
            for panel in walk:
                assert inst.is_feasible_panel(panel)
                assert _on_face_of(inst, panel, target)
        assert cp_repairs > 0


def test_the_walk_repairs_in_numpy() -> None:
    """Unforced, the walk's vertices that rounding breaks are mended in numpy, every panel
    feasible and on the face; the tally adds up."""
    numpy_panels = 0
    for _, (inst, target) in feasible_cases(range(12), _mix_case, floor=9):
        tally = WalkTally()
        walk = face_walk(inst, target, tally=tally)
        numpy_panels += tally.numpy_panels
        assert tally.rounded_panels + tally.numpy_panels + tally.cp_repair_panels == (
            tally.lp_panels
        )
        for panel in walk:
            assert inst.is_feasible_panel(panel)
            assert _on_face_of(inst, panel, target)
    assert numpy_panels > 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_row_activity_over_the_nonzero_counts_is_the_whole_sum(seed: int) -> None:
    """``SparseRows.activity`` adds up only the entries of the nonzero counts (and
    ``by_column`` gives exactly each column's entries): equal to the sum over every entry, for
    rows in any order, columns without entries and counts of 0 anywhere."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 6)), int(rng.integers(1, 9))
    n_entries = int(rng.integers(0, 20))
    row = rng.integers(0, n_rows, n_entries)
    col = rng.integers(0, n_cols, n_entries)
    coeff = rng.integers(-2, 3, n_entries).astype(np.float64)
    rows = SparseRows(row, col, coeff, n_rows)
    counts = rng.integers(0, 3, n_cols) * (rng.random(n_cols) < 0.5)
    whole = np.bincount(row, weights=coeff * counts[col], minlength=n_rows)
    assert np.array_equal(rows.activity(counts.astype(np.float64)), whole)
    columns = rng.permutation(n_cols)[: int(rng.integers(0, n_cols + 1))]
    entries = rows.by_column(columns)
    expected = [i for c in columns.tolist() for i in np.flatnonzero(col == c).tolist()]
    assert entries.tolist() == expected
