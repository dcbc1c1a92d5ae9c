"""Can any panel meet the quotas? If not, why not, and what is the smallest change that helps?

``diagnose`` answers within one time budget for the whole question (the greedy attempts, the
CP-SAT feasibility model and the relaxation model together). Past it, with nothing decided, it
raises TimeLimitError (exit 4); when infeasibility is decided but the smallest change is not found
in time, the diagnosis says so in its advice.

Advice only names what the quota file has: min_flex/max_flex are mentioned only when some quota
row sets them, and a panel larger than the pool (or than its number of households, under the
household rule) gets its own plain reason, since no change of the quotas can help it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sortition.engine.feasibility import DEFAULT_TIME_LIMIT, Relaxation, find_panel, relax_quotas
from sortition.engine.legacy import LegacySampler
from sortition.errors import (
    N_,
    Advice,
    InfeasibleError,
    Message,
    Problem,
    TimeLimitError,
    problem,
)
from sortition.model import Instance
from sortition.randomness import SeededStream

NO_CHANGE_HELPS = N_(
    "no change of the quotas makes a panel possible: lower k, or recruit more volunteers"
)


@dataclass(frozen=True)
class Diagnosis:
    feasible: bool
    reasons: tuple[str, ...]  # why the quotas cannot be met (empty when feasible)
    relaxation: Relaxation | None  # the smallest change that makes them feasible
    example_panel: np.ndarray | None  # canonical person indices of one feasible panel
    # What to advise when there is no relaxation (it cannot exist, or was not found in time).
    no_relaxation_advice: tuple[str, ...] = ()
    # The time limit passed before the smallest change was found (it may exist).
    relaxation_timed_out: bool = False

    def advice(self) -> list[str]:
        if self.feasible:
            return []
        if self.relaxation is None:
            return list(self.no_relaxation_advice) or [
                Advice(NO_CHANGE_HELPS, Advice.NO_QUOTA_CHANGE)
            ]
        advice: list[str] = [
            Advice.of(change.advice(), Advice.QUOTA_CHANGE) for change in self.relaxation.changes
        ]
        advice.append(total_change_advice(self.relaxation))
        return advice


def total_change_advice(relaxation: Relaxation) -> Advice:
    """The last line of a change of the quotas: its total (and whether it is the smallest)."""
    total = relaxation.total_change
    return (
        Advice(N_("total change: {total}"), Advice.CHANGE_TOTAL, total=total)
        if relaxation.optimal
        else Advice(
            N_("total change: {total} (best found within the time limit)"),
            Advice.CHANGE_TOTAL,
            total=total,
        )
    )


def time_limit_advice(seconds: float) -> Advice:
    """The smallest change of the quotas was not found within ``seconds``: a longer time limit
    can find it (the command line and the page each say how their user gives one)."""
    return Advice(
        N_(
            "the time limit ({seconds} s) passed before the smallest change of the quotas was "
            "found: a longer time limit can find it"
        ),
        Advice.TIME_LIMIT,
        seconds=f"{seconds:g}",
    )


def size_reasons(instance: Instance) -> tuple[list[str], list[str]]:
    """(reasons, advice) when k is larger than the pool, or than its number of households under
    the household rule: no change of the quotas can help then."""
    pool, k = instance.pool, instance.k
    if k > pool.size:
        return (
            [Message(N_("k = {k} is larger than the pool ({n} people)"), k=k, n=pool.size)],
            [
                Advice(
                    N_("lower k to {n} or less, or recruit more volunteers"),
                    Advice.NO_QUOTA_CHANGE,
                    n=pool.size,
                )
            ],
        )
    if pool.households is not None and k > pool.household_count():
        count = pool.household_count()
        return (
            [
                Message(
                    N_(
                        "k = {k} is larger than the number of households ({count}), and at most "
                        "one person per household may be selected"
                    ),
                    k=k,
                    count=count,
                )
            ],
            [
                Advice(
                    N_("lower k to {count} or less, or recruit volunteers from more households"),
                    Advice.NO_QUOTA_CHANGE,
                    count=count,
                )
            ],
        )
    return [], []


def arithmetic_reasons(instance: Instance) -> list[str]:
    """The reasons that can be read off the numbers without solving anything."""
    quotas, pool, k = instance.quotas, instance.pool, instance.k
    reasons, _ = size_reasons(instance)
    counts = pool.value_counts(len(quotas.rows))
    for feature in quotas.features:
        rows = quotas.value_indices(feature)
        mins = sum(quotas.rows[v].min for v in rows)
        maxs = sum(quotas.rows[v].max for v in rows)
        if mins > k:
            reasons.append(
                Message(
                    N_("{feature}: the mins add up to {mins}, more than k = {k}"),
                    feature=feature,
                    mins=mins,
                    k=k,
                )
            )
        if maxs < k:
            reasons.append(
                Message(
                    N_("{feature}: the maxes add up to {maxs}, less than k = {k}"),
                    feature=feature,
                    maxs=maxs,
                    k=k,
                )
            )
        for v in rows:
            quota = quotas.rows[v]
            if quota.min > counts[v]:
                where = {"feature": feature, "value": quota.value, "min": quota.min}
                reasons.append(
                    Message(
                        N_("{feature} {value}: min is {min} but nobody in the pool has this value"),
                        **where,
                    )
                    if counts[v] == 0
                    else Message(
                        N_(
                            "{feature} {value}: min is {min} but only {count} in the pool has "
                            "this value"
                        ),
                        **where,
                        count=counts[v],
                    )
                )
    return reasons


def diagnose(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    """Decide feasibility, and when infeasible find the smallest relaxation, all within
    ``time_limit`` wall-clock seconds (TimeLimitError when feasibility is not decided by then)."""
    deadline = time.perf_counter() + time_limit
    size, size_advice = size_reasons(instance)
    if size:
        return Diagnosis(False, tuple(size), None, None, tuple(size_advice))
    reasons = arithmetic_reasons(instance)
    if not reasons:
        panel = _greedy_panel(instance, deadline)
        if panel is not None:
            return Diagnosis(True, (), None, panel)
        try:
            panel = find_panel(instance, _remaining(deadline, instance, time_limit))
        except TimeoutError:
            raise _undecided(instance, time_limit) from None
        if panel is not None:
            return Diagnosis(True, (), None, panel)
    relaxation = None
    fallback = _no_relaxation_advice(instance)
    timed_out = False
    try:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError
        relaxation = relax_quotas(instance, remaining)
    except TimeoutError:
        timed_out = True
        fallback = (time_limit_advice(time_limit),)
    if not reasons:
        if relaxation is not None:
            changed = dict.fromkeys(f"{c.feature} {c.value}" for c in relaxation.changes)
            reasons.append(
                Message(
                    N_(
                        "the quotas conflict jointly (no panel meets them all at once); the "
                        "conflict involves: {values}"
                    ),
                    values=", ".join(changed),
                )
            )
        else:
            reasons.append(
                Message(N_("the quotas conflict jointly (no panel meets them all at once)"))
            )
    return Diagnosis(False, tuple(reasons), relaxation, None, fallback, timed_out)


def _no_relaxation_advice(instance: Instance) -> tuple[str, ...]:
    """When no relaxation exists: mention min_flex/max_flex only if the quota file sets them."""
    rows = instance.quotas.rows
    if any(q.min_flex is not None or q.max_flex is not None for q in rows):
        return (
            Advice(
                N_(
                    "no change of the quotas within their min_flex/max_flex bounds makes a panel "
                    "possible: widen min_flex/max_flex, lower k, or recruit more volunteers"
                ),
                Advice.NO_QUOTA_CHANGE,
            ),
        )
    return (Advice(NO_CHANGE_HELPS, Advice.NO_QUOTA_CHANGE),)


def _remaining(deadline: float, instance: Instance, time_limit: float) -> float:
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        raise _undecided(instance, time_limit)
    return remaining


def _undecided(instance: Instance, time_limit: float) -> TimeLimitError:
    return TimeLimitError(
        [
            problem(
                N_(
                    "could not decide within the time limit of {seconds} s whether any panel "
                    "of {k} meets the quotas; nothing was decided"
                ),
                seconds=f"{time_limit:g}",
                k=instance.k,
            )
        ]
    )


def _greedy_panel(
    instance: Instance, deadline: float | None = None, attempts: int = 10
) -> np.ndarray | None:
    """A few LEGACY attempts from a fixed seed: on a large feasible pool they find a panel in
    milliseconds where CP-SAT needs tens of seconds (100,000 people, 19,000 types: 27 s)."""
    sampler = LegacySampler(instance)
    stream = SeededStream("sortition feasibility check")
    for _ in range(attempts):
        panel = sampler.attempt(stream)
        if panel is not None:
            return panel
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return None


def require_feasible(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    """Diagnose and raise InfeasibleError (exit 3, with advice) when no panel is possible
    (TimeLimitError, exit 4, when ``time_limit`` seconds do not decide it)."""
    diagnosis = diagnose(instance, time_limit)
    if not diagnosis.feasible:
        raise InfeasibleError(
            [Problem(reason) for reason in diagnosis.reasons] or [problem(N_("infeasible"))],
            diagnosis.advice(),
        )
    return diagnosis
