"""The LP relaxation of a LEXIMIN level: an upper bound and a dual that guide column generation.

Every feasible panel is an integer point of the *quota polytope*: count vectors x with
0 <= x_u <= capacity_u, sum x = k, every quota's bounds and at most one per household. So a level of
LEXIMIN solved over the polytope (a small LP, no panels) bounds the level over panels from above.
On every instance we measured the two are equal, and then the relaxation's duals are optimal duals
of the panel problem too: a unit with a positive dual is at the level in every optimal solution,
and pricing near those duals finds the panels an optimal distribution needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from sortition.cancel import solve_lp
from sortition.engine.diversity_rows import add_lp_limit
from sortition.units import UnitInstance


@dataclass(frozen=True)
class RelaxedLevel:
    """One level of the relaxation.

    bound: the level's optimum over the polytope (>= its optimum over panels).
    g, theta: pricing weights (per count of each unit) and threshold: the relaxation's duals read
        as duals of the panel master (sum over fixed units of their dual times their value plus the
        bound is theta).
    tight: the unfixed units whose dual is positive.
    """

    bound: float
    g: np.ndarray
    theta: float
    tight: tuple[int, ...]


# A dual above this (relative to the largest) marks a unit as tight.
_TIGHT_TOL = 1e-7


# GLOP's presolve gave up (ABNORMAL) on some of these nearly degenerate LPs (realistic7 with 918
# types, from the 16th level on); a fresh solve with other settings then succeeds.
_GLOP_ATTEMPTS = ("", "use_preprocessing: false", "use_dual_simplex: true")


@dataclass
class PolytopeLP:
    """A GLOP model of the quota polytope and its rows, for a caller that moves their bounds.

    x: one count per unit; size: sum x = k; value_rows: each value's two rows (count >= its
    minimum, count <= its maximum); household_rows: each household's row (sum <= 1).
    """

    solver: pywraplp.Solver
    x: list[pywraplp.Variable]
    size: pywraplp.Constraint
    value_rows: list[tuple[pywraplp.Constraint, pywraplp.Constraint]]
    household_rows: list[pywraplp.Constraint]


def polytope_lp(inst: UnitInstance, params: str = "") -> PolytopeLP:
    """The one GLOP model of the quota polytope, which the relaxations and the face walks use:
    0 <= x_u <= capacity_u, sum x = k, each value's quota, at most one per household, and with
    ``--diversity-within`` the diversity bound (its deviation variables follow x)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(params)
    x = [solver.NumVar(0.0, float(c), "") for c in inst.capacity]
    inf = solver.infinity()
    size = solver.Constraint(float(inst.k), float(inst.k))
    for var in x:
        size.SetCoefficient(var, 1.0)
    value_rows = []
    for v in range(inst.n_values):
        holders = [x[int(u)] for u in np.flatnonzero(inst.incidence[v])]
        ge = solver.Constraint(float(inst.value_min[v]), inf)
        le = solver.Constraint(-inf, float(inst.value_max[v]))
        for var in holders:
            ge.SetCoefficient(var, 1.0)
            le.SetCoefficient(var, 1.0)
        value_rows.append((ge, le))
    household_rows = []
    for household in inst.households:
        row = solver.Constraint(-inf, 1.0)
        for u in household:
            row.SetCoefficient(x[u], 1.0)
        household_rows.append(row)
    if inst.diversity is not None:  # --diversity-within: the bound on the score, as more rows
        add_lp_limit(solver, x, inst.diversity)
    return PolytopeLP(solver, x, size, value_rows, household_rows)


def polytope_model(
    inst: UnitInstance, params: str = ""
) -> tuple[pywraplp.Solver, list[pywraplp.Variable]]:
    """A GLOP model whose variables x (one count per unit) range over the quota polytope."""
    lp = polytope_lp(inst, params)
    return lp.solver, lp.x


_Solved = tuple[
    pywraplp.Solver, pywraplp.Variable, dict[int, pywraplp.Constraint], list[pywraplp.Variable]
]


