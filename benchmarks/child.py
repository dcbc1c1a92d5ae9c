"""Run one benchmark case in a child process: a hard time limit and the child's peak memory.

The child (``peer_worker.py`` or ``ours_worker.py``) prints on stdout ``#started <tool>`` just
before the timed call, ``#running <algorithm>`` when it enters an algorithm, and last its result as
one JSON object; anything else goes to stderr. The parent kills the child's process group
``time_limit`` seconds after ``#started`` and reads the child's peak resident memory
(``ru_maxrss``) from ``wait4``, also for a child it killed.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

STARTED_MARKER = "#started"  # followed by the tool's name and version
RUNNING_MARKER = "#running"  # followed by the algorithm the child entered
SETUP_TIMEOUT = 900.0  # seconds allowed for imports and reading the files before #started


@dataclass
class ChildOutcome:
    """What the child said: its JSON result, or an error, or that it was stopped (None both)."""

    result: dict[str, object] | None = None
    error: str | None = None
    tool: str = ""
    running: str = ""
    progress: str = ""  # the last stderr line the caller's filter kept
    killed: bool = False  # stopped at the time limit
    peak_memory_bytes: int | None = None  # the child's ru_maxrss


def run_child(
    command: Sequence[str],
    time_limit: float,
    *,
    progress_line: Callable[[str], bool] = lambda line: False,
    setup_timeout: float = SETUP_TIMEOUT,
) -> ChildOutcome:
    """Run ``command``; kill it ``time_limit`` s after it prints ``#started``."""
    outcome = ChildOutcome()
    try:
        process = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, killed as one
        )
    except OSError as exc:
        outcome.error = f"cannot start {command[0]}: {exc}"
        return outcome
    out_lines: list[str] = []
    err_tail: collections.deque[str] = collections.deque(maxlen=30)
    started = threading.Event()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            marker, _, rest = line.strip().partition(" ")
            if marker == STARTED_MARKER:
                outcome.tool = rest
                started.set()
            elif marker == RUNNING_MARKER:
                outcome.running = rest
            else:
                out_lines.append(line)

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            err_tail.append(line.rstrip())
            if progress_line(line):
                outcome.progress = line.strip()

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()
    setup_deadline = time.monotonic() + setup_timeout
    deadline: float | None = None
    while True:
        status = _reap(process, block=False, outcome=outcome)
        if status is not None:
            break
        now = time.monotonic()
        if deadline is None and started.is_set():
            deadline = now + max(time_limit, 0.0)
        if deadline is not None and now > deadline:
            outcome.killed = True
            _kill(process, outcome)
            break
        if deadline is None and now > setup_deadline:
            _kill(process, outcome)
            outcome.error = f"the child did not start its timed call within {setup_timeout:.0f} s"
            break
        time.sleep(0.02)
    for reader in readers:
        reader.join(timeout=10)
    if outcome.killed or outcome.error is not None:
        return outcome
    for line in reversed(out_lines):
        if line.strip():
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                break
            if isinstance(parsed, dict):
                outcome.result = parsed
                return outcome
            break
    tail = " | ".join(line for line in err_tail if line.strip())[-600:]
    outcome.error = f"the child exited with code {process.returncode} and no result: {tail}"
    return outcome


def _reap(process: subprocess.Popen[str], block: bool, outcome: ChildOutcome) -> int | None:
    """Wait for the child with ``wait4`` (for its rusage); its exit code, or None if running."""
    try:
        pid, status, usage = os.wait4(process.pid, 0 if block else os.WNOHANG)
    except ChildProcessError:  # already reaped
        return process.returncode if process.returncode is not None else 0
    if pid == 0:
        return None
    process.returncode = os.waitstatus_to_exitcode(status)
    outcome.peak_memory_bytes = int(usage.ru_maxrss) * 1024  # Linux reports kilobytes
    return process.returncode


def _kill(process: subprocess.Popen[str], outcome: ChildOutcome) -> None:
    """Kill the child's process group (it was started in a session of its own) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    _reap(process, block=True, outcome=outcome)
