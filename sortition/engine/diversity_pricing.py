"""Pricing under a diversity bound by neighbourhoods (docs/diversity.md, "Pricing under the
bound").

A pricing round asks for a panel maximising the master's duals, sum_u g_u · c_u, within the
quotas, the households and the bound, that beats the threshold. Every panel found that way is a
valid column, whatever found it; only the proof that none exists needs CP-SAT over the whole
pool (``pricing.PanelOracle``), and that proof is what ends a level. So the cheap searches come
first, around the panels in use (whose reduced cost is zero):

1. **Swaps** (``SwapChains.moves``): every single swap (one member of a unit in, one of a unit on
   the panel out) that keeps the quotas, the households and the bound, checked exactly in numpy,
   whose gain g_in - g_out is positive; steepest ascent from each panel in use.
2. **A short CP-SAT search over the whole pool** (``first_improving``), only when the swaps find
   none: hinted with the best panel in use, stopped at its first ``_FIRST`` panels that beat the
   threshold (or a budget of ``_BUDGET`` deterministic seconds), and the swaps of the best of
   them that still beat it.

The pricer (``columns.Pricer``) runs the search to the optimum only when both find nothing, and
under the bound it does not ask it every round beside them (the swaps' panels are columns
enough; a whole-pool search under the bound costs about a second). Which panels the lottery uses
may differ from a run without these searches; the LEXIMIN vector does not, since every level
still ends on the whole-pool proof.

Deterministic: one worker, a fixed seed, budgets in CP-SAT's deterministic time, ties broken by
the units' order.
"""

from __future__ import annotations

import time

import numpy as np

from sortition.engine.diversity_cover import SwapChains
from sortition.engine.errors import TimeLimitReached
from sortition.engine.pricing import PanelOracle
from sortition.units import UnitInstance

# A swap improves when its gain exceeds this (the duals are probabilities' shadow prices).
_GAIN_TOL = 1e-12
# Steps of steepest ascent from one panel in use.
_STEPS = 20
# The best swaps of each step kept as columns (beside the one the ascent takes).
_NEIGHBOURS = 4
# The whole-pool search stops at this many panels that beat the threshold...
_FIRST = 3
# ... or at this much of CP-SAT's deterministic time.
_BUDGET = 2.0


class BoundedNeighbours:
    """Improving panels within the diversity bound near the panels in use; the same call as
    ``pricing.SwapSearch.improve``, which finds panels without regard to the bound.

    ``seconds``, ``searches`` and ``panels`` tally the small CP-SAT searches."""

    def __init__(self, inst: UnitInstance, oracle: PanelOracle) -> None:
        assert inst.diversity is not None
        self.inst = inst
        self.oracle = oracle
        self.chains = SwapChains(inst)
        self.deadline = oracle.deadline
        self.searches = 0
        self.panels = 0
        self.seconds = 0.0

    def swaps(
        self, panel: np.ndarray, g: np.ndarray, least: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every swap from ``panel`` within the quotas, households and bound whose gain
        g_in - g_out exceeds ``least`` (unit in, unit out, gain), the largest gain first (ties:
        the units' order). ``least`` may be negative: from a panel that beats the threshold by
        m, every swap that loses less than m beats it too."""
        inst = self.inst
        outgoing = np.flatnonzero(panel > 0)
        if not len(outgoing):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        lowest = float(g[outgoing].min())
        incoming = np.flatnonzero((panel < inst.capacity) & (g > lowest + least))
        wanted = g[incoming][:, None] - g[outgoing][None, :] > least
        wanted &= incoming[:, None] != outgoing[None, :]
        unit_in, unit_out, _ = self.chains.moves(panel, incoming, outgoing, wanted)
        gain = g[unit_in] - g[unit_out]
        order = np.argsort(-gain, kind="stable")
        return unit_in[order], unit_out[order], gain[order]

    def improve(
        self,
        g: np.ndarray,
        threshold: float,
        seeds: list[np.ndarray],
        max_new: int,
        *,
        neighbours: int = _NEIGHBOURS,
        max_steps: int = _STEPS,
    ) -> list[np.ndarray]:
        """Panels within the bound with ``g @ c > threshold``: steepest ascent by swaps from
        each of ``seeds`` (keeping the best ``neighbours`` swaps of each step that beat the
        threshold, and the panel it ends on), then, when that finds none, the small CP-SAT
        search around the seeds."""
        found: list[np.ndarray] = []
        seen: set[bytes] = set()

        def keep(candidate: np.ndarray) -> None:
            key = candidate.tobytes()
            if key not in seen:
                seen.add(key)
                found.append(candidate)

        for seed in seeds:
            panel = seed.astype(np.int64).copy()
            value = float(g @ panel)
            for _ in range(max_steps):
                self._check()
                unit_in, unit_out, gains = self.swaps(panel, g, threshold - value)
                if not len(gains):
                    break
                for j in range(min(neighbours, len(gains))):
                    if value + float(gains[j]) > threshold:
                        candidate = panel.copy()
                        candidate[unit_in[j]] += 1
                        candidate[unit_out[j]] -= 1
                        keep(candidate)
                if gains[0] <= _GAIN_TOL:
                    break  # a panel above the threshold, none of whose swaps gains
                panel[unit_in[0]] += 1
                panel[unit_out[0]] -= 1
                value += float(gains[0])
                if len(found) >= max_new:
                    return found[:max_new]
            if value > threshold:
                keep(panel)
        if not found and seeds:
            found = self.first_improving(g, threshold, seeds, max_new)
        return found[:max_new]

    def first_improving(
        self, g: np.ndarray, threshold: float, seeds: list[np.ndarray], max_new: int
    ) -> list[np.ndarray]:
        """CP-SAT over the whole pool from the best of ``seeds``, stopped at its first
        ``_FIRST`` panels beating the threshold (or its budget), and the swaps of the best of
        them that still beat it: many columns for one short search (the search to the optimum
        cost 6 to 24 s of CPU on data/example where this one takes 0.3 s)."""
        started = time.perf_counter()
        best = max(seeds, key=lambda seed: float(g @ seed))
        res = self.oracle.maximize(
            g,
            threshold=threshold,
            max_improving=_FIRST,
            budget=_BUDGET,
            hint=best,
            stop_after=_FIRST,
        )
        self.searches += 1
        found: list[np.ndarray] = []
        if res is not None:
            found = [c for c in res.improving if float(g @ c) > threshold]
        if found:
            self.panels += 1
            top = max(found, key=lambda c: float(g @ c))
            value = float(g @ top)
            unit_in, unit_out, gains = self.swaps(top, g, threshold - value)
            for j in range(min(max_new - len(found), len(gains))):
                candidate = top.copy()
                candidate[unit_in[j]] += 1
                candidate[unit_out[j]] -= 1
                found.append(candidate)
        self.seconds += time.perf_counter() - started
        return found

    def _check(self) -> None:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise TimeLimitReached