def _solve_level(
    inst: UnitInstance,
    active: np.ndarray,
    fixed_value: dict[int, float],
    slack: float,
    params: str,
) -> _Solved | None:
    """The level's LP solved by GLOP with ``params``: (the solver, z, the unit rows, the counts
    x), or None. The solver is returned to keep it alive: its variables and rows die with it."""
    solver, x = polytope_model(inst, params)
    cap = inst.capacity.astype(np.float64)
    z = solver.NumVar(0.0, 1.0, "")
    rows: dict[int, pywraplp.Constraint] = {}
    inf = solver.infinity()
    for u in (int(u) for u in active):
        if u in fixed_value:
            # held a little below its value, as in the master, so that round-off cannot make
            # the relaxation infeasible
            row = solver.Constraint(fixed_value[u] - slack, inf)
        else:
            row = solver.Constraint(0.0, inf)
            row.SetCoefficient(z, -1.0)
        row.SetCoefficient(x[u], 1.0 / cap[u])
        rows[u] = row
    solver.Maximize(z)
    if solve_lp(solver) != pywraplp.Solver.OPTIMAL:
        return None
    return solver, z, rows, x


class _LevelLP:
    """The relaxation's levels in one GLOP model: fixing a unit turns its row p_u >= z into
    p_u >= value (its z coefficient dropped, its bound set), so the model is built once and GLOP
    starts each level from the last one's basis (``_WARM_PARAMS``: presolve would rebuild it)."""

    def __init__(self, inst: UnitInstance, active: np.ndarray, slack: float) -> None:
        self.solver, self.x = polytope_model(inst, _WARM_PARAMS)
        solver = self.solver
        cap = inst.capacity.astype(np.float64)
        self.slack = slack
        self.z = solver.NumVar(0.0, 1.0, "")
        self.rows: dict[int, pywraplp.Constraint] = {}
        inf = solver.infinity()
        for u in (int(u) for u in active):
            row = solver.Constraint(0.0, inf)
            row.SetCoefficient(self.z, -1.0)
            row.SetCoefficient(self.x[u], 1.0 / cap[u])
            self.rows[u] = row
        self.fixed: set[int] = set()
        solver.Maximize(self.z)

    def solve(self, fixed_value: dict[int, float]) -> _Solved | None:
        for u, value in fixed_value.items():
            if u not in self.fixed:
                self.fixed.add(u)
                self.rows[u].SetCoefficient(self.z, 0.0)
                self.rows[u].SetLb(value - self.slack)
        if solve_lp(self.solver) != pywraplp.Solver.OPTIMAL:
            return None
        return self.solver, self.z, self.rows, self.x


# GLOP without presolve, so that a level starts from the last one's basis.
_WARM_PARAMS = "use_preprocessing: false"


def relaxed_level(
    inst: UnitInstance, active: np.ndarray, fixed_value: dict[int, float], slack: float = 1e-10
) -> RelaxedLevel | None:
    """Maximise the smallest probability of the unfixed active units over the quota polytope,
    with fixed units held at their values; None if GLOP does not solve it to optimality."""
    solved = _solve_with_retries(inst, active, fixed_value, slack)
    return None if solved is None else _read_level(inst, fixed_value, solved)


@dataclass(frozen=True)
class RelaxedPoint:
    """MAXIMIN over the quota polytope: the level (its bound on the smallest probability over
    panels, and its duals) and an optimal point, in counts."""

    level: RelaxedLevel
    counts: np.ndarray


def relaxed_maximin(
    inst: UnitInstance, active: np.ndarray, slack: float = 1e-10
) -> RelaxedPoint | None:
    """The first level of ``relaxed_leximin`` with the point GLOP found: one LP."""
    solved = _solve_with_retries(inst, active, {}, slack)
    if solved is None:
        return None
    counts = np.array([var.solution_value() for var in solved[3]], dtype=np.float64)
    return RelaxedPoint(level=_read_level(inst, {}, solved), counts=counts)


