"""The diversity score's rows in the engine's models (docs/diversity.md): one deviation variable
per cell, at least |cells · count - k| in both directions, in CP-SAT (whole numbers: DIVERSIMAX's
objective and the panel models' bound) and in GLOP (the quota polytope's LPs).

A cell's count is a whole number, so its deviation is never below the *secant* through the two
whole counts either side of k / cells: when cells does not divide k, a third row, d >= d0 +
(d1 - d0) · (count - n0) with n0 = floor(k / cells) and d0, d1 the deviations at n0 and n0 + 1,
cuts off the fractional counts near k / cells that the two rows alone let an LP use. Every panel
meets it (the deviation is convex in the count and equals the secant at n0 and n0 + 1), and it
makes the LPs far tighter: the LP's least score went from 16.67 to 28 (the optimum) on
data/example and from 1,329 to 1,368.25 on ces11_k60 (best panel known 1,390.5).

With ``--diversity-within`` the instance carries a ``DiversityLimit``; ``pricing.panel_model``
and ``relaxation.polytope_model`` add its rows, so covering, pricing, the face walks and every
relaxation (LEXIMIN, MAXIMIN, NASH, GOLDILOCKS) see only panels within the bound.
"""

from __future__ import annotations

import math

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from sortition.cancel import solve_lp
from sortition.units import DiversityLimit


def cp_sat_deviations(
    model: cp_model.CpModel,
    counts: list[cp_model.IntVar],
    members: np.ndarray,
    multiplier: np.ndarray,
    k: int,
    scale: int,
    hint: np.ndarray | None = None,
    secants: bool = True,
) -> cp_model.LinearExpr:
    """Add a deviation variable per cell (>= |cells · count - k|) and return the sum of them
    weighted by scale / cells: scale × (the score - what the empty cells add), a whole number.
    With ``hint`` (counts of a panel), each deviation is hinted at that panel's; with
    ``secants`` each cell also gets its secant row (none for DIVERSIMAX's own search, which
    found a less diverse panel with them on ces11_k60: 1,414 against 1,390.5)."""
    terms = []
    cell_counts = None if hint is None else members.astype(np.int64) @ hint
    for r, (cell, c) in enumerate(zip(members, multiplier.tolist(), strict=True)):
        count = sum(counts[int(u)] for u in np.flatnonzero(cell))
        deviation = model.new_int_var(0, max(k, (c - 1) * k), "")
        model.add(deviation >= c * count - k)
        model.add(deviation >= k - c * count)
        secant = _secant(c, k) if secants else None
        if secant is not None:
            n0, d0, slope = secant
            model.add(deviation >= d0 + slope * (count - n0))
        if cell_counts is not None:
            model.add_hint(deviation, abs(c * int(cell_counts[r]) - k))
        terms.append((scale // c) * deviation)
    return sum(terms)  # type: ignore[return-value]


def add_cp_sat_limit(
    model: cp_model.CpModel, counts: list[cp_model.IntVar], limit: DiversityLimit
) -> None:
    """The panels of ``model`` meet the diversity bound. Finding any such panel is nearly as
    hard as DIVERSIMAX itself, so the panel known to meet it (every variable) is the search's
    hint: each search (covering, pricing, a walk's step) has a panel at once and goes on from
    it."""
    panel = limit.panel
    scaled = cp_sat_deviations(
        model, counts, limit.members, limit.multiplier, limit.k, limit.scale, panel
    )
    model.add(scaled <= limit.limit)
    if panel is not None:
        for x, value in zip(counts, panel.tolist(), strict=True):
            model.add_hint(x, int(value))


def add_lp_limit(
    solver: pywraplp.Solver, counts: list[pywraplp.Variable], limit: DiversityLimit
) -> None:
    """The points of the LP's polytope meet the diversity bound (the same rows, continuous)."""
    scaled = _lp_deviations(solver, counts, limit.members, limit.multiplier, limit.k, limit.scale)
    solver.Add(scaled <= float(limit.limit))


def _lp_deviations(
    solver: pywraplp.Solver,
    counts: list[pywraplp.Variable],
    members: np.ndarray,
    multiplier: np.ndarray,
    k: int,
    scale: int,
) -> pywraplp.LinearExpr:
    """Add a continuous deviation variable per cell (>= |cells · count - k|, and >= its secant)
    to the LP and return the sum of them weighted by scale / cells (cp_sat_deviations' sum)."""
    terms = []
    for cell, c in zip(members, multiplier.tolist(), strict=True):
        count = solver.Sum([counts[int(u)] for u in np.flatnonzero(cell)])
        deviation = solver.NumVar(0.0, solver.infinity(), "")
        solver.Add(deviation >= c * count - k)
        solver.Add(deviation >= k - c * count)
        secant = _secant(c, k)
        if secant is not None:
            n0, d0, slope = secant
            solver.Add(deviation >= d0 + slope * (count - n0))
        terms.append(deviation * float(scale // c))
    return solver.Sum(terms)


def lp_least_scaled(
    solver: pywraplp.Solver,
    counts: list[pywraplp.Variable],
    members: np.ndarray,
    multiplier: np.ndarray,
    k: int,
    scale: int,
) -> int | None:
    """A proven lower bound on scale × (every panel's score - what the empty cells add): the
    least of it over the LP ``solver`` (the quota polytope over ``counts``) with each cell's two
    rows and its secant, rounded up to a whole number after a margin for GLOP's tolerances (the
    score of whole counts is a whole number in these units). None when the LP is not solved to
    optimality. With the secants this bound is often above CP-SAT's own after its budget
    (ces11_k60: 1,368.25 against 1,353.4)."""
    solver.Minimize(_lp_deviations(solver, counts, members, multiplier, k, scale))
    if solve_lp(solver) != pywraplp.Solver.OPTIMAL:
        return None
    value = solver.Objective().Value()
    return max(0, math.ceil(value - 1e-6 * max(1.0, abs(value))))


def _secant(cells: int, k: int) -> tuple[int, int, int] | None:
    """The secant row of a cell of an intersection of ``cells`` cells, as (n0, d0, d1 - d0):
    deviation >= d0 + (d1 - d0) · (count - n0); None when cells divides k (the two rows already
    meet at a whole count)."""
    if k % cells == 0:
        return None
    n0 = k // cells
    d0 = abs(cells * n0 - k)
    d1 = abs(cells * (n0 + 1) - k)
    return n0, d0, d1 - d0
