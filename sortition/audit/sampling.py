"""Estimated selection probabilities of a sampler (LEGACY, or any algorithm that only draws panels):
count how often each person is drawn in many seeded draws, spread over processes.

The draws are cut into blocks of ``BLOCK_SIZE``; block ``b`` of sample ``s`` draws with its own
stream, ``SeededStream(f"audit:{algorithm}:{s}:{b}:{seed}")`` (docs/audit.md). A block's counts
depend only on the seed and the block number, and integer counts add up in any order, so the
result is the same whichever process draws which block and however many processes there are.
"""

from __future__ import annotations

import multiprocessing
import signal
from multiprocessing import resource_tracker
from typing import Any

import numpy as np

from sortition.cancel import current
from sortition.engine.registry import Sampler, sampler
from sortition.model import Instance
from sortition.progress import DrawsDone, Progress
from sortition.randomness import SeededStream

BLOCK_SIZE = 100


def block_stream(algorithm: str, sample: int, block: int, seed: str) -> SeededStream:
    return SeededStream(f"audit:{algorithm}:{sample}:{block}:{seed}")


def block_sizes(draws: int) -> list[int]:
    full, rest = divmod(draws, BLOCK_SIZE)
    return [BLOCK_SIZE] * full + ([rest] if rest else [])


def count_block(
    sampler: Sampler, n: int, algorithm: str, sample: int, block: int, size: int, seed: str
) -> np.ndarray:
    """(n,) how often each person is on the ``size`` panels of one block."""
    stream = block_stream(algorithm, sample, block, seed)
    counts = np.zeros(n, dtype=np.int64)
    for _ in range(size):
        counts[sampler.draw(stream).panel] += 1
    return counts


# One sampler per worker process, built once by the initializer.
_worker: tuple[Sampler, int, str] | None = None


def _init_worker(algorithm: str, instance: Instance) -> None:
    global _worker
    # Ctrl-C reaches every process of the terminal's group; the parent alone handles it (and
    # stops the workers). SIGINT was blocked from the start (``_start_pool``): ignore it, then
    # unblock, which drops one that came meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _worker = (sampler(algorithm)(instance), instance.pool.size, algorithm)


def _start_pool(workers: int, algorithm: str, instance: Instance) -> Any:
    """A pool of spawned workers that start with SIGINT blocked, started whole or not at all.

    A Ctrl-C at a terminal reaches every process of its group; the parent alone should handle it
    (and stop the workers), or a worker still starting would print a traceback. The signal mask
    is inherited through fork and exec, so the workers start with SIGINT blocked until
    ``_init_worker`` ignores it. The mask is per thread, though: a signal that another thread of
    the parent receives still runs the entry layer's handler in the main thread, which would
    raise in the middle of ``Pool()`` and orphan the workers started so far (they would keep the
    command's pipes open after it exits). So interrupts are also held (``holding``) while the
    pool starts, and a stop requested meanwhile is answered once the pool exists, by stopping
    every worker. (The resource tracker is started first: starting it unblocks SIGINT in this
    thread.)"""
    context = multiprocessing.get_context("spawn")
    resource_tracker.ensure_running()
    token = current()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pool = None
    try:
        with token.holding():
            pool = context.Pool(workers, initializer=_init_worker, initargs=(algorithm, instance))
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a held Ctrl-C is raised here
            token.raise_if_cancelled()  # one that was held by ``holding``
        except BaseException:
            if pool is not None:
                _stop_workers(pool)
            raise
    return pool


def _stop_workers(pool: Any) -> None:
    """Terminate the workers at once: the pool stops its worker handler first (so none is
    started behind our back), then ends every worker with SIGTERM, which ends it quietly even
    while it starts."""
    pool.terminate()


def _worker_block(job: tuple[int, int, int, str]) -> np.ndarray:
    assert _worker is not None, "worker not initialised"
    sampler, n, algorithm = _worker
    sample, block, size, seed = job
    return count_block(sampler, n, algorithm, sample, block, size, seed)


def sample_counts(
    instance: Instance,
    algorithm: str,
    seed: str,
    draws: int,
    samples: int = 2,
    workers: int = 1,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """For each of ``samples`` independent samples of ``draws`` panels, how often each person
    was drawn. ``workers`` > 1 spreads the blocks over that many processes. ``progress`` hears
    a DrawsDone event before the first block and after each block."""
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    n = instance.pool.size
    jobs = [
        (sample, block, size, seed)
        for sample in range(1, samples + 1)
        for block, size in enumerate(block_sizes(draws))
    ]
    totals = [np.zeros(n, dtype=np.int64) for _ in range(samples)]
    total, done = samples * draws, 0
    if progress is not None:
        progress(DrawsDone(algorithm, done, total))
    if workers <= 1:
        drawer = sampler(algorithm)(instance)
        for sample, block, size, _ in jobs:
            totals[sample - 1] += count_block(drawer, n, algorithm, sample, block, size, seed)
            done += size
            if progress is not None:
                progress(DrawsDone(algorithm, done, total))
        return totals
    # "spawn": the workers start clean, whatever threads (e.g. a solver's) the parent runs.
    pool = _start_pool(workers, algorithm, instance)
    try:
        for job, counts in zip(jobs, pool.imap(_worker_block, jobs), strict=True):
            totals[job[0] - 1] += counts
            done += job[2]
            if progress is not None:
                progress(DrawsDone(algorithm, done, total))
    except BaseException:
        _stop_workers(pool)
        raise
    pool.close()
    pool.join()
    return totals
