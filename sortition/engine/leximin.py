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

import time
from dataclasses import replace

import numpy as np

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.diversity_sides import sided_instance
from sortition.engine.errors import TimeLimitReached
from sortition.engine.levels import LevelStart, solve_levels
from sortition.engine.master import FIX_SLACK
from sortition.engine.realise import Realised, realise_target
from sortition.engine.relaxation import RelaxedLeximin, relaxed_leximin
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import Progress
from sortition.units import Distribution, UnitInstance

# Under a diversity bound, first realise the relaxation's vector by face walks on the sided
# polytope around its point (``_within_bound``). Off: measured, it does not end sooner than the
# levels (gss_k150 at 0.1: the first walk 277 panels in 387 s of CPU without meeting the vector;
# docs/diversity.md, "Session 10"); kept as a lever for the next measurements (tests run it).
SIDED = False


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
    if inst.diversity is not None:
        if SIDED and settings.decompose:
            started = time.perf_counter()
            sided = _within_bound(inst, settings, progress, time_limit)
            if sided is not None:
                return sided
            if time_limit is not None:
                time_limit -= time.perf_counter() - started
                if time_limit <= 0:
                    raise TimeLimitReached
        # level by level over every panel within the bound, by pricing alone: the relaxation's
        # vector under the bound is a point of the LP polytope, which the panels within the
        # bound need not reach (data/example: 69 rounds to 0.87 of it, then proven unreachable),
        # and a face's LP vertex rounded almost never meets the bound (docs/diversity.md,
        # "Measured"); each level still ends at its relaxation's bound when that is reached
        settings = replace(settings, decompose=False, walks=0)
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


def _within_bound(
    inst: UnitInstance,
    settings: EngineSettings,
    progress: Progress | None,
    time_limit: float | None,
) -> Distribution | None:
    """Under a diversity bound: the relaxation's LEXIMIN vector under the bound, realised by
    panels of the sided polytope around its point (``diversity_sides``: each cell held on the
    piece of its term where the point puts it, the bound one linear row), which are all within
    the bound; the relaxation under the bound certifies it. None when that does not meet the
    vector (then LEXIMIN runs level by level over every panel within the bound)."""
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    vector = relaxed_leximin(inst, np.arange(inst.n_units), FIX_SLACK, deadline)
    if vector is None:
        return None
    sided = sided_instance(inst, vector.probability * inst.capacity)
    left = None if deadline is None else deadline - time.perf_counter()
    run = ColumnGeneration.start(sided, settings, "leximin", progress, left, lazy=True)
    counts = _polytope_point(run, vector)
    target = counts / inst.capacity
    walks = Walks(run, counts)
    realised = realise_target(run, target, walks)
    if run.complete_covering(realised.master.panels) or not realised.met:
        # a unit on no panel of the sided polytope may still be on one within the bound
        run.lp_totals.retire(realised.master)
        return None
    return _certified(run, vector, target, realised, walks)


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
