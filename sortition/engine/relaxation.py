"""The LP relaxation of a LEXIMIN level: an upper bound and a dual that guide column generation.

Every feasible panel is an integer point of the *quota polytope*: count vectors x with
0 <= x_u <= capacity_u, sum x = k, every quota's bounds and at most one per household. So a level of
LEXIMIN solved over the polytope (a small LP, no panels) bounds the level over panels from above.
On every instance we measured the two are equal, and then the relaxation's duals are optimal duals
of the panel problem too: a unit with a positive dual is at the level in every optimal solution,
and pricing near those duals finds the panels an optimal distribution needs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

from sortition.cancel import solve_lp
from sortition.engine.diversity_rows import add_lp_limit
from sortition.engine.errors import TimeLimitReached
from sortition.engine.settings import LARGE_POOL_UNITS
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


def polytope_rows(inst: UnitInstance) -> Iterator[tuple[np.ndarray, float, float]]:
    """The quota polytope's rows beside the units' own bounds 0 <= x_u <= capacity_u, each as
    (its units, lo, hi), meaning lo <= sum of x over its units <= hi: the size (k), each value's
    quota and each household (at most one); not a diversity bound's rows."""
    yield np.arange(inst.n_units), float(inst.k), float(inst.k)
    for v in range(inst.n_values):
        yield np.flatnonzero(inst.incidence[v]), float(inst.value_min[v]), float(inst.value_max[v])
    for household in inst.households:
        yield np.asarray(household, dtype=np.int64), -math.inf, 1.0


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


@dataclass(frozen=True)
class _Solution:
    """A level's LP solved: its value z (the bound), each active unit's dual (>= 0) of its row
    p_u >= z (unfixed) or p_u >= its value (fixed), and the counts of GLOP's point. The duals
    are a dict over the active units, or (``_ShiftedLevels``) an array over every unit, 0
    outside the active ones."""

    bound: float
    duals: dict[int, float] | np.ndarray
    counts: np.ndarray


def solve_within(solver: pywraplp.Solver, deadline: float | None) -> bool:
    """Solve within the engine's deadline: whether GLOP reached an optimum; TimeLimitReached
    when its time limit (the time left) stopped it, or the deadline has passed."""
    if deadline is not None and time.perf_counter() >= deadline:
        raise TimeLimitReached
    status = solve_lp(solver, deadline)
    if status == pywraplp.Solver.OPTIMAL:
        return True
    if deadline is not None and time.perf_counter() >= deadline:
        raise TimeLimitReached
    return False


def _row_solution(
    z: pywraplp.Variable, rows: dict[int, pywraplp.Constraint], x: list[pywraplp.Variable]
) -> _Solution:
    """The solution of a level's LP with a row per active unit (``_solve_level``,
    ``_LevelLP``)."""
    # GLOP reports the dual of a ">=" row of a maximisation as <= 0
    return _Solution(
        bound=float(z.solution_value()),
        duals={u: max(0.0, -float(row.dual_value())) for u, row in rows.items()},
        counts=np.array([var.solution_value() for var in x], dtype=np.float64),
    )


def _solve_level(
    inst: UnitInstance,
    active: np.ndarray,
    fixed_value: dict[int, float],
    slack: float,
    params: str,
    deadline: float | None,
) -> _Solution | None:
    """The level's LP with a row per active unit, solved by GLOP with ``params``; None if GLOP
    did not solve it to optimality."""
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
    if not solve_within(solver, deadline):
        return None
    return _row_solution(z, rows, x)


class _LevelLP:
    """The relaxation's levels in one GLOP model: fixing a unit turns its row p_u >= z into
    p_u >= value (its z coefficient dropped, its bound set), so the model is built once and GLOP
    starts each level from the last one's basis (``_WARM_PARAMS``: presolve would rebuild it)."""

    def __init__(
        self, inst: UnitInstance, active: np.ndarray, slack: float, deadline: float | None
    ) -> None:
        self.solver, self.x = polytope_model(inst, _WARM_PARAMS)
        solver = self.solver
        cap = inst.capacity.astype(np.float64)
        self.slack = slack
        self.deadline = deadline
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

    def solve(self, fixed_value: dict[int, float]) -> _Solution | None:
        for u, value in fixed_value.items():
            if u not in self.fixed:
                self.fixed.add(u)
                self.rows[u].SetCoefficient(self.z, 0.0)
                self.rows[u].SetLb(value - self.slack)
        if not solve_within(self.solver, self.deadline):
            return None
        return _row_solution(self.z, self.rows, self.x)


