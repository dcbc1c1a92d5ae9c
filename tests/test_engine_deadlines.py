"""Every LP of GOLDILOCKS's and NASH's relaxations (and their nearest points) takes the engine's
deadline: a solve that the deadline stops, or that starts past it, raises TimeLimitReached
(exit 4 in the CLI), not a silent fallback and not a run past the user's limit."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sortition.engine import goldilocks as goldilocks_module
from sortition.engine import nash as nash_module
from sortition.engine import polytope_nash
from sortition.engine.errors import TimeLimitReached
from sortition.engine.goldilocks import _PolytopeH, goldilocks
from sortition.engine.master import Clock
from sortition.engine.nash import nash
from sortition.engine.polytope_nash import relaxed_nash
from sortition.engine.relaxation import relaxed_maximin
from sortition.units import UnitInstance, from_people
from tests.brute_force import random_people


def _instance() -> UnitInstance:
    """A random pool of 20 people by type on which the quotas have a panel."""
    rng = np.random.default_rng(99)
    while True:
        values, vmin, vmax, fov, hh, k = random_people(rng, 20, False)
        inst, _ = from_people(values, vmin, vmax, fov, hh, k, by_type=True)
        if relaxed_maximin(inst, np.arange(inst.n_units)) is not None:
            return inst


class _PassedDuringTheSolve(Clock):
    """A clock whose deadline has passed, though its checks between solves did not see it: as
    when the deadline passes while GLOP solves."""

    def __init__(self) -> None:
        super().__init__(None)
        self.deadline = time.perf_counter() - 1.0

    def check(self) -> None:
        pass


def test_goldilocks_h_stops_at_the_deadline() -> None:
    inst = _instance()
    selectable = np.ones(inst.n_units, dtype=bool)
    late = _PolytopeH(inst, selectable, deadline=time.perf_counter() - 1.0)
    with pytest.raises(TimeLimitReached):
        late.h(0.0)
    # with time left the same LP is solved
    assert _PolytopeH(inst, selectable, deadline=time.perf_counter() + 60.0).h(0.0) is not None
    assert _PolytopeH(inst, selectable).h(0.0) is not None


def test_relaxed_nash_stops_at_the_deadline() -> None:
    inst = _instance()
    selectable = np.ones(inst.n_units, dtype=bool)
    with pytest.raises(TimeLimitReached):
        relaxed_nash(inst, selectable, 1e-6, _PassedDuringTheSolve())
    solver, _ = polytope_nash.polytope_model(inst)
    with pytest.raises(TimeLimitReached):
        polytope_nash._solve(solver, time.perf_counter() - 1.0)
    assert relaxed_nash(inst, selectable, 1e-6, Clock(60.0)) is not None


def test_goldilocks_passes_its_deadline_to_every_relaxation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GOLDILOCKS's relaxed MAXIMIN, its H(l) and its nearest point get the run's deadline."""
    seen: list[tuple[str, float | None]] = []
    maximin_lp = goldilocks_module.relaxed_maximin
    nearest = goldilocks_module.nearest_polytope_point

    def spy_maximin(inst, active, slack, deadline=None):  # type: ignore[no-untyped-def]
        seen.append(("maximin", deadline))
        return maximin_lp(inst, active, slack, deadline)

    def spy_nearest(inst, counts, deadline=None):  # type: ignore[no-untyped-def]
        seen.append(("nearest", deadline))
        return nearest(inst, counts, deadline)

    monkeypatch.setattr(goldilocks_module, "relaxed_maximin", spy_maximin)
    monkeypatch.setattr(goldilocks_module, "nearest_polytope_point", spy_nearest)
    goldilocks(_instance(), time_limit=60.0)
    assert [name for name, _ in seen] == ["maximin", "nearest"]
    assert all(isinstance(deadline, float) for _, deadline in seen)


def test_nash_passes_its_deadline_to_the_nearest_point(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float | None] = []
    nearest = nash_module.nearest_polytope_point

    def spy_nearest(inst, counts, deadline=None):  # type: ignore[no-untyped-def]
        seen.append(deadline)
        return nearest(inst, counts, deadline)

    monkeypatch.setattr(nash_module, "nearest_polytope_point", spy_nearest)
    nash(_instance(), time_limit=60.0)
    assert len(seen) == 1 and isinstance(seen[0], float)


@pytest.mark.parametrize("objective", [goldilocks, nash])
def test_a_tiny_limit_stops_the_objective(objective: object) -> None:
    with pytest.raises(TimeLimitReached):
        objective(_instance(), time_limit=1e-6)  # type: ignore[operator]
