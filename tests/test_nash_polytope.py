"""NASH over the quota polytope: tangent cuts for the bound and the point, walks to realise it,
column generation where the relaxation is not tight; checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from sortition.engine import polytope_nash
from sortition.engine.master import Clock
from sortition.engine.nash import nash
from sortition.engine.polytope_nash import relaxed_nash
from sortition.engine.settings import EngineSettings
from sortition.units import from_people
from tests.brute_force import (
    People,
    brute_nash,
    brute_panels,
    feasible_cases,
    person_probability,
    random_people,
)


def _case(seed: int) -> tuple[People, np.ndarray] | None:
    """A random pool of 6-12 people (households in every other), and its feasible panels."""
    rng = np.random.default_rng(9000 + seed)
    people = random_people(rng, int(rng.integers(6, 13)), seed % 2 == 0)
    values, vmin, vmax, _, hh, k = people
    panels = brute_panels(values, vmin, vmax, hh, k)
    return (people, panels) if len(panels) else None


def test_nash_over_the_polytope_matches_brute_force() -> None:
    realised = 0
    for _, (people, panels) in feasible_cases(range(10), _case, floor=7):
        values, vmin, vmax, fov, hh, k = people
        upper = brute_nash(panels)  # outer approximation over every panel: tight to ~1e-4
        selectable = np.asarray(panels.any(axis=0), dtype=bool)
        for by_type in (False, True):
            inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=by_type)
            dist = nash(inst)
            got = float(np.log(person_probability(dist, unit)[selectable]).sum())
            assert upper - 1e-3 <= got <= upper + 1e-6
            certificate = dist.certificate
            assert certificate is not None and certificate.gap <= 1e-6
            people_count = int(selectable.sum())
            assert certificate.value * people_count == pytest.approx(got, abs=1e-9)
            assert certificate.bound * people_count >= got - 1e-9
            realised += "relaxation_rounds" in dist.stats
    assert realised >= 6  # most by realising the relaxation's point


def test_relaxation_bounds_the_panels_optimum() -> None:
    """The tangent-cut relaxation's upper bound is at least the optimum over panels."""
    for _, (people, panels) in feasible_cases(range(10), _case, floor=7):
        values, vmin, vmax, fov, hh, k = people
        inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
        selectable = np.asarray(panels.any(axis=0), dtype=bool)
        relaxed = relaxed_nash(inst, selectable, 1e-8, Clock(None))
        assert relaxed is not None and relaxed.gap <= 1e-8
        exact = nash(inst, settings=EngineSettings(decompose=False, nash_gap=1e-8))
        over_panels = float(np.log(exact.unit_probability[selectable]).sum())
        assert relaxed.upper >= over_panels - 1e-7


@pytest.mark.parametrize(("seed", "with_households"), [(749, False), (858, True)])
def test_nash_where_the_relaxation_is_not_tight(seed: int, with_households: bool) -> None:
    """The pools whose polytope has a better MAXIMIN than their panels (tests/test_maximin.py):
    NASH is the brute-force optimum whether or not its relaxation's point is realised."""
    rng = np.random.default_rng(seed)
    values, vmin, vmax, fov, hh, k = random_people(rng, int(rng.integers(6, 13)), with_households)
    panels = brute_panels(values, vmin, vmax, hh, k)
    selectable = np.asarray(panels.any(axis=0), dtype=bool)
    inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
    upper = brute_nash(panels)
    dist = nash(inst)
    got = float(np.log(person_probability(dist, unit)[selectable]).sum())
    assert upper - 1e-3 <= got <= upper + 1e-6
    assert dist.certificate is not None and dist.certificate.gap <= 1e-6
    assert "cut_rounds" in dist.stats  # column generation over panels gave it


def test_cutting_the_most_excess_units_keeps_bound_and_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above ``_SELECT_CUTS_ABOVE`` units a round cuts only the units carrying most of the
    excess (forced here on small pools): the bound still bounds the panels' optimum, the gap is
    met, it agrees with cutting every unit, and NASH is still the brute-force optimum."""
    monkeypatch.setattr(polytope_nash, "_SELECT_CUTS_ABOVE", 0)
    monkeypatch.setattr(polytope_nash, "_CUT_SHARE", 0.5)
    fewer = 0
    for _, (people, panels) in feasible_cases(range(10), _case, floor=7):
        values, vmin, vmax, fov, hh, k = people
        inst, unit = from_people(values, vmin, vmax, fov, hh, k, by_type=False)
        selectable = np.asarray(panels.any(axis=0), dtype=bool)
        selected = relaxed_nash(inst, selectable, 1e-8, Clock(None))
        with pytest.MonkeyPatch.context() as every:
            every.setattr(polytope_nash, "_SELECT_CUTS_ABOVE", 10**9)
            full = relaxed_nash(inst, selectable, 1e-8, Clock(None))
        assert selected is not None and full is not None and selected.gap <= 1e-8
        assert selected.upper >= full.lower - 1e-9 and full.upper >= selected.lower - 1e-9
        fewer += selected.cuts < full.cuts
        upper = brute_nash(panels)
        assert selected.upper >= upper - 1e-3
        dist = nash(inst)
        got = float(np.log(person_probability(dist, unit)[selectable]).sum())
        assert upper - 1e-3 <= got <= upper + 1e-6
        assert dist.certificate is not None and dist.certificate.gap <= 1e-6
    assert fewer  # the selection left some units uncut
