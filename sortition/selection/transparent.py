"""The transparent lottery: a uniform lottery over M panels, fair to every person.

Flanigan, Kehne and Procaccia, *Fair Sortition Made Transparent* (NeurIPS 2021). A distribution
gives each person i a probability pi_i. A *uniform lottery* is a list of M feasible panels
(repeats allowed), published before the draw; the draw picks one of them uniformly (e.g. d
ten-sided dice for M = 10**d), which anyone can check by hand. Person i is on a_i of the M
panels, so their probability becomes a_i / M. The lottery is judged per *person*:

* its *change* is max_i |a_i / M - pi_i|, the largest amount by which a person's chance moves;
* every person with pi_i >= 1/M (``needs_a_panel``) is on at least one panel (*coverage*).

Units and slots. On the type path a panel is a count vector over units (types; on the person
path every unit is one person). A lottery gives unit u s_u *slots* (its counts summed over the M
panels), and the slots go to the unit's n_u members in rotation (``assign_members``), so with
s_u = n_u * q_u + r_u (0 <= r_u < n_u) r_u members are on q_u + 1 panels and the others on q_u.
No way of sharing s_u out does better, and the members' change is

    D_u(s_u) = max(|q_u / M - pi_u|, [r_u > 0] * |(q_u + 1) / M - pi_u|).

``person_changes`` computes it exactly as ``verify`` recomputes it from the published panels.

The search (``round_to_uniform``, method "best"):

1. *Rounding.* The distribution's panels get integer counts summing to M by two roundings of the
   residuals M*p_P - floor(M*p_P) that always finish: Beck–Fiala (a type's average moves by at
   most k/M) and pipage (``sortition.selection.rounding``); the one with the smaller change per
   person (coverage first) is kept.
2. *Lower bound.* For a level z, D_u(s) <= z exactly when s lies in the window
   [n_u * ceil(x_u - z), n_u * floor(x_u + z)] (x_u = M * pi_u; a single point n_u * q when the
   two ends give the same q; the lower end at least n_u when the members need a panel). Every
   lottery's slots also meet the quotas summed over its panels (M * min <= sum over a value's
   units <= M * max, sum of all slots k * M, at most M per household). The smallest level at
   which the windows and those sums have a solution even in real numbers (an LP, GLOP, binary
   search over the levels where a window changes) is a lower bound on the change of every
   lottery of M panels; when no level has one, no lottery can give everyone who needs a panel
   one.
3. *Swap search* (``sortition.selection.transparent_swaps``): starting from the rounding, small
   changes of single panels (a swap of one member for another, a chain of two swaps, or one panel
   rebuilt by CP-SAT), each keeping the panel feasible, bring every unit's slots into its
   window at the lower bound; when the search finds no more steps, the level rises halfway
   towards the current change and the search continues from there, until it succeeds. Panels
   it changes are other feasible panels, not the distribution's: the lottery is a list of
   feasible panels, judged against pi.

The result is ``exact`` when its change equals the lower bound (no lottery of M panels is
better), else ``best found``. The levels work on the targets scaled by SCALE and rounded to
integers, which moves a change by at most 0.5 / (SCALE * M) in probability: the reported lower
bound is taken that much lower, so it is a bound on the true changes, and "equal" means equal
up to 1 / (SCALE * M). The reported change is always computed in floating point from the slots.

Everything is deterministic: no random numbers, no clock. The swap search stops after a fixed
amount of work (``budget``, counted in cells examined, not seconds); its CP-SAT calls run with
one worker, a fixed seed and a deterministic time limit; GLOP and the roundings are plain
deterministic arithmetic. Equal inputs give equal panels with the same OR-Tools version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.cancel import solve_lp
from sortition.record.build import COVERAGE_TOL
from sortition.selection.rounding import beck_fiala_counts, check_distribution, pipage_counts
from sortition.selection.transparent_swaps import Swaps
from sortition.units import UnitInstance

METHODS = ("best", "beck-fiala", "pipage")
EXACT = "exact"
BEST_FOUND = "best found"
BECK_FIALA = "beck-fiala"
PIPAGE = "pipage"

# Targets x_u = M * pi_u are represented as round(SCALE * x_u) for the levels.
SCALE = 10**6
# Work the swap search may do, in cells examined (rows x units x features), about 2 * 10**7 a
# second here; ces11_k60 (739 types) and gss_k150 (440) at M = 1000 need 1.5 * 10**8.
DEFAULT_BUDGET = 2e9
# Bounds of the lower-bound LP are widened by this many slots against round-off.
_LP_SLACK = 1e-6
# GLOP settings tried in turn when one neither solves nor refutes an LP (ABNORMAL and the like,
# seen on nearly degenerate LPs in sortition.engine.relaxation).
_GLOP_ATTEMPTS = ("", "use_preprocessing: false", "use_dual_simplex: true")


def person_changes(
    slots: np.ndarray, capacity: np.ndarray, probability: np.ndarray, m: int
) -> np.ndarray:
    """(U,) D_u: the largest |a / m - pi_u| over the members of each unit, where s_u slots are
    shared out in rotation (a = floor(s/n) or ceil(s/n)); the same floating-point operations
    as ``verify``'s recomputation from the published panels."""
    s = np.asarray(slots, dtype=np.int64)
    n = np.asarray(capacity, dtype=np.int64)
    pi = np.asarray(probability, dtype=np.float64)
    q, r = s // n, s % n
    low = np.abs(q / m - pi)
    high = np.where(r > 0, np.abs((q + 1) / m - pi), 0.0)
    return np.maximum(low, high)


