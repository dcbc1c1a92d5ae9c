"""Tests of the transparent lottery: rounding a distribution to a uniform lottery over M panels."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sortition.transparent import (
    BECK_FIALA,
    CPSAT_FEASIBLE,
    EXACT,
    PIPAGE,
    UniformLottery,
    assign_members,
    beck_fiala_counts,
    pipage_counts,
    realised_unit_probability,
    round_to_uniform,
)
from sortition.units import UnitInstance, from_people

TOL = 1e-9

# --------------------------------------------------------------------------- helpers


def _members_of_unit(unit_of_person: np.ndarray, n_units: int) -> tuple[np.ndarray, ...]:
    return tuple(np.flatnonzero(unit_of_person == u) for u in range(n_units))


def _pool(seed: int, n: int) -> np.ndarray:
    """n people with three features: gender (values 0-1), age (2-4), region (5-6)."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.integers(0, 2, n), 2 + rng.integers(0, 3, n), 5 + rng.integers(0, 2, n)]
    )


QUOTAS = {
    # value: (min, max) for k = 8
    "min": np.array([3, 3, 2, 2, 2, 3, 3]),
    "max": np.array([5, 5, 3, 3, 3, 5, 5]),
    "feature": np.array([0, 0, 1, 1, 1, 2, 2]),
}


@cache
def _leximin_case(seed: int, by_type: bool) -> tuple[UnitInstance, np.ndarray, np.ndarray, tuple]:
    """A LEXIMIN distribution on a small random pool (or a hand-made one if the engine fails)."""
    values = _pool(seed, 40)
    households = None
    if not by_type:
        households = np.arange(40)
        households[1] = 0  # persons 0 and 1 share a household
    units, unit_of_person = from_people(
        values, QUOTAS["min"], QUOTAS["max"], QUOTAS["feature"], households, 8, by_type=by_type
    )
    members = _members_of_unit(unit_of_person, units.n_units)
    try:
        from sortition.algorithms.column_generation import leximin

        dist = leximin(units, time_limit=60)
        panels, weights = np.asarray(dist.panels), np.asarray(dist.weights)
    except Exception:  # the engine is being edited elsewhere: fall back to random feasible panels
        panels, weights = _random_feasible_panels(units, seed)
    return units, panels, weights, members


