"""LEGACY: the greedy quota-filling draw practitioners used before 2021 (DESIGN.md, precisely).

Repeat k times: among values still available, take the one whose remaining need is largest
relative to the people still available with it, (min - selected) / remaining (first in (feature,
value) order on ties); pick one of those people uniformly (candidates in id order); remove them and
their household; when a value reaches its max, remove everyone left with it. A dead end restarts
from scratch, continuing the same seeded stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sortition.errors import InfeasibleError, Problem
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
        """One pass of the greedy; None at a dead end."""
        k = self.instance.k
        alive = np.ones(self.instance.pool.size, dtype=bool)
        selected = np.zeros(self.value_count, dtype=np.int64)
        remaining = self.initial_remaining.copy()
        panel: list[int] = []
        households = self.instance.pool.households

        def remove(people: np.ndarray) -> None:
            people = people[alive[people]]
            if len(people):
                alive[people] = False
                np.subtract.at(remaining, self.values[people].ravel(), 1)

        for _ in range(k):
            if np.any(selected + remaining < self.mins):
                return None
            open_values = (remaining > 0) & (self.maxs > 0)
            if not open_values.any():
                return None
            ratio = np.full(self.value_count, -np.inf)
            ratio[open_values] = (self.mins - selected)[open_values] / remaining[open_values]
            best = int(np.argmax(ratio))
            if ratio[best] > 1:
                return None
            candidates = self.members_of_value[best]
            candidates = candidates[alive[candidates]]
            person = int(candidates[stream.below(len(candidates))])
            panel.append(person)
            alive[person] = False
            person_values = self.values[person]
            selected[person_values] += 1
            remaining[person_values] -= 1
            if households is not None and self.household_members is not None:
                remove(self.household_members[int(households[person])])
            for v in person_values:
                if selected[v] >= self.maxs[v]:
                    remove(self.members_of_value[v])
        if np.any(selected < self.mins) or np.any(selected > self.maxs):
            return None
        return np.array(sorted(panel), dtype=np.int64)

    def draw(self, stream: SeededStream, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> LegacyDraw:
        for attempt in range(1, max_attempts + 1):
            panel = self.attempt(stream)
            if panel is not None:
                return LegacyDraw(panel, attempt)
        raise InfeasibleError(
            [
                Problem(
                    f"LEGACY reached a dead end {max_attempts} times in a row; the quotas may be "
                    "too tight for the greedy (try a fair algorithm, or relax the quotas)"
                )
            ]
        )


def legacy_draw(
    instance: Instance, stream: SeededStream, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> LegacyDraw:
    return LegacySampler(instance).draw(stream, max_attempts)
