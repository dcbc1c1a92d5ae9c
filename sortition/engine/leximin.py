"""LEXIMIN: maximise the smallest selection probability, then the second smallest, and so on
(Flanigan, Gölz, Gupta, Hennig, Procaccia, *Fair algorithms for selecting citizens' assemblies*,
Nature 596, 2021).

The engine first computes the LEXIMIN vector of the LP relaxation over the quota polytope (no
panels: a dozen small LPs, under a second; ``relaxation.relaxed_leximin``) and asks one master
LP for a distribution over panels that gives everyone that vector. The relaxation's vector is at
least LEXIMIN in the leximin order, so a distribution that meets it is LEXIMIN. The vector leaves
the polytope by the LP tolerances, so the target is the polytope's nearest point (within 3e-7 of
it, in counts, on gss_k150); above 2,000 units the point that keeps the largest share of every
unit's count (``relaxation.scaled_polytope_point``: realistic7 n = 10,000, the certificate's
gap 5.9e-6 -> 3.1e-7 at k = 150). Face walks (``walks.face_walk``) supply the master's panels;
pricing adds any still missing. On every real instance measured the vector is met; where it is
not, LEXIMIN runs level by level (``levels``), from the panels found.
"""

from __future__ import annotations

import numpy as np

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.levels import LevelStart, solve_levels
from sortition.engine.master import FIX_SLACK
from sortition.engine.realise import Realised, realise_target
from sortition.engine.relaxation import RelaxedLeximin, relaxed_leximin
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import Progress
from sortition.units import Distribution, UnitInstance


def leximin(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """The LEXIMIN distribution: maximise the smallest probability, then the next, and so on.

    Raises NoFeasiblePanel when no panel meets the quotas and TimeLimitReached past
    ``time_limit`` seconds.
    """
    # on a large pool the covering waits: the walks' panels cover what they reach
    run = ColumnGeneration.start(
        inst, settings, "leximin", progress, time_limit, lazy=settings.decompose
    )
    while True:
        vector = (
            relaxed_leximin(
                inst, run.active, FIX_SLACK, run.clock.deadline, run.relaxed_level_solved
            )
            if settings.decompose
            else None
        )
        if vector is None:
            run.complete_covering([])
            return solve_levels(run, first_level_only=False)
        counts = _polytope_point(run, vector)
        target = counts / inst.capacity
        walks = Walks(run, counts)
        realised = realise_target(run, target, walks)
        # The relaxation assumed every unit selectable until the covering is complete: if some
        # unit the panels did not reach is on no panel, it is redone without it (exact, rare).
        if not run.complete_covering(realised.master.panels):
            break
        run.lp_totals.retire(realised.master)
    if realised.met:
        return _certified(run, vector, target, realised, walks)
    # No distribution meets the relaxation's vector: solve level by level, starting from the
    # panels the attempt used last.
    run.lp_totals.retire(realised.master)
    start = LevelStart(
        run.covering.panels + realised.recent,
        realised.rounds,
        realised.columns_added,
        target_reached=realised.reached,
    )
    return solve_levels(run, first_level_only=False, start=start)


def _polytope_point(run: ColumnGeneration, vector: RelaxedLeximin) -> np.ndarray:
    """The quota polytope's point nearest to the vector, in counts (walks need a point inside
    the polytope, and the vector is outside by the LP tolerances); on large pools the one that
    lowers no unit's count by more than the smallest share it can (``from_below``)."""
    inst = run.inst
    counts = run.nearest_point(vector.probability * inst.capacity, from_below=True)
    if counts is None:
        counts = vector.probability * inst.capacity
    return counts


def _certified(
    run: ColumnGeneration,
    vector: RelaxedLeximin,
    target: np.ndarray,
    realised: Realised,
    walks: Walks,
) -> Distribution:
    """The distribution that meets the relaxation's vector, with its statistics."""
    levels = len(vector.levels)
    stats: dict[str, float | int | str] = {
        "levels": levels,
        "rounds": realised.rounds,
        "columns": len(realised.master.panels),
        "columns_generated": realised.columns_added,
        **run.effort_stats(realised.master),
        "mispriced": 0,  # kept because the records' statistics carry it (see levels.py)
        "levels_at_relaxation_bound": levels,
        "maximin": float(target[run.active].min()),
        "target_reached": realised.reached,
        **walks.stats(),
    }
    bounds = tuple(level.bound for level in vector.levels)
    return run.finish(realised.master, stats, run.smallest_probability(bounds[0], bounds))
