"""Covering under a diversity bound by neighbourhoods (sortition.engine.diversity_cover): the
swap chains' and small searches' panels meet every rule, and the covering finds exactly the
types that brute force finds on some panel within the bound, with the neighbourhoods and with
the whole-pool search alone (a bound so tight that the neighbourhoods find little)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from sortition.engine import columns, diversity_cover
from sortition.engine.diversimax import most_diverse
from sortition.engine.diversity import diversity_limit
from sortition.engine.master import Clock
from sortition.units import from_people
from tests.brute_force import brute_within_diversity, feasible_cases, random_people


def _case(seed: int, within: Fraction) -> tuple | None:  # type: ignore[type-arg]
    """A random small pool, its brute-force panels within (1 + within) × the best score, and
    the people on some such panel."""
    rng = np.random.default_rng(900 + seed)
    people = random_people(rng, int(rng.integers(7, 14)), with_households=seed % 2 == 1)
    found = brute_within_diversity(people, within)
    if found is None:
        return None
    _, within_panels, limit = found
    return people, limit, within_panels.any(axis=0)


def _bounded(people: tuple, limit: Fraction, by_type: bool) -> tuple:  # type: ignore[type-arg]
    """The pool's instance, its person -> unit map, its most diverse panel, and the instance
    with the bound ``limit`` (from that panel)."""
    values, vmin, vmax, fov, households, k = people
    inst, unit_of_person = from_people(values, vmin, vmax, fov, households, k, by_type)
    best = most_diverse(inst)
    bounded = replace(inst, diversity=diversity_limit(inst, limit, best.counts))
    return inst, unit_of_person, best, bounded


# 5 to 9 s each with two workers: the whole-pool search alone (neighbourhoods False) runs by
# default at the middle bound, at the other two with the slow tests
@pytest.mark.parametrize(
    ("neighbourhoods", "within"),
    [
        pytest.param(
            neighbourhoods,
            within,
            id=f"{neighbourhoods}-within{i}",
            marks=(pytest.mark.slow,) if not neighbourhoods and i != 1 else (),
        )
        for neighbourhoods in (True, False)
        for i, within in enumerate([Fraction(0), Fraction(1, 10), Fraction(1, 2)])
    ],
)
def test_covering_finds_the_selectable_types_of_brute_force(
    within: Fraction, neighbourhoods: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every covering panel meets the quotas, households and bound; the units declared
    selectable are exactly those with a person on some brute-force panel within the bound. With
    ``neighbourhoods`` off the whole-pool search covers and proves alone (the fallback)."""
    if not neighbourhoods:
        monkeypatch.setattr(columns, "neighbourhood_cover", lambda *args, **kwargs: [])
    checked = 0
    for _, (people, limit, on_some) in feasible_cases(
        range(40), lambda seed: _case(seed, within), floor=20
    ):
        for by_type in (True, False):
            inst, unit_of_person, best, bounded = _bounded(people, limit, by_type)
            assert best.exact_score == limit / (1 + within)
            covering = columns.cover(bounded, Clock(None))
            for panel in covering.panels:
                assert bounded.is_feasible_panel(panel)
            expected = np.zeros(inst.n_units, dtype=bool)
            expected[unit_of_person[on_some]] = True
            assert (covering.selectable == expected).all()
            on_panels = np.any([p > 0 for p in covering.panels], axis=0)
            assert (on_panels == expected).all()
        checked += 1
    assert checked >= 20


def _listener(heard: list[tuple[int, int]]) -> columns.OnCoverPanel:
    return lambda panels, uncovered: heard.append((panels, uncovered))


def test_the_covering_near_the_most_diverse_panel_reports_each_panel() -> None:
    """``cover``'s listener hears of every covering panel, the neighbourhoods' too (before, of
    the first and the whole-pool search's only: minutes of silence on ces11_k60): the panels
    counted up one by one to the covering's, the units on none never rising, the last 0."""
    heard_many = 0
    for _, (people, limit, _) in feasible_cases(
        range(40), lambda seed: _case(seed, Fraction(1, 2)), floor=10
    ):
        _, _, _, bounded = _bounded(people, limit, True)
        heard: list[tuple[int, int]] = []
        covering = columns.cover(bounded, Clock(None), on_panel=_listener(heard))
        panels = [p for p, _ in heard]
        uncovered = [u for _, u in heard]
        assert panels[0] == 1 and uncovered[-1] == 0
        assert panels[-1] == len(covering.panels)
        assert all(b - a in (0, 1) for a, b in itertools.pairwise(panels))
        assert uncovered == sorted(uncovered, reverse=True)
        assert set(panels) == set(range(1, len(covering.panels) + 1))
        heard_many += len(covering.panels) >= 3
    assert heard_many >= 3


