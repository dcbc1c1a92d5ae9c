"""LEGACY: the greedy quota-filling draw practitioners used before 2021; docs/legacy.md is its
exact specification (with a test vector), and tests/test_legacy_doc.py re-implements it from there.

Repeat k times: if some value can no longer reach its min (selected + remaining < min, checked for
every value, before each seat), it is a dead end; among values with people left and max > 0, take
the one whose remaining need is largest relative to the people still available with it,
(min - selected) / remaining (first in (feature, value) order on ties); pick one of those people
uniformly (candidates in id order); remove them and their household; when a value reaches its max,
remove everyone left with it. After seat k every value must be within its quota. A dead end
restarts from scratch, continuing the same seeded stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sortition.errors import N_, InfeasibleError, problem
from sortition.model import Instance
from sortition.randomness import SeededStream

DEFAULT_MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class LegacyDraw:
    panel: np.ndarray  # canonical person indices, sorted
    attempts: int


class LegacySampler:
    """Precomputed index structures, so repeated draws (audits) are cheap."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        pool, quotas = instance.pool, instance.quotas
        self.values = pool.values
        self.value_count = len(quotas.rows)
        self.mins = quotas.mins
        self.maxs = quotas.maxs
        self.initial_remaining = pool.value_counts(self.value_count)
        self._mins = [int(x) for x in self.mins]
        self._maxs = [int(x) for x in self.maxs]
        self._initial_remaining = [int(x) for x in self.initial_remaining]
        self._values_of = pool.values.tolist()
        self.members_of_value = [
            np.flatnonzero((pool.values == v).any(axis=1)) for v in range(self.value_count)
        ]
        self.household_members: list[np.ndarray] | None = None
        if pool.households is not None:
            order = np.argsort(pool.households, kind="stable")
            bounds = np.searchsorted(pool.households[order], np.arange(pool.household_count() + 1))
            self.household_members = [
                order[bounds[h] : bounds[h + 1]] for h in range(pool.household_count())
            ]

    def attempt(self, stream: SeededStream) -> np.ndarray | None:
        """One pass of the greedy; None at a dead end.

        The per-value bookkeeping runs on Python lists: with tens of values, a loop is several
        times faster than numpy calls on tiny arrays (the audit draws this tens of thousands of
        times). The ratios are the same IEEE divisions of the same small integers, and ties go
        to the first value, as with numpy's argmax.
        """
        k = self.instance.k
        alive = np.ones(self.instance.pool.size, dtype=bool)
        value_range = range(self.value_count)
        mins, maxs = self._mins, self._maxs
        selected = [0] * self.value_count
        remaining = list(self._initial_remaining)
        panel: list[int] = []
        households = self.instance.pool.households

        def remove(people: np.ndarray) -> None:
            people = people[alive[people]]
            if len(people):
                alive[people] = False
                gone = np.bincount(self.values[people].ravel(), minlength=self.value_count)
                for v in np.flatnonzero(gone).tolist():
                    remaining[v] -= int(gone[v])

        for _ in range(k):
            best, best_ratio = -1, -math.inf
            for v in value_range:
                left = remaining[v]
                if selected[v] + left < mins[v]:
                    return None
                if left > 0 and maxs[v] > 0:
                    ratio = (mins[v] - selected[v]) / left
                    if ratio > best_ratio:
                        best, best_ratio = v, ratio
            if best < 0 or best_ratio > 1:
                return None
            candidates = self.members_of_value[best]
            candidates = candidates[alive[candidates]]
            person = int(candidates[stream.below(len(candidates))])
            panel.append(person)
            alive[person] = False
            person_values = self._values_of[person]
            for v in person_values:
                selected[v] += 1
                remaining[v] -= 1
            if households is not None and self.household_members is not None:
                remove(self.household_members[int(households[person])])
            for v in person_values:
                if selected[v] >= maxs[v]:
                    remove(self.members_of_value[v])
        if any(not mins[v] <= selected[v] <= maxs[v] for v in value_range):
            return None
        return np.array(sorted(panel), dtype=np.int64)

    def draw(self, stream: SeededStream, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> LegacyDraw:
        for attempt in range(1, max_attempts + 1):
            panel = self.attempt(stream)
            if panel is not None:
                return LegacyDraw(panel, attempt)
        raise InfeasibleError(
            [
                problem(
                    N_(
                        "LEGACY reached a dead end {attempts} times in a row; the quotas may be "
                        "too tight for the greedy (try a fair algorithm, or relax the quotas)"
                    ),
                    attempts=max_attempts,
                )
            ]
        )
