"""The fair algorithms over a pool: build units (types), run the objective, map back to people."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sortition.engine.errors import NoFeasiblePanel, TimeLimitReached
from sortition.engine.registry import objective
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.errors import InfeasibleError, Problem, TimeLimitError
from sortition.model import Instance
from sortition.progress import Progress
from sortition.units import (
    Distribution,
    UnitInstance,
    members_of_units,
    unit_instance,
)


@dataclass(frozen=True)
class PoolDistribution:
    """A distribution over panels of one pool, with what is needed to map units to people."""

    instance: Instance
    units: UnitInstance
    unit_of_person: np.ndarray  # (n,) canonical person -> unit
    members_of_unit: tuple[np.ndarray, ...]  # canonical person indices, id order
    distribution: Distribution
    by_type: bool

    @property
    def person_probability(self) -> np.ndarray:
        return np.asarray(self.distribution.unit_probability)[self.unit_of_person]

    @property
    def never_selectable(self) -> list[int]:
        """Canonical indices of people who are on no feasible panel."""
        units = set(int(u) for u in self.distribution.never_selectable)
        return [i for i, u in enumerate(self.unit_of_person) if int(u) in units]


def fair_distribution(
    instance: Instance,
    algorithm: str,
    *,
    by_type: bool = True,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> PoolDistribution:
    """Run a fair algorithm (``registry.FAIR_ALGORITHMS``) on the pool's units.

    Raises InfeasibleError (exit 3) when no panel meets the quotas and TimeLimitError (exit 4)
    past ``time_limit`` seconds; any other exception is a bug.
    """
    units, unit_of_person = unit_instance(instance, by_type)
    solve = objective(algorithm)
    try:
        distribution = solve(units, settings=settings, progress=progress, time_limit=time_limit)
    except TimeLimitReached:
        raise TimeLimitError(
            [Problem(f"{algorithm.upper()} did not finish within --time-limit {time_limit:g} s")]
        ) from None
    except NoFeasiblePanel as error:
        raise InfeasibleError([Problem(str(error))]) from None
    members = members_of_units(unit_of_person, units.n_units)
    return PoolDistribution(instance, units, unit_of_person, members, distribution, by_type)
