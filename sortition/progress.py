"""Progress as typed events: what the engine, the audit's sampling and the invitation lottery
report while they work, for the command line (or a web page) to render.

A long computation takes an optional ``progress`` callback and calls it with one of these frozen
events; the library never prints. The events say what happened, not how to show it: the
command line's renderer (``sortition_cli.progress``) turns them into lines and bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CoverStep:
    """The covering before the objective: the feasibility check found a panel, or another
    covering panel was found (every fair algorithm; on a large pool the covering waits for the
    objective's panels and runs after them).

    panels: the covering panels so far; uncovered: the units on none of them and not yet proved
    on no panel (0 once the covering is done).
    """

    algorithm: str
    panels: int
    uncovered: int


@dataclass(frozen=True)
class DiversimaxStep:
    """The search for the most diverse panel (DIVERSIMAX, and the first step of a fair
    algorithm under ``--diversity-within``) spent more of its budget.

    score: the best panel's diversity score so far (nan before the first panel); bound: the
    proven lower bound on every panel's score (nan before the first panel); spent and
    budget: CP-SAT's deterministic seconds.
    """

    algorithm: str
    score: float
    bound: float
    spent: float
    budget: float


@dataclass(frozen=True)
class RelaxationLevel:
    """A level of the LP relaxation over the quota polytope is solved, before any panel
    (LEXIMIN's levels one after another; MAXIMIN's one LP is its level 1).

    bound: the level's bound on the smallest probability of the units not fixed before it;
    fixed: the units fixed so far, this level's included; units: the units that count.
    """

    algorithm: str
    level: int
    bound: float
    fixed: int
    units: int


@dataclass(frozen=True)
class NearestPoint:
    """The relaxation's point is moved into the quota polytope (an LP; minutes at a million
    people) before the walks: ``done`` False when it starts, True when it ends."""

    algorithm: str
    done: bool


@dataclass(frozen=True)
class WalkStep:
    """A face walk through the quota polytope took another panel (LEXIMIN).

    walk: which walk (1, 2, ...); panels: the panels this walk has taken so far.
    """

    algorithm: str
    walk: int
    panels: int


@dataclass(frozen=True)
class TargetRound:
    """A round of realising the relaxation's LEXIMIN vector with one master LP (LEXIMIN).

    reached: the share of the vector the distribution gives everyone (1: met); columns: the
    master's panels; reduced_cost: the best reduced cost priced this round (NaN when the round
    took a walk's panels instead of pricing).
    """

    algorithm: str
    round: int
    reached: float
    columns: int
    reduced_cost: float


@dataclass(frozen=True)
class LevelState:
    """Where a LEXIMIN (or MAXIMIN) level stands: the base of its two events.

    minimum: the smallest probability of the unfixed people so far; columns: the master's
    panels; fixed: the units whose probability is already fixed; bound: the level's upper bound
    from the LP relaxation over the quota polytope (nan without one).
    """

    algorithm: str
    level: int
    round: int
    minimum: float
    columns: int
    fixed: int
    bound: float

    @property
    def gap(self) -> float:
        """How far the minimum may still be from the level's optimum, as a share of the bound
        (nan without a bound)."""
        if self.bound != self.bound or self.bound <= 0.0:
            return float("nan")
        return max(0.0, self.bound - self.minimum) / self.bound


@dataclass(frozen=True)
class LevelRound(LevelState):
    """A round of column generation within a level; reduced_cost: the best one priced."""

    reduced_cost: float


@dataclass(frozen=True)
class LevelDone(LevelState):
    """A level is solved; the seconds add up since the start."""

    seconds: float
    lp_seconds: float
    pricing_seconds: float
    heuristic_seconds: float


@dataclass(frozen=True)
class NashRound:
    """A round of NASH's column generation that added panels; objective: the master's value."""

    algorithm: str
    round: int
    objective: float
    columns: int
    cuts: int


@dataclass(frozen=True)
class NashGap:
    """No panel improves NASH's master: its bounds on the optimum and their gap per person."""

    algorithm: str
    round: int
    upper: float
    lower: float
    gap: float
    columns: int
    cuts: int


@dataclass(frozen=True)
class GoldilocksStep:
    """A step of GOLDILOCKS's golden-section search over the smallest probability: its bracket
    [low, high] and the best objective found so far."""

    algorithm: str
    step: int
    low: float
    high: float
    value: float


@dataclass(frozen=True)
class DrawsDone:
    """A sampler's repeated draws (the audit of LEGACY): ``done`` of ``total`` drawn so far."""

    algorithm: str
    done: int
    total: int


@dataclass(frozen=True)
class RowsRead:
    """The invitation lottery has read ``rows`` rows of the registry so far."""

    rows: int


EngineEvent = (
    DiversimaxStep
    | CoverStep
    | RelaxationLevel
    | NearestPoint
    | WalkStep
    | TargetRound
    | LevelRound
    | LevelDone
    | NashRound
    | NashGap
    | GoldilocksStep
)
ProgressEvent = EngineEvent | DrawsDone | RowsRead
Progress = Callable[[ProgressEvent], None]