def _random_feasible_panels(units: UnitInstance, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    found: list[tuple[int, ...]] = []
    for _ in range(20000):
        people = rng.permutation(np.repeat(np.arange(units.n_units), units.capacity))[: units.k]
        c = np.bincount(people, minlength=units.n_units)
        if units.is_feasible_panel(c) and tuple(c) not in found:
            found.append(tuple(c))
        if len(found) == 12:
            break
    assert found
    w = rng.random(len(found))
    return np.array(found), w / w.sum()


def _trivial_units(capacity: list[int], k: int) -> UnitInstance:
    """Units with one feature and one value admitting every panel of size k."""
    u = len(capacity)
    return UnitInstance(
        capacity=np.array(capacity),
        incidence=np.ones((1, u), dtype=bool),
        feature_of_value=np.array([0]),
        value_min=np.array([0]),
        value_max=np.array([k]),
        households=(),
        k=k,
    )


def _change(units: UnitInstance, panels: np.ndarray, weights: np.ndarray, lot: UniformLottery):
    """Independent recomputation of max_u |pi'_u - pi_u|."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    pi = (np.asarray(panels).T @ w) / units.capacity
    return float(np.max(np.abs(realised_unit_probability(units, panels, lot) - pi)))


def _check_lottery(units: UnitInstance, panels: np.ndarray, weights: np.ndarray, lot, m: int):
    assert lot.m == m
    assert lot.counts.shape == (len(panels),)
    assert lot.counts.dtype.kind == "i"
    assert (lot.counts >= 0).all()
    assert int(lot.counts.sum()) == m
    assert lot.bound == pytest.approx(units.k / m)
    assert lot.max_change == pytest.approx(_change(units, panels, weights, lot), abs=1e-12)
    indices = lot.panel_indices()
    assert len(indices) == m
    assert indices == sorted(indices)
    assert np.array_equal(np.bincount(indices, minlength=len(panels)), lot.counts)


def _check_members(units, panels, lot: UniformLottery, members) -> None:
    drawn = assign_members(lot, panels, members)
    assert len(drawn) == lot.m
    for j, people in zip(lot.panel_indices(), drawn, strict=True):
        assert len(people) == units.k
        assert len(set(people.tolist())) == units.k  # distinct
        assert list(people) == sorted(people)
        # the people realise the count vector of their distribution panel
        unit_of = np.empty(units.n_people, dtype=np.int64)
        for u, mu in enumerate(members):
            unit_of[mu] = u
        assert np.array_equal(np.bincount(unit_of[people], minlength=units.n_units), panels[j])
    appearances = np.bincount(np.concatenate(drawn), minlength=units.n_people)
    slots = np.asarray(panels).T @ lot.counts
    unit_realised = realised_unit_probability(units, panels, lot)
    for u, mu in enumerate(members):
        s, n = int(slots[u]), len(mu)
        got = appearances[mu]
        assert set(got.tolist()) <= {s // n, -(-s // n)}
        assert int(got.sum()) == s
        # the extra slot goes to the first s mod n members in id order
        assert (got[: s % n] == -(-s // n)).all()
        assert np.abs(got / lot.m - unit_realised[u]).max() < 1 / lot.m + TOL


# --------------------------------------------------------------------------- basics


def test_integral_distribution_is_reproduced_exactly() -> None:
    panels = np.array([[1, 9, 10], [0, 11, 9], [0, 9, 11]])
    units = _trivial_units([1, 11, 11], 20)
    weights = np.array([0.1, 0.45, 0.45])
    for method in ("best", "beck-fiala", "pipage"):
        lot = round_to_uniform(units, panels, weights, 1000, method=method)
        assert lot.counts.tolist() == [100, 450, 450]
        assert lot.max_change < 1e-12
    assert round_to_uniform(units, panels, weights, 1000).method == EXACT


def test_exact_matches_brute_force() -> None:
    # persons (capacity-1 units) 0..4, panels of size 2, M small: enumerate every count vector
    units = _trivial_units([1, 1, 1, 1, 1], 2)
    panels = np.array(
        [[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 1], [1, 0, 0, 0, 1]]
    )
    weights = np.array([0.31, 0.07, 0.23, 0.13, 0.26])
    for m in (3, 7, 10):
        best = min(
            max(abs(np.array(c) @ panels - m * (weights @ panels)))
            for c in itertools.product(range(m + 1), repeat=5)
            if sum(c) == m
        )
        lot = round_to_uniform(units, panels, weights, m, time_limit=5)
        assert lot.method == EXACT
        assert lot.max_change == pytest.approx(best / m, abs=1e-9)
        _check_lottery(units, panels, weights, lot, m)


def test_m_one_and_single_panel() -> None:
    units = _trivial_units([2, 3], 3)
    panels = np.array([[1, 2], [2, 1]])
    lot = round_to_uniform(units, panels, np.array([0.6, 0.4]), 1)
    _check_lottery(units, panels, np.array([0.6, 0.4]), lot, 1)
    assert lot.max_change <= lot.bound + TOL
    single = round_to_uniform(units, panels[:1], np.array([1.0]), 10)
    assert single.counts.tolist() == [10]
    assert single.method == EXACT and single.max_change == 0.0


def test_bad_input() -> None:
    units = _trivial_units([2, 3], 3)
    panels = np.array([[1, 2], [2, 1]])
    with pytest.raises(ValueError):
        round_to_uniform(units, panels, np.array([0.5, 0.5]), 0)
    with pytest.raises(ValueError):
        round_to_uniform(units, panels, np.array([0.5]), 10)
    with pytest.raises(ValueError):
        round_to_uniform(units, panels, np.array([0.0, 0.0]), 10)
    with pytest.raises(ValueError):
        round_to_uniform(units, panels, np.array([0.5, 0.5]), 10, method="nope")
    with pytest.raises(ValueError):
        round_to_uniform(units, np.array([[3, 0], [2, 1]]), np.array([0.5, 0.5]), 10)


def test_assign_members_rejects_oversized_count() -> None:
    units = _trivial_units([2, 3], 3)
    panels = np.array([[1, 2], [2, 1]])
    lot = round_to_uniform(units, panels, np.array([0.5, 0.5]), 4)
    with pytest.raises(ValueError):
        assign_members(lot, panels, (np.array([0]), np.array([1, 2, 3])))


def test_rotation_order_is_documented() -> None:
    units = _trivial_units([3, 1], 2)
    panels = np.array([[2, 0], [1, 1]])
    lot = UniformLottery(np.array([2, 1]), 3, EXACT, 0.0, 2 / 3)
    assert lot.panel_indices() == [0, 0, 1]
    drawn = assign_members(lot, panels, (np.array([10, 11, 12]), np.array([5])))
    assert [d.tolist() for d in drawn] == [[10, 11], [10, 12], [5, 11]]
    _ = units


# --------------------------------------------------------------------------- on LEXIMIN


CASES = [(1, True), (2, True), (3, False)]


@pytest.mark.parametrize(("seed", "by_type"), CASES)
@pytest.mark.parametrize("m", [10, 100, 1000])
def test_fallbacks_within_k_over_m(seed: int, by_type: bool, m: int) -> None:
    units, panels, weights, members = _leximin_case(seed, by_type)
    results = {}
    for method in (BECK_FIALA, PIPAGE):
        lot = round_to_uniform(units, panels, weights, m, method=method)
        assert lot.method == method
        _check_lottery(units, panels, weights, lot, m)
        assert lot.max_change <= units.k / m + TOL
        _check_members(units, panels, lot, members)
        results[method] = lot
    # the functions themselves agree with the dispatcher
    assert np.array_equal(beck_fiala_counts(units, panels, weights, m), results[BECK_FIALA].counts)
    assert np.array_equal(pipage_counts(units, panels, weights, m), results[PIPAGE].counts)


@pytest.mark.parametrize(("seed", "by_type"), CASES)
@pytest.mark.parametrize("m", [10, 1000])
def test_exact_beats_fallbacks(seed: int, by_type: bool, m: int) -> None:
    units, panels, weights, members = _leximin_case(seed, by_type)
    lot = round_to_uniform(units, panels, weights, m, time_limit=0.3)
    assert lot.method in (EXACT, CPSAT_FEASIBLE, BECK_FIALA, PIPAGE)
    _check_lottery(units, panels, weights, lot, m)
    _check_members(units, panels, lot, members)
    for method in (BECK_FIALA, PIPAGE):
        fallback = round_to_uniform(units, panels, weights, m, method=method)
        # CP-SAT's targets are scaled by 10**6 and rounded: exact up to 1e-6 slots per person
        assert lot.max_change <= fallback.max_change + 1e-6 / m
    # person-level probabilities: within max change + 1/M of the distribution's
    drawn = assign_members(lot, panels, members)
    person = np.bincount(np.concatenate(drawn), minlength=units.n_people) / m
    pi = (panels.T @ (weights / weights.sum())) / units.capacity
    for u, mu in enumerate(members):
        assert np.abs(person[mu] - pi[u]).max() <= lot.max_change + 1 / m + TOL


def test_deterministic() -> None:
    units, panels, weights, members = _leximin_case(3, False)
    for method in ("best", BECK_FIALA, PIPAGE):
        a = round_to_uniform(units, panels, weights, 100, time_limit=0.2, method=method)
        b = round_to_uniform(
            units, panels.copy(), weights.copy(), 100, time_limit=0.2, method=method
        )
        assert a.method == b.method
        assert np.array_equal(a.counts, b.counts)
        assert a.max_change == b.max_change
        da, db = assign_members(a, panels, members), assign_members(b, panels, members)
        assert all(np.array_equal(x, y) for x, y in zip(da, db, strict=True))


# --------------------------------------------------------------------------- property


@st.composite
def _random_distributions(draw):
    n_units = draw(st.integers(1, 5))
    capacity = draw(st.lists(st.integers(1, 4), min_size=n_units, max_size=n_units))
    k = draw(st.integers(1, sum(capacity)))
    n_panels = draw(st.integers(1, 7))
    panels = []
    for _ in range(n_panels):
        left, c = k, []
        for u in range(n_units):
            rest = sum(capacity[u + 1 :])
            c_u = draw(st.integers(max(0, left - rest), min(capacity[u], left)))
            c.append(c_u)
            left -= c_u
        panels.append(c)
    raw = draw(st.lists(st.integers(0, 1000), min_size=n_panels, max_size=n_panels))
    if sum(raw) == 0:
        raw[0] = 1
    m = draw(st.integers(1, 60))
    return _trivial_units(capacity, k), np.array(panels), np.array(raw, dtype=float), m


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_distributions())
def test_property_random_distributions(case) -> None:
    units, panels, weights, m = case
    members, start = [], 0
    for cap in units.capacity.tolist():
        members.append(np.arange(start, start + cap))
        start += cap
    lots = {}
    for method in ("best", BECK_FIALA, PIPAGE):
        lot = round_to_uniform(units, panels, weights, m, time_limit=1, method=method)
        _check_lottery(units, panels, weights, lot, m)
        _check_members(units, panels, lot, members)
        lots[method] = lot
    assert lots[BECK_FIALA].max_change <= units.k / m + TOL
    fallback = min(lots[BECK_FIALA].max_change, lots[PIPAGE].max_change)
    assert lots["best"].max_change <= fallback + 1e-6 / m
