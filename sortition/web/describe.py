"""What the page says about the algorithms and about a run's progress, in the reader's language.

``ALGORITHM_LINES`` are marked with ``N_`` (so that Babel extracts them) and translated when a
template shows them; ``describe_event`` turns the library's typed progress events
(``sortition.progress``) into one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sortition.progress import (
    CoverStep,
    DiversimaxStep,
    DrawsDone,
    LevelState,
    NashGap,
    NashRound,
    NearestPoint,
    ProgressEvent,
    RelaxationLevel,
    TargetRound,
    WalkStep,
)


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it yet."""
    return message


ALGORITHM_LINES = {
    "leximin": N_(
        "The fairest lottery the quotas allow: the smallest chance of being selected is made "
        "as large as possible, then the next smallest, and so on (recommended)."
    ),
    "maximin": N_(
        "Makes the smallest chance of being selected as large as possible, and leaves the "
        "other chances as they fall."
    ),
    "nash": N_(
        "Makes the product of everyone's chances as large as possible: fair, and close to "
        "equal chances for most people."
    ),
    "diversimax": N_(
        "The one panel most evenly spread across combinations of features (such as age and "
        "region together): the most diverse panel, but no fair chance for each volunteer."
    ),
    "legacy": N_(
        "The greedy draw used before 2021: fast and simple, but some volunteers get almost no "
        "chance."
    ),
}


def describe_event(event: ProgressEvent | None, gettext: Callable[..., Any]) -> str:
    """One line on where the run stands (``gettext(message, **values)`` translates)."""
    _ = gettext
    if event is None:
        return str(_("Preparing…"))
    if isinstance(event, DiversimaxStep):
        if event.score != event.score:  # nan: no panel yet
            return str(
                _(
                    "Seeking the most diverse panel (%(spent)s of %(budget)s seconds of search)",
                    spent=f"{event.spent:.1f}",
                    budget=f"{event.budget:g}",
                )
            )
        return str(
            _(
                "Most diverse panel so far: score %(score)s, none can score below %(bound)s "
                "(%(spent)s of %(budget)s seconds of search)",
                score=f"{event.score:.2f}",
                bound=f"{event.bound:.2f}",
                spent=f"{event.spent:.1f}",
                budget=f"{event.budget:g}",
            )
        )
    if isinstance(event, CoverStep):
        return str(
            _(
                "Covering: %(panels)s panels, %(uncovered)s types of volunteer on none yet",
                panels=event.panels,
                uncovered=event.uncovered,
            )
        )
    if isinstance(event, RelaxationLevel):
        return str(
            _(
                "Relaxation, level %(level)s: smallest chance at most %(bound)s",
                level=event.level,
                bound=f"{event.bound:.4f}",
            )
        )
    if isinstance(event, NearestPoint):
        if event.done:
            return str(_("Nearest point of the quotas' polytope found"))
        return str(_("Seeking the nearest point of the quotas' polytope…"))
    if isinstance(event, WalkStep):
        return str(
            _("Walk %(walk)s: %(panels)s panels so far", walk=event.walk, panels=event.panels)
        )
    if isinstance(event, TargetRound):
        return str(
            _(
                "Round %(round)s: %(reached)s%% of the target reached, %(columns)s panels",
                round=event.round,
                reached=f"{100 * event.reached:.1f}",
                columns=event.columns,
            )
        )
    if isinstance(event, LevelState):
        return str(
            _(
                "Level %(level)s, round %(round)s: smallest chance %(minimum)s, %(columns)s panels",
                level=event.level,
                round=event.round,
                minimum=f"{event.minimum:.4f}",
                columns=event.columns,
            )
        )
    if isinstance(event, DrawsDone):
        return str(
            _(
                "%(algorithm)s: %(done)s of %(total)s draws",
                algorithm=event.algorithm.upper(),
                done=event.done,
                total=event.total,
            )
        )
    if isinstance(event, NashGap):
        return str(_("Round %(round)s: gap %(gap)s", round=event.round, gap=f"{event.gap:.2e}"))
    if isinstance(event, NashRound):
        return str(
            _("Round %(round)s: %(columns)s panels", round=event.round, columns=event.columns)
        )
    return str(_("Working…"))


def event_fraction(event: ProgressEvent | None) -> float | None:
    """The share of the work done, where an event tells it (the audit's draws); else None."""
    if isinstance(event, DrawsDone) and event.total > 0:
        return min(event.done / event.total, 1.0)
    return None