class _ShiftedLevels:
    """The relaxation's levels without a row per unit, for large pools (``_SHIFTS_ABOVE``).

    Each unfixed active unit's count is x_u = capacity_u · z + s_u with a shift s_u >= 0, so its
    row p_u >= z is the shift's bound, and each of the polytope's rows takes z with the sum of
    the capacities of its unfixed units. x_u <= capacity_u becomes s_u + capacity_u · z <=
    capacity_u, a row added only for the units whose count exceeds their capacity at GLOP's
    point (then GLOP solves again, from its basis). A fixed unit's variable is its count,
    bounded below by its capacity times its value (less the slack). The duals of the rows
    p_u >= z and p_u >= value are the shifts' and counts' reduced costs times the capacity.
    Fixing a unit moves bounds and z's coefficients only: GLOP starts each level from the last
    one's basis. With tens of thousands of units, the rows per unit made each level's solve cost
    minutes (realistic7 n = 1,000,000: about 6 minutes of wall time for the levels)."""

    def __init__(
        self, inst: UnitInstance, active: np.ndarray, slack: float, deadline: float | None
    ) -> None:
        self.inst = inst
        self.slack = slack
        self.deadline = deadline
        self.cap = cap = inst.capacity.astype(np.float64)
        self.shifted = np.zeros(inst.n_units, dtype=bool)
        self.shifted[np.asarray(active, dtype=np.int64)] = True
        self.active = np.flatnonzero(self.shifted)
        self.solver = solver = pywraplp.Solver.CreateSolver("GLOP")
        solver.SetSolverSpecificParametersAsString(_SHIFTED_PARAMS)
        inf = solver.infinity()
        self.z = solver.NumVar(0.0, 1.0, "")
        # a shift never exceeds the capacity (z >= 0), nor an unshifted count
        self.var = [solver.NumVar(0.0, float(c), "") for c in cap]
        self.rows: list[pywraplp.Constraint] = []
        self.row_units: list[np.ndarray] = []
        self.row_z: list[float] = []
        for units, lo, hi in polytope_rows(inst):
            row = solver.Constraint(max(lo, -inf), hi)
            for u in units.tolist():
                row.SetCoefficient(self.var[u], 1.0)
            self.rows.append(row)
            self.row_units.append(units)
            self.row_z.append(0.0)
        # each unit's household row (rows come in ``polytope_rows``'s order), -1 for none
        self.household_row = np.full(inst.n_units, -1, dtype=np.int64)
        for h, household in enumerate(inst.households):
            self.household_row[list(household)] = 1 + inst.n_values + h
        self.low = np.zeros(inst.n_units)  # the counts' lower bounds (of fixed units)
        self._set_z_coefficients(range(len(self.rows)))
        self.upper: dict[int, pywraplp.Constraint] = {}
        self.fixed: set[int] = set()
        solver.Maximize(self.z)

    def _set_z_coefficients(self, rows: Iterable[int]) -> None:
        """These rows' z coefficients: the capacities of their shifted (unfixed active)
        units."""
        held = np.where(self.shifted, self.cap, 0.0)
        for i in rows:
            coefficient = float(held[self.row_units[i]].sum())
            if coefficient != self.row_z[i]:
                self.rows[i].SetCoefficient(self.z, coefficient)
                self.row_z[i] = coefficient

    def _fix(self, fixed_value: dict[int, float]) -> None:
        new = [u for u in fixed_value if u not in self.fixed]
        if not new:
            return
        for u in new:
            self.fixed.add(u)
            self.shifted[u] = False
            # the count, held a little below its value so that round-off cannot make the
            # relaxation infeasible
            self.low[u] = max(0.0, float(self.cap[u]) * (fixed_value[u] - self.slack))
            self.var[u].SetLb(float(self.low[u]))
            if u in self.upper:
                self.upper[u].SetCoefficient(self.z, 0.0)
        # the rows of the newly fixed units: the size, their values' and their households'
        units = np.asarray(new, dtype=np.int64)
        values = np.flatnonzero(self.inst.incidence[:, units].any(axis=1))
        households = self.household_row[units]
        rows = {0, *(1 + values).tolist(), *households[households >= 0].tolist()}
        self._set_z_coefficients(sorted(rows))

    def _solve(self) -> bool:
        if solve_within(self.solver, self.deadline):
            return True
        solved = False
        for params in _GLOP_ATTEMPTS:  # GLOP gave up: other settings, as ``_solve_with_retries``
            self.solver.SetSolverSpecificParametersAsString(f"{params} {_EXACT_PARAMS}")
            if solve_within(self.solver, self.deadline):
                solved = True
                break
        self.solver.SetSolverSpecificParametersAsString(_SHIFTED_PARAMS)
        return solved

    def solve(self, fixed_value: dict[int, float]) -> _Solution | None:
        self._fix(fixed_value)
        cap = self.cap
        while True:
            if not self._solve():
                return None
            # one proto rather than a call per unit: z is the first variable, the units follow
            response = linear_solver_pb2.MPSolutionResponse()
            self.solver.FillSolutionResponseProto(response)
            solution = np.asarray(response.variable_value, dtype=np.float64)
            z = float(solution[0])
            values = solution[1 : 1 + len(self.var)]
            counts = np.where(self.shifted, cap * z + values, values)
            over = [
                int(u)
                for u in np.flatnonzero(self.shifted & (counts > cap * (1.0 + _OVER_TOL)))
                if int(u) not in self.upper
            ]
            if not over:
                break
            for u in over:
                row = self.solver.Constraint(-self.solver.infinity(), float(cap[u]))
                row.SetCoefficient(self.var[u], 1.0)
                row.SetCoefficient(self.z, float(cap[u]))
                self.upper[u] = row
        reduced = np.asarray(response.reduced_cost, dtype=np.float64)[1 : 1 + len(self.var)]
        # a reduced cost is d(objective) / d(bound): the row's dual divided by the capacity
        dual = np.maximum(0.0, -reduced * cap)
        # a fixed unit held at 0 has the count's own bound, no row p_u >= value
        dual[~self.shifted & (self.low <= 0.0)] = 0.0
        if z >= _CERTAIN:
            # everyone left is on every panel; the shifts' reduced costs come from their rows
            # x_u <= capacity_u and would split that last level into many (9 more at
            # realistic7 n = 10,000), so none is tight, as in the rows' model
            dual[self.shifted] = 0.0
        return _Solution(bound=z, duals=dual, counts=np.clip(counts, 0.0, cap))