def _solve_with_retries(
    inst: UnitInstance, active: np.ndarray, fixed_value: dict[int, float], slack: float
) -> _Solved | None:
    for params in _GLOP_ATTEMPTS:
        solved = _solve_level(inst, active, fixed_value, slack, params)
        if solved is not None:
            return solved
    return None


def _read_level(inst: UnitInstance, fixed_value: dict[int, float], solved: _Solved) -> RelaxedLevel:
    """The level's bound, pricing weights and tight units from GLOP's solution."""
    _, z, rows, _ = solved
    cap = inst.capacity.astype(np.float64)
    bound = float(z.solution_value())
    # GLOP reports the dual of a ">=" row of a maximisation as <= 0
    duals = {u: max(0.0, -float(row.dual_value())) for u, row in rows.items()}
    g = np.zeros(inst.n_units)
    for u, d in duals.items():
        g[u] = d / cap[u]
    theta = bound + sum(d * fixed_value[u] for u, d in duals.items() if u in fixed_value)
    largest = max((d for u, d in duals.items() if u not in fixed_value), default=0.0)
    tight = tuple(
        sorted(u for u, d in duals.items() if u not in fixed_value and d > _TIGHT_TOL * largest)
    )
    return RelaxedLevel(bound=bound, g=g, theta=theta, tight=tight)


@dataclass(frozen=True)
class RelaxedLeximin:
    """The LEXIMIN vector over the quota polytope.

    probability: (U,) per-person probability of each unit (0 outside ``active``).
    levels: the relaxed levels, lowest first.
    """

    probability: np.ndarray
    levels: tuple[RelaxedLevel, ...]


# A level whose bound reaches this is the last: every remaining unit can be on every panel.
_CERTAIN = 1.0 - 1e-9


def relaxed_leximin(
    inst: UnitInstance, active: np.ndarray, slack: float = 1e-10
) -> RelaxedLeximin | None:
    """LEXIMIN over the quota polytope: ``relaxed_level`` again and again, each time fixing the
    level's tight units at its bound. An upper bound, in the leximin order, on LEXIMIN over
    panels; None if some level is not solved or marks no unit tight."""
    fixed: dict[int, float] = {}
    levels: list[RelaxedLevel] = []
    warm = _LevelLP(inst, active, slack)
    while len(fixed) < len(active):
        solved = warm.solve(fixed)
        if solved is None:  # a fresh model with other settings, as relaxed_level does
            solved = _solve_with_retries(inst, active, fixed, slack)
        if solved is None:
            return None
        level = _read_level(inst, fixed, solved)
        levels.append(level)
        if level.tight:
            for u in level.tight:
                fixed[u] = level.bound
        elif level.bound >= _CERTAIN:
            # z met its upper bound 1, so no row is tight: everyone left is on every panel
            for u in (int(u) for u in active):
                fixed.setdefault(u, min(level.bound, 1.0))
        else:
            return None
    probability = np.zeros(inst.n_units)
    for u, value in fixed.items():
        probability[u] = value
    return RelaxedLeximin(probability=probability, levels=tuple(levels))


