"""Run one benchmark case in a child process: a hard time limit and the child's peak memory.

The child (``peer_worker.py`` or ``ours_worker.py``) prints on stdout ``#started <tool>`` just
before the timed call, ``#running <algorithm>`` when it enters an algorithm, and last its result as
one JSON object; anything else goes to stderr. The parent kills the child's process group
``time_limit`` seconds after ``#started``.

The child's peak resident memory is its ``VmHWM`` (``/proc/PID/status``), read by the parent
while the child runs and reported by the child itself at the end (``peak_memory_bytes`` in its
JSON): the larger of the two. Not ``ru_maxrss``: Linux carries the memory high-water mark of the
forking process across ``exec`` into the child's ``ru_maxrss``, so every child would report at
least the size of this (large) parent.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
    peak_memory_bytes: int | None = None  # the child's VmHWM


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
        outcome.peak_memory_bytes = _max(outcome.peak_memory_bytes, peak_memory(process.pid))
        if process.poll() is not None:
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
                reported = parsed.get("peak_memory_bytes")
                if isinstance(reported, int):
                    outcome.peak_memory_bytes = _max(outcome.peak_memory_bytes, reported)
                return outcome
            break
    tail = " | ".join(line for line in err_tail if line.strip())[-600:]
    outcome.error = f"the child exited with code {process.returncode} and no result: {tail}"
    return outcome


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def serve(
    argv: list[str],
    run: Callable[[dict[str, Any], Any], dict[str, Any]],
    import_error: str = "",
) -> int:
    """A worker's main: run the spec in argv[0], print the result as JSON on the real stdout.

    ``run(spec, out)`` prints the markers on ``out``. Anything else printed, by Python or native
    code, goes to stderr. A failure becomes an ``error: ...`` status (``import_error`` prefixes
    the message of an ImportError).
    """
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        with open(argv[0], encoding="utf-8") as handle:
            spec = json.load(handle)
        result = run(spec, out)
    except Exception as exc:
        if import_error and isinstance(exc, ImportError):
            message = import_error + one_line(str(exc))
        else:
            message = one_line(f"{type(exc).__name__}: {exc}")
        result = {"status": "error: " + message}
    result["peak_memory_bytes"] = peak_memory()
    out.write(json.dumps(result) + "\n")
    out.flush()
    return 0


def peak_memory(pid: int | str = "self") -> int | None:
    """The peak resident memory (``VmHWM``) of a running process in bytes; None if unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            found = re.search(r"^VmHWM:\s*(\d+) kB", handle.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) * 1024 if found else None


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _kill(process: subprocess.Popen[str], outcome: ChildOutcome) -> None:
    """Kill the child's process group (it was started in a session of its own) and reap it."""
    outcome.peak_memory_bytes = _max(outcome.peak_memory_bytes, peak_memory(process.pid))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
