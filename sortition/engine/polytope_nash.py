"""NASH over the quota polytope: maximise sum_u capacity_u * log(x_u / capacity_u) over the count
vectors x of the polytope, by an outer approximation with tangent cuts (Kelley's cutting planes).

Each round solves one LP over x and t (t_u <= log p_u through its tangents, p_u = x_u /
capacity_u, maximising sum_u capacity_u * t_u): its value is an upper bound on the optimum over
the polytope, hence over panels; the objective at its x is a lower bound. Cuts at the new x
tighten the LP until the bounds differ by at most the gap per person (gss_k150: 16 rounds, 2 s;
ces11_k60: 19 rounds, 18 s, most of it in GLOP re-solving an LP that grows by a cut per unit a
round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.engine.master import Clock
from sortition.engine.relaxation import polytope_model, solve_within
from sortition.engine.settings import LARGE_POOL_UNITS
from sortition.units import UnitInstance

# Tangent points below this share of the mean probability are raised to it: log's slope grows
# without bound at 0, and GLOP gave up (ABNORMAL) on cuts with slopes of 1e9. A tangent anywhere is
# a valid cut; one at a larger point only separates less.
_SMALLEST_TANGENT = 1e-2
# GLOP's settings tried in turn when a re-solve ends ABNORMAL (as in ``relaxation``).
_GLOP_ATTEMPTS = ("", "use_preprocessing: false", "use_dual_simplex: true")
# A unit gets a new cut when its t lies this far above log(p).
_CUT_TOL = 1e-12
# Rounds of cuts at most (each adds at most one cut a unit).
_MAX_ROUNDS = 500
# Above this many units a round cuts only the units that carry this share of the LP's excess
# over the objective (capacity_u * (t_u - log p_u), largest first), not every unit whose t_u is
# above log p_u. realistic7 n = 10,000 k = 150 (6,031 units), to a gap of 5e-7 per person: every
# unit, 17 rounds, 120,590 cuts, 71.9 s of CPU (the last rounds 11-13 s each); 90 %, 18 rounds,
# 90,424 cuts, 36.5 s. Every cut is a tangent, so the bound stays a bound. Smaller pools cut every
# unit (the shared instances' outputs).
_SELECT_CUTS_ABOVE = LARGE_POOL_UNITS
_CUT_SHARE = 0.9


@dataclass(frozen=True)
class RelaxedNash:
    """counts: the best point found (in counts); upper / lower: bounds on the optimal sum of
    capacity-weighted log-probabilities over the polytope (lower: that of ``counts``); people:
    the selectable people the sum runs over; rounds, cuts: the effort."""

    counts: np.ndarray
    upper: float
    lower: float
    people: float
    rounds: int
    cuts: int

    @property
    def gap(self) -> float:
        """(upper - lower) per person: the log of the ratio of the geometric means."""
        return (self.upper - self.lower) / self.people


def relaxed_nash(
    inst: UnitInstance, selectable: np.ndarray, gap: float, clock: Clock
) -> RelaxedNash | None:
    """NASH over the quota polytope within ``gap`` per person (None if GLOP fails);
    TimeLimitReached past the clock's deadline, also within a solve."""
    solver, x = polytope_model(inst)
    cap = inst.capacity.astype(np.float64)
    units = [int(u) for u in np.flatnonzero(selectable)]
    for u in range(inst.n_units):
        if not selectable[u]:
            x[u].SetUb(0.0)  # on no panel: on none of the polytope's points either
    t = {u: solver.NumVar(-solver.infinity(), 0.0, "") for u in units}
    objective = solver.Objective()
    for u in units:
        objective.SetCoefficient(t[u], float(cap[u]))
    objective.SetMaximization()
    people = float(cap[units].sum())
    mean = inst.k / max(people, 1.0)
    cuts = 0

    def cut(u: int, p: float) -> None:
        nonlocal cuts
        p = min(max(p, _SMALLEST_TANGENT * mean), 1.0)
        # t_u <= log(p) + (x_u / cap_u - p) / p
        solver.Add(t[u] - x[u] * (1.0 / (cap[u] * p)) <= math.log(p) - 1.0)
        cuts += 1

    for u in units:
        for point in sorted({mean / 4, mean, min(1.0, 4 * mean), 1.0}):
            cut(u, point)
    best: np.ndarray | None = None
    lower = -math.inf
    upper = math.inf
    rounds = 0
    while rounds < _MAX_ROUNDS:
        rounds += 1
        clock.check()
        if not _solve(solver, clock.deadline):
            return None
        upper = min(upper, float(objective.Value()))
        counts = np.array([var.solution_value() for var in x], dtype=np.float64)
        prob = counts[units] / cap[units]
        value = float(cap[units] @ np.log(np.maximum(prob, 1e-300)))
        if value > lower:
            lower, best = value, counts
        if (upper - lower) / people <= gap:
            break
        values = [t[u].solution_value() for u in units]
        before = cuts
        if inst.n_units > _SELECT_CUTS_ABOVE:
            for i in _most_excess(values, prob, cap[units]):
                cut(units[i], float(prob[i]))
        else:
            for u, pu, tu in zip(units, prob, values, strict=True):
                if tu > math.log(max(pu, 1e-300)) + _CUT_TOL:
                    cut(u, float(pu))
        if cuts == before:
            break  # no cut: the next round would solve the same LP
    if best is None:
        return None
    return RelaxedNash(best, upper, lower, people, rounds, cuts)


def _most_excess(values: list[float], prob: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """The positions of the units to cut: largest capacity-weighted excess first, until they
    carry ``_CUT_SHARE`` of the whole (ties in position order)."""
    over = np.asarray(values, dtype=np.float64) - np.log(np.maximum(prob, 1e-300))
    weighted = np.where(over > _CUT_TOL, over, 0.0) * cap
    total = float(weighted.sum())
    if total <= 0.0:
        return np.arange(0)
    order = np.argsort(-weighted, kind="stable")
    take = int(np.searchsorted(np.cumsum(weighted[order]), _CUT_SHARE * total)) + 1
    return order[: min(take, int(np.count_nonzero(weighted)))]


def _solve(solver: pywraplp.Solver, deadline: float | None) -> bool:
    """Solve to optimality, with other GLOP settings should one give up; False if none does,
    TimeLimitReached past ``deadline``."""
    for params in _GLOP_ATTEMPTS:
        solver.SetSolverSpecificParametersAsString(params)
        if solve_within(solver, deadline):
            return True
    return False