# A count above its capacity by this share gets its row x_u <= capacity_u (``_ShiftedLevels``).
_OVER_TOL = 1e-9


# GLOP without presolve, so that a level starts from the last one's basis.
_WARM_PARAMS = "use_preprocessing: false"
# The shifted model's: without presolve (warm starts) nor scaling, at feasibility 1e-12. z's
# coefficients in its rows are the pool's sizes; with GLOP's scaling, its warm-started solves
# twice claimed a feasible level infeasible at realistic7 n = 100,000 (from the 22nd level on,
# at 1e-10 or 1e-12), and at the default 1e-8 z overshot its level by 5e-10 and the next
# level, held at it, was infeasible. Without scaling the 27 levels there are the rows' model's
# to 1.1e-9.
_SHIFTED_PARAMS = (
    "use_preprocessing: false use_scaling: false "
    "primal_feasibility_tolerance: 1e-12 dual_feasibility_tolerance: 1e-12"
)


def _level_model(
    inst: UnitInstance, active: np.ndarray, slack: float, deadline: float | None
) -> _LevelLP | _ShiftedLevels:
    """The levels' one GLOP model: without a row per unit above ``_SHIFTS_ABOVE`` units (and
    without a diversity bound); with one below, so that small pools keep their duals and
    panels."""
    if inst.n_units > _SHIFTS_ABOVE and inst.diversity is None:
        return _ShiftedLevels(inst, active, slack, deadline)
    return _LevelLP(inst, active, slack, deadline)


def relaxed_level(
    inst: UnitInstance,
    active: np.ndarray,
    fixed_value: dict[int, float],
    slack: float = 1e-10,
    deadline: float | None = None,
) -> RelaxedLevel | None:
    """Maximise the smallest probability of the unfixed active units over the quota polytope,
    with fixed units held at their values; None if GLOP does not solve it to optimality.
    TimeLimitReached past ``deadline`` (a ``time.perf_counter()`` instant)."""
    solved = _solve_with_retries(inst, active, fixed_value, slack, deadline)
    return None if solved is None else _read_level(inst, fixed_value, solved)


@dataclass(frozen=True)
class RelaxedPoint:
    """MAXIMIN over the quota polytope: the level (its bound on the smallest probability over
    panels, and its duals) and an optimal point, in counts."""

    level: RelaxedLevel
    counts: np.ndarray


def relaxed_maximin(
    inst: UnitInstance, active: np.ndarray, slack: float = 1e-10, deadline: float | None = None
) -> RelaxedPoint | None:
    """The first level of ``relaxed_leximin`` with the point GLOP found: one LP."""
    solved = _solve_with_retries(inst, active, {}, slack, deadline)
    if solved is None:
        return None
    return RelaxedPoint(level=_read_level(inst, {}, solved), counts=solved.counts)


