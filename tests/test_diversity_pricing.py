"""Pricing under a diversity bound by neighbourhoods (sortition.engine.diversity_pricing): the
swaps it finds are exactly the brute-force swaps that keep every rule and gain enough, every
column it returns meets the quotas, households and bound and beats the threshold, and LEXIMIN
within the bound equals brute force with it, without it (the whole-pool search alone), level by
level and with the walks."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from sortition.engine import diversity_pricing
from sortition.engine.diversimax import most_diverse
from sortition.engine.diversity import diversity_limit
from sortition.engine.diversity_pricing import BoundedNeighbours
from sortition.engine.objectives import within_diversity
from sortition.engine.pricing import PanelOracle
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.units import Distribution, UnitInstance, from_people
from tests.brute_force import (
    People,
    brute_leximin,
    brute_within_diversity,
    feasible_cases,
    random_people,
)


def _bounded(seed: int, within: Fraction, by_type: bool) -> tuple[UnitInstance, People] | None:
    """A random small pool under the bound (1 + within) × its best score (None: infeasible)."""
    rng = np.random.default_rng(700 + seed)
    people = random_people(rng, int(rng.integers(7, 13)), with_households=seed % 2 == 1)
    found = brute_within_diversity(people, within)
    if found is None:
        return None
    values, vmin, vmax, fov, households, k = people
    inst, _ = from_people(values, vmin, vmax, fov, households, k, by_type)
    best = most_diverse(inst)
    limit = best.exact_score * (1 + within)
    return replace(inst, diversity=diversity_limit(inst, limit, best.counts)), people


def _within(inst: UnitInstance, panel: np.ndarray) -> bool:
    assert inst.diversity is not None
    return inst.is_feasible_panel(panel) and inst.diversity.allows(panel)


def test_swaps_are_the_brute_force_swaps_within_the_bound() -> None:
    """From a panel within the bound, ``swaps`` returns exactly the single swaps (one member of
    a unit in, one of a unit on the panel out) whose panel meets every rule and the bound and
    whose gain exceeds the least asked (negative too), the largest gain first."""
    checked = 0
    for seed, (inst, _) in feasible_cases(
        range(40), lambda s: _bounded(s, Fraction(1, 2), s % 3 != 0), floor=20
    ):
        assert inst.diversity is not None and inst.diversity.panel is not None
        rng = np.random.default_rng(seed)
        g = rng.normal(size=inst.n_units)
        search = BoundedNeighbours(inst, PanelOracle(inst))
        panel = inst.diversity.panel
        for least in (1e-12, -0.5):
            unit_in, unit_out, gains = search.swaps(panel, g, least)
            got = set(zip(unit_in.tolist(), unit_out.tolist(), strict=True))
            expected = set()
            for a in range(inst.n_units):
                for b in np.flatnonzero(panel > 0).tolist():
                    if a == b or g[a] - g[b] <= least:
                        continue
                    moved = panel.copy()
                    moved[a] += 1
                    moved[b] -= 1
                    if _within(inst, moved):
                        expected.add((a, b))
            assert got == expected
            assert np.allclose(gains, g[unit_in] - g[unit_out])
            assert (np.diff(gains) <= 1e-12).all()
        checked += 1
    assert checked >= 20


def test_improving_columns_meet_every_rule_and_beat_the_threshold() -> None:
    """``improve`` (swaps from the seeds, then CP-SAT over the whole pool stopped at its first
    improving panels) returns only panels within the quotas, households and bound that beat the
    threshold, and finds one whenever one exists (brute force)."""
    checked = found_some = 0
    for seed, (inst, people) in feasible_cases(
        range(40), lambda s: _bounded(s, Fraction(1, 4), False), floor=20
    ):
        assert inst.diversity is not None and inst.diversity.panel is not None
        brute = brute_within_diversity(people, Fraction(1, 4))
        assert brute is not None
        within_panels = brute[1].astype(np.int64)
        rng = np.random.default_rng(seed)
        g = rng.normal(size=inst.n_units)
        seed_panel = inst.diversity.panel
        threshold = float(g @ seed_panel) + 1e-9
        columns = BoundedNeighbours(inst, PanelOracle(inst)).improve(g, threshold, [seed_panel], 50)
        for column in columns:
            assert _within(inst, column) and float(g @ column) > threshold
        exists = bool((within_panels @ g > threshold).any())
        assert bool(columns) == exists
        found_some += int(exists)
        checked += 1
    assert checked >= 20 and found_some >= 5


def test_oracle_hint_and_first_panels_leave_the_model_as_it_was() -> None:
    """``PanelOracle.maximize(hint=..., stop_after=...)`` stops at its first panels beating the
    threshold and restores the model's own hint afterwards."""
    made = _bounded(3, Fraction(1, 2), False)
    assert made is not None
    inst, _ = made
    assert inst.diversity is not None and inst.diversity.panel is not None
    oracle = PanelOracle(inst)
    own = oracle.model.proto.solution_hint
    before = (list(own.vars), list(own.values))
    g = np.arange(inst.n_units, dtype=np.float64)
    threshold = float(g @ inst.diversity.panel) + 1e-9
    res = oracle.maximize(g, threshold=threshold, hint=inst.diversity.panel, stop_after=1)
    after = oracle.model.proto.solution_hint
    assert (list(after.vars), list(after.values)) == before
    assert res is not None
    for panel in res.improving:
        assert _within(inst, panel) and float(g @ panel) > threshold


