"""Can any panel meet the quotas? If not, why not, and what is the smallest change that helps?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sortition.algorithms.legacy import LegacySampler
from sortition.errors import InfeasibleError, Problem
from sortition.model import Instance
from sortition.oracle import DEFAULT_TIME_LIMIT, Relaxation, find_panel, relax_quotas
from sortition.randomness import SeededStream


@dataclass(frozen=True)
class Diagnosis:
    feasible: bool
    reasons: tuple[str, ...]  # why the quotas cannot be met (empty when feasible)
    relaxation: Relaxation | None  # the smallest change that makes them feasible
    example_panel: np.ndarray | None  # canonical person indices of one feasible panel

    def advice(self) -> list[str]:
        if self.feasible:
            return []
        if self.relaxation is None:
            return [
                "no change of the quotas within their min_flex/max_flex bounds makes a panel "
                "possible: widen min_flex/max_flex, lower k, or recruit more volunteers"
            ]
        advice = [change.advice() for change in self.relaxation.changes]
        total = self.relaxation.total_change
        qualifier = "" if self.relaxation.optimal else " (best found within the time limit)"
        advice.append(f"total change: {total}{qualifier}")
        return advice


def arithmetic_reasons(instance: Instance) -> list[str]:
    """The reasons that can be read off the numbers without solving anything."""
    quotas, pool, k = instance.quotas, instance.pool, instance.k
    reasons = []
    if k > pool.size:
        reasons.append(f"k = {k} is larger than the pool ({pool.size} people)")
    elif pool.households is not None and k > pool.household_count():
        reasons.append(
            f"k = {k} is larger than the number of households ({pool.household_count()}), "
            "and at most one person per household may be selected"
        )
    counts = pool.value_counts(len(quotas.rows))
    for feature in quotas.features:
        rows = quotas.value_indices(feature)
        mins = sum(quotas.rows[v].min for v in rows)
        maxs = sum(quotas.rows[v].max for v in rows)
        if mins > k:
            reasons.append(f"{feature}: the mins add up to {mins}, more than k = {k}")
        if maxs < k:
            reasons.append(f"{feature}: the maxes add up to {maxs}, less than k = {k}")
        for v in rows:
            quota = quotas.rows[v]
            if quota.min > counts[v]:
                have = "nobody" if counts[v] == 0 else f"only {counts[v]}"
                reasons.append(
                    f"{feature} {quota.value}: min is {quota.min} but {have} in the pool "
                    "has this value"
                )
    return reasons


def diagnose(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    reasons = arithmetic_reasons(instance)
    panel = None
    if not reasons:
        panel = _greedy_panel(instance)
        if panel is not None:
            return Diagnosis(True, (), None, panel)
        try:
            panel = find_panel(instance, time_limit)
        except TimeoutError:
            panel = None
            reasons.append(f"CP-SAT could not decide within {time_limit:g} s")
        if panel is not None:
            return Diagnosis(True, (), None, panel)
    relaxation = relax_quotas(instance, time_limit)
    if not reasons and relaxation is not None:
        changed = dict.fromkeys(f"{c.feature} {c.value}" for c in relaxation.changes)
        reasons.append(
            "the quotas conflict jointly (no panel meets them all at once); the conflict involves: "
            + ", ".join(changed)
        )
    return Diagnosis(False, tuple(reasons), relaxation, None)


def _greedy_panel(instance: Instance, attempts: int = 10) -> np.ndarray | None:
    """A few LEGACY attempts from a fixed seed: on a large feasible pool they find a panel in
    milliseconds where CP-SAT needs tens of seconds (100,000 people, 19,000 types: 27 s)."""
    sampler = LegacySampler(instance)
    stream = SeededStream("sortition feasibility check")
    for _ in range(attempts):
        panel = sampler.attempt(stream)
        if panel is not None:
            return panel
    return None


def require_feasible(instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT) -> Diagnosis:
    """Diagnose and raise InfeasibleError (exit 3, with advice) when no panel is possible."""
    diagnosis = diagnose(instance, time_limit)
    if not diagnosis.feasible:
        raise InfeasibleError(
            [Problem(reason) for reason in diagnosis.reasons] or [Problem("infeasible")],
            diagnosis.advice(),
        )
    return diagnosis