def _solve_with_retries(
    inst: UnitInstance,
    active: np.ndarray,
    fixed_value: dict[int, float],
    slack: float,
    deadline: float | None,
) -> _Solution | None:
    if inst.n_units > _SHIFTS_ABOVE and inst.diversity is None:
        return _ShiftedLevels(inst, active, slack, deadline).solve(fixed_value)
    for params in _GLOP_ATTEMPTS:
        solved = _solve_level(inst, active, fixed_value, slack, params, deadline)
        if solved is not None:
            return solved
    return None


def _read_level(
    inst: UnitInstance, fixed_value: dict[int, float], solved: _Solution
) -> RelaxedLevel:
    """The level's bound, pricing weights and tight units from GLOP's solution."""
    cap = inst.capacity.astype(np.float64)
    bound = solved.bound
    duals = solved.duals
    if isinstance(duals, np.ndarray):  # the same in numpy (at 65,154 units 3.6 s of CPU less)
        fixed = np.fromiter(fixed_value, dtype=np.int64, count=len(fixed_value))
        values = np.fromiter(fixed_value.values(), dtype=np.float64, count=len(fixed_value))
        unfixed = np.ones(inst.n_units, dtype=bool)
        unfixed[fixed] = False
        largest = float(duals[unfixed].max(initial=0.0))
        return RelaxedLevel(
            bound=bound,
            g=duals / cap,
            theta=bound + float(duals[fixed] @ values),
            tight=tuple(np.flatnonzero(unfixed & (duals > _TIGHT_TOL * largest)).tolist()),
        )
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


# Told each level of the relaxation as it is solved: its number (from 1), the level, and the
# units fixed so far (its own included).
OnLevel = Callable[[int, RelaxedLevel, int], None]


def relaxed_leximin(
    inst: UnitInstance,
    active: np.ndarray,
    slack: float = 1e-10,
    deadline: float | None = None,
    on_level: OnLevel | None = None,
) -> RelaxedLeximin | None:
    """LEXIMIN over the quota polytope: ``relaxed_level`` again and again, each time fixing the
    level's tight units at its bound. An upper bound, in the leximin order, on LEXIMIN over
    panels; None if some level is not solved or marks no unit tight. TimeLimitReached past
    ``deadline``; ``on_level`` hears of each level."""
    fixed: dict[int, float] = {}
    levels: list[RelaxedLevel] = []
    warm = _level_model(inst, active, slack, deadline)
    while len(fixed) < len(active):
        solved = warm.solve(fixed)
        if solved is None and isinstance(warm, _LevelLP):
            # a fresh model with other settings, as relaxed_level does
            solved = _solve_with_retries(inst, active, fixed, slack, deadline)
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
        if on_level is not None:
            on_level(len(levels), level, len(fixed))
    probability = np.zeros(inst.n_units)
    for u, value in fixed.items():
        probability[u] = value
    return RelaxedLeximin(probability=probability, levels=tuple(levels))


def nearest_polytope_point(
    inst: UnitInstance,
    counts: np.ndarray,
    deadline: float | None = None,
    *,
    from_below: bool = False,
) -> np.ndarray | None:
    """The point of the quota polytope nearest to ``counts`` (in the 1-norm of the probability
    shifts, each count's shift divided by its unit's size), or None; TimeLimitReached past
    ``deadline`` (a ``time.perf_counter()`` instant).

    The relaxation's LEXIMIN vector leaves the polytope by the LP tolerances (up to 4e-7 on a
    quota row of gss_k150), and a face walk divides that error by the weight it has left.
    Measured in counts, the shift fell on a one-person unit at the smallest probability and cost
    LEXIMIN's certificate a gap of 3.5e-6 on gss_k150; in probabilities it is 4.5e-7.

    Above ``_SHIFTS_ABOVE`` units (and without a diversity bound) the same LP is solved over the
    shifts themselves (``_nearest_by_shifts``): the same least distance, without two rows per
    unit.

    With ``from_below`` (LEXIMIN's target) and above ``_SHIFTS_ABOVE`` units, the point is
    ``scaled_polytope_point``'s, which gives every unit as large a share of its count as it can
    (``_nearest_by_shifts``'s if that LP fails).
    """
    if inst.n_units > _SHIFTS_ABOVE and inst.diversity is None:
        if from_below:
            scaled = scaled_polytope_point(inst, counts, deadline)
            if scaled is not None:
                return scaled
        return _nearest_by_shifts(inst, counts, deadline)
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
    if not solve_within(solver, deadline):
        return None
    return np.clip(np.array([var.solution_value() for var in x]), 0.0, cap)


