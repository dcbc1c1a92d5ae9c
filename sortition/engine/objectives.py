"""The fair algorithms over a pool: build units (types), run the engine, map back to people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sortition.engine.column_generation import leximin, maximin, nash
from sortition.engine.pricing import TimeLimitReached
from sortition.errors import InfeasibleError, Problem, TimeLimitError
from sortition.model import Instance
from sortition.units import (
    Distribution,
    UnitInstance,
    members_of_units,
    unit_instance,
)

FAIR_ALGORITHMS: dict[str, Callable[..., Distribution]] = {
    "leximin": leximin,
    "maximin": maximin,
    "nash": nash,
}
ProgressFn = Callable[[dict[str, Any]], None]


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
    progress: ProgressFn | None = None,
    time_limit: float | None = None,
) -> PoolDistribution:
    """Run LEXIMIN, MAXIMIN or NASH; raises TimeLimitError (exit 4) or InfeasibleError (exit 3)."""
    units, unit_of_person = unit_instance(instance, by_type)
    try:
        distribution = FAIR_ALGORITHMS[algorithm](units, progress=progress, time_limit=time_limit)
    except TimeLimitReached:
        raise TimeLimitError(
            [Problem(f"{algorithm.upper()} did not finish within --time-limit {time_limit:g} s")]
        ) from None
    except ValueError as error:
        raise InfeasibleError([Problem(str(error))]) from None
    members = members_of_units(unit_of_person, units.n_units)
    return PoolDistribution(instance, units, unit_of_person, members, distribution, by_type)
