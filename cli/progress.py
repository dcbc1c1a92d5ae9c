"""Progress on stderr: one renderer for the library's progress of the fair algorithms, and the
audit's bars."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from tqdm import tqdm

from sortition.audit.sampling import ProgressCallback
from sortition.engine.objectives import ProgressFn


class ProgressPrinter:
    """Column-generation progress on stderr: one line rewritten in place on a terminal, a line
    every few seconds otherwise."""

    def __init__(self, algorithm: str, interval: float = 5.0) -> None:
        self.algorithm = algorithm.upper()
        self.interactive = sys.stderr.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self.last = 0.0
        self.printed = False

    def __call__(self, state: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if self.interactive else self.interval):
            return
        self.last = now
        keys = ("walk", "panels", "round", "level", "columns", "fixed")
        parts = [f"{key} {state[key]}" for key in keys if key in state]
        if "z" in state:
            parts.append(f"min {float(state['z']):.6f}")
        if "target" in state:
            parts.append(f"{100 * float(state['target']):.4f} % of the relaxation's vector")
        line = f"{self.algorithm}: {', '.join(parts)} ({now - self.started:.0f} s)"
        if self.interactive:
            click.echo("\r" + line.ljust(78), nl=False, err=True)
            self.printed = True
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.printed:
            click.echo(err=True)


class AuditBars:
    """A tqdm bar per sampled algorithm and a ProgressPrinter per fair one, closed at the end."""

    def __init__(self) -> None:
        self.bars: list[tqdm] = []  # type: ignore[type-arg]
        self.printers: list[ProgressPrinter] = []

    def sample(self, algorithm: str, total: int) -> ProgressCallback:
        bar = tqdm(
            total=total,
            desc=f"{algorithm.upper()} draws",
            unit="draw",
            file=sys.stderr,
            mininterval=0.5 if sys.stderr.isatty() else 10.0,
            dynamic_ncols=True,
        )
        self.bars.append(bar)
        return bar.update

    def fair(self, algorithm: str) -> ProgressFn:
        printer = ProgressPrinter(algorithm)
        self.printers.append(printer)
        return printer

    def close(self) -> None:
        for bar in self.bars:
            bar.close()
        for printer in self.printers:
            printer.close()