_SETTINGS = {
    "default": DEFAULT_SETTINGS,
    "levels": EngineSettings(walks=0, decompose=False),
    "no-walks": EngineSettings(walks=0),
}


# 8 to 13 s each with two workers: the whole-pool search alone (cheap False) runs by default with
# the default settings, with the other two with the slow tests
@pytest.mark.parametrize(
    ("cheap", "settings"),
    [
        pytest.param(
            cheap,
            settings,
            id=f"{cheap}-{name}",
            marks=(pytest.mark.slow,) if not cheap and name != "default" else (),
        )
        for cheap in (True, False)
        for name, settings in _SETTINGS.items()
    ],
)
def test_leximin_within_the_bound_matches_brute_force(
    cheap: bool, settings: EngineSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LEXIMIN within the bound equals brute force's LEXIMIN over the panels within it, with the
    neighbourhood pricing and with it finding nothing (``cheap`` False: every column from
    CP-SAT over the whole pool, which alone ends each level)."""
    cheap_columns = []
    if cheap:
        improve = diversity_pricing.BoundedNeighbours.improve

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            found = improve(*args, **kwargs)
            cheap_columns.append(len(found))
            return found

        monkeypatch.setattr(diversity_pricing.BoundedNeighbours, "improve", counted)
    else:
        monkeypatch.setattr(diversity_pricing.BoundedNeighbours, "improve", lambda *a, **k: [])
    within = Fraction(1, 4)
    cases = _leximin_cases(within, base=800, smallest=7, seeds=60, floor=10)
    for people, expected in cases:
        _check_leximin_within(people, expected, within, settings)
    assert len(cases) >= 10
    # the neighbourhoods did supply columns
    assert not cheap or sum(cheap_columns) > 0


def _leximin_cases(
    within: Fraction, *, base: int = 900, smallest: int = 8, seeds: int = 40, floor: int = 8
) -> list[tuple[People, np.ndarray]]:
    """Small pools of ``smallest`` to 12 people (drawn from ``base`` + seed) whose bound
    excludes some panel, with brute force's LEXIMIN within it."""

    def make(seed: int) -> tuple | None:  # type: ignore[type-arg]
        rng = np.random.default_rng(base + seed)
        people = random_people(rng, int(rng.integers(smallest, 13)), with_households=seed % 2 == 1)
        found = brute_within_diversity(people, within)
        if found is None:
            return None
        panels, within_panels, _ = found
        if len(within_panels) == len(panels):
            return None  # the bound must exclude some panel
        return people, brute_leximin(within_panels)

    return [case for _, case in feasible_cases(range(seeds), make, floor=floor)]


def _check_leximin_within(
    people: People, expected: np.ndarray, within: Fraction, settings: EngineSettings
) -> Distribution:
    """LEXIMIN within the bound on ``people``: every panel within it, and each person's
    probability brute force's (``expected``)."""
    values, vmin, vmax, fov, households, k = people
    inst, unit_of_person = from_people(values, vmin, vmax, fov, households, k, True)
    dist, _ = within_diversity(inst, "leximin", float(within), settings, None, None)
    limit = diversity_limit(inst, most_diverse(inst).exact_score * (1 + within))
    for panel in dist.panels:
        assert _within(replace(inst, diversity=limit), panel)
    got = dist.unit_probability[unit_of_person]
    assert np.allclose(got, expected, atol=1e-6), (got, expected)
    return dist


def test_leximin_within_the_bound_runs_level_by_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the bound LEXIMIN does not first work towards the relaxation's vector (which the
    panels within the bound need not reach), even with the default settings, and its levels
    equal brute force's LEXIMIN."""
    from sortition.engine import leximin as leximin_module

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the relaxation's vector was asked for under the bound")

    monkeypatch.setattr(leximin_module, "relaxed_leximin", refused)
    within = Fraction(1, 4)
    cases = _leximin_cases(within)
    for people, expected in cases:
        dist = _check_leximin_within(people, expected, within, DEFAULT_SETTINGS)
        assert dist.stats["levels"] >= 1
    assert len(cases) >= 8


