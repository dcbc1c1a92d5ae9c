"""Stopping long work on request: Ctrl-C, SIGTERM, or a cancel button.

The solvers run in C++ and do not return to Python until they finish, so an interrupt cannot
simply be raised inside them. Instead every solve goes through ``solve_cp_sat`` or ``solve_lp``,
which register the solver's own stop mechanism (CP-SAT's ``stop_search``, GLOP's
``InterruptSolve``) for the time it runs. Whoever wants the work to stop calls
``CancelToken.cancel`` on the current token: the running solver stops at once, and the solve
wrapper raises ``Interrupted`` (a ``KeyboardInterrupt``), which unwinds everything; the output
folders are written atomically (``sortition.io.outputs``), so nothing is written.

The entry layers decide what stops the work. The command line turns SIGINT and SIGTERM into a
cancel of the process's token (``sortition_cli.entry``); a web page can run each job under its
own token (``cancellable``) and cancel it from a button. CP-SAT's own SIGINT handler is switched
off (``catch_sigint_signal``): it would swallow the first Ctrl-C and let the run go on.

The library never installs signal handlers itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = [
    "INTERRUPTED_MESSAGE",
    "CancelToken",
    "Interrupted",
    "Terminated",
    "cancellable",
    "checkpoint",
    "committing",
    "current",
    "solve_cp_sat",
    "solve_lp",
]


INTERRUPTED_MESSAGE = "interrupted; nothing was written"  # what entry layers say on a stop


class Interrupted(KeyboardInterrupt):
    """The work was stopped on request (Ctrl-C or a cancel button); exit 130, nothing written."""

    exit_code = 130


class Terminated(Interrupted):
    """The process was asked to terminate (SIGTERM); exit 143, nothing written."""

    exit_code = 143


class CancelToken:
    """A request to stop, shared by everything one job runs; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # RLock: a signal handler may cancel mid-registration
        self._stops: dict[int, Callable[[], Any]] = {}
        self._next = 0
        self._reason: type[Interrupted] | None = None
        self._held = 0
        self._committed = False

    @property
    def cancelled(self) -> bool:
        return self._reason is not None

    def cancel(self, reason: type[Interrupted] = Interrupted) -> None:
        """Ask the job to stop: stop every running solver now; ``checkpoint`` raises from now on."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            stops = list(self._stops.values())
        for stop in stops:
            stop()

    def reset(self) -> None:
        """Forget a cancel and any commit (before the token's next job)."""
        with self._lock:
            self._reason = None
            self._held = 0
            self._committed = False

    @property
    def exit_code(self) -> int:
        """130, or 143 when the stop came from SIGTERM."""
        return (self._reason or Interrupted).exit_code

    @property
    def interruptible(self) -> bool:
        """False while interrupts are held (``holding``, ``committing``) and once outputs were
        put in place: an interrupt then would tear them, or claim falsely that nothing was
        written."""
        return self._held == 0 and not self._committed

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Entry layers hold interrupts while the block runs (they stay recorded in
        ``cancelled``)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1

    @contextmanager
    def committing(self) -> Iterator[None]:
        """Putting outputs in place: interrupts are held until the block ends. When it succeeds
        the outputs are written, and a held interrupt no longer stops the job."""
        with self.holding():
            yield
            self._committed = True

    def raise_if_cancelled(self) -> None:
        reason = self._reason
        if reason is not None:
            raise reason()

    @contextmanager
    def stoppable(self, stop: Callable[[], Any]) -> Iterator[None]:
        """Register ``stop`` while the block runs (called at once if the job is already
        cancelled)."""
        with self._lock:
            key = self._next
            self._next += 1
            self._stops[key] = stop
            already = self._reason is not None
        try:
            if already:
                stop()
            yield
        finally:
            with self._lock:
                del self._stops[key]


_PROCESS_TOKEN = CancelToken()
_current: ContextVar[CancelToken] = ContextVar("sortition_cancel_token", default=_PROCESS_TOKEN)


def current() -> CancelToken:
    """The token of the job running in this context (the process's token by default)."""
    return _current.get()


@contextmanager
def cancellable(token: CancelToken) -> Iterator[CancelToken]:
    """Run the block as a job of its own, stopped by ``token.cancel()``."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def committing() -> Any:
    """``current().committing()``: see ``CancelToken.committing``."""
    return current().committing()


def checkpoint() -> None:
    """Raise ``Interrupted`` (or ``Terminated``) if the current job was asked to stop."""
    current().raise_if_cancelled()


def solve_cp_sat(
    solver: Any, model: Any, callback: Any = None, deadline: float | None = None
) -> Any:
    """``solver.solve(model, callback)`` that a cancel stops; returns CP-SAT's status.

    With ``deadline`` (a ``time.perf_counter()`` instant) CP-SAT's wall-clock limit is at most
    the time left (at least a millisecond), beside whatever deterministic limit the caller set:
    a search it stops returns FEASIBLE or UNKNOWN after the deadline, which the caller reports
    as its time limit (the engine: ``TimeLimitReached``), never as its result."""
    solver.parameters.catch_sigint_signal = False
    if deadline is not None:
        left = max(deadline - time.perf_counter(), 0.001)
        solver.parameters.max_time_in_seconds = min(solver.parameters.max_time_in_seconds, left)
    token = current()
    token.raise_if_cancelled()
    with token.stoppable(solver.stop_search):
        status = solver.solve(model) if callback is None else solver.solve(model, callback)
    token.raise_if_cancelled()
    return status


def solve_lp(solver: Any, deadline: float | None = None) -> Any:
    """``solver.Solve()`` of a pywraplp solver (GLOP) that a cancel stops; returns its status.

    With ``deadline`` (a ``time.perf_counter()`` instant) GLOP's time limit is the time left (at
    least a millisecond): a solve it stops returns a status other than OPTIMAL after the
    deadline, which the caller reports as its time limit (the engine: ``TimeLimitReached``)."""
    token = current()
    token.raise_if_cancelled()
    if deadline is not None:
        left = deadline - time.perf_counter()
        solver.SetTimeLimit(max(1, math.ceil(left * 1000)))
    with token.stoppable(solver.InterruptSolve):
        status = solver.Solve()
    token.raise_if_cancelled()
    return status