def nearest_polytope_point(inst: UnitInstance, counts: np.ndarray) -> np.ndarray | None:
    """The point of the quota polytope nearest to ``counts`` (in the 1-norm of the probability
    shifts, each count's shift divided by its unit's size), or None.

    The relaxation's LEXIMIN vector leaves the polytope by the LP tolerances (up to 4e-7 on a
    quota row of gss_k150), and a face walk divides that error by the weight it has left.
    Measured in counts, the shift fell on a one-person unit at the smallest probability and cost
    LEXIMIN's certificate a gap of 3.5e-6 on gss_k150; in probabilities it is 4.5e-7.

    Above ``_SHIFTS_ABOVE`` units (and without a diversity bound) the same LP is solved over the
    shifts themselves (``_nearest_by_shifts``): the same least distance, without two rows per
    unit.
    """
    if inst.n_units > _SHIFTS_ABOVE and inst.diversity is None:
        return _nearest_by_shifts(inst, counts)
    solver, x = polytope_model(inst, _EXACT_PARAMS)
    cap = inst.capacity.astype(np.float64)
    gaps = []
    for u, target in enumerate(np.asarray(counts, dtype=np.float64)):
        gap = solver.NumVar(0.0, solver.infinity(), "")
        solver.Add(x[u] - gap <= float(target))
        solver.Add(x[u] + gap >= float(target))
        gaps.append(gap)
    # in probabilities, not counts: a unit of many people absorbs a shift at little cost to each
    solver.Minimize(solver.Sum([gap * (1.0 / c) for gap, c in zip(gaps, cap, strict=True)]))
    if solve_lp(solver) != pywraplp.Solver.OPTIMAL:
        return None
    return np.clip(np.array([var.solution_value() for var in x]), 0.0, cap)


# Above this many units the nearest point is found over the shifts (``_nearest_by_shifts``);
# below it, over the counts, whose LP picks the same distance but can pick another point among
# equally near ones, so small pools keep their panels (measured: realistic7 n = 100,000, 20,144
# units, 0.8 s of CPU instead of 31.8 s; n = 10,000, 6,031 units, 0.23 s instead of 2.8 s; the
# same least distance to 1e-14; at n = 1,000,000 the counts' LP took 424 s of wall time).
_SHIFTS_ABOVE = 2000


def _nearest_by_shifts(inst: UnitInstance, counts: np.ndarray) -> np.ndarray | None:
    """``nearest_polytope_point`` as an LP over each unit's shift down d_u in [0, t_u] and up
    e_u in [0, capacity_u - t_u] from t (``counts`` within the capacities): x = t - d + e stays
    within [0, capacity] by the variables' own bounds, and minimising the sum of (d_u + e_u) /
    capacity_u never moves a unit both ways, so it is the 1-norm distance. Only the quota polytope's
    rows remain (the size, each value's quota, the households), with t's part moved to their
    right-hand sides: no row per unit, which at tens of thousands of units made GLOP's solve cost
    minutes."""
    cap = inst.capacity.astype(np.float64)
    t = np.clip(np.asarray(counts, dtype=np.float64), 0.0, cap)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(_EXACT_PARAMS)
    inf = solver.infinity()
    down = [solver.NumVar(0.0, float(room), "") for room in t]
    up = [solver.NumVar(0.0, float(room), "") for room in cap - t]
    objective = solver.Objective()
    for d, e, weight in zip(down, up, (1.0 / cap).tolist(), strict=True):
        objective.SetCoefficient(d, weight)
        objective.SetCoefficient(e, weight)
    objective.SetMinimization()

    def row(units: np.ndarray, lo: float, hi: float) -> None:
        part = float(t[units].sum())
        constraint = solver.Constraint(lo - part, hi - part)
        for u in units.tolist():
            constraint.SetCoefficient(up[u], 1.0)
            constraint.SetCoefficient(down[u], -1.0)

    row(np.arange(inst.n_units), float(inst.k), float(inst.k))
    for v in range(inst.n_values):
        holders = np.flatnonzero(inst.incidence[v])
        row(holders, float(inst.value_min[v]), float(inst.value_max[v]))
    for household in inst.households:
        row(np.asarray(household, dtype=np.int64), -inf, 1.0)
    if solve_lp(solver) != pywraplp.Solver.OPTIMAL:
        return None
    shift_down = np.array([d.solution_value() for d in down])
    shift_up = np.array([e.solution_value() for e in up])
    return np.clip(t - shift_down + shift_up, 0.0, cap)


# Feasibility to 1e-12 rather than GLOP's default 1e-8.
_EXACT_PARAMS = "primal_feasibility_tolerance: 1e-12 dual_feasibility_tolerance: 1e-12"
