"""The lazy covering of large pools (``columns.cover(lazy=True)``), forced onto small instances by
lowering its threshold: LEXIMIN (and MAXIMIN, GOLDILOCKS, NASH) assumes every unit selectable,
covers only what its panels did not reach, and redoes the relaxation when a unit proves on no
panel; the result stays exact."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

from sortition.engine import columns
from sortition.engine import goldilocks as goldilocks_module
from sortition.engine import leximin as leximin_module
from sortition.engine import maximin as maximin_module
from sortition.engine import nash as nash_module
from sortition.engine.goldilocks import goldilocks
from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.engine.nash import nash
from sortition.units import Distribution, from_people
from tests.brute_force import (
    brute_goldilocks,
    brute_leximin,
    brute_nash,
    brute_panels,
    feasible_cases,
    never_selectable_instance,
    person_probability,
    random_people,
)


@pytest.fixture
def lazy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every pool counts as large; returns the list of relaxations' active-set sizes."""
    monkeypatch.setattr(columns, "LAZY_COVER_ABOVE", 0)
    sizes: list[int] = []
    _count(monkeypatch, leximin_module, "relaxed_leximin", sizes, len)
    _count(monkeypatch, maximin_module, "relaxed_maximin", sizes, len)
    return sizes


def test_a_unit_the_relaxation_can_select_but_no_panel_holds_is_found_and_the_relaxation_redone(
    lazy: list[int],
) -> None:
    # random_people seed 140, n = 10: person 7 is on no feasible panel, yet the quota polytope
    # gives it a positive count, so only the covering after the realisation can find it out
    values, vmin, vmax, fov, households, k = random_people(np.random.default_rng(140), 10, False)
    panels = brute_panels(values, vmin, vmax, households, k)
    assert not panels[:, 7].any() and panels.any(axis=0).sum() == 9
    inst, unit = from_people(values, vmin, vmax, fov, households, k, by_type=False)
    dist = leximin(inst)
    assert lazy == [10, 9]  # the relaxation over everyone, then without person 7
    assert dist.never_selectable == (int(unit[7]),)
    expected = brute_leximin(panels)
    got = dist.unit_probability[unit]
    assert np.allclose(got, expected, atol=1e-6), got
    for row in dist.panels:
        assert inst.is_feasible_panel(row)
    lazy.clear()
    dist = maximin(inst)
    assert lazy == [10, 9]
    assert dist.never_selectable == (int(unit[7]),)
    got = dist.unit_probability[unit]
    selectable = panels.any(axis=0)
    assert abs(got[selectable].min() - expected[selectable].min()) < 1e-6, got


def test_a_unit_outside_the_polytope_is_proved_never_selectable(lazy: list[int]) -> None:
    # Person 2 has value 1 whose max is 0: never selectable; the others share the panel.
    inst = never_selectable_instance()
    dist = leximin(inst)
    assert dist.never_selectable == (2,)
    assert np.allclose(dist.unit_probability, [2 / 3, 2 / 3, 0, 2 / 3])
    assert lazy[-1] == 3
    dist = maximin(inst)
    assert dist.never_selectable == (2,)
    assert abs(np.delete(dist.unit_probability, 2).min() - 2 / 3) < 1e-6
    assert lazy[-1] == 3


def test_lazy_and_eager_coverings_give_the_same_leximin(lazy: list[int]) -> None:
    def make(seed: int):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(seed)
        people = random_people(rng, 11, seed % 2 == 0)
        panels = brute_panels(people[0], people[1], people[2], people[4], people[5])
        return None if len(panels) == 0 else (people, panels)

    for _, (people, panels) in feasible_cases(range(200, 240), make, 20):
        values, vmin, vmax, fov, households, k = people
        inst, unit = from_people(values, vmin, vmax, fov, households, k, by_type=True)
        dist = leximin(inst)
        got = dist.unit_probability[unit]
        assert np.allclose(got, brute_leximin(panels), atol=1e-6), got
        never = set(dist.never_selectable)
        assert all((not panels[:, i].any()) == (int(unit[i]) in never) for i in range(len(unit)))
        selectable = panels.any(axis=0)
        got = maximin(inst).unit_probability[unit]
        assert abs(got[selectable].min() - brute_leximin(panels)[selectable].min()) < 1e-6