@dataclass(frozen=True)
class UniformLottery:
    """A uniform lottery over M panels.

    rows: (m, U) the count vectors of lottery panels 1..m, in order.
    method: "exact" (the change equals the lower bound), "best found", or "beck-fiala" /
        "pipage" when that rounding alone was asked for.
    max_change: the largest change of a person's probability, max_i |a_i / m - pi_i|.
    lower_bound: no lottery of m feasible panels has a smaller largest change (None when no
        lottery can give a panel to everyone who needs one).
    from_distribution: how many of the m panels are panels of the distribution.
    uncovered: units whose members need a panel (pi >= 1/m) and have none; empty unless no
        way was found.
    steps: how many steps the swap search made (swaps and rebuilt rows).
    """

    rows: np.ndarray
    m: int
    method: str
    max_change: float
    lower_bound: float | None
    from_distribution: int
    uncovered: tuple[int, ...] = ()
    steps: int = 0

    @property
    def slots(self) -> np.ndarray:
        """(U,) each unit's slots: its counts summed over the m panels."""
        return np.asarray(self.rows, dtype=np.int64).sum(axis=0)


# --------------------------------------------------------------------------- levels and bound


def _targets(probability: np.ndarray, m: int) -> np.ndarray:
    """round(SCALE * M * pi_u): each unit's members' target number of panels, scaled."""
    return np.rint(SCALE * float(m) * np.asarray(probability, dtype=np.float64)).astype(np.int64)


