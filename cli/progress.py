"""Progress on stderr: one renderer for every progress event of the library
(``sortition.progress``): the fair algorithms' column generation as a status line, a sampler's
repeated draws (the audit) and the registry rows read (the invitation lottery) as bars."""

from __future__ import annotations

import sys
import time

import click
from tqdm import tqdm

from sortition.progress import (
    DrawsDone,
    EngineEvent,
    GoldilocksStep,
    LevelState,
    NashGap,
    ProgressEvent,
    RowsRead,
    TargetRound,
    WalkStep,
)


def describe(event: EngineEvent) -> list[str]:
    """The parts of an engine event's status line, in the order they are shown."""
    if isinstance(event, WalkStep):
        return [f"walk {event.walk}", f"panels {event.panels}"]
    if isinstance(event, TargetRound):
        return [
            f"round {event.round}",
            f"columns {event.columns}",
            f"{100 * event.reached:.4f} % of the relaxation's vector",
        ]
    if isinstance(event, LevelState):  # a level's rounds and its end
        parts = [
            f"round {event.round}",
            f"level {event.level}",
            f"columns {event.columns}",
            f"fixed {event.fixed}",
            f"min {event.minimum:.6f}",
        ]
        if event.bound == event.bound:  # not nan: the relaxation's bound is known
            parts += [f"bound {event.bound:.6f}", f"gap {event.gap:.1e}"]
        return parts
    if isinstance(event, GoldilocksStep):
        return [
            f"step {event.step}",
            f"smallest between {event.low:.6f} and {event.high:.6f}",
            f"objective {event.value:.6f}",
        ]
    if isinstance(event, NashGap):
        return [
            f"round {event.round}",
            f"columns {event.columns}",
            f"value {event.lower:.6g}",
            f"bound {event.upper:.6g}",
            f"gap {event.gap:.1e}",
        ]
    return [f"round {event.round}", f"columns {event.columns}"]  # NASH's rounds


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
        line = (
            f"{event.algorithm.upper()}: {', '.join(describe(event))} ({now - self.started:.0f} s)"
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
                desc=f"{event.algorithm.upper()} draws",
                unit="draw",
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
                unit=" rows", unit_scale=True, disable=None, file=sys.stderr, leave=False
            )
        self.rows.update(event.rows - self.rows.n)

    def close(self) -> None:
        """Close the bars and end the status line."""
        for bar in self.draws.values():
            bar.close()
        if self.rows is not None:
            self.rows.close()
        self._end_line()
