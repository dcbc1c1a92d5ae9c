"""The swap search of the transparent lottery: move single slots between units, panel by panel.

A lottery is M panels (rows, count vectors over units), each of them feasible. Every person's
number of panels is fixed by their unit's *slots* s_u (the sum of the unit's counts over the M
rows, shared out in rotation; ``sortition.selection.transparent``). ``Swaps.run(lo, hi)`` tries to
bring every s_u into a window [lo_u, hi_u] by changing rows, one slot at a time, keeping every row a
feasible panel:

1. a *swap*: in one row, one member of unit a makes way for one member of unit b, which moves
   one slot from a to b. It keeps the row feasible when, for every feature on which a and b
   differ, a's value may lose a member and b's value may gain one (quota rows), b has a member
   to spare, and b's household has nobody else in the row;
2. a *chain of two swaps* in two rows, through an intermediate unit whose slots do not change;
3. a *rebuilt row*: CP-SAT (``pricing.panel_model``, one worker, a fixed seed, a deterministic
   time limit) replaces one row by the feasible panel closest to it (fewest members changed)
   that moves the unit one slot or more towards its window and no other unit away from its own.

Units outside their window are fixed in unit order. For a unit short of slots a swap takes one
from a *donor*, a unit that can spare one (above its window first, else the unit with the most
slots above its lower end); for a unit with too many, symmetrically, a *receiver* gets one.
Rows are scanned in order, in blocks, and the first block with a candidate decides (its
best-scoring candidate, the lowest row and unit on ties). Every step brings one unit at least
one slot nearer its window and no unit further from its own, so the total distance to the
windows falls at every step and the search ends. It also stops after ``budget`` cell visits
(rows times units times features examined) or MAX_REBUILDS rebuilt rows: deterministic
measures of work, so equal inputs give equal rows.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.pricing import panel_model
from sortition.units import UnitInstance

# Rows examined at a time when looking for a single swap.
ROW_BLOCK = 128
# Intermediate units tried for a chain of two swaps, per slot.
MAX_INTERMEDIATES = 64
# Rows rebuilt by CP-SAT: at most this many tried per slot, and this many calls in all.
REBUILD_ROWS = 16
MAX_REBUILDS = 200
# CP-SAT's deterministic time per rebuilt row, and the wall-clock safety net (a search stopped
# by the wall clock is discarded, so that the result stays reproducible).
REBUILD_TIME = 1.0
REBUILD_WALL = 30.0
CPSAT_SEED = 0


class Swaps:
    """Rows of a lottery with the bookkeeping that makes a swap's feasibility cheap to test."""

    def __init__(self, units: UnitInstance, rows: np.ndarray, budget: float) -> None:
        self.units = units
        self.cap = units.capacity
        self.rows = np.array(rows, dtype=np.int64)
        n_features = int(units.feature_of_value.max()) + 1 if units.n_values else 0
        vals = np.zeros((units.n_units, n_features), dtype=np.int64)
        for v in range(units.n_values):
            vals[units.incidence[v], units.feature_of_value[v]] = v
        self.vals = vals
        self.value_counts = self.rows @ units.incidence.T.astype(np.int64)  # (M, V)
        self.household = np.full(units.n_units, -1, dtype=np.int64)
        for h, members in enumerate(units.households):
            self.household[list(members)] = h
        # on_panel[j, h]: members of household h in row j (a last column for "no household")
        self.on_panel = np.zeros((len(self.rows), len(units.households) + 1), dtype=np.int64)
        for h, members in enumerate(units.households):
            self.on_panel[:, h] = self.rows[:, list(members)].sum(axis=1)
        self.slots = self.rows.sum(axis=0)
        self.budget = float(budget)
        self.work = 0.0
        self.swaps = 0
        self.rebuilds = 0
        # may_lose[j, u, f]: unit u's value of feature f may lose a member in row j; may_gain: gain
        self.may_lose = np.zeros((len(self.rows), units.n_units, n_features), dtype=bool)
        self.may_gain = np.zeros_like(self.may_lose)
        for j in range(len(self.rows)):
            self._refresh(j)

    @property
    def exhausted(self) -> bool:
        return self.work > self.budget

    def _refresh(self, j: int) -> None:
        counts = self.value_counts[j]
        self.may_lose[j] = (counts > self.units.value_min)[self.vals]
        self.may_gain[j] = (counts < self.units.value_max)[self.vals]

    def _feasible(self, rows: np.ndarray, giving: np.ndarray, taking: np.ndarray) -> np.ndarray:
        """(len(rows), len(giving), len(taking)) would be too big: one side has one unit.

        Returns ok[r, i]: in row rows[r], swapping pair i (giving[i] out, taking[i] in) keeps the
        panel feasible; ``giving`` or ``taking`` is broadcast (one unit against many)."""
        g = np.broadcast_to(giving, np.broadcast_shapes(giving.shape, taking.shape))
        t = np.broadcast_to(taking, g.shape)
        self.work += float(len(rows) * len(g) * max(1, self.vals.shape[1]))
        same = self.vals[g] == self.vals[t]  # (P, F)
        lose = self.may_lose[np.ix_(rows, g)] if len(g) else np.zeros((len(rows), 0, 0), bool)
        gain = self.may_gain[np.ix_(rows, t)] if len(t) else np.zeros((len(rows), 0, 0), bool)
        ok = (same[None, :, :] | (lose & gain)).all(axis=2)
        here = self.rows[rows]
        ok &= here[:, g] > 0
        ok &= here[:, t] < self.cap[t][None, :]
        if self.units.households:
            ht = self.household[t]
            inside = self.on_panel[np.ix_(rows, np.where(ht >= 0, ht, -1))]
            inside = inside - ((ht == self.household[g]) & (ht >= 0))[None, :]
            ok &= (ht < 0)[None, :] | (inside == 0)
        return ok

    def apply(self, j: int, out: int, into: int) -> None:
        """In row j, one member of unit ``out`` makes way for one of unit ``into``."""
        self.rows[j, out] -= 1
        self.rows[j, into] += 1
        self.value_counts[j, self.vals[out]] -= 1
        self.value_counts[j, self.vals[into]] += 1
        if self.household[out] >= 0:
            self.on_panel[j, self.household[out]] -= 1
        if self.household[into] >= 0:
            self.on_panel[j, self.household[into]] += 1
        self.slots[out] -= 1
        self.slots[into] += 1
        self.swaps += 1
        self._refresh(j)

    def run(self, lo: np.ndarray, hi: np.ndarray) -> bool:
        """Swap until every unit's slots lie in [lo, hi] (True), or no step is found or the budget
        is spent (False). The rows stay feasible panels throughout."""
        while not self.exhausted:
            outside = np.flatnonzero((self.slots < lo) | (self.slots > hi))
            if len(outside) == 0:
                return True
            progress = False
            for u in outside.tolist():
                while self.slots[u] < lo[u] and self._step(u, lo, hi, short=True):
                    progress = True
                while self.slots[u] > hi[u] and self._step(u, lo, hi, short=False):
                    progress = True
                if self.exhausted:
                    return False
            if not progress:
                return False
        return False

    def _partners(self, lo: np.ndarray, hi: np.ndarray, short: bool) -> list[np.ndarray]:
        """Candidate partners (donors for a short unit, receivers otherwise), best group first:
        those outside their window on the other side, then those with room inside it."""
        if short:
            return [np.flatnonzero(self.slots > hi), np.flatnonzero(self.slots > lo)]
        return [np.flatnonzero(self.slots < lo), np.flatnonzero(self.slots < hi)]

    def _score(self, lo: np.ndarray, hi: np.ndarray, short: bool) -> np.ndarray:
        return self.slots - lo if short else hi - self.slots

    def _single(
        self, u: int, partners: np.ndarray, score: np.ndarray, short: bool, skip_row: int = -1
    ) -> tuple[int, int] | None:
        """The first block of rows with a swap between u and one of ``partners``: (row, partner)
        of the best-scoring one (lowest row, then lowest unit, on ties)."""
        if len(partners) == 0:
            return None
        unit = np.array([u])
        column = self.rows[:, u]
        eligible = np.flatnonzero(column < self.cap[u] if short else column > 0)
        eligible = eligible[eligible != skip_row]
        for start in range(0, len(eligible), ROW_BLOCK):
            block = eligible[start : start + ROW_BLOCK]
            if short:
                ok = self._feasible(block, partners, unit)
            else:
                ok = self._feasible(block, unit, partners)
            if ok.any():
                r, i = np.nonzero(ok)
                best = int(np.argmax(score[partners[i]]))  # first maximum: lowest row, unit
                return int(block[r[best]]), int(partners[i[best]])
            if self.exhausted:
                return None
        return None

    def _step(self, u: int, lo: np.ndarray, hi: np.ndarray, *, short: bool) -> bool:
        """One slot for a short unit u (or away from a unit with too many): a single swap, else a
        chain of two through an intermediate unit."""
        score = self._score(lo, hi, short)
        for partners in self._partners(lo, hi, short):
            found = self._single(u, partners[partners != u], score, short)
            if found is not None:
                j, other = found
                self.apply(j, other, u) if short else self.apply(j, u, other)
                return True
        # A chain of two: u trades with c in row j1, c trades with a partner in another row.
        everyone = np.arange(self.units.n_units)
        column = self.rows[:, u]
        eligible = np.flatnonzero(column < self.cap[u] if short else column > 0)
        unit = np.array([u])
        ok = (
            self._feasible(eligible, everyone, unit)
            if short
            else self._feasible(eligible, unit, everyone)
        )
        ok[:, u] = False
        reachable = np.flatnonzero(ok.any(axis=0))[:MAX_INTERMEDIATES]
        partners = self._partners(lo, hi, short)[1]
        partners = partners[partners != u]
        for c in reachable.tolist():
            j1 = int(eligible[int(np.flatnonzero(ok[:, c])[0])])
            found = self._single(c, partners[partners != c], score, short, skip_row=j1)
            if found is not None:
                j2, other = found
                if short:
                    self.apply(j1, c, u)
                    self.apply(j2, other, c)
                else:
                    self.apply(j1, u, c)
                    self.apply(j2, c, other)
                return True
            if self.exhausted:
                return False
        # Rebuild one row: any feasible panel in its place that moves u and no other unit away
        # from its window.
        for j in eligible[:REBUILD_ROWS].tolist():
            if self.rebuilds >= MAX_REBUILDS or self.exhausted:
                return False
            if self._rebuild(j, u, lo, hi, short=short):
                return True
        return False

    def _rebuild(self, j: int, u: int, lo: np.ndarray, hi: np.ndarray, *, short: bool) -> bool:
        """Replace row j by the feasible panel closest to it (fewest members changed) that gives
        u at least one slot more (``short``) or less, keeps every other unit's slots in its
        window (or no further from it) and u from overshooting. CP-SAT, one worker, a fixed seed
        and a deterministic time limit."""
        self.rebuilds += 1
        units, row = self.units, self.rows[j]
        # Allowed change of each unit's count in this row.
        down = np.where(self.slots > lo, lo - self.slots, 0)
        down = np.where(self.slots > hi, lo - self.slots, np.minimum(down, 0))
        up = np.where(self.slots < hi, hi - self.slots, 0)
        if short:
            down[u], up[u] = 1, hi[u] - self.slots[u]
        else:
            down[u], up[u] = lo[u] - self.slots[u], -1
        if down[u] > up[u]:
            return False
        built = panel_model(units)
        model, x = built.model, built.vars
        added = []
        for v in range(units.n_units):
            a, b = max(0, int(row[v] + down[v])), min(int(self.cap[v]), int(row[v] + up[v]))
            if a > b:
                return False
            if a > 0:
                model.add(x[v] >= a)
            if b < int(self.cap[v]):
                model.add(x[v] <= b)
            if b > int(row[v]):
                extra = model.new_int_var(0, b - int(row[v]), "")
                model.add(extra >= x[v] - int(row[v]))
                added.append(extra)
            model.add_hint(x[v], int(min(max(row[v], a), b)))
        model.minimize(sum(added))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = CPSAT_SEED
        solver.parameters.max_deterministic_time = REBUILD_TIME
        solver.parameters.max_time_in_seconds = REBUILD_WALL
        status = solve_cp_sat(solver, model)
        if status == cp_model.FEASIBLE and solver.deterministic_time < 0.999 * REBUILD_TIME:
            return False  # stopped by the wall clock: not reproducible
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        new = np.array([solver.value(v) for v in x], dtype=np.int64)
        for v in np.flatnonzero(new != row).tolist():
            self.slots[v] += int(new[v] - row[v])
        self.rows[j] = new
        self.value_counts[j] = units.incidence.astype(np.int64) @ new
        for h, members in enumerate(units.households):
            self.on_panel[j, h] = int(new[list(members)].sum())
        self._refresh(j)
        return True
