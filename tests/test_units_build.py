"""``units.from_people`` groups people into units with numpy: the same units, in the same order,
as the loop over people it replaced (kept here as the reference), with and without households."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sortition.units import from_people


def _reference(
    values: np.ndarray, households: np.ndarray | None, by_type: bool
) -> tuple[np.ndarray, list[int], list[int]]:
    """The loop over people: each person's unit, each unit's capacity and first member."""
    n = len(values)
    shared = np.zeros(n, dtype=bool)
    if households is not None:
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(int(households[i]), []).append(i)
        for members in groups.values():
            if len(members) > 1:
                shared[members] = True
    unit_of_person = np.empty(n, dtype=np.int64)
    rep: list[int] = []
    capacity: list[int] = []
    index: dict[tuple[int, ...], int] = {}
    for i in range(n):
        if by_type and not shared[i]:
            key = tuple(int(x) for x in values[i])
            u = index.get(key)
            if u is None:
                u = len(rep)
                index[key] = u
                rep.append(i)
                capacity.append(0)
            capacity[u] += 1
        else:
            u = len(rep)
            rep.append(i)
            capacity.append(1)
        unit_of_person[i] = u
    return unit_of_person, capacity, rep


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_units_are_those_of_the_loop_over_people(
    n: int, features: int, with_households: bool, by_type: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = 2 * np.arange(features) + rng.integers(0, 2, size=(n, features))
    households = rng.integers(0, max(1, n // 2), size=n) if with_households else None
    nv = 2 * features
    inst, unit_of_person = from_people(
        values,
        np.zeros(nv, dtype=np.int64),
        np.full(nv, n, dtype=np.int64),
        np.repeat(np.arange(features), 2),
        households,
        max(1, n // 3),
        by_type=by_type,
    )
    expected, capacity, rep = _reference(values, households, by_type)
    assert np.array_equal(unit_of_person, expected)
    assert inst.capacity.tolist() == capacity
    for u, i in enumerate(rep):
        assert np.array_equal(np.flatnonzero(inst.incidence[:, u]), np.sort(values[i]))
    assert inst.incidence.shape == (nv, len(rep))


def test_many_features_group_people_without_one_number_per_vector() -> None:
    """With too many features for one whole number per feature vector (32 of 2 values: 64**32
    overflows), people are grouped by comparing their rows, still as the loop does."""
    rng = np.random.default_rng(5)
    n, features = 300, 32
    values = 2 * np.arange(features) + rng.integers(0, 2, size=(n, features))
    values[100:200] = values[0]  # a type of 101 people
    nv = 2 * features
    inst, unit_of_person = from_people(
        values,
        np.zeros(nv, dtype=np.int64),
        np.full(nv, n, dtype=np.int64),
        np.repeat(np.arange(features), 2),
        None,
        10,
        by_type=True,
    )
    expected, capacity, _ = _reference(values, None, True)
    assert np.array_equal(unit_of_person, expected)
    assert inst.capacity.tolist() == capacity and max(capacity) == 101
