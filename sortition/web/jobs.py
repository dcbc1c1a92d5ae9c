"""Long work in the background: each run is a thread of its own under its own cancel token.

The page starts a job and returns at once; the browser polls its state (a few lines of
JavaScript, or a refresh without it). The job's progress is the library's typed events
(``sortition.progress``), kept as the last one seen and rendered in the reader's language when
asked. A cancel button calls ``CancelToken.cancel``: the running solver stops at once and the
library raises ``Interrupted``; the outputs are written atomically, so a cancelled run leaves
nothing. At most ``workers`` jobs compute at once; the others wait their turn, so one long run
slows but never blocks another browser's.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sortition.cancel import CancelToken, Interrupted, cancellable
from sortition.errors import Advice, InfeasibleError, Message, Problem, SortitionError
from sortition.progress import ProgressEvent

log = logging.getLogger("sortition.web")

WAITING, RUNNING, DONE, FAILED, CANCELLED = "waiting", "running", "done", "failed", "cancelled"
FINISHED = frozenset({DONE, FAILED, CANCELLED})


@dataclass
class Job:
    """One background run and what the page shows of it."""

    id: str
    project: str
    run: str
    owner: str  # the session digest of the browser that started it
    state: str = WAITING
    started: float = field(default_factory=time.monotonic)
    events: int = 0
    last: ProgressEvent | None = None
    problems: list[Any] = field(default_factory=list)  # stored_text() form: to_stored()
    advice: list[Any] = field(default_factory=list)
    heading: str = ""
    token: CancelToken = field(default_factory=CancelToken)
    result: Any = None  # what the work leaves for the page to show (a verification's report)

    def progress(self, event: ProgressEvent) -> None:
        """The library's progress callback."""
        self.events += 1
        self.last = event

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


class Jobs:
    """The running and recent jobs of one page, by random id."""

    def __init__(self, workers: int = 2, keep: int = 200) -> None:
        self._keep = keep  # finished jobs remembered (the oldest are forgotten first)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(workers)

    def start(
        self,
        project: str,
        run: str,
        owner: str,
        work: Callable[[Job], Any],
        finished: Callable[[Job], Any] | None = None,
    ) -> Job:
        """Run ``work(job)`` in a thread of its own, under the job's cancel token; then
        ``finished(job)`` (to keep the outcome beyond this process's memory)."""
        job = Job(secrets.token_hex(10), project, run, owner)
        with self._lock:
            done = [j for j in self._jobs.values() if j.state in FINISHED]
            for old in done[: max(len(done) - self._keep, 0)]:
                del self._jobs[old.id]
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work, finished), daemon=True).start()
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def for_run(self, project: str, run: str) -> Job | None:
        with self._lock:
            return next(
                (j for j in self._jobs.values() if j.project == project and j.run == run), None
            )

    def forget(self, job: Job) -> None:
        """Drop a finished job (its page has shown its outcome: the next visit starts anew)."""
        with self._lock:
            self._jobs.pop(job.id, None)

    def cancel(self, job: Job) -> None:
        job.token.cancel()
        if job.state == WAITING:  # it will not start: say so now (its thread ends it too)
            job.state = CANCELLED

    def cancel_all(self, seconds: float = 30.0) -> None:
        """Cancel every unfinished job and wait up to ``seconds`` for them to stop (the page is
        stopping: their outputs are then never half written)."""
        with self._lock:
            unfinished = [j for j in self._jobs.values() if j.state not in FINISHED]
        for job in unfinished:
            job.token.cancel()
        deadline = time.monotonic() + seconds
        while any(j.state not in FINISHED for j in unfinished) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _run(
        self, job: Job, work: Callable[[Job], Any], finished: Callable[[Job], Any] | None
    ) -> None:
        with self._slots:
            if job.token.cancelled:  # cancelled while it waited: it never starts
                job.state = CANCELLED
            else:
                self._work(job, work)
        log.info("job %s (project %s, run %s): %s", job.id, job.project, job.run, job.state)
        if finished is not None:
            try:
                finished(job)
            except Exception:  # the project may have been deleted meanwhile
                log.exception("job %s: its outcome could not be kept", job.id)

    def _work(self, job: Job, work: Callable[[Job], Any]) -> None:
        job.state = RUNNING
        job.started = time.monotonic()
        try:
            with cancellable(job.token):
                work(job)
            job.state = DONE
        except Interrupted:
            job.state = CANCELLED
        except SortitionError as error:
            job.heading = error.heading
            job.problems = [to_stored(p) for p in error.problems]
            if isinstance(error, InfeasibleError):
                job.advice = [to_stored(line) for line in error.advice]
            job.state = FAILED
        except Exception:  # a bug: logged (no personal data: the job's ids only)
            log.exception("job %s of project %s failed", job.id, job.project)
            job.heading = "internal error"
            job.problems = ["this is a bug in sortition; the server's log has the details"]
            job.state = FAILED


def to_stored(text: object) -> Any:
    """A problem or a line of advice as runs/<n>.json keeps it: plain JSON that still holds the
    library's template and values (``Problem``, ``Message``), so that the run's page shows it
    in the language of each request (``from_stored``); any other text as its string."""
    if isinstance(text, Problem):
        return {
            "problem": to_stored(text.message),
            "file": text.file,
            "row": text.row,
            "column": text.column,
            "template": text.template,
            "params": {name: to_stored(value) for name, value in text.params},
        }
    if isinstance(text, Message):
        stored = {
            "message": text.template,
            "params": {name: to_stored(value) for name, value in text.params},
        }
        if isinstance(text, Advice):  # what kind of advice: the page words it for its user
            stored["advice"] = text.kind
        return stored
    return str(text)


def from_stored(stored: Any) -> str | Problem | Message:
    """The ``Problem``, ``Message`` or text ``to_stored`` kept (a run kept before the page
    stored templates has plain strings: shown as they are)."""
    if isinstance(stored, dict) and "problem" in stored:
        params = {name: from_stored(value) for name, value in stored.get("params", {}).items()}
        message = from_stored(stored["problem"])
        return Problem(
            message if isinstance(message, str) else str(message),
            file=stored.get("file"),
            row=stored.get("row"),
            column=stored.get("column"),
            template=stored.get("template"),
            params=tuple(sorted(params.items())),
        )
    if isinstance(stored, dict) and "message" in stored:
        params = {name: from_stored(value) for name, value in stored.get("params", {}).items()}
        if "advice" in stored:
            return Advice(str(stored["message"]), str(stored["advice"]), **params)
        return Message(str(stored["message"]), **params)
    return str(stored)
