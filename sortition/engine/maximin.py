"""MAXIMIN: maximise the smallest selection probability; the first level of LEXIMIN (Flanigan et
al., Nature 596, 2021), solved by the same column generation (``levels``). The people whose
probability could rise further without lowering the smallest get no guarantee beyond it."""

from __future__ import annotations

from sortition.engine.columns import ColumnGeneration
from sortition.engine.levels import solve_levels
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
    run = ColumnGeneration.start(inst, settings, "maximin", progress, time_limit)
    return solve_levels(run, first_level_only=True)