# Above this many units the nearest point is found over the shifts (``_nearest_by_shifts``);
# below it, over the counts, whose LP picks the same distance but can pick another point among
# equally near ones, so small pools keep their panels (measured: realistic7 n = 100,000, 20,144
# units, 0.8 s of CPU instead of 31.8 s; n = 10,000, 6,031 units, 0.23 s instead of 2.8 s; the
# same least distance to 1e-14; at n = 1,000,000 the counts' LP took 424 s of wall time).
_SHIFTS_ABOVE = LARGE_POOL_UNITS


def _nearest_by_shifts(
    inst: UnitInstance, counts: np.ndarray, deadline: float | None = None
) -> np.ndarray | None:
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

    for units, lo, hi in polytope_rows(inst):
        part = float(t[units].sum())
        constraint = solver.Constraint(max(lo, -inf) - part, hi - part)
        for u in units.tolist():
            constraint.SetCoefficient(up[u], 1.0)
            constraint.SetCoefficient(down[u], -1.0)
    if not solve_within(solver, deadline):
        return None
    shift_down = np.array([d.solution_value() for d in down])
    shift_up = np.array([e.solution_value() for e in up])
    return np.clip(t - shift_down + shift_up, 0.0, cap)


# Feasibility to 1e-12 rather than GLOP's default 1e-8.
_EXACT_PARAMS = "primal_feasibility_tolerance: 1e-12 dual_feasibility_tolerance: 1e-12"


def scaled_polytope_point(
    inst: UnitInstance, counts: np.ndarray, deadline: float | None = None
) -> np.ndarray | None:
    """The quota polytope's point x = z * t + s with s >= 0 and the largest z, where t is
    ``counts`` within the capacities: every unit keeps at least z of its count, and the
    smallest ratio x_u / t_u is as large as the polytope allows. None if GLOP does not solve it;
    TimeLimitReached past ``deadline``.

    The relaxation's LEXIMIN vector leaves the polytope by the levels' slack (a fixed unit is
    held ``FIX_SLACK`` below its value): at realistic7 n = 10,000 by 7.9e-7 in counts on a quota
    row of thousands of people. ``_nearest_by_shifts``'s least 1-norm takes that from whichever
    unit is cheapest, and it fell on units at the lowest level: the point's smallest
    probability was 6.0e-6 (k = 150) and 1.4e-5 (k = 50) below the bound, all of LEXIMIN's
    certificate gap; here it is 8.7e-9 and 2.5e-8 below (benchmarks/README.md, "Latest
    results"). The sum of s is k(1 - z) (both sum to k), so x is within 2k(1 - z) of t in
    counts; upward, s may gather on a few units (realistic7 n = 100,000: 1.5e-3 of one unit's
    probability), which LEXIMIN's certificate, on the smallest probability, does not count
    against.

    One LP without a row per unit: each of the polytope's rows takes z with the sum of its
    units' t; x_u <= capacity_u (s_u + t_u z <= capacity_u) is a row added only for the units
    whose count exceeds their capacity at GLOP's point, which then solves again from its basis
    (as ``_ShiftedLevels``)."""
    cap = inst.capacity.astype(np.float64)
    t = np.clip(np.asarray(counts, dtype=np.float64), 0.0, cap)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetSolverSpecificParametersAsString(_SHIFTED_PARAMS)
    inf = solver.infinity()
    z = solver.NumVar(0.0, 1.0, "")
    extra = [solver.NumVar(0.0, float(c), "") for c in cap]
    for units, lo, hi in polytope_rows(inst):
        row = solver.Constraint(max(lo, -inf), hi)
        row.SetCoefficient(z, float(t[units].sum()))
        for u in units.tolist():
            row.SetCoefficient(extra[u], 1.0)
    solver.Maximize(z)
    held: set[int] = set()
    while True:
        if not solve_within(solver, deadline):
            return None
        # one proto rather than a call per unit: z is the first variable, the shifts follow
        response = linear_solver_pb2.MPSolutionResponse()
        solver.FillSolutionResponseProto(response)
        solution = np.asarray(response.variable_value, dtype=np.float64)
        point = float(solution[0]) * t + solution[1:]
        over = [
            u for u in np.flatnonzero(point > cap * (1.0 + _OVER_TOL)).tolist() if u not in held
        ]
        if not over:
            return np.clip(point, 0.0, cap)
        for u in over:
            row = solver.Constraint(-inf, float(cap[u]))
            row.SetCoefficient(extra[u], 1.0)
            row.SetCoefficient(z, float(t[u]))
            held.add(u)
