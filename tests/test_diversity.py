"""The diversity measure (docs/diversity.md): which intersections are eligible, a hand-computed
panel, and the type-count form against the panel form."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.engine.diversity import measure_of, unit_measure
from sortition.units import from_people

# Quota rows in canonical (feature, value) order: age old, age young, gender F, gender M,
# region E, region N, region S, region W (nobody in the pool lives in W).
AGE_OLD, AGE_YOUNG, F, M, E, N, S, W = range(8)
FOV = np.array([0, 0, 1, 1, 2, 2, 2, 2])


def _pool() -> np.ndarray:
    """12 people, every value present but region W."""
    people = [
        (AGE_YOUNG, F, N),
        (AGE_YOUNG, F, N),
        (AGE_OLD, M, S),
        (AGE_YOUNG, M, N),
        (AGE_OLD, F, E),
        (AGE_OLD, F, S),
        (AGE_YOUNG, M, E),
        (AGE_OLD, M, N),
        (AGE_YOUNG, F, S),
        (AGE_OLD, F, E),
        (AGE_YOUNG, M, S),
        (AGE_OLD, M, E),
    ]
    return np.array(people, dtype=np.int64)


def test_eligible_intersections_by_hand() -> None:
    """n = 12, k = 4: age (2 cells), gender (2), region (3: W is in nobody's row), age x gender
    (4 <= k, 12 >= 2 * 4); every intersection with region and another feature has 6 > k cells."""
    measure = measure_of(_pool(), FOV, 4)
    assert [(i.features, i.cells) for i in measure.intersections] == [
        ((0,), 2),
        ((1,), 2),
        ((2,), 3),
        ((0, 1), 4),
    ]
    assert measure.intersections[2].values == ((E, N, S),)
    assert measure.scale == 12
    # with 7 people, age x gender holds 7 / 4 < 2 a cell on average: not eligible
    small = measure_of(_pool()[:7], FOV, 4)
    assert [i.features for i in small.intersections] == [(0,), (1,), (2,)]


def test_hand_made_panel_against_hand_computed_score() -> None:
    """Panel: young F N, young F N, old M S, young M N (k = 4).
    age: young 3, old 1 -> |3 - 2| + |1 - 2| = 2; gender: F 2, M 2 -> 0;
    region (share 4/3): E 0, N 3, S 1 -> 4/3 + 5/3 + 1/3 = 10/3;
    age x gender (share 1): old F 0, old M 1, young F 2, young M 1 -> 1 + 0 + 1 + 0 = 2.
    Total 2 + 0 + 10/3 + 2 = 22/3."""
    measure = measure_of(_pool(), FOV, 4)
    panel = _pool()[[0, 1, 2, 3]]
    assert measure.exact_score(panel) == Fraction(22, 3)
    assert abs(measure.score(panel) - 22 / 3) < 1e-12
    # spread evenly on age, gender and age x gender; region E 1, N 1, S 2 (share 4/3)
    spread = _pool()[[4, 2, 8, 3]]  # old F E, old M S, young F S, young M N
    assert measure.exact_score(spread) == Fraction(1, 3) + Fraction(1, 3) + Fraction(2, 3)


@st.composite
def _pool_and_panel(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    n = draw(st.integers(2, 30))
    fov = np.concatenate([[f] * s for f, s in enumerate(sizes)]).astype(np.int64)
    offsets = np.cumsum([0, *sizes[:-1]])
    values = np.array(
        [[offsets[f] + draw(st.integers(0, s - 1)) for f, s in enumerate(sizes)] for _ in range(n)],
        dtype=np.int64,
    )
    k = draw(st.integers(1, n))
    panel = np.array(sorted(draw(st.permutations(range(n)))[:k]), dtype=np.int64)
    households = None
    if draw(st.booleans()):
        households = np.array([draw(st.integers(0, n)) for _ in range(n)], dtype=np.int64)
    return values, fov, households, k, panel  # type: ignore[return-value]


@settings(max_examples=150, deadline=None)
@given(_pool_and_panel())
def test_type_count_form_equals_panel_form(case: tuple) -> None:  # type: ignore[type-arg]
    """The score of a panel's people equals the score of its counts over units (types, and
    people sharing a household), whichever way the units are built."""
    values, fov, households, k, panel = case
    n = len(values)
    measure = measure_of(values, fov, k)
    expected = measure.exact_score(values[panel])
    for by_type in (True, False):
        zeros = np.zeros(len(fov), dtype=np.int64)
        inst, unit_of_person = from_people(values, zeros, zeros + k, fov, households, k, by_type)
        units = unit_measure(inst)
        assert (units.intersections, units.n, units.k) == (measure.intersections, n, k)
        counts = np.bincount(unit_of_person[panel], minlength=inst.n_units)
        form = measure.cells(inst)
        assert measure.exact_score_of_counts(form, counts) == expected
