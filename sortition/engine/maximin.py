"""MAXIMIN: maximise the smallest selection probability; the first level of LEXIMIN (Flanigan et
al., Nature 596, 2021).

Over the quota polytope it is one LP (``relaxation.relaxed_maximin``): its value bounds the
smallest probability over panels from above, and its optimal point, if face walks realise it by
panels (``walks.face_walk``), gives a distribution that meets the bound, so MAXIMIN is certified
by the relaxation. Where the walks fall short (the relaxation is not tight, or a face has no panel
within CP-SAT's budget), the first level of LEXIMIN's column generation (``levels``) goes on from
the walks' panels. On pools of more than 2,000 types the walk's own weights are the distribution
when they give every type ``realise.WALK_MET`` of the bound, with no LP over the walk's panels
(``levels.ADOPT_ABOVE``). The people whose probability could rise further without lowering the
smallest get no guarantee beyond it.
"""

from __future__ import annotations

from sortition.engine.columns import ColumnGeneration, Walks
from sortition.engine.levels import solve_levels
from sortition.engine.master import FIX_SLACK
from sortition.engine.relaxation import relaxed_maximin
from sortition.engine.settings import DEFAULT_SETTINGS, EngineSettings
from sortition.progress import Progress
from sortition.units import Distribution, UnitInstance


def maximin(
    inst: UnitInstance,
    *,
    settings: EngineSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
    time_limit: float | None = None,
) -> Distribution:
    """A distribution maximising the smallest probability (the first LEXIMIN level).

    Raises NoFeasiblePanel when no panel meets the quotas and TimeLimitReached past
    ``time_limit`` seconds.
    """
    # on a large pool the covering waits: the walks' panels cover what they reach
    lazy = settings.decompose and settings.relax
    run = ColumnGeneration.start(inst, settings, "maximin", progress, time_limit, lazy=lazy)
    while True:
        deadline = run.clock.deadline
        point = (
            relaxed_maximin(inst, run.active, FIX_SLACK, deadline) if settings.decompose else None
        )
        if point is None or not settings.relax:
            run.complete_covering([])
            return solve_levels(run, first_level_only=True)
        run.relaxed_level_solved(1, point.level, len(point.level.tight))
        counts = run.nearest_point(point.counts)
        walks = Walks(run, point.counts if counts is None else counts)
        distribution = solve_levels(run, first_level_only=True, walks=walks)
        # The relaxation assumed every unit selectable until the covering is complete: if some
        # unit the panels did not reach is on no panel, it is redone without it (exact, rare).
        if not run.complete_covering(list(distribution.panels)):
            return distribution
