"""Columns under a diversity bound by a Metropolis chain of swaps (docs/diversity.md, "Pricing
under the bound").

From a panel in use, the chain proposes one swap at a time, a member of a unit on the panel out
and one of a unit ``near`` it (differing in at most one feature) or, one time in five, of any
unit in, and accepts it when it keeps the quotas, the households and the bound (checked exactly,
one swap at a time: the features' counts and the cells of the two units) with probability
min(1, exp(beta · (g_in - g_out) / max |g|)): a walk that drifts towards panels the duals
value, among the panels within the bound. Every panel it visits that beats the threshold is a
column. It replaces neither the swaps' steepest ascent nor the whole-pool proof
(``diversity_pricing``): it is tried first, and a round that it gives no column prices as
before. Off by default (``diversity_pricing.CHAIN``): measured, it saves CPU on gss_k150 and
costs more on ces11_k60, whose master its many cheap columns make slower.

Deterministic: a fixed seed for each call (the call's number), units in index order.
"""

from __future__ import annotations

import math
import random

import numpy as np

from sortition.engine.diversity import unit_value_rows
from sortition.units import UnitInstance

# Proposals per call, shared among the panels it starts from.
CHAIN_STEPS = 20_000
# The chain starts from at most this many panels in use.
_STARTS = 50
# How strongly the chain follows the duals (g scaled to at most 1 in absolute value).
_BETA = 30.0
# The share of proposals whose unit in is near the unit out (differs in at most one feature).
_NEAR = 0.8
_SEED = 20261130


class SwapChain:
    """The chain's tables for one instance under a diversity bound (``inst.diversity``)."""

    def __init__(self, inst: UnitInstance) -> None:
        limit = inst.diversity
        assert limit is not None
        self.inst = inst
        self.limit = limit
        values = unit_value_rows(inst).T  # (F, U)
        n = inst.n_units
        self.values = [[int(v) for v in values[:, u]] for u in range(n)]
        unit, row = np.nonzero(limit.members.T)
        row_of = row.reshape(n, -1)  # (U, I): each unit's cell in every intersection
        assert (unit.reshape(n, -1) == np.arange(n)[:, None]).all()
        self.rows = [[int(r) for r in row_of[u]] for u in range(n)]
        self.value_min = [int(v) for v in inst.value_min]
        self.value_max = [int(v) for v in inst.value_max]
        self.multiplier = [int(m) for m in limit.multiplier]
        self.weight = [limit.scale // m for m in self.multiplier]
        self.capacity = [int(c) for c in inst.capacity]
        household = np.full(n, -1, dtype=np.int64)
        for h, members in enumerate(inst.households):
            household[list(members)] = h
        self.household = [int(h) for h in household]
        self.near = self._near(values)
        self.calls = 0

    @staticmethod
    def _near(values: np.ndarray) -> list[list[int]]:
        """For each unit, the units that differ from it in at most one feature (itself
        included), in index order; computed in blocks so that large pools take little memory."""
        n = values.shape[1]
        near: list[list[int]] = []
        block = max(1, 4_000_000 // max(1, n * values.shape[0]))
        for start in range(0, n, block):
            part = values[:, start : start + block]
            differ = (part[:, :, None] != values[:, None, :]).sum(axis=0)
            near.extend([int(v) for v in np.flatnonzero(row <= 1)] for row in differ)
        return near

    def columns(
        self,
        g: np.ndarray,
        threshold: float,
        starts: list[np.ndarray],
        max_new: int,
        steps: int = CHAIN_STEPS,
    ) -> list[np.ndarray]:
        """Panels within the quotas, households and bound with ``g @ c > threshold``, visited by
        the chain from each of the first ``_STARTS`` of ``starts`` (``steps`` proposals
        shared among them), at most ``max_new``, in the order found."""
        self.calls += 1
        rng = random.Random(_SEED + self.calls)
        top = float(np.abs(g).max(initial=0.0))
        beta = _BETA / top if top > 0 else 0.0
        weights = [float(v) for v in g]
        found: dict[bytes, np.ndarray] = {}
        starts = starts[:_STARTS]
        each = max(1, steps // max(1, len(starts)))
        for start in starts:
            self._walk(start, weights, beta, threshold, each, rng, found, max_new)
            if len(found) >= max_new:
                break
        return list(found.values())[:max_new]

    def _walk(
        self,
        start: np.ndarray,
        g: list[float],
        beta: float,
        threshold: float,
        steps: int,
        rng: random.Random,
        found: dict[bytes, np.ndarray],
        max_new: int,
    ) -> None:
        inst, limit = self.inst, self.limit
        counts = np.asarray(start, dtype=np.int64)
        panel = [int(c) for c in counts]
        per_value = [int(v) for v in inst.incidence.astype(np.int64) @ counts]
        cells = [int(c) for c in limit.members.astype(np.int64) @ counts]
        occupied: dict[int, int] = {}
        for u, c in enumerate(panel):
            if c and self.household[u] >= 0:
                occupied[self.household[u]] = occupied.get(self.household[u], 0) + c
        mult, weight, k = self.multiplier, self.weight, limit.k

        def dev(r: int, c: int) -> int:
            return weight[r] * abs(mult[r] * c - k)

        total = sum(dev(r, c) for r, c in enumerate(cells))
        seats = [u for u, c in enumerate(panel) if c for _ in range(c)]
        value = sum(g[u] * c for u, c in enumerate(panel) if c)
        n = len(panel)
        for _ in range(steps):
            seat = rng.randrange(len(seats))
            out = seats[seat]
            near = self.near[out]
            unit = near[rng.randrange(len(near))] if rng.random() < _NEAR else rng.randrange(n)
            if unit == out or panel[unit] >= self.capacity[unit]:
                continue
            delta = beta * (g[unit] - g[out])
            if delta < 0 and rng.random() > math.exp(delta):
                continue
            if not self._allowed(unit, out, per_value, occupied):
                continue
            change = 0
            for a, b in zip(self.rows[unit], self.rows[out], strict=True):
                if a != b:
                    change += dev(a, cells[a] + 1) - dev(a, cells[a])
                    change += dev(b, cells[b] - 1) - dev(b, cells[b])
            if total + change > limit.limit:
                continue
            panel[unit] += 1
            panel[out] -= 1
            seats[seat] = unit
            for a, b in zip(self.values[unit], self.values[out], strict=True):
                per_value[a] += 1
                per_value[b] -= 1
            for a, b in zip(self.rows[unit], self.rows[out], strict=True):
                if a != b:
                    cells[a] += 1
                    cells[b] -= 1
            for u, step in ((unit, 1), (out, -1)):
                if self.household[u] >= 0:
                    occupied[self.household[u]] = occupied.get(self.household[u], 0) + step
            total += change
            value += g[unit] - g[out]
            if value > threshold:
                candidate = np.asarray(panel, dtype=np.int64)
                key = candidate.tobytes()
                if key not in found:
                    found[key] = candidate
                    if len(found) >= max_new:
                        return

    def _allowed(self, unit: int, out: int, per_value: list[int], occupied: dict[int, int]) -> bool:
        """Whether swapping a member of ``out`` for one of ``unit`` keeps the quotas and the
        households."""
        for a, b in zip(self.values[unit], self.values[out], strict=True):
            if a != b and (
                per_value[a] + 1 > self.value_max[a] or per_value[b] - 1 < self.value_min[b]
            ):
                return False
        h = self.household[unit]
        return h < 0 or occupied.get(h, 0) == 0 or h == self.household[out]
