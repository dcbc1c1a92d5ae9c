"""Tests of the fair-distribution engine (LEXIMIN, MAXIMIN, NASH) against brute force and data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sortition.engine.errors import NoFeasiblePanel, TimeLimitReached
from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.engine.nash import nash
from sortition.engine.relaxation import relaxed_leximin
from sortition.engine.settings import EngineSettings
from sortition.selection.service import load_input
from sortition.units import Distribution, UnitInstance, from_people, unit_instance
from tests.brute_force import (
    People,
    brute_leximin,
    brute_nash,
    brute_panels,
    feasible_cases,
    never_selectable_instance,
    person_probability,
    random_people,
)
from tests.helpers import missing_shared_data, shared_data

# --------------------------------------------------------------------------- helpers


def _load_csv_instance(
    folder: Path, k: int, by_type: bool = True
) -> tuple[UnitInstance, np.ndarray]:
    """The instance as the tool reads it (canonical id order), as units."""
    loaded = load_input(folder / "respondents.csv", folder / "categories.csv", k)
    return unit_instance(loaded.instance, by_type)


def _check_distribution(inst: UnitInstance, dist: Distribution) -> None:
    assert dist.panels.shape[1] == inst.n_units
    assert abs(dist.weights.sum() - 1) < 1e-9
    assert (dist.weights > 0).all()
    assert len({row.tobytes() for row in dist.panels}) == len(dist.panels)
    for row in dist.panels:
        assert inst.is_feasible_panel(row)
    recomputed = dist.weights @ dist.panels / inst.capacity
    assert np.allclose(recomputed, dist.unit_probability, atol=1e-9)
    assert abs(float(dist.unit_probability @ inst.capacity) - inst.k) < 1e-6


# --------------------------------------------------------------------------- units


def test_from_people_types_and_households() -> None:
    values = np.array([[0, 2], [0, 2], [1, 3], [0, 2], [1, 3]])
    vmin = np.zeros(4, dtype=np.int64)
    vmax = np.full(4, 3)
    fov = np.array([0, 0, 1, 1])
    inst, unit = from_people(values, vmin, vmax, fov, None, 2, by_type=True)
    assert inst.capacity.tolist() == [3, 2]
    assert unit.tolist() == [0, 0, 1, 0, 1]
    inst, unit = from_people(values, vmin, vmax, fov, np.array([0, 1, 1, 2, 3]), 2, by_type=True)
    # People 1 and 2 share a household: own units; the others form types.
    assert unit.tolist() == [0, 1, 2, 0, 3]
    assert inst.capacity.tolist() == [2, 1, 1, 1]
    assert inst.households == ((1, 2),)
    inst, unit = from_people(values, vmin, vmax, fov, None, 2, by_type=False)
    assert inst.n_units == 5 and unit.tolist() == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("seed", range(25))
def test_leximin_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(6, 13))
    with_hh = seed % 3 == 0
    values, vmin, vmax, fov, hh, k = random_people(rng, n, with_hh)
    panels = brute_panels(values, vmin, vmax, hh, k)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    inst_t, unit_t = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    if len(panels) == 0:
        with pytest.raises(NoFeasiblePanel):
            leximin(inst)
        with pytest.raises(NoFeasiblePanel):
            leximin(inst_t)
        return
    expected = brute_leximin(panels)
    for ins, un in ((inst, unit), (inst_t, unit_t)):
        dist = leximin(ins)
        _check_distribution(ins, dist)
        got = person_probability(dist, un)
        assert np.allclose(got, expected, atol=1e-6), (got, expected)
        never = set(dist.never_selectable)
        assert all((not panels[:, i].any()) == (int(un[i]) in never) for i in range(n))
        mm = maximin(ins)
        _check_distribution(ins, mm)
        sel = panels.any(axis=0)
        assert abs(person_probability(mm, un)[sel].min() - expected[sel].min()) < 1e-6


@pytest.mark.parametrize("seed", range(10))
def test_type_path_equals_person_path(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    n = int(rng.integers(20, 40))
    values, vmin, vmax, fov, hh, k = random_people(rng, n, seed % 2 == 0)
    inst_p, unit_p = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
    inst_t, unit_t = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    try:
        dp = leximin(inst_p)
    except NoFeasiblePanel:
        with pytest.raises(NoFeasiblePanel):
            leximin(inst_t)
        return
    dt = leximin(inst_t)
    assert inst_t.n_units <= inst_p.n_units
    pp, pt = person_probability(dp, unit_p), person_probability(dt, unit_t)
    assert np.allclose(pp, pt, atol=1e-6)
    assert abs(pp.sum() - k) < 1e-6 and abs(pt.sum() - k) < 1e-6


def test_infeasible_raises() -> None:
    values = np.array([[0, 2], [1, 3], [0, 3]])
    inst, _ = from_people(
        values,
        np.array([2, 0, 0, 0]),
        np.array([2, 2, 2, 2]),
        np.array([0, 0, 1, 1]),
        None,
        1,
        by_type=True,
    )
    with pytest.raises(NoFeasiblePanel):
        leximin(inst)
    with pytest.raises(NoFeasiblePanel):
        nash(inst)


def test_never_selectable_does_not_block() -> None:
    # Person 2 has value 1 whose max is 0: never selectable; the others share the panel.
    inst = never_selectable_instance()
    dist = leximin(inst)
    assert dist.never_selectable == (2,)
    assert np.allclose(dist.unit_probability, [2 / 3, 2 / 3, 0, 2 / 3])


def test_deterministic() -> None:
    rng = np.random.default_rng(7)
    values, vmin, vmax, fov, hh, k = random_people(rng, 40, True)
    inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    try:
        a = leximin(inst)
    except NoFeasiblePanel:
        pytest.skip("random instance infeasible")
    b = leximin(inst)
    assert np.array_equal(a.panels, b.panels)
    assert np.array_equal(a.weights, b.weights)


def test_time_limit() -> None:
    inst, _ = _load_csv_instance(_real("ces11_k60"), 60)
    with pytest.raises(TimeLimitReached):
        leximin(inst, time_limit=0.05)


# --------------------------------------------------------------------------- NASH


def _nash_case(seed: int) -> tuple[People, np.ndarray] | None:
    """A random pool of 6-11 people and its feasible panels; None if there is none."""
    rng = np.random.default_rng(3000 + seed)
    people = random_people(rng, int(rng.integers(6, 12)), seed % 3 == 0)
    values, vmin, vmax, _, hh, k = people
    panels = brute_panels(values, vmin, vmax, hh, k)
    return (people, panels) if len(panels) else None


def test_nash_matches_brute_force() -> None:
    for _, (people, panels) in feasible_cases(range(10), _nash_case, floor=8):
        values, vmin, vmax, fov, hh, k = people
        upper = brute_nash(panels)  # outer approximation: an upper bound, tight to ~1e-4
        for by_type in (False, True):
            inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=by_type)
            dist = nash(inst, settings=EngineSettings(nash_gap=1e-7))
            _check_distribution(inst, dist)
            prob = person_probability(dist, unit)
            sel = panels.any(axis=0)
            got = float(np.log(prob[sel]).sum())
            assert got <= upper + 1e-6
            assert got >= upper - 1e-3
            assert float(dist.stats["gap"]) <= 1e-7


# --------------------------------------------------------------------------- real data


def _real(name: str) -> Path:
    for sub in ("real", "instances"):
        if (shared_data() / sub / name).is_dir():
            return shared_data() / sub / name
    missing_shared_data(name)


def test_example_small_20() -> None:
    inst, unit = _load_csv_instance(_real("example_small_20"), 20)
    dist = leximin(inst)
    _check_distribution(inst, dist)
    assert abs(person_probability(dist, unit).min() - 0.100) < 1e-6


def test_example_small_20_per_person_equals_types() -> None:
    folder = _real("example_small_20")
    inst_t, unit_t = _load_csv_instance(folder, 20, by_type=True)
    inst_p, unit_p = _load_csv_instance(folder, 20, by_type=False)
    pt = person_probability(leximin(inst_t), unit_t)
    pp = person_probability(leximin(inst_p), unit_p)
    assert np.allclose(pt, pp, atol=1e-6)


def test_example_large_200() -> None:
    inst, unit = _load_csv_instance(_real("example_large_200"), 200)
    dist = leximin(inst)
    _check_distribution(inst, dist)
    assert abs(person_probability(dist, unit).min() - 0.100) < 1e-6


def test_ces11_maximin() -> None:
    inst, unit = _load_csv_instance(_real("ces11_k60"), 60)
    dist = maximin(inst)
    _check_distribution(inst, dist)
    assert person_probability(dist, unit).min() >= 0.011494 - 1e-6


@pytest.mark.parametrize(
    ("name", "k", "floor"),
    [
        ("ces11_k60", 60, 0.011494),  # about 20 s
        ("gss_k150", 150, 0.009714),  # about 5 s
    ],
)
def test_real_leximin(name: str, k: int, floor: float) -> None:
    """LEXIMIN meets the relaxation's LEXIMIN vector on both: its face walks find panels that
    carry it before any pricing."""
    inst, unit = _load_csv_instance(_real(name), k)
    dist = leximin(inst)
    _check_distribution(inst, dist)
    assert person_probability(dist, unit).min() >= floor - 1e-6
    assert float(dist.stats["target_reached"]) >= 1 - 1e-7
    assert dist.stats["levels_at_relaxation_bound"] == dist.stats["levels"]
    assert dist.certificate is not None and dist.certificate.certified, dist.certificate
    vector = relaxed_leximin(inst, np.arange(inst.n_units))
    assert vector is not None
    assert np.allclose(dist.unit_probability, vector.probability, atol=1e-6)