@pytest.mark.parametrize("swaps", [True, False])
def test_swap_chains_and_small_searches_keep_every_rule(
    swaps: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each panel the neighbourhoods return meets the quotas, the households and the bound and
    puts an uncovered unit on a panel. Without ``swaps`` the small CP-SAT searches do it all."""
    if not swaps:
        monkeypatch.setattr(diversity_cover.SwapChains, "chain", lambda *args, **kwargs: None)
        monkeypatch.setattr(diversity_cover.SwapChains, "double_swap", lambda *args, **kwargs: None)
    checked = chains = doubles = searched = 0
    for _, (people, limit, _) in feasible_cases(
        range(40), lambda seed: _case(seed, Fraction(1, 2)), floor=20
    ):
        _, _, best, bounded = _bounded(people, limit, False)
        todo = best.counts == 0
        tally = diversity_cover.NeighbourhoodTally()
        found = diversity_cover.neighbourhood_cover(
            bounded, [best.counts], todo, seed=0, clock=Clock(None), tally=tally
        )
        for panel in found:
            assert bounded.is_feasible_panel(panel)
            assert (panel[todo] > 0).any()
        assert tally.panels + tally.chains + tally.doubles == len(found)
        chains += tally.chains
        doubles += tally.doubles
        searched += tally.panels
        checked += 1
    assert checked >= 20
    if swaps:  # both kinds of swap were taken
        assert chains > 0 and doubles > 0
    else:
        assert searched > 0


def test_covering_under_the_bound_starts_from_the_most_diverse_panel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a diversity bound the most diverse panel proves that a panel exists: the covering
    asks CP-SAT for no feasibility panel (no search with every weight 0) and starts from it."""
    asked: list[np.ndarray] = []
    maximize = columns.PanelOracle.maximize

    def recorded(self, weights, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(np.asarray(weights))
        return maximize(self, weights, **kwargs)

    monkeypatch.setattr(columns.PanelOracle, "maximize", recorded)
    checked = 0
    for _, (people, limit, on_some) in feasible_cases(
        range(20), lambda seed: _case(seed, Fraction(1, 10)), floor=10
    ):
        inst, unit_of_person, best, bounded = _bounded(people, limit, True)
        asked.clear()
        covering = columns.cover(bounded, Clock(None))
        assert not any(not w.any() for w in asked)
        assert np.array_equal(covering.panels[0], best.counts)
        expected = np.zeros(inst.n_units, dtype=bool)
        expected[unit_of_person[on_some]] = True
        assert (covering.selectable == expected).all()
        checked += 1
    assert checked >= 10


def test_moves_are_the_brute_force_swaps_with_their_exact_change() -> None:
    """``SwapChains.moves`` finds exactly the wanted swaps whose panel meets the quotas, the
    households and the bound, each with the exact change of the scaled score (checked against
    the score of each swapped panel)."""
    checked = 0
    for seed, (people, limit, _) in feasible_cases(
        range(30), lambda seed: _case(seed, Fraction(1, 4)), floor=15
    ):
        inst, _, best, bounded = _bounded(people, limit, True)
        assert bounded.diversity is not None
        chains = diversity_cover.SwapChains(bounded)
        rng = np.random.default_rng(seed)
        panel = best.counts.astype(np.int64)
        incoming = np.flatnonzero(panel < inst.capacity)
        outgoing = np.flatnonzero(panel > 0)
        wanted = rng.random((len(incoming), len(outgoing))) < 0.7
        wanted &= incoming[:, None] != outgoing[None, :]
        exact = chains.moves(panel, incoming, outgoing, wanted)
        before = bounded.diversity.scaled(panel)
        fits = set()
        for a, i in enumerate(incoming.tolist()):
            for b, o in enumerate(outgoing.tolist()):
                if not wanted[a, b]:
                    continue
                swapped = panel.copy()
                swapped[i] += 1
                swapped[o] -= 1
                if bounded.is_feasible_panel(swapped) and bounded.diversity.allows(swapped):
                    fits.add((i, o))
        found = set(zip(exact[0].tolist(), exact[1].tolist(), strict=True))
        assert found == fits
        for i, o, change in zip(*exact, strict=True):
            swapped = panel.copy()
            swapped[i] += 1
            swapped[o] -= 1
            assert bounded.diversity.scaled(swapped) - before == change
        checked += 1
    assert checked >= 15