def test_leximin_within_the_bound_with_its_master_shrunk_matches_brute_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A level's master restarted from its useful columns whenever it holds more than a few
    (forced: ``levels._SHRINK_ABOVE`` = 3) still ends at brute force's LEXIMIN, every panel
    within the bound."""
    from sortition.engine import levels

    monkeypatch.setattr(levels, "_SHRINK_ABOVE", 3)
    shrunk = []
    shrink = levels._Levels._shrink_if_large

    def counted(self, lp):  # type: ignore[no-untyped-def]
        out = shrink(self, lp)
        shrunk.append(out is not lp)
        return out

    monkeypatch.setattr(levels._Levels, "_shrink_if_large", counted)
    within = Fraction(1, 4)
    cases = _leximin_cases(within)
    for people, expected in cases:
        _check_leximin_within(people, expected, within, DEFAULT_SETTINGS)
    assert len(cases) >= 8 and any(shrunk)


@pytest.mark.parametrize("centre", ["relaxation", "far-off"])
def test_leximin_within_the_bound_with_dual_smoothing_matches_brute_force(
    centre: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the swaps searching at smoothed duals (``Pricer.price_smoothed``) LEXIMIN within the
    bound still equals brute force: from the level's relaxation (the default, whose smoothed
    panels always improve at the master's duals) and from a centre far off (random duals,
    smoothing at 0.9), where panels that do not improve at the master's duals are dropped and
    the round prices at the master's own duals, so only the exact pricing ends a level."""
    from sortition.engine import columns, levels

    smoothed: list[int] = []
    mispriced: list[int] = []
    price_smoothed = columns.Pricer.price_smoothed

    def counted(self, g, theta, centre_, alpha, master):  # type: ignore[no-untyped-def]
        found = price_smoothed(self, g, theta, centre_, alpha, master)
        smoothed.append(len(found))
        mispriced.append(self.mispriced)
        for panel in found:
            assert float(g @ panel) > theta
        return found

    monkeypatch.setattr(columns.Pricer, "price_smoothed", counted)
    if centre == "far-off":
        rng = np.random.default_rng(5)
        monkeypatch.setattr(levels, "_SMOOTHING", 0.9)

        def far(self, relaxed):  # type: ignore[no-untyped-def]
            if relaxed is None:
                return None
            g = rng.uniform(0.0, 1.0, size=len(relaxed.g))
            return g, float(rng.uniform(0.0, 1.0)) * float(g.sum())

        monkeypatch.setattr(levels._Levels, "_centre", far)
    within = Fraction(1, 4)
    cases = _leximin_cases(within)
    for people, expected in cases:
        _check_leximin_within(people, expected, within, DEFAULT_SETTINGS)
    assert len(cases) >= 8
    assert sum(smoothed) > 0  # the smoothed search did give columns
    if centre == "far-off":
        assert max(mispriced) > 0  # and the fallback was taken
