"""The seeded local search: simulated annealing over swaps, with a work budget counted in moves.

State: each person's table in each round. The goals, in order (``evaluate.Measures``): no rule
broken, the fewest repeat pairs, the smallest largest deviation, the smallest total deviation.
The annealing minimises one number, ``E = 1000 * apart pairs at one table + 20 * repeat pairs +
sum over cells of d**2 + 8 * max(0, d - 1)`` (``d`` a cell's deviation: a table's count of one
balance value against its share), which rewards every step towards the goals, and keeps the
state that is best in the goals' order (exactly, from counts kept as the integers
``k * deviation``). Together groups move as one unit and pinned people do not move, so those
rules hold throughout; table sizes never change.

Two kinds of move:

* **design**: when the affine-plane seating exists (``design.design_fits``) and no one is pinned
  or tied to another, people sit on its positions and a move swaps two people's positions, in
  every round at once: no two people ever meet twice, whatever the swaps;
* **free**: a move picks a round, a unit that may move and another table, and swaps the unit
  with as many single people from that table.

On the plane the budget's first two thirds anneal with design moves; the last third anneals
with free moves from the best seating found (from temperature 0.3): swaps in one round that
add no repeat pair reach seatings the plane's swaps cannot, and the best seating kept never has
more repeat pairs than the plane's (none), since repeat pairs come before balance in the goals.

Half the moves start from a cell more than one off its share, when there is one (a person the
cell has too many or too few of, with anyone else). On the affine plane without apart groups the
annealing's moves are judged many at a time (``batched``).

The temperature falls geometrically from 2 to 0.01 over the first 90% of the budget; the last
10% polish: a move is taken when it breaks no more rules, adds no repeat pair and leaves the
deviations, compared from the largest down, no worse (equal ones are taken, to walk plateaus).

Every random choice (the first layout, the moves, the acceptance of worse states) comes from the
seeded stream, and the budget is a count of moves, so the same inputs and seed give the same
seating on any machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from math import comb

from sortition.groups.batched import anneal_design
from sortition.groups.design import design_fits
from sortition.groups.evaluate import Seating, value_counts
from sortition.groups.layout import design_start, free_start
from sortition.groups.problem import GroupsProblem
from sortition.randomness import SeededStream

log = logging.getLogger(__name__)

W_APART = 1000.0
W_REPEAT = 20.0
T_START, T_END = 2.0, 0.01
T_OFF_PLANE = 0.3  # the free moves' first temperature after the plane's annealing
POLISH = 0.1  # the share of the budget spent polishing (``_State.anneal``)
CHECK_EVERY = 1024  # moves between calls of the caller's check (time limit, progress)
_WORD = float(1 << 64)


def PSI(d: float) -> float:
    """The annealing's cost of one cell's deviation ``d``."""
    return d * d + 8 * max(0.0, d - 1)


@dataclass(frozen=True)
class SearchResult:
    seating: Seating
    method: str  # "design" or "free"
    moves: int


def default_effort(problem: GroupsProblem) -> int:
    """The budget when none is given: per person and round, 900 moves on the affine plane
    (two thirds on the plane, judged many at a time, then a third off it) and 200 otherwise;
    at least 20,000."""
    fast = uses_design(problem) and not any(g >= 0 for g in problem.apart)
    return max(20_000, (900 if fast else 200) * problem.people * problem.rounds)


def uses_design(problem: GroupsProblem) -> bool:
    return (
        problem.rounds > 1
        and not problem.together
        and not problem.fixed
        and design_fits(problem.people, problem.tables, problem.rounds)
    )


def search(
    problem: GroupsProblem,
    seed: str,
    effort: int,
    check: Callable[[int], None] | None = None,
) -> SearchResult:
    """The best seating found within ``effort`` moves (``check(moves_done)`` is called every
    ``CHECK_EVERY`` moves; it may raise to stop)."""
    stream = SeededStream(f"groups:{seed}")
    if uses_design(problem):
        on_plane = effort * 2 // 3
        state = _State(problem, design_start(problem, stream), stream)
        state.anneal(on_plane, design=True, check=check)
        if state.best_key()[0] == 0:
            # Off the plane: single-round swaps that add no repeat pair reach seatings the
            # plane's swaps cannot; the best kept never has more repeat pairs than its start.
            best = state.best_seating()
            state = _State(problem, [list(row) for row in best], stream)
            state.anneal(effort - on_plane, design=False, check=check, t_start=T_OFF_PLANE)
            return SearchResult(state.best_seating(), "design", effort)
        log.debug("the design seating keeps apart people together: searching freely")
    state = _State(problem, free_start(problem, stream), stream)
    state.anneal(effort, design=False, check=check)
    return SearchResult(state.best_seating(), "free", effort)


class _State:
    """The seating with its counts kept up to date move by move.

    Cells are numbered ``(r * T + t) * W + slot``: the slots are the balance values of every
    feature, one after the other, then the apart groups.
    """

    def __init__(self, problem: GroupsProblem, where: list[list[int]], stream: SeededStream):
        self.problem, self.stream = problem, stream
        self.k, self.rounds, self.tables = problem.people, problem.rounds, problem.tables
        k, rounds, tables = self.k, self.rounds, self.tables
        totals = [n for counts in value_counts(problem) for n in counts]
        self.balance_slots = len(totals)
        offsets = [0]
        for names in problem.value_names:
            offsets.append(offsets[-1] + len(names))
        groups = problem.apart_groups()
        self.width = self.balance_slots + (max(groups) + 1 if groups else 0)
        self.has_apart = self.width > self.balance_slots
        self.slot_feature = [f for f, names in enumerate(problem.value_names) for _ in names]
        self.slots = [
            tuple(offsets[f] + problem.values[f][x] for f in range(len(problem.features)))
            + ((self.balance_slots + groups[x],) if groups[x] >= 0 else ())
            for x in range(k)
        ]
        self.where = where
        self.members: list[list[list[int]]] = [[[] for _ in range(tables)] for _ in range(rounds)]
        for r in range(rounds):
            for x in range(k):
                self.members[r][where[r][x]].append(x)
        self.size = [len(m) for rnd in self.members for m in rnd]  # by r * T + t
        # psi[s][slot][c] and dev[s][slot][c]: the annealing's cost and k * deviation
        self.psi: dict[int, list[list[float]]] = {}
        self.dev: dict[int, list[list[int]]] = {}
        for s in set(self.size):
            self.dev[s] = [[abs(c * k - s * n) for c in range(s + 1)] for n in totals]
            self.psi[s] = [[PSI(d / k) for d in row] for row in self.dev[s]]
        self.count = [0] * (rounds * tables * self.width)
        for r in range(rounds):
            for x in range(k):
                for slot in self.slots[x]:
                    self.count[(r * tables + where[r][x]) * self.width + slot] += 1
        self._init_measures()
        self.units = problem.units()
        self.unit_of = [0] * k
        for u, unit in enumerate(self.units):
            for x in unit:
                self.unit_of[x] = u
        pins = problem.pins()
        self.movable = [
            [u for u, unit in enumerate(self.units) if all(pins[r][x] is None for x in unit)]
            for r in range(rounds)
        ]
        self.single = [
            [len(self.units[self.unit_of[x]]) == 1 and pins[r][x] is None for x in range(k)]
            for r in range(rounds)
        ]
        self.log: list[tuple[int, int, int]] = []  # (round, person, table before) since best
        self.best_where: list[list[int]] | None = None
        self.best = self.key()

    def _init_measures(self) -> None:
        k, width = self.k, self.width
        self.hist = [0] * (max(self.size) * k + 1)
        self.total = 0
        self.apart_pairs = 0
        for cell, c in enumerate(self.count):
            slot, s = cell % width, self.size[cell // width]
            if slot < self.balance_slots:
                d = self.dev[s][slot][c]
                self.hist[d] += 1
                self.total += d
            else:
                self.apart_pairs += comb(c, 2)
        self.max_dev = max((d for d, n in enumerate(self.hist) if n), default=0)
        # the balance cells more than one off their share, for the targeted moves
        self.bad: list[int] = []
        self.bad_at: dict[int, int] = {}
        for cell, c in enumerate(self.count):
            slot = cell % width
            if slot < self.balance_slots and self.dev[self.size[cell // width]][slot][c] > k:
                self._mark(cell, True)
        self.meet: list[list[int]] | None = None
        self.repeats = 0

    def _mark(self, cell: int, bad: bool) -> None:
        if bad and cell not in self.bad_at:
            self.bad_at[cell] = len(self.bad)
            self.bad.append(cell)
        elif not bad and cell in self.bad_at:
            at, last = self.bad_at.pop(cell), self.bad.pop()
            if last != cell:
                self.bad[at] = last
                self.bad_at[last] = at

    def _init_meetings(self) -> None:
        """The pair counts for free moves (pairs within a unit left out: they never change)."""
        k = self.k
        self.meet = [[0] * k for _ in range(k)]
        for r in range(self.rounds):
            for members in self.members[r]:
                for i, a in enumerate(members):
                    for b in members[i + 1 :]:
                        if self.unit_of[a] != self.unit_of[b]:
                            self.meet[a][b] += 1
                            self.meet[b][a] += 1
        self.repeats = sum(1 for a in range(k) for b in range(a) if self.meet[a][b] > 1)
        self.best = self.key()

    def key(self) -> tuple[int, int, int, int]:
        return (self.apart_pairs, self.repeats, self.max_dev, self.total)

    def best_key(self) -> tuple[int, int, int, int]:
        return self.best

    def energy(self) -> float:
        return W_APART * self.apart_pairs + W_REPEAT * self.repeats

    def anneal(
        self,
        effort: int,
        design: bool,
        check: Callable[[int], None] | None,
        t_start: float = 0.0,
    ) -> None:
        """``effort`` moves: annealing on ``E`` for the first ``1 - POLISH`` of them, then the
        polish, which takes a move when it breaks no more rules, adds no repeat pair and leaves
        the deviations no worse compared from the largest down (equal: taken too)."""
        if not design:
            self._init_meetings()
        t_start = t_start or T_START
        ratio = math.log(T_END / t_start)
        temperature = t_start
        polish_from = int(effort * (1 - POLISH))
        start = 0
        if design and not self.has_apart:
            anneal_design(self, polish_from, t_start, T_END, check, CHECK_EVERY)
            start = polish_from
        propose = self._design_move if design else self._free_move
        for step in range(start, effort):
            if step % CHECK_EVERY == 0:
                temperature = t_start * math.exp(ratio * step / polish_from) if polish_from else 0
                if check is not None:
                    check(step)
            move = propose()
            if move is None:
                continue
            changes, delta_apart, delta_repeats, moved = move
            if step >= polish_from:
                if not self._no_worse(changes, delta_apart, delta_repeats):
                    continue
            else:
                delta = W_APART * delta_apart + W_REPEAT * delta_repeats + self._psi_delta(changes)
                if delta > 0 and self.stream.next_word() / _WORD >= math.exp(-delta / temperature):
                    continue
            self._apply(changes, delta_apart, delta_repeats, moved)

    def _psi_delta(self, changes: dict[int, int]) -> float:
        delta = 0.0
        for cell, d in changes.items():
            slot = cell % self.width
            if d and slot < self.balance_slots:
                row = self.psi[self.size[cell // self.width]][slot]
                c = self.count[cell]
                delta += row[c + d] - row[c]
        return delta

    def _no_worse(self, changes: dict[int, int], delta_apart: int, delta_repeats: int) -> bool:
        """Whether the move keeps (rules, repeats, deviations from the largest down) no worse."""
        if (delta_apart, delta_repeats) != (0, 0):
            return (delta_apart, delta_repeats) < (0, 0)
        levels: dict[int, int] = {}
        for cell, d in changes.items():
            slot = cell % self.width
            if d and slot < self.balance_slots:
                row = self.dev[self.size[cell // self.width]][slot]
                c = self.count[cell]
                levels[row[c]] = levels.get(row[c], 0) - 1
                levels[row[c + d]] = levels.get(row[c + d], 0) + 1
        for level in sorted(levels, reverse=True):
            if levels[level]:
                return levels[level] < 0
        return True

    def _cell(self, r: int, t: int) -> int:
        return (r * self.tables + t) * self.width

    def _swap_changes(
        self, r: int, leaving: list[int], ta: int, joining: list[int], tb: int, out: dict
    ) -> None:
        """Cells that change when ``leaving`` go from ``ta`` to ``tb`` and ``joining`` back."""
        base_a, base_b = self._cell(r, ta), self._cell(r, tb)
        if len(leaving) == 1 and not self.has_apart:
            for sa, sb in zip(self.slots[leaving[0]], self.slots[joining[0]], strict=True):
                if sa != sb:
                    out[base_a + sa] = out.get(base_a + sa, 0) - 1
                    out[base_b + sa] = out.get(base_b + sa, 0) + 1
                    out[base_b + sb] = out.get(base_b + sb, 0) - 1
                    out[base_a + sb] = out.get(base_a + sb, 0) + 1
            return
        for x in leaving:
            for slot in self.slots[x]:
                out[base_a + slot] = out.get(base_a + slot, 0) - 1
                out[base_b + slot] = out.get(base_b + slot, 0) + 1
        for y in joining:
            for slot in self.slots[y]:
                out[base_b + slot] = out.get(base_b + slot, 0) - 1
                out[base_a + slot] = out.get(base_a + slot, 0) + 1

    def _pick_pair(self) -> tuple[int, int]:
        """Two people: at random, or (half the time, while some cell is more than one off its
        share) someone from such a cell, with or without its value as the cell needs, and
        anyone else."""
        stream, k = self.stream, self.k
        if self.bad and stream.below(2):
            cell = self.bad[stream.below(len(self.bad))]
            rt, slot = divmod(cell, self.width)
            members = self.members[rt // self.tables][rt % self.tables]
            f = self.slot_feature[slot]
            c, row = self.count[cell], self.dev[self.size[rt]][slot]
            too_many = c > 0 and row[c - 1] < row[c]
            fitting = [x for x in members if (self.slots[x][f] == slot) == too_many]
            if fitting:
                a = fitting[stream.below(len(fitting))]
                b = stream.below(k - 1)
                return a, b + (b >= a)
        a = stream.below(k)
        b = stream.below(k - 1)
        return a, b + (b >= a)

    def _design_move(self) -> tuple[dict, int, int, list[tuple[int, int, int]]] | None:
        a, b = self._pick_pair()
        return self._design_pair(a, b)

    def _design_pair(
        self, a: int, b: int
    ) -> tuple[dict, int, int, list[tuple[int, int, int]]] | None:
        changes: dict[int, int] = {}
        moved = []
        for r in range(self.rounds):
            ta, tb = self.where[r][a], self.where[r][b]
            if ta != tb:
                self._swap_changes(r, [a], ta, [b], tb, changes)
                moved += [(r, a, tb), (r, b, ta)]
        if not moved:
            return None
        return changes, self._apart_delta(changes), 0, moved

    def _free_move(self) -> tuple[dict, int, int, list[tuple[int, int, int]]] | None:
        r = self.stream.below(self.rounds)
        movable = self.movable[r]
        if not movable or self.tables < 2:
            return None
        unit = self.units[movable[self.stream.below(len(movable))]]
        ta = self.where[r][unit[0]]
        tb = (ta + 1 + self.stream.below(self.tables - 1)) % self.tables
        single = self.single[r]
        candidates = [y for y in self.members[r][tb] if single[y]]
        if len(candidates) < len(unit):
            return None
        if len(unit) == 1:
            others = [candidates[self.stream.below(len(candidates))]]
        else:
            others = self.stream.sample(candidates, len(unit))
        changes: dict[int, int] = {}
        self._swap_changes(r, unit, ta, others, tb, changes)
        moved = [(r, x, tb) for x in unit] + [(r, y, ta) for y in others]
        repeats = self._repeat_delta(r, unit, ta, others, tb)
        return changes, self._apart_delta(changes), repeats, moved

    def _apart_delta(self, changes: dict[int, int]) -> int:
        out = 0
        for cell, d in changes.items():
            if d and cell % self.width >= self.balance_slots:
                c = self.count[cell]
                out += comb(c + d, 2) - comb(c, 2)
        return out

    def _repeat_delta(self, r: int, unit: list[int], ta: int, others: list[int], tb: int) -> int:
        meet = self.meet
        assert meet is not None
        stay_a = [y for y in self.members[r][ta] if y not in unit]
        stay_b = [y for y in self.members[r][tb] if y not in others]
        out = 0
        for movers, left, joined in ((unit, stay_a, stay_b), (others, stay_b, stay_a)):
            for x in movers:
                row = meet[x]
                out -= sum(1 for y in left if row[y] == 2)
                out += sum(1 for y in joined if row[y] == 1)
        return out

    def _apply(
        self,
        changes: dict[int, int],
        delta_apart: int,
        delta_repeats: int,
        moved: list[tuple[int, int, int]],
    ) -> None:
        width, hist = self.width, self.hist
        for cell, d in changes.items():
            if not d:
                continue
            c = self.count[cell]
            self.count[cell] = c + d
            slot = cell % width
            if slot < self.balance_slots:
                row = self.dev[self.size[cell // width]][slot]
                before, after = row[c], row[c + d]
                hist[before] -= 1
                hist[after] += 1
                if (after > self.k) != (before > self.k):
                    self._mark(cell, after > self.k)
                self.total += after - before
                if after > self.max_dev:
                    self.max_dev = after
        while self.max_dev and not hist[self.max_dev]:
            self.max_dev -= 1
        self.apart_pairs += delta_apart
        self.repeats += delta_repeats
        if self.meet is not None:
            self._move_meetings(moved)
        keep_log = self.best_where is None
        for r, x, t in moved:
            if keep_log:
                self.log.append((r, x, self.where[r][x]))
            self.members[r][self.where[r][x]].remove(x)
            self.members[r][t].append(x)
            self.where[r][x] = t
        key = self.key()
        if key < self.best:
            self.best, self.best_where = key, None
            self.log.clear()
        elif len(self.log) > 4 * self.k * self.rounds and self.best_where is None:
            self.best_where = self._undone()
            self.log.clear()

    def _move_meetings(self, moved: list[tuple[int, int, int]]) -> None:
        """Update the pair counts for one free move (all in one round)."""
        meet = self.meet
        assert meet is not None
        r = moved[0][0]
        movers = {x for _, x, _ in moved}
        for _, x, t in moved:
            for y in self.members[r][self.where[r][x]]:
                if y not in movers and self.unit_of[x] != self.unit_of[y]:
                    meet[x][y] -= 1
                    meet[y][x] -= 1
            for y in self.members[r][t]:
                if y not in movers and self.unit_of[x] != self.unit_of[y]:
                    meet[x][y] += 1
                    meet[y][x] += 1

    def _undone(self) -> list[list[int]]:
        """The current seating with the moves since the best undone: the best seating."""
        where = [list(row) for row in self.where]
        for r, x, t in reversed(self.log):
            where[r][x] = t
        return where

    def best_seating(self) -> Seating:
        where = self.best_where if self.best_where is not None else self._undone()
        return tuple(tuple(row) for row in where)
