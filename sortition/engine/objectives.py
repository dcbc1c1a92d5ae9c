"""The fair algorithms over a pool: build units (types), run the objective, map back to people."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from sortition.engine.diversimax import most_diverse
from sortition.engine.diversity import diversity_limit
from sortition.engine.errors import NoFeasiblePanel, TimeLimitReached
from sortition.engine.registry import objective
from sortition.engine.relaxation import relaxed_maximin
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.errors import N_, InfeasibleError, Problem, TimeLimitError, problem
from sortition.model import Instance
from sortition.progress import Progress
from sortition.units import (
    Distribution,
    UnitInstance,
    members_of_units,
    unit_instance,
)


@dataclass(frozen=True)
class DiversityPrice:
    """What ``--diversity-within`` cost (docs/diversity.md).

    within: the FRACTION; best: the most diverse panel's score (DIVERSIMAX), best_bound: its
    proven lower bound; limit: (1 + within) × best, the bound every panel meets;
    smallest_with / smallest_without: the smallest selection probability of any volunteer with
    the bound (the distribution's) and without it (the LP relaxation's MAXIMIN, an upper bound,
    met on every instance measured).
    """

    within: float
    best: float
    best_bound: float
    limit: float
    smallest_with: float
    smallest_without: float

    def as_record(self) -> dict[str, float]:
        return {
            "within": self.within,
            "best": self.best,
            "best_bound": self.best_bound,
            "limit": self.limit,
            "smallest_probability_with": self.smallest_with,
            "smallest_probability_without": self.smallest_without,
        }


@dataclass(frozen=True)
class PoolDistribution:
    """A distribution over panels of one pool, with what is needed to map units to people."""

    instance: Instance
    units: UnitInstance
    unit_of_person: np.ndarray  # (n,) canonical person -> unit
    members_of_unit: tuple[np.ndarray, ...]  # canonical person indices, id order
    distribution: Distribution
    by_type: bool
    diversity: DiversityPrice | None = None

    @property
    def person_probability(self) -> np.ndarray:
        return np.asarray(self.distribution.unit_probability)[self.unit_of_person]

    @property
    def never_selectable(self) -> list[int]:
        """Canonical indices of people who are on no feasible panel."""
        never = np.asarray(self.distribution.never_selectable, dtype=np.int64)
        return np.flatnonzero(np.isin(self.unit_of_person, never)).tolist()


def fair_distribution(
    instance: Instance,
    algorithm: str,
    *,
    by_type: bool = True,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
    diversity_within: float | None = None,
    stated_time_limit: float | None = None,
) -> PoolDistribution:
    """Run a fair algorithm (``registry.FAIR_ALGORITHMS``) on the pool's units; with
    ``diversity_within`` = FRACTION, only over the panels whose diversity score is at most
    (1 + FRACTION) × the most diverse panel's (``within_diversity``).

    Raises InfeasibleError (exit 3) when no panel meets the quotas and TimeLimitError (exit 4)
    past ``time_limit`` seconds; any other exception is a bug. The time-out's message names
    ``stated_time_limit`` when given: the limit the user set, of which a caller that spent
    some of it first (the feasibility check) passes only what is left as ``time_limit``.
    """
    units, unit_of_person = unit_instance(instance, by_type)
    price = None
    try:
        if diversity_within is None:
            solve = objective(algorithm)
            distribution = solve(units, settings=settings, progress=progress, time_limit=time_limit)
        else:
            distribution, price = within_diversity(
                units, algorithm, diversity_within, settings, progress, time_limit
            )
    except TimeLimitReached:
        problems = [
            problem(
                N_("{algorithm} did not finish within --time-limit {seconds} s"),
                algorithm=algorithm.upper(),
                seconds=f"{time_limit if stated_time_limit is None else stated_time_limit:g}",
            )
        ]
        if diversity_within is not None and algorithm != "maximin":
            # what an organiser can do instead (docs/diversity.md, "Limits")
            problems.append(
                problem(
                    N_(
                        "under --diversity-within, {algorithm} does not yet finish in minutes "
                        "except on small pools; MAXIMIN stops at the smallest chance of selection "
                        "within the bound ({algorithm}'s first step), and diversimax gives the one "
                        'most diverse panel (docs/diversity.md, "Limits")'
                    ),
                    algorithm=algorithm.upper(),
                )
            )
        raise TimeLimitError(problems) from None
    except NoFeasiblePanel as error:
        # the engine's reason, a Message (translated where it is shown) or a plain text
        reason = error.args[0] if error.args else str(error)
        raise InfeasibleError([Problem(reason)]) from None
    members = members_of_units(unit_of_person, units.n_units)
    return PoolDistribution(instance, units, unit_of_person, members, distribution, by_type, price)


def within_diversity(
    units: UnitInstance,
    algorithm: str,
    within: float,
    settings: EngineSettings,
    progress: Progress | None,
    time_limit: float | None,
) -> tuple[Distribution, DiversityPrice]:
    """The objective over the panels whose score is at most (1 + ``within``) × the best panel's:
    DIVERSIMAX first (its panel and proven bound), then the bound as one more rule of the quota
    polytope (``units.DiversityLimit``), which every model of the engine adds. The bound is
    computed exactly: the best score is a fraction, ``within`` the decimal it was given as.
    ``algorithm``: the objective's name (``registry.objective``), which also names the search
    for the best panel in the progress events."""
    started = time.perf_counter()
    best = most_diverse(units, time_limit=time_limit, progress=progress, algorithm=algorithm)
    bound = best.exact_score * (1 + Fraction(repr(float(within))))
    constrained = replace(units, diversity=diversity_limit(units, bound, best.counts))
    # no face walks under the bound: a face's LP vertex rounded almost never meets it, and
    # CP-SAT on the whole face took 0.8 s a face on data/example and minutes on gss_k150
    # (docs/diversity.md, "Measured"); pricing by neighbourhoods finds the panels
    settings = replace(settings, walks=0)
    if algorithm == "leximin":
        # LEXIMIN level by level: the relaxation's vector under the bound is a point of the LP
        # polytope, which the panels within the bound need not reach (data/example: 69 rounds
        # to 0.87 of it, then proven unreachable, then the levels from the start); each level
        # still ends at its relaxation's bound when that is reached (ces11_k60, gss_k150)
        settings = replace(settings, decompose=False)
    left = None if time_limit is None else time_limit - (time.perf_counter() - started)
    if left is not None and left <= 0:
        raise TimeLimitReached
    distribution = objective(algorithm)(
        constrained, settings=settings, progress=progress, time_limit=left
    )
    deadline = None if time_limit is None else started + time_limit
    free = relaxed_maximin(units, np.arange(units.n_units), deadline=deadline)
    smallest_without = 0.0 if free is None else float(free.level.bound)
    price = DiversityPrice(
        within=float(within),
        best=best.score,
        best_bound=best.bound,
        limit=float(bound),
        smallest_with=float(np.min(distribution.unit_probability)),
        smallest_without=min(1.0, smallest_without),
    )
    return distribution, price
