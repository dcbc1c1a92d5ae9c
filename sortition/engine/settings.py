"""The engine's settings: one frozen object, passed explicitly to every objective.

The defaults are what the tool runs, and what every record was computed with: nothing else (no
environment variable, no global) changes how a distribution is computed. The levers exist so
that tests can check that turning one off gives the same distribution by another road, and so
that benchmarks can measure what each is worth (benchmarks/README.md, "The engine's levers").
"""

from __future__ import annotations

from dataclasses import dataclass

# Pools of more than this many units (types) take the engine's large-pool paths, each measured
# where it is defined: lazy covering (columns.LAZY_COVER_ABOVE), masters at GLOP's default
# tolerance and by the dual simplex (master.TIGHT_MASTER_UP_TO, levels.DUAL_SIMPLEX_ABOVE), a
# walk's own weights adopted (levels.ADOPT_ABOVE, realise), the walk's pool LP and small repair
# models (walks._SMALL_MODEL_ABOVE), the nearest point over the shifts and LEXIMIN's scaled point
# (relaxation._SHIFTS_ABOVE), NASH's selected cuts (polytope_nash._SELECT_CUTS_ABOVE). Pools of
# at most this many keep the paths the golden outputs (scripts/golden.sha256) and the published
# instances (ces11_k60: 739 types, gss_k150: 440) were made with. One number, so that a pool is
# large or small for the whole engine at once.
LARGE_POOL_UNITS = 2000

# GOLDILOCKS's default gamma (Baharav and Flanigan): the smallest and the largest weigh the same.
DEFAULT_GAMMA = 1.0


@dataclass(frozen=True)
class EngineSettings:
    """How the engine computes a distribution; the defaults are the measured best.

    decompose: LEXIMIN first computes the LEXIMIN vector of the LP relaxation over the quota
        polytope and realises it with one master LP; the level-by-level column generation runs
        only when that vector cannot be met. Off: level by level from the start.
    walks: before pricing, that master gets the panels of up to this many face walks through
        the quota polytope towards the vector, one walk a round while the vector is not met
        (0: pricing alone).
    cheap_steps: a walk step first takes a vertex of the face's LP (GLOP, warm-started from the
        last step) and rounds it, letting CP-SAT move only the counts near its fractional ones;
        CP-SAT searches the whole face only when that finds no panel; the covering pass seeks
        its panels the same way, at vertices of the whole polytope (off: CP-SAT every time).
    relax: each LEXIMIN (or MAXIMIN) level solves its LP relaxation first, ends as soon as the
        master reaches the relaxation's bound and fixes the units its duals mark tight.
    exact_every_round: pricing asks CP-SAT for its best panels every round, beside the panels
        the swap search finds (off: CP-SAT only when the swaps find none). The swaps only reach
        neighbours of the panels in use; CP-SAT's are far ones.
    nash_gap: NASH stops once its bounds on the optimal sum of log-probabilities differ by at
        most this much per person (the log of the ratio of the optimal geometric mean
        probability to the one reached).
    """

    decompose: bool = True
    walks: int = 4
    cheap_steps: bool = True
    relax: bool = True
    exact_every_round: bool = True
    nash_gap: float = 1e-6
    gamma: float = DEFAULT_GAMMA


DEFAULT_SETTINGS = EngineSettings()
