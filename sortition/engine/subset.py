"""The exact best subset: which of some available people, added to others, leave the smallest
deviation from the quotas (Σ over values of how far a count lies outside [min, max]).

``alternates`` uses it for every dropout scenario, ``replace --from-alternates`` to pick the
replacements among the alternates, and ``verify`` to check that pick. CP-SAT on one thread, fixed
seed, deterministic time: the same answer on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.errors import N_, InfeasibleError, TimeLimitError, problem


def deviation(counts: np.ndarray, low: np.ndarray, high: np.ndarray) -> int:
    """Σ over values of how far the counts lie outside [low, high]."""
    return int(np.maximum(low - counts, 0).sum() + np.maximum(counts - high, 0).sum())


def deviation_terms(
    model: cp_model.CpModel,
    counts: Sequence[cp_model.LinearExprT],
    low: np.ndarray,
    high: np.ndarray,
    bound: int,
) -> list[cp_model.IntVar]:
    """Variables whose sum, minimised, is the deviation of ``counts`` from [low, high]."""
    terms = []
    for v, count in enumerate(counts):
        below = model.new_int_var(0, bound, "")
        above = model.new_int_var(0, bound, "")
        model.add(below >= int(low[v]) - count)
        model.add(above >= count - int(high[v]))
        terms += [below, above]
    return terms


def subset_solver(effort: float, portfolio: bool = False) -> cp_model.CpSolver:
    """CP-SAT on one thread, fixed seed, deterministic time. With ``portfolio`` its several
    search strategies (large neighbourhood search among them) take turns on that one thread
    (``interleave_search``), still deterministically."""
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = effort
    if portfolio:
        solver.parameters.num_workers = 8
        solver.parameters.interleave_search = True
    else:
        solver.parameters.num_workers = 1
    return solver


def best_subset(
    incidence: np.ndarray,
    capacity: np.ndarray,
    households: Sequence[Sequence[int]],
    fixed: np.ndarray,
    size: int,
    low: np.ndarray,
    high: np.ndarray,
    effort: float = 10.0,
) -> tuple[int, np.ndarray]:
    """The ``size`` people (``capacity[u]`` available of unit u, whose values are the 1s of
    ``incidence[u]``; at most one of each group of ``households``) who, added to people whose
    value counts are ``fixed``, give the smallest deviation: (deviation, count of each unit).
    ``size`` beyond the capacity is cut to it. Exact (TimeLimitError if not proved in time)."""
    available = np.flatnonzero(capacity > 0)
    size = min(size, int(capacity.sum()))
    model = cp_model.CpModel()
    y = {int(u): model.new_int_var(0, int(capacity[u]), "") for u in available}
    model.add(sum(y.values()) == size)
    for group in households:
        inside = [y[u] for u in group if u in y]
        if len(inside) > 1:
            model.add(sum(inside) <= 1)
    counts = [
        int(fixed[v]) + sum(y[u] * int(incidence[u, v]) for u in y if incidence[u, v])
        for v in range(len(low))
    ]
    bound = int(fixed.sum()) + size + int(high.max(initial=0)) + int(low.max(initial=0)) + 1
    model.minimize(sum(deviation_terms(model, counts, low, high, bound)))
    solver = subset_solver(effort)
    status = solve_cp_sat(solver, model)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleError(
            [problem(N_("no {size} of the people available are in distinct households"), size=size)]
        )
    if status != cp_model.OPTIMAL:
        raise TimeLimitError([problem(N_("the best subset was not proved within its time limit"))])
    picked = np.zeros(len(capacity), dtype=np.int64)
    for u, var in y.items():
        picked[u] = solver.value(var)
    return round(solver.objective_value), picked
