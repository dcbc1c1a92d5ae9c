"""Progress on stderr: one renderer for every progress event of the library
(``sortition.progress``): the fair algorithms' column generation as a status line, a sampler's
repeated draws (the audit) and the registry rows read (the invitation lottery) as bars."""

from __future__ import annotations

import sys
import time

import click
from sortition_cli.i18n import _
from tqdm import tqdm

from sortition.progress import (
    CoverStep,
    DiversimaxStep,
    DrawsDone,
    EngineEvent,
    GoldilocksStep,
    LevelState,
    NashGap,
    NashRound,
    NearestPoint,
    ProgressEvent,
    RelaxationLevel,
    RowsRead,
    TargetRound,
    WalkStep,
)


def describe(event: EngineEvent) -> list[str]:
    """The parts of an engine event's status line, in the order they are shown."""
    if isinstance(event, DiversimaxStep):
        spent = _("search {spent} of {budget} deterministic s").format(
            spent=f"{event.spent:.1f}", budget=f"{event.budget:g}"
        )
        if event.score != event.score:  # nan: no panel yet
            return [_("seeking the most diverse panel"), spent]
        return [
            _("most diverse panel so far: score {score}").format(score=f"{event.score:.2f}"),
            _("proven bound {value}").format(value=f"{event.bound:.2f}"),
            spent,
        ]
    if isinstance(event, CoverStep):
        return [
            _("covering panels {n}").format(n=event.panels),
            _("uncovered {n}").format(n=event.uncovered),
        ]
    if isinstance(event, RelaxationLevel):
        return [
            _("relaxation level {n}").format(n=event.level),
            _("bound {value}").format(value=f"{event.bound:.6f}"),
            _("fixed {n} of {total}").format(n=event.fixed, total=event.units),
        ]
    if isinstance(event, NearestPoint):
        if event.done:
            return [_("nearest point of the quota polytope found")]
        return [_("seeking the nearest point of the quota polytope")]
    if isinstance(event, WalkStep):
        return [_("walk {n}").format(n=event.walk), _("panels {n}").format(n=event.panels)]
    if isinstance(event, TargetRound):
        return [
            _("round {n}").format(n=event.round),
            _("columns {n}").format(n=event.columns),
            _("{percent} % of the relaxation's vector").format(
                percent=f"{100 * event.reached:.4f}"
            ),
        ]
    if isinstance(event, LevelState):  # a level's rounds and its end
        parts = [
            _("round {n}").format(n=event.round),
            _("level {n}").format(n=event.level),
            _("columns {n}").format(n=event.columns),
            _("fixed {n}").format(n=event.fixed),
            _("min {value}").format(value=f"{event.minimum:.6f}"),
        ]
        if event.bound == event.bound:  # not nan: the relaxation's bound is known
            parts += [
                _("bound {value}").format(value=f"{event.bound:.6f}"),
                _("gap {value}").format(value=f"{event.gap:.1e}"),
            ]
        return parts
    if isinstance(event, GoldilocksStep):
        return [
            _("step {n}").format(n=event.step),
            _("smallest between {low} and {high}").format(
                low=f"{event.low:.6f}", high=f"{event.high:.6f}"
            ),
            _("objective {value}").format(value=f"{event.value:.6f}"),
        ]
    if isinstance(event, NashGap):
        return [
            _("round {n}").format(n=event.round),
            _("columns {n}").format(n=event.columns),
            _("value {value}").format(value=f"{event.lower:.6g}"),
            _("bound {value}").format(value=f"{event.upper:.6g}"),
            _("gap {value}").format(value=f"{event.gap:.1e}"),
        ]
    assert isinstance(event, NashRound)
    return [  # NASH's rounds
        _("round {n}").format(n=event.round),
        _("columns {n}").format(n=event.columns),
    ]


class ProgressRenderer:
    """Renders the library's progress events on stderr; call ``close`` at the end.

    The fair algorithms' events become one status line ("LEXIMIN: round 9, level 2, ..."),
    rewritten in place on a terminal at most five times a second, and printed as a new line at
    most every ``interval`` seconds otherwise. A sampler's draws get a bar per algorithm, which
    closes when its draws are done; the registry rows read get one bar, on a terminal only.
    """

    def __init__(self, interval: float = 5.0) -> None:
        self.interactive = sys.stderr.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.last = 0.0
        self.algorithm: str | None = None
        self.printed = False
        self.draws: dict[str, tqdm] = {}  # type: ignore[type-arg]
        self.rows: tqdm | None = None  # type: ignore[type-arg]

    def __call__(self, event: ProgressEvent) -> None:
        if isinstance(event, DrawsDone):
            self._draws(event)
        elif isinstance(event, RowsRead):
            self._rows(event)
        else:
            self._line(event)

    def _line(self, event: EngineEvent) -> None:
        now = time.monotonic()
        if event.algorithm != self.algorithm:
            if self.algorithm is not None:  # the next algorithm (the audit runs several)
                self._end_line()
                self.started, self.last = now, 0.0
            self.algorithm = event.algorithm
        if now - self.last < (0.2 if self.interactive else self.interval):
            return
        self.last = now
        line = _("{algorithm}: {parts} ({seconds} s)").format(
            algorithm=event.algorithm.upper(),
            parts=", ".join(describe(event)),
            seconds=f"{now - self.started:.0f}",
        )
        if self.interactive:
            click.echo("\r" + line.ljust(78), nl=False, err=True)
            self.printed = True
        else:
            click.echo(line, err=True)

    def _end_line(self) -> None:
        if self.printed:
            click.echo(err=True)
            self.printed = False

    def _draws(self, event: DrawsDone) -> None:
        bar = self.draws.get(event.algorithm)
        if bar is None:
            self._end_line()
            bar = tqdm(
                total=event.total,
                desc=_("{algorithm} draws").format(algorithm=event.algorithm.upper()),
                unit=_("draw"),
                file=sys.stderr,
                mininterval=0.5 if self.interactive else 10.0,
                dynamic_ncols=True,
            )
            self.draws[event.algorithm] = bar
        bar.update(event.done - bar.n)
        if event.done >= event.total:
            bar.close()
            self.started = time.monotonic()  # what comes next is timed from here

    def _rows(self, event: RowsRead) -> None:
        if self.rows is None:
            self.rows = tqdm(
                unit=" " + _("rows"), unit_scale=True, disable=None, file=sys.stderr, leave=False
            )
        self.rows.update(event.rows - self.rows.n)

    def close(self) -> None:
        """Close the bars and end the status line."""
        for bar in self.draws.values():
            bar.close()
        if self.rows is not None:
            self.rows.close()
        self._end_line()