@pytest.fixture
def lazy_fair(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every pool counts as large for GOLDILOCKS and NASH; returns the number of units each of
    their relaxations took as selectable."""
    monkeypatch.setattr(columns, "LAZY_COVER_ABOVE", 0)
    sizes: list[int] = []
    _count(monkeypatch, goldilocks_module, "relaxed_maximin", sizes, len)
    _count(
        monkeypatch, nash_module, "relaxed_nash", sizes, lambda selectable: int(selectable.sum())
    )
    return sizes


def _count(
    monkeypatch: pytest.MonkeyPatch,
    module: ModuleType,
    name: str,
    sizes: list[int],
    size: Callable[[np.ndarray], int],
) -> None:
    """Replace ``module.name`` (a relaxation taking the instance, then the units it may select)
    by one that appends to ``sizes`` how many units it was given (``size`` of its second
    argument) and calls the original."""
    relax = getattr(module, name)

    def counted(inst, active, *args):  # type: ignore[no-untyped-def]
        sizes.append(size(active))
        return relax(inst, active, *args)

    monkeypatch.setattr(module, name, counted)


def _nash_sum(dist: Distribution, unit: np.ndarray, selectable: np.ndarray) -> float:
    return float(np.log(person_probability(dist, unit)[selectable]).sum())


def _goldilocks_value(dist: Distribution, unit: np.ndarray, selectable: np.ndarray) -> float:
    p = person_probability(dist, unit)
    mean = float(p.sum()) / len(p)
    return float(p.max()) / mean + mean / float(p[selectable].min())


def test_goldilocks_and_nash_find_a_unit_on_no_panel_and_redo_the_relaxation(
    lazy_fair: list[int],
) -> None:
    # as in the LEXIMIN test above: person 7 is on no panel but has a count in the polytope
    values, vmin, vmax, fov, households, k = random_people(np.random.default_rng(140), 10, False)
    panels = brute_panels(values, vmin, vmax, households, k)
    selectable = panels.any(axis=0)
    inst, unit = from_people(values, vmin, vmax, fov, households, k, by_type=False)
    dist = goldilocks(inst)
    assert lazy_fair == [10, 9]  # the relaxation over everyone, then without person 7
    assert dist.never_selectable == (int(unit[7]),)
    assert _goldilocks_value(dist, unit, selectable) == pytest.approx(
        brute_goldilocks(panels, 1.0), rel=1e-6
    )
    assert dist.certificate is not None and dist.certificate.certified
    lazy_fair.clear()
    dist = nash(inst)
    assert lazy_fair == [10, 9]
    assert dist.never_selectable == (int(unit[7]),)
    upper = brute_nash(panels)
    assert upper - 1e-3 <= _nash_sum(dist, unit, selectable) <= upper + 1e-6
    assert dist.certificate is not None and dist.certificate.gap <= 1e-6


def test_goldilocks_and_nash_prove_a_unit_outside_the_polytope_never_selectable(
    lazy_fair: list[int],
) -> None:
    inst = never_selectable_instance()
    # NASH is within its gap of 1e-6 in the mean log-probability: about 1e-3 in each
    for solve, tolerance in ((goldilocks, 1e-6), (nash, 1e-3)):
        lazy_fair.clear()
        dist = solve(inst)
        assert dist.never_selectable == (2,)
        assert np.allclose(dist.unit_probability, [2 / 3, 2 / 3, 0, 2 / 3], atol=tolerance)
        assert dist.certificate is not None and dist.certificate.gap <= 1e-6
        assert lazy_fair[0] == 4  # every unit taken as selectable at first


# With the slow tests (15 s with two workers): the quicker test_lazy_and_eager_coverings_give_the_
# same_leximin compares the two coverings by default, and the tests above check GOLDILOCKS and
# NASH's lazy covering on their own
@pytest.mark.slow
def test_lazy_and_eager_coverings_give_the_same_goldilocks_and_nash(
    lazy_fair: list[int],
) -> None:
    def make(seed: int):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(seed)
        people = random_people(rng, int(rng.integers(6, 12)), seed % 2 == 0)
        panels = brute_panels(people[0], people[1], people[2], people[4], people[5])
        return None if len(panels) == 0 else (people, panels)

    lazily = 0
    for _, (people, panels) in feasible_cases(range(300, 330), make, 12):
        values, vmin, vmax, fov, households, k = people
        inst, unit = from_people(values, vmin, vmax, fov, households, k, by_type=True)
        selectable = panels.any(axis=0)
        lazy_fair.clear()
        dist = goldilocks(inst)
        lazily += lazy_fair[0] == inst.n_units
        assert _goldilocks_value(dist, unit, selectable) == pytest.approx(
            brute_goldilocks(panels, 1.0), rel=1e-6
        )
        never = set(dist.never_selectable)
        assert all((not panels[:, i].any()) == (int(unit[i]) in never) for i in range(len(unit)))
        dist = nash(inst)
        upper = brute_nash(panels)
        assert upper - 1e-3 <= _nash_sum(dist, unit, selectable) <= upper + 1e-6
        assert dist.certificate is not None and dist.certificate.gap <= 1e-6
        never = set(dist.never_selectable)
        assert all((not panels[:, i].any()) == (int(unit[i]) in never) for i in range(len(unit)))
    assert lazily >= 12