def _scaled_changes(slots: np.ndarray, capacity: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(U,) SCALE * M * D_u against the scaled targets, in integers."""
    q, r = slots // capacity, slots % capacity
    low = np.abs(SCALE * q - targets)
    high = np.where(r > 0, np.abs(SCALE * (q + 1) - targets), 0)
    return np.maximum(low, high)


def _windows(
    targets: np.ndarray, capacity: np.ndarray, need: np.ndarray, level: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The slots s with scaled change at most ``level`` (and s >= n_u where the members need a
    panel): [lo_u, hi_u] per unit, and whether every window is non-empty."""
    q_lo = np.maximum(-((level - targets) // SCALE), need.astype(np.int64))  # ceil, >= 0 or 1
    q_lo = np.maximum(q_lo, 0)
    q_hi = (targets + level) // SCALE
    lo = capacity * q_lo
    hi = np.where(q_hi > q_lo, capacity * q_hi, lo)
    return lo, hi, bool((q_lo <= q_hi).all())


def _levels(targets: np.ndarray, m: int, upto: int | None) -> np.ndarray:
    """Sorted levels at which some window changes, |SCALE * q - target_u| for 0 <= q <= m: all of
    them up to ``upto`` (None: all), and the top level SCALE * m, which no change exceeds."""
    top = SCALE * m
    reach = m if upto is None else min(m, upto // SCALE + 1)
    nearest = targets // SCALE
    values = [np.array([top], dtype=np.int64)]
    for d in range(-reach - 1, reach + 2):
        q = nearest + d
        keep = (q >= 0) & (q <= m)
        values.append(np.abs(SCALE * q[keep] - targets[keep]))
    levels = np.unique(np.concatenate(values))
    return levels[levels <= top]


class _AggregateLP:
    """The slots' LP of one instance (sum k * M, value rows within M * [min, max], households
    at most M, 0 <= s_u <= M * n_u), built once; each level only changes the variables' bounds."""

    def __init__(self, units: UnitInstance, m: int) -> None:
        self.units, self.m = units, m
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        solver = self.solver
        self.s = [solver.NumVar(0.0, float(m * c), "") for c in units.capacity]
        solver.Add(solver.Sum(self.s) == float(units.k * m))
        for v in range(units.n_values):
            holders = [self.s[int(u)] for u in np.flatnonzero(units.incidence[v])]
            if holders:
                total = solver.Sum(holders)
                solver.Add(total >= m * float(units.value_min[v]) - _LP_SLACK)
                solver.Add(total <= m * float(units.value_max[v]) + _LP_SLACK)
        for household in units.households:
            solver.Add(solver.Sum([self.s[u] for u in household]) <= float(m) + _LP_SLACK)

    def feasible(self, lo: np.ndarray, hi: np.ndarray) -> bool:
        limit = self.m * self.units.capacity
        if (lo > limit).any():
            return False
        for var, a, b in zip(self.s, lo.tolist(), np.minimum(hi, limit).tolist(), strict=True):
            var.SetBounds(float(a) - _LP_SLACK, float(b) + _LP_SLACK)
        for params in _GLOP_ATTEMPTS:
            self.solver.SetSolverSpecificParametersAsString(params)
            status = solve_lp(self.solver)
            if status == pywraplp.Solver.OPTIMAL:
                return True
            if status == pywraplp.Solver.INFEASIBLE:
                return False
        # GLOP could not decide: take the level as feasible, which keeps the bound a bound.
        return True


def _lower_bound(
    units: UnitInstance, targets: np.ndarray, need: np.ndarray, m: int, levels: np.ndarray
) -> int | None:
    """The smallest of ``levels`` whose windows the aggregate LP can meet (None: not even the
    top one). Valid as a bound when ``levels`` holds every level up to the answer."""
    lp = _AggregateLP(units, m)

    def ok(level: int) -> bool:
        lo, hi, nonempty = _windows(targets, units.capacity, need, level)
        return nonempty and lp.feasible(lo, hi)

    if not ok(int(levels[-1])):
        return None
    first, last = 0, len(levels) - 1
    while first < last:
        middle = (first + last) // 2
        if ok(int(levels[middle])):
            last = middle
        else:
            first = middle + 1
    return int(levels[first])


# --------------------------------------------------------------------------- entry points


def _quality(
    rows: np.ndarray, capacity: np.ndarray, need: np.ndarray, targets: np.ndarray
) -> tuple[int, int]:
    """(units that need a panel and have none, scaled largest change): smaller is better."""
    slots = rows.sum(axis=0)
    uncovered = int(((slots < capacity) & need).sum())
    return uncovered, int(_scaled_changes(slots, capacity, targets).max(initial=0))


def _base_rows(pan: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The m rows of a rounding: distribution panels in index order, panel P repeated c_P times."""
    return np.repeat(pan, np.asarray(counts, dtype=np.int64), axis=0)


def round_to_uniform(
    units: UnitInstance,
    panels: np.ndarray,
    weights: np.ndarray,
    m: int,
    *,
    probability: np.ndarray | None = None,
    method: str = "best",
    budget: float = DEFAULT_BUDGET,
) -> UniformLottery:
    """A uniform lottery over m feasible panels from a distribution (panels (P, U), weights (P,)).

    probability: (U,) the probability of each unit's members that the lottery is judged
        against (default: the distribution's, sum_P p_P * panel[P, u] / n_u). Pass the published
        probabilities so that ``max_change`` is exactly what ``verify`` recomputes.
    method "best" (default): the rounding, then the swap search from the lower bound (module
        docstring); "beck-fiala" or "pipage": that rounding of the distribution's panels alone.
    budget: the swap search's work limit, in cells examined (deterministic, not seconds).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    pan, w = check_distribution(units, panels, weights, m)
    m = int(m)
    cap = units.capacity
    if probability is None:
        pi = (pan.T.astype(np.float64) @ w) / cap
    else:
        pi = np.asarray(probability, dtype=np.float64)
        if pi.shape != (units.n_units,):
            raise ValueError(f"probability must have shape ({units.n_units},)")
    need = pi * m >= 1.0 - COVERAGE_TOL
    targets = _targets(pi, m)
    known = {bytes(p.tobytes()) for p in pan}

    def key(rows: np.ndarray) -> tuple[int, int]:
        return _quality(rows, cap, need, targets)

    if method == BECK_FIALA:
        rows = _base_rows(pan, beck_fiala_counts(units, pan, w, m))
    elif method == PIPAGE:
        rows = _base_rows(pan, pipage_counts(units, pan, w, m))
    else:  # the better rounding, Beck–Fiala on ties
        candidates = (beck_fiala_counts(units, pan, w, m), pipage_counts(units, pan, w, m))
        rows = min((_base_rows(pan, c) for c in candidates), key=key)
    start = key(rows)
    levels = _levels(targets, m, start[1])
    bound = _lower_bound(units, targets, need, m, levels)
    if bound is not None and bound == levels[-1] and len(levels) > 1:
        levels = _levels(targets, m, None)  # only the top level was met: look at every level
        bound = _lower_bound(units, targets, need, m, levels)
    steps = 0
    if method == "best" and bound is not None and start > (0, bound):
        rows, steps = _search(units, rows, targets, need, levels, bound, budget)
    slots = rows.sum(axis=0)
    uncovered = tuple(int(u) for u in np.flatnonzero((slots < cap) & need))
    if method != "best":
        name = method
    elif bound is not None and not uncovered and key(rows)[1] <= bound:
        name = EXACT
    else:
        name = BEST_FOUND
    return UniformLottery(
        rows=rows,
        m=m,
        method=name,
        max_change=float(person_changes(slots, cap, pi, m).max(initial=0.0)),
        lower_bound=None if bound is None else max(0.0, bound - 0.5) / (SCALE * m),
        from_distribution=sum(bytes(r.tobytes()) in known for r in rows),
        uncovered=uncovered,
        steps=steps,
    )


def _search(
    units: UnitInstance,
    rows: np.ndarray,
    targets: np.ndarray,
    need: np.ndarray,
    levels: np.ndarray,
    bound: int,
    budget: float,
) -> tuple[np.ndarray, int]:
    """The swap search from the lower bound up (module docstring): the best rows it met, by
    ``_quality``, and the number of steps made."""
    cap = units.capacity

    def key(rows: np.ndarray) -> tuple[int, int]:
        return _quality(rows, cap, need, targets)

    state = Swaps(units, rows, budget)
    best, best_key = rows.copy(), key(rows)
    level = bound
    while True:
        lo, hi, _ = _windows(targets, units.capacity, need, level)
        done = state.run(lo, hi)
        now = key(state.rows)
        if now < best_key:
            best, best_key = state.rows.copy(), now
        if done or state.exhausted:
            break
        # Halfway to the change the rows have now (the top level while someone lacks a panel).
        reached = int(levels[-1]) if now[0] else now[1]
        above = levels[levels >= (level + reached + 1) // 2]
        above = above[above > level]
        if len(above) == 0:
            break
        level = int(above[0])
    return best, state.swaps + state.rebuilds


def assign_members(
    lottery: UniformLottery, members_of_unit: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """The m lottery panels as sorted arrays of canonical person indices, in lottery order.

    In each panel in turn, unit u with count c gives the next c of its members (id order) in
    rotation, continuing where the previous panel stopped, so a unit with s slots and n members
    puts each member on floor(s/n) or ceil(s/n) panels (the first s mod n members in id order
    on one more)."""
    rows = np.asarray(lottery.rows, dtype=np.int64)
    if len(members_of_unit) != rows.shape[1]:
        raise ValueError("members_of_unit must list the members of every unit")
    members = [np.asarray(mu, dtype=np.int64) for mu in members_of_unit]
    for u, mu in enumerate(members):
        if int(rows[:, u].max(initial=0)) > len(mu):
            raise ValueError(f"a panel takes more members of unit {u} than it has")
    next_member = [0] * len(members)
    result: list[np.ndarray] = []
    for row in rows:
        chosen: list[int] = []
        for u in np.flatnonzero(row).tolist():
            mu, c, start = members[u], int(row[u]), next_member[u]
            chosen.extend(int(mu[(start + i) % len(mu)]) for i in range(c))
            next_member[u] = (start + c) % len(mu)
        result.append(np.array(sorted(chosen), dtype=np.int64))
    return result
