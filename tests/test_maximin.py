"""MAXIMIN over the quota polytope: one LP for the bound, walks to realise its point, column
generation where the relaxation is not tight; checked against brute force and LEXIMIN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sortition.engine.leximin import leximin
from sortition.engine.maximin import maximin
from sortition.engine.relaxation import relaxed_maximin
from sortition.engine.settings import EngineSettings
from sortition.selection.service import load_input
from sortition.units import Distribution, UnitInstance, from_people, unit_instance
from tests.brute_force import (
    People,
    brute_panels,
    feasible_cases,
    lp_max,
    person_probability,
    random_people,
)
from tests.helpers import missing_shared_data, shared_data


def _check(inst: UnitInstance, dist: Distribution) -> None:
    assert abs(dist.weights.sum() - 1) < 1e-9
    for row in dist.panels:
        assert inst.is_feasible_panel(row)
    recomputed = dist.weights @ dist.panels / inst.capacity
    assert np.allclose(recomputed, dist.unit_probability, atol=1e-9)


def _brute_maximin(panels: np.ndarray) -> float:
    selectable = [i for i in range(panels.shape[1]) if panels[:, i].any()]
    return lp_max(panels, np.zeros(panels.shape[1]), None, selectable)


def _case(seed: int) -> tuple[People, np.ndarray] | None:
    """A random pool of 6-14 people (households in every other), and its feasible panels."""
    rng = np.random.default_rng(5000 + seed)
    people = random_people(rng, int(rng.integers(6, 15)), seed % 2 == 0)
    values, vmin, vmax, _, hh, k = people
    panels = brute_panels(values, vmin, vmax, hh, k)
    return (people, panels) if len(panels) else None


def test_maximin_matches_brute_force() -> None:
    for _, (people, panels) in feasible_cases(range(40), _case, floor=30):
        values, vmin, vmax, fov, hh, k = people
        expected = _brute_maximin(panels)
        selectable = panels.any(axis=0)
        for by_type in (False, True):
            inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=by_type)
            dist = maximin(inst)
            _check(inst, dist)
            got = person_probability(dist, unit)
            assert abs(got[selectable].min() - expected) < 1e-6, (got, expected)
            assert (got[~selectable] == 0).all()


# Random pools (seeds of tests.brute_force.random_people) whose quota polytope has a larger
# MAXIMIN than its panels: one without households (749), one with (858).
_NOT_TIGHT = ((749, False), (858, True))


@pytest.mark.parametrize(("seed", "with_households"), _NOT_TIGHT)
def test_maximin_where_the_relaxation_is_not_tight(seed: int, with_households: bool) -> None:
    rng = np.random.default_rng(seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 13)), with_households)
    panels = brute_panels(values, vmin, vmax, hh, k)
    expected = _brute_maximin(panels)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    selectable = panels.any(axis=0)
    point = relaxed_maximin(inst, np.unique(unit[selectable]))
    assert point is not None and point.level.bound > expected + 1e-3  # not tight
    dist = maximin(inst)
    _check(inst, dist)
    assert abs(person_probability(dist, unit)[selectable].min() - expected) < 1e-7
    assert dist.stats["levels_at_relaxation_bound"] == 0  # column generation found it
    # Without the relaxation (the levels' column generation alone) it is the same minimum.
    plain = maximin(inst, settings=EngineSettings(decompose=False, relax=False))
    assert abs(float(plain.stats["min_probability"]) - expected) < 1e-7


def _load(name: str, k: int) -> UnitInstance:
    for sub in ("real", "instances"):
        folder: Path = shared_data() / sub / name
        if folder.is_dir():
            loaded = load_input(folder / "respondents.csv", folder / "categories.csv", k)
            return unit_instance(loaded.instance, True)[0]
    missing_shared_data(name)


def _same_minimum_as_leximin(name: str, k: int) -> None:
    inst = _load(name, k)
    mm = maximin(inst)
    _check(inst, mm)
    lex = leximin(inst)
    assert abs(float(mm.stats["min_probability"]) - float(lex.stats["min_probability"])) < 1e-6
    # realised by the walks, at the relaxation's bound
    assert mm.stats["levels_at_relaxation_bound"] == 1
    assert int(mm.stats["walk_panels"]) > 0


@pytest.mark.parametrize(("name", "k"), [("example_small_20", 20), ("example_large_200", 200)])
def test_maximin_equals_leximin_minimum_on_the_examples(name: str, k: int) -> None:
    _same_minimum_as_leximin(name, k)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "k"), [("ces11_k60", 60), ("gss_k150", 150)])
def test_maximin_equals_leximin_minimum_on_real_instances(name: str, k: int) -> None:
    _same_minimum_as_leximin(name, k)
