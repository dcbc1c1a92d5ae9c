"""Panels for a target point by Carathéodory's walk through the quota polytope.

Given a point y of the quota polytope (count vectors within capacities, sum k, every quota,
households), take a panel v on y's smallest face (CP-SAT, with every bound that is tight at y held
tight), and walk from v through y until the polytope's boundary: y = (1 - 1/t) v + (1/t) y', where
y' is on a smaller face. Repeat from y'. Each step takes one panel and at least one more bound
becomes tight, so the walk ends within about as many steps as there are units.

This decomposes y exactly when the faces it meets contain the panels they need, which holds
wherever the polytope's vertices there are panels. The quota polytope is not integral in general,
so the walk can stop early (no panel on the face, or the next point leaves the polytope); and
float round-off grows by t at each step. Its panels are therefore only a start: the master LP
then finds their exact weights and prices in whatever is missing. Started from the polytope point
nearest to the relaxation's LEXIMIN vector, one walk met that vector (to 1e-7) on gss_k150 (274
panels, 4 s) and on ces11_k60 (364 panels, 15 s), so the master needed no pricing at all.

**Cheap steps** (``EngineSettings.cheap_steps``). Each step first asks GLOP for the face's vertex
that maximises the preference: one LP model of the polytope (``relaxation.polytope_lp``) whose
bounds are moved in place from face to face, so GLOP starts from the last step's basis (above
2,000 units a model of a pool of units priced in by the rows' duals, ``_PoolLP``). The vertex
rounded is often already a panel; otherwise a local search in numpy (``repair.repair_counts``:
single moves and exchanges of one unit for another, steepest descent on the rows' violation)
moves only the counts of the units near its fractional ones (those units and the units that
differ from one of them in one feature, then two), every other count held at the rounding; and
when that fails, CP-SAT with a small budget moves the same counts. Every candidate is checked
against every row of the CP-SAT panel model (``pricing.panel_model``, read from its proto, so
that rows added there are checked too) and the diversity bound, and CP-SAT on the whole face
remains the fallback that finds a panel or proves the face empty. On ces11_k60 all 365 steps of
LEXIMIN's walk were cheap with CP-SAT's repair (about 12 ms of CPU a step instead of 70 ms). The
numpy repair mended every vertex that rounding broke on ces11_k60 (230 of 375 steps; about 1 ms
a step with finding the units near the fractional counts, CP-SAT's repair took 8) and on
realistic7 n = 10,000 (955 of 963; 4 ms, CP-SAT's took 70): benchmarks/results/
2026-11-30-walks.md, "Session 6".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat.python import cp_model

from sortition.engine.cp_search import search
from sortition.engine.errors import TimeLimitReached
from sortition.engine.master import GLOP_PARAMS, compact_panel
from sortition.engine.pricing import SwapSearch, panel_model, set_objective
from sortition.engine.relaxation import polytope_lp, solve_within
from sortition.engine.repair import SparseRows, repair_counts
from sortition.engine.settings import LARGE_POOL_UNITS
from sortition.units import UnitInstance

# The walk stops once the weight left to place is this small (round-off dominates beyond it).
_SMALLEST_WEIGHT = 1e-7
# A bound counts as tight at y within this absolute error, divided by the weight left (y's
# error grows as the walk goes on) and capped. A quota row adds up the errors of its members.
_TIGHT = 1e-7
_TIGHT_ROW = 1e-6
_TIGHT_CAP = 1e-3
# Directions smaller than this are round-off.
_STEP_EPS = 1e-8
# CP-SAT's deterministic-time budgets per panel (deterministic, unlike a wall-clock limit), tried
# in turn until one finds a panel. Any panel on the face will do, so the first is small: 0.05
# took realistic7 n = 1,000 from 52 s to 15 s a walk; but with 6,031 types it finds none.
_PANEL_BUDGETS = (0.05, 1.0, 10.0)
# The largest preference becomes this integer in CP-SAT's objective.
_PREFERENCE_SCALE = float(2**30)
# An LP count this far from a whole number is fractional; a vertex with more fractional counts
# than this is left to CP-SAT on the whole face.
_FRACTIONAL = 1e-6
_REPAIR_UNITS = 400
# The numpy repair (``repair.repair_counts``) tries the free units of each radius below before
# CP-SAT does, each search within this many moves (ces11_k60: 3 on average, 8 at most).
_NUMPY_MOVES = 60
_NUMPY_POLISH = 20
# CP-SAT's deterministic-time budgets for the repair, one per radius below.
_REPAIR_BUDGETS = (0.01, 0.05)
# Above this many units the repair builds a CP-SAT model of its free counts alone; below it,
# the one model of every count (its other counts fixed) costs less to load than a new one to
# build (ces11_k60, 739 units: 7.5 s of CPU against 8.1 s; realistic7 n = 10,000: see
# ``_small_cp_sat``).
_SMALL_MODEL_ABOVE = LARGE_POOL_UNITS
# The repair frees the units that differ from a fractional one in at most this many features,
# one radius after the other until a panel is found (CP-SAT's radius 2 only above
# _SMALL_MODEL_ABOVE units: realistic7 n = 10,000, it found 11 of the 22 panels radius 1 missed,
# each 0.1 s instead of about 3.5 s of CPU on the whole face).
_REPAIR_RADII = (1, 2)
# Above _SMALL_MODEL_ABOVE units, the face's LP (``_PoolLP``) holds at 0 every unit but the
# likeliest to be positive at its vertex (pricing in the rest): this many with the largest
# reduced price at the last step's duals; when those alone cannot meet the face's rows, this
# many of the holders of each value whose row they could not meet (realistic7 n = 10,000: with
# the holders added at every step, GLOP took 44.5 s of CPU over the walk, 47 ms a solve; added
# only when needed, 29.6 s, 33 ms).
_FACE_CANDIDATES = 800
_FACE_PER_VALUE = 100
# Once the candidates alone could not meet a face's rows, the next this many steps add those
# holders before their first solve.
_WIDEN_AHEAD = 20
# Above _SMALL_MODEL_ABOVE units, when a vertex gives no panel, vertices of the preference
# multiplied by factors from [1 - shake, 1 + shake], one for each shake below, are tried before
# CP-SAT on the whole face (about 3.4 s of CPU a panel at realistic7 n = 10,000, 20 to 30 s at
# n = 100,000). At n = 100,000 two of 0.2 rescued none of the vertices CP-SAT then had to mend
# (their vertices had 28 fractional counts, the repairs failed), 0.5 and 1.0 did.
_SHAKES = (0.2, 0.2, 0.5, 0.5, 1.0, 1.0)
# A unit left out is priced in when its reduced price is above this (on large instances times
# the largest coefficient).
_PRICE_EPS = 1e-9
# The large instances' face LP (``_PoolLP``) is rebuilt from a step's candidates once it holds
# this many columns (and more than twice the step's).
_POOL_REBUILD = 4000
# There a coefficient is set again only when it moved by more than this share of the largest;
# all are set afresh when the largest left [_RESCALE_BELOW, 1 / _RESCALE_BELOW].
_COEFFICIENT_TOL = 1e-9
_RESCALE_BELOW = 1e-2
# The elastic slacks' cost a count (the largest coefficient is at most 1 / _RESCALE_BELOW), a
# slack sum above _SLACK_EPS is a row not met, and at most _FACE_PRICED units are priced in a
# round (those of largest reduced price).
_ELASTIC = 1e4
_SLACK_EPS = 1e-9
_FACE_PRICED = 400


@dataclass
class WalkTally:
    """Where a walk's panels came from: a vertex of the face's LP (``lp_panels``: rounded as it
    is, repaired in numpy, or repaired by CP-SAT near its fractional counts) or CP-SAT on the
    whole face, and the seconds each took (the repairs' seconds are part of ``lp_seconds``)."""

    lp_panels: int = 0
    cp_panels: int = 0
    lp_seconds: float = 0.0
    cp_seconds: float = 0.0
    rounded_panels: int = 0
    numpy_panels: int = 0
    numpy_seconds: float = 0.0
    cp_repair_panels: int = 0
    cp_repair_seconds: float = 0.0
    # face LP solves GLOP failed from the last basis and that were tried again afresh
    lp_resets: int = 0
    # one entry for each step that fell back to CP-SAT on the whole face: why (see Fallback)
    fallbacks: list[Fallback] = field(default_factory=list)


@dataclass
class Attempt:
    """One LP vertex a fallen-back step tried: its fractional counts (None: the face's LP gave
    no vertex), the panel model's rows its rounding broke, the free units of each repair radius,
    and whether the numpy repair and CP-SAT's repair found a panel (None: not tried)."""

    fractional: int | None = None
    broken_rows: int = 0
    frees: tuple[int, ...] = ()
    numpy: bool | None = None
    cp_repair: bool | None = None


@dataclass
class Fallback:
    """A walk step whose panel came from CP-SAT on the whole face (``WalkTally.fallbacks``):
    the step (panels taken before it), the face's tight bounds (units held at 0 and at their
    capacity, units still free, quota rows at their lower and upper bound, full households),
    each vertex tried (the preference's, then the shaken ones: ``Attempt``), and CP-SAT's
    search: ``found`` (a panel), ``empty`` (proved the face has none) or ``unknown`` (none
    within its budgets), the last budget it ran and its seconds."""

    step: int
    at_zero: int
    at_cap: int
    free_units: int
    at_lo: int
    at_hi: int
    full: int
    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = ""
    budget: float = 0.0
    seconds: float = 0.0


class _Rows:
    """The CP-SAT panel model's linear rows, read once from its proto, so that a candidate panel
    is checked against the whole model (whatever added a row) in numpy. ``usable`` is False when
    the model has variables beyond the units' counts or a row that is not one linear interval:
    candidates cannot be checked then, and every step asks CP-SAT."""

    def __init__(self, proto: Any, n_units: int, end: int | None = None) -> None:
        # with a diversity bound, its rows (from ``end`` on, over variables of their own) are
        # left out: the caller checks the bound exactly (``DiversityLimit.allows``)
        self.usable = len(proto.variables) == n_units or end is not None
        rows: list[int] = []
        cols: list[int] = []
        coeffs: list[int] = []
        lo: list[float] = []
        hi: list[float] = []
        constraints = proto.constraints
        for i in range(len(constraints) if end is None else end):
            constraint = constraints[i]
            # (reading .linear of another kind of constraint would add an empty linear part to
            # it, which CP-SAT reads as infeasible: ask has_linear first)
            if not constraint.has_linear():
                # a quota row without members is an empty bool_and, which always holds
                empty = constraint.has_bool_and() and not len(constraint.bool_and.literals)
                if not empty or len(constraint.enforcement_literal):
                    self.usable = False
                    break
                lo.append(-np.inf)
                hi.append(np.inf)
                continue
            linear = constraint.linear
            if len(constraint.enforcement_literal) or len(linear.domain) != 2:
                self.usable = False
                break
            rows.extend([i] * len(linear.vars))
            cols.extend(linear.vars)
            coeffs.extend(linear.coeffs)
            lo.append(float(linear.domain[0]))
            hi.append(float(linear.domain[1]))
        self.n_rows = len(lo)
        self.row = np.asarray(rows, dtype=np.int64)
        self.col = np.asarray(cols, dtype=np.int64)
        self.coeff = np.asarray(coeffs, dtype=np.float64)
        self.lo = np.asarray(lo, dtype=np.float64)
        self.hi = np.asarray(hi, dtype=np.float64)
        self.sparse = SparseRows(self.row, self.col, self.coeff, self.n_rows)

    def violated(self, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        """Whether some row's left-hand side at ``counts`` (whole numbers; exact: small
        integers in float64) is outside [lo, hi]."""
        activity = self.sparse.activity(np.asarray(counts, dtype=np.float64))
        return bool((activity < lo).any() or (activity > hi).any())


def _face_lp(inst: UnitInstance, restricted: bool | None = None) -> _FaceLP | _PoolLP:
    """The face's LP, whose ``vertex`` is a vertex of the face maximising the preference: on
    large instances (``restricted``: above ``_SMALL_MODEL_ABOVE`` units) a model of a pool of
    units, by column generation over the units (``_PoolLP``); else the quota polytope's model
    (``_FaceLP``)."""
    # restricting the columns is exact only over the rows whose duals it reads (the diversity
    # bound adds variables of its own)
    if restricted is None:
        restricted = inst.n_units > _SMALL_MODEL_ABOVE and inst.diversity is None
    return _PoolLP(inst) if restricted else _FaceLP(inst)


class _FaceLP:
    """The face's LP on small instances: the quota polytope's GLOP model
    (``relaxation.polytope_lp``), whose bounds are moved in place to each face, warm-started
    from the last step's basis."""

    def __init__(self, inst: UnitInstance) -> None:
        self.inst = inst
        # the solves GLOP failed from the last basis and that were tried again afresh
        self.resets = 0
        self._fresh()

    def _fresh(self) -> None:
        """A new model at the whole polytope's bounds (``vertex`` moves them to the face's)."""
        inst = self.inst
        self.lp = polytope_lp(inst, GLOP_PARAMS)
        cap = inst.capacity.astype(np.float64)
        self.var_lo = np.zeros(inst.n_units)
        self.var_hi = cap
        self.value_lo = inst.value_min.astype(np.float64)
        self.value_hi = inst.value_max.astype(np.float64)
        self.full = np.zeros(len(inst.households), dtype=bool)
        self.columns = np.array([var.index() for var in self.lp.x], dtype=np.int64)
        # the objective's coefficients in the model
        self.coefficient = np.zeros(inst.n_units)

    def vertex(
        self,
        preference: np.ndarray,
        var_lo: np.ndarray,
        var_hi: np.ndarray,
        value_lo: np.ndarray,
        value_hi: np.ndarray,
        full: np.ndarray,
        deadline: float | None = None,
    ) -> np.ndarray | None:
        """The face's vertex maximising ``preference @ x``, or None if GLOP finds no optimum,
        from the last basis nor in a model built afresh (``_PoolLP._solve``); TimeLimitReached
        if ``deadline`` (perf_counter seconds) passes before or during a solve."""
        for fresh in (False, True):
            if fresh:
                self.resets += 1
                self._fresh()
            x = self._solve(preference, var_lo, var_hi, value_lo, value_hi, full, deadline)
            if x is not None:
                return x
        return None

    def _solve(
        self,
        preference: np.ndarray,
        var_lo: np.ndarray,
        var_hi: np.ndarray,
        value_lo: np.ndarray,
        value_hi: np.ndarray,
        full: np.ndarray,
        deadline: float | None,
    ) -> np.ndarray | None:
        """``vertex``'s solve in the model as it stands, its bounds and coefficients moved to
        the face's."""
        var_lo = var_lo.astype(np.float64)
        var_hi = var_hi.astype(np.float64)
        lp = self.lp
        for u in np.flatnonzero((var_lo != self.var_lo) | (var_hi != self.var_hi)).tolist():
            lp.x[u].SetBounds(float(var_lo[u]), float(var_hi[u]))
        for v in np.flatnonzero((value_lo != self.value_lo) | (value_hi != self.value_hi)).tolist():
            ge, le = lp.value_rows[v]
            ge.SetLb(float(value_lo[v]))
            le.SetUb(float(value_hi[v]))
        for h in np.flatnonzero(full != self.full).tolist():
            lp.household_rows[h].SetLb(1.0 if full[h] else -lp.solver.infinity())
        self.var_lo, self.var_hi = var_lo, var_hi
        self.value_lo, self.value_hi = value_lo.astype(np.float64), value_hi.astype(np.float64)
        self.full = full.copy()
        objective = lp.solver.Objective()
        objective.SetMaximization()
        # only the coefficients that changed, of units free on the face (a count held fixed
        # adds a constant to the objective, whatever its coefficient): on ces11_k60 a third of
        # the 277,000 calls a walk made when every coefficient was set at every step
        update = np.flatnonzero((var_lo < var_hi) & (preference != self.coefficient))
        for u, weight in zip(update.tolist(), preference[update].tolist(), strict=True):
            objective.SetCoefficient(lp.x[u], weight)
        self.coefficient[update] = preference[update]
        if not solve_within(lp.solver, deadline):
            return None
        response = linear_solver_pb2.MPSolutionResponse()
        lp.solver.FillSolutionResponseProto(response)
        # (the model's other variables, the diversity bound's, are left out)
        return np.asarray(response.variable_value, dtype=np.float64)[self.columns]


class _PoolLP:
    """The face's LP on large instances: a GLOP model of the quota polytope's rows (the size,
    one ranged row per value, the households) whose columns are the units of a pool, every
    other unit held at 0 without a column; each row has an elastic slack at a cost of
    ``_ELASTIC`` a count, so that the LP over any pool is feasible and has duals.

    Each solve is column generation over the units: the candidates (every unit held above 0,
    and ``_FACE_CANDIDATES`` with the largest reduced price at the last solve's duals; after a
    solve that needed a value's slack, ``_FACE_PER_VALUE`` of that value's holders, for
    ``_WIDEN_AHEAD`` steps) are free, the pool's other columns held at 0; then the units whose
    reduced price (their coefficient less their rows' duals, computed in numpy for every unit)
    is positive are freed, ``_FACE_PRICED`` at most a round, given a column if they have none,
    and the LP solved again, until none is. With no slack left the vertex is then a vertex of
    the whole face maximising the preference; with slack left the LP over every unit without
    slacks decides (exact: the elastic LP's optimum is a bound on the face's).

    pywraplp hands GLOP the whole model at every solve, so a solve costs in proportion to the
    model's columns even when nothing changed (realistic7 n = 100,000, 20,144 columns: 33 ms of
    CPU for a solve of no pivot, where the polytope's model held every unit with most at 0); a
    pool keeps that small. It is rebuilt from the step's candidates once it holds
    ``_POOL_REBUILD`` columns and more than twice as many as the step frees.

    The objective is the preference divided by a scale, the median ratio of the preference to
    the coefficients of the pool's free units: a walk's next preference is its last one times t
    less the panel's units' part, so only the coefficients of the panel's units move by more
    than round-off (``_COEFFICIENT_TOL`` of the largest) and only those are set, not every free
    unit's (the preference only steers the walk: any vertex of the face is a step). The scaled
    objective has the same optimal vertices. Coefficients are set afresh, the largest 1, once
    the largest leaves [``_RESCALE_BELOW``, 1 / ``_RESCALE_BELOW``]."""

    def __init__(self, inst: UnitInstance) -> None:
        self.inst = inst
        n = inst.n_units
        # each value's holders and each household's members as (row, unit) entries
        self.value_of, self.unit_of = np.nonzero(inst.incidence)
        order = np.argsort(self.unit_of, kind="stable")
        starts = np.searchsorted(self.unit_of[order], np.arange(n + 1))
        by_unit = self.value_of[order]
        self.unit_values = [by_unit[starts[u] : starts[u + 1]].tolist() for u in range(n)]
        members = [(h, u) for h, household in enumerate(inst.households) for u in household]
        self.household_of = np.asarray([h for h, _ in members], dtype=np.int64)
        self.member = np.asarray([u for _, u in members], dtype=np.int64)
        self.unit_households: list[list[int]] = [[] for _ in range(n)]
        for h, u in members:
            self.unit_households[u].append(h)
        self.holders = inst.incidence.astype(bool)
        # the steps left that add each value's holders before their first solve
        self.widen_ahead = 0
        self.short = np.ones(inst.n_values, dtype=bool)
        # the last solve's price of each unit's rows (its duals), for every unit
        self.price = np.zeros(n)
        # the objective's coefficient of each unit (set in the model for its columns) and the
        # scale it is the preference over
        self.coefficient = np.zeros(n)
        self.scale = 1.0
        self.top = 0.0
        self.solves = 0
        self.rebuilds = 0
        # the solves GLOP failed from the last basis and that were tried again afresh
        self.resets = 0
        self._build(np.zeros(0, dtype=np.int64))

    def _build(self, units: np.ndarray) -> None:
        """A new model with a column for each of ``units`` (at bounds [0, 0]) and the rows at
        the whole polytope's bounds (``vertex`` moves them to the face's)."""
        inst = self.inst
        solver = pywraplp.Solver.CreateSolver("GLOP")
        solver.SetSolverSpecificParametersAsString(GLOP_PARAMS)
        self.solver = solver
        inf = solver.infinity()
        self.size = solver.Constraint(float(inst.k), float(inst.k))
        self.value_rows = [
            solver.Constraint(float(lo), float(hi))
            for lo, hi in zip(inst.value_min.tolist(), inst.value_max.tolist(), strict=True)
        ]
        self.household_rows = [solver.Constraint(-inf, 1.0) for _ in inst.households]
        self.value_lo = inst.value_min.astype(np.float64)
        self.value_hi = inst.value_max.astype(np.float64)
        self.full = np.zeros(len(inst.households), dtype=bool)
        objective = solver.Objective()
        objective.SetMaximization()
        # each row's elastic slack (a column that meets it at a cost of _ELASTIC a count): the
        # LP over the pool is then always feasible and its duals price in the units the face
        # needs; at the optimum over every unit the slacks are 0 unless the face has no point
        self.slacks = []
        rows = [self.size, *self.value_rows]
        for row, sign in [(row, 1.0) for row in rows + self.household_rows] + [
            (row, -1.0) for row in rows
        ]:
            slack = solver.NumVar(0.0, inf, "")
            row.SetCoefficient(slack, sign)
            objective.SetCoefficient(slack, -_ELASTIC)
            self.slacks.append(slack)
        self.slot = np.full(inst.n_units, -1, dtype=np.int64)
        self.units = np.zeros(0, dtype=np.int64)
        self.vars: list[pywraplp.Variable] = []
        self.applied_lo = np.zeros(0)
        self.applied_hi = np.zeros(0)
        self.applied = np.zeros(0)  # each column's coefficient in the model
        self._add(units)

    def _add(self, units: np.ndarray) -> None:
        """A column for each of ``units`` (none of which has one), held at 0."""
        if not len(units):
            return
        solver = self.solver
        objective = solver.Objective()
        start = len(self.vars)
        for u in units.tolist():
            var = solver.NumVar(0.0, 0.0, "")
            self.size.SetCoefficient(var, 1.0)
            for v in self.unit_values[u]:
                self.value_rows[v].SetCoefficient(var, 1.0)
            for h in self.unit_households[u]:
                self.household_rows[h].SetCoefficient(var, 1.0)
            objective.SetCoefficient(var, float(self.coefficient[u]))
            self.vars.append(var)
        self.slot[units] = np.arange(start, len(self.vars))
        self.units = np.concatenate([self.units, units])
        self.applied_lo = np.concatenate([self.applied_lo, np.zeros(len(units))])
        self.applied_hi = np.concatenate([self.applied_hi, np.zeros(len(units))])
        self.applied = np.concatenate([self.applied, self.coefficient[units]])

    def vertex(
        self,
        preference: np.ndarray,
        var_lo: np.ndarray,
        var_hi: np.ndarray,
        value_lo: np.ndarray,
        value_hi: np.ndarray,
        full: np.ndarray,
        deadline: float | None = None,
    ) -> np.ndarray | None:
        """The face's vertex maximising ``preference @ x``, or None if the face has no point;
        TimeLimitReached if ``deadline`` (perf_counter seconds) passes before or during a
        solve."""
        var_lo = var_lo.astype(np.float64)
        var_hi = var_hi.astype(np.float64)
        # a unit can be left out (held at 0) when 0 is within its bounds on the face
        optional = (var_lo == 0) & (var_hi > 0)
        self._rescale(preference, optional | (var_lo > 0))
        reduced = np.where(optional, self.coefficient - self.price, -np.inf)
        keep = var_lo > 0
        keep[_largest(reduced, _FACE_CANDIDATES)] = True
        keep &= optional | (var_lo > 0)
        widened = self.widen_ahead > 0
        if widened:
            # the last steps needed each value's holders: add them before the first solve
            self.widen_ahead -= 1
            self._add_holders(keep, optional, reduced)
        if len(self.vars) >= _POOL_REBUILD and len(self.vars) > 2 * int(keep.sum()):
            self.rebuilds += 1
            self._build(np.flatnonzero(keep))
        self._set_rows(value_lo, value_hi, full)
        while True:
            self._add(np.flatnonzero(keep & (self.slot < 0)))
            self._set_columns(keep, var_lo, var_hi)
            if not self._solve(deadline):
                return None
            values, slack, short = self._read()
            reduced = np.where(~keep & optional, self.coefficient - self.price, -np.inf)
            priced = reduced > _PRICE_EPS * self.top
            if priced.any():
                if slack > 0.0 and not widened:
                    # the candidates alone cannot meet the face's rows: the holders of the
                    # values whose rows they could not meet
                    widened = True
                    self.widen_ahead = _WIDEN_AHEAD
                    self.short = short
                    self._add_holders(keep, optional, reduced)
                keep[_largest(reduced, min(int(priced.sum()), _FACE_PRICED))] = True
                continue
            if slack <= _SLACK_EPS:
                return values
            # no unit can take up the slack: the face has no point, or the elastic cost was too
            # small against the preference; the LP over every unit without slacks decides
            return self._exact(keep | optional, var_lo, var_hi, deadline)

    def _add_holders(self, keep: np.ndarray, optional: np.ndarray, reduced: np.ndarray) -> None:
        """Keep ``_FACE_PER_VALUE`` of each value's holders, those of largest reduced price."""
        for holders in self.holders[self.short]:
            among = np.flatnonzero(holders & optional)
            keep[among[_largest(reduced[among], _FACE_PER_VALUE)]] = True

    def _exact(
        self, keep: np.ndarray, var_lo: np.ndarray, var_hi: np.ndarray, deadline: float | None
    ) -> np.ndarray | None:
        """The face's vertex by the LP over the units of ``keep``, its slacks held at 0; None
        if it has no point."""
        for slack in self.slacks:
            slack.SetUb(0.0)
        try:
            self._add(np.flatnonzero(keep & (self.slot < 0)))
            self._set_columns(keep, var_lo, var_hi)
            if not self._solve(deadline, elastic=False):
                return None
            return self._read()[0]
        finally:
            for slack in self.slacks:
                slack.SetUb(self.solver.infinity())

    def _solve(self, deadline: float | None, elastic: bool = True) -> bool:
        """Solve the model as it stands: whether GLOP reached an optimum, from the last basis
        or, failing that, in the same model built afresh; ``elastic``: the slacks are free
        (else held at 0).

        From its warm start GLOP can report ABNORMAL after no iteration where the same model
        solved afresh is optimal in some 200 iterations: realistic7 n = 10,000 k = 50, MAXIMIN's
        walk, steps 239 to 251, every vertex and shaken vertex of 13 faces in a row, which
        CP-SAT then filled on the whole face (3 to 12 s wall each, 91 s of the walk's 156 at a
        load of 5; the run 69.6 -> 33.0 s of CPU solved afresh)."""
        self.solves += 1
        if solve_within(self.solver, deadline):
            return True
        self.resets += 1
        lo, hi = self.applied_lo, self.applied_hi
        value_lo, value_hi, full = self.value_lo, self.value_hi, self.full
        self._build(self.units.copy())
        for j in np.flatnonzero((lo != 0.0) | (hi != 0.0)).tolist():
            self.vars[j].SetBounds(float(lo[j]), float(hi[j]))
        self.applied_lo, self.applied_hi = lo, hi
        self._set_rows(value_lo, value_hi, full)
        if not elastic:
            for slack in self.slacks:
                slack.SetUb(0.0)
        self.solves += 1
        return solve_within(self.solver, deadline)

    def _rescale(self, preference: np.ndarray, free: np.ndarray) -> None:
        """The coefficients (``coefficient``) for ``preference``: divided by the scale at which
        most of the model's free columns keep theirs (see the class)."""
        in_model = self.units[free[self.units] & (self.coefficient[self.units] > 0.0)]
        ratio = preference[in_model] / self.coefficient[in_model]
        scale = float(np.median(ratio)) if len(ratio) else 0.0
        top = float(np.abs(preference[free]).max(initial=0.0))
        if not scale > 0.0 or not _RESCALE_BELOW <= top / scale <= 1.0 / _RESCALE_BELOW:
            scale = top if top > 0.0 else 1.0  # set afresh: the largest coefficient is 1
        coefficient = preference / scale
        moved = np.abs(coefficient - self.coefficient) > _COEFFICIENT_TOL * (top / scale)
        self.coefficient = np.where(moved, coefficient, self.coefficient)
        self.scale = scale
        self.top = float(np.abs(self.coefficient[free]).max(initial=0.0))

    def _set_rows(self, value_lo: np.ndarray, value_hi: np.ndarray, full: np.ndarray) -> None:
        """The rows' bounds on the face (only those that moved)."""
        value_lo = value_lo.astype(np.float64)
        value_hi = value_hi.astype(np.float64)
        for v in np.flatnonzero((value_lo != self.value_lo) | (value_hi != self.value_hi)).tolist():
            self.value_rows[v].SetBounds(float(value_lo[v]), float(value_hi[v]))
        for h in np.flatnonzero(full != self.full).tolist():
            self.household_rows[h].SetLb(1.0 if full[h] else -self.solver.infinity())
        self.value_lo, self.value_hi, self.full = value_lo, value_hi, full.copy()

    def _set_columns(self, keep: np.ndarray, var_lo: np.ndarray, var_hi: np.ndarray) -> None:
        """The columns' bounds (the face's for the units kept, else 0) and coefficients (of
        the units kept), only those that moved."""
        units = self.units
        kept = keep[units]
        lo = np.where(kept, var_lo[units], 0.0)
        hi = np.where(kept, var_hi[units], 0.0)
        for j in np.flatnonzero((lo != self.applied_lo) | (hi != self.applied_hi)).tolist():
            self.vars[j].SetBounds(float(lo[j]), float(hi[j]))
        self.applied_lo, self.applied_hi = lo, hi
        coefficient = self.coefficient[units]
        objective = self.solver.Objective()
        update = np.flatnonzero(kept & (coefficient != self.applied))
        for j, weight in zip(update.tolist(), coefficient[update].tolist(), strict=True):
            objective.SetCoefficient(self.vars[j], weight)
        self.applied[update] = coefficient[update]

    def _read(self) -> tuple[np.ndarray, float, np.ndarray]:
        """The last solve's counts of every unit (0 without a column), the sum of its slacks
        and which values' rows need theirs (every value's when the size's or a household's
        does); its duals priced into ``price`` for every unit."""
        response = linear_solver_pb2.MPSolutionResponse()
        self.solver.FillSolutionResponseProto(response)
        values = np.asarray(response.variable_value, dtype=np.float64)
        x = np.zeros(self.inst.n_units)
        x[self.units] = values[len(self.slacks) :]
        dual = np.asarray(response.dual_value, dtype=np.float64)
        n_values = self.inst.n_values
        price = np.full(self.inst.n_units, dual[0])
        price += np.bincount(self.unit_of, weights=dual[1 + self.value_of], minlength=len(price))
        if len(self.member):
            household = dual[1 + n_values + self.household_of]
            price += np.bincount(self.member, weights=household, minlength=len(price))
        self.price = price
        slacks = values[: len(self.slacks)]
        # (the slacks: the size's, each value's, each household's up, then the size's and each
        # value's down)
        up, down = slacks[: 1 + n_values], slacks[-1 - n_values :]
        short = (up[1:] > _SLACK_EPS) | (down[1:] > _SLACK_EPS)
        households = slacks[1 + n_values : -1 - n_values]
        if up[0] > _SLACK_EPS or down[0] > _SLACK_EPS or (households > _SLACK_EPS).any():
            short[:] = True
        return x, float(slacks.sum()), short


def _largest(values: np.ndarray, count: int) -> np.ndarray:
    """The positions of the ``count`` largest values (the first of equal values first): the
    stable sort's first ``count``, found by a partition that keeps every value tied with the
    last one, then sorting only those (a sort of every unit's value took 23 ms a step at 20,144
    units)."""
    if count >= len(values):
        return np.argsort(-values, kind="stable")
    threshold = np.partition(values, len(values) - count)[len(values) - count]
    near = np.flatnonzero(values >= threshold)
    return near[np.argsort(-values[near], kind="stable")[:count]]


class VertexPanels:
    """Panels from vertices of the quota polytope's LP, rounded and repaired as a walk step's
    (``_FaceModel.lp_panel``) but with no bound held tight: cheap panels for the covering pass.
    ``panel`` returns None when the vertex gives none; the caller then asks CP-SAT."""

    def __init__(self, inst: UnitInstance, seed: int) -> None:
        self.tally = WalkTally()
        self.faces = _FaceModel(inst, seed, True, self.tally)
        self.face = self.faces.whole()

    def panel(self, preference: np.ndarray) -> np.ndarray | None:
        return self.faces.lp_panel(preference, self.face)[0]


class _FaceModel:
    """The panels on a face: a vertex of the face's LP, rounded, when it meets every row of the
    panel model; else CP-SAT moves the counts near its fractional ones; else CP-SAT searches the
    whole face (the fallback, which also proves a face empty). One CP-SAT model of the panels
    serves both, its bounds tightened in place for each face."""

    def __init__(
        self,
        inst: UnitInstance,
        seed: int,
        cheap: bool,
        tally: WalkTally,
        deadline: float | None = None,
    ) -> None:
        self.inst = inst
        self.seed = seed
        self.tally = tally
        built = panel_model(inst)
        self.model = built.model
        self.value_rows = built.value_rows
        self.household_rows = built.household_rows
        # a household row's lower bound when the household need not be on the panel
        proto = self.model.proto
        self.household_floor = [
            int(proto.constraints[i].linear.domain[0]) for i in self.household_rows
        ]
        self.rows = _Rows(proto, inst.n_units, built.diversity_rows)
        self.diversity = inst.diversity
        # with a diversity bound, the repair moves counts in the model without it (its
        # deviation variables made a repair's small budget find nothing) and the bound is then
        # checked exactly; CP-SAT on the whole face keeps it
        self.repairs = (
            self
            if inst.diversity is None
            else _FaceModel(replace(inst, diversity=None), seed, False, tally, deadline)
        )
        self.domain_lo = np.zeros(inst.n_units, dtype=np.int64)
        self.domain_hi = inst.capacity.astype(np.int64)
        self.lp = _face_lp(inst) if cheap and self.rows.usable else None
        # each feature's value of every unit, as a compact array
        values = SwapSearch(inst).values
        dtype = np.int16 if inst.n_values < 2**15 else np.int64
        self.features = [np.ascontiguousarray(column, dtype=dtype) for column in values.T]
        self.shake = np.random.default_rng(seed)
        # the face LP's solves and CP-SAT's searches stop at this perf_counter instant
        # (``face_walk``'s deadline): TimeLimitReached
        self.deadline = deadline
        # the steps asked for (``panel`` calls), what the last vertex tried gave, and how
        # CP-SAT's last search on the face ended and on which budget (``Fallback``)
        self.steps = 0
        self.attempt = Attempt()
        self.outcome = ""
        self.budget = 0.0

    def panel(
        self,
        preference: np.ndarray,
        at_zero: np.ndarray,
        at_cap: np.ndarray,
        at_lo: np.ndarray,
        at_hi: np.ndarray,
        full: list[bool],
    ) -> np.ndarray | None:
        """A feasible panel with every tight bound held tight, preferring units by
        ``preference``; None if CP-SAT finds none within its budget."""
        inst = self.inst
        cap = inst.capacity
        face = _Face(
            var_lo=np.where(at_cap, cap, 0),
            var_hi=np.where(at_zero, 0, cap),
            value_lo=np.where(at_hi, inst.value_max, inst.value_min),
            value_hi=np.where(at_lo, inst.value_min, inst.value_max),
            full=np.asarray(full, dtype=bool),
        )
        self.steps += 1
        panel, x = self.lp_panel(preference, face)
        if panel is not None:
            return panel
        attempts = [self.attempt]
        if self.inst.n_units > _SMALL_MODEL_ABOVE:
            # other vertices of the face, of the preference shaken a little, before CP-SAT on
            # the whole face
            for shake in _SHAKES:
                factor = self.shake.uniform(1.0 - shake, 1.0 + shake, len(preference))
                panel, _ = self.lp_panel(preference * factor, face)
                if panel is not None:
                    return panel
                attempts.append(self.attempt)
        tally = self.tally
        started = time.perf_counter()
        hint = None if x is None else np.clip(np.rint(x), face.var_lo, face.var_hi)
        panel = self._cp_sat(preference, face, face.var_lo, face.var_hi, hint, _PANEL_BUDGETS)
        seconds = time.perf_counter() - started
        tally.cp_seconds += seconds
        tally.cp_panels += 1
        movable = face.var_lo < face.var_hi
        tally.fallbacks.append(
            Fallback(
                step=self.steps - 1,
                at_zero=int((face.var_hi == 0).sum()),
                at_cap=int(((face.var_lo == cap) & (cap > 0)).sum()),
                free_units=int(movable.sum()),
                at_lo=int(at_lo.sum()),
                at_hi=int(at_hi.sum()),
                full=int(face.full.sum()),
                attempts=attempts,
                outcome=self.outcome,
                budget=self.budget,
                seconds=seconds,
            )
        )
        return panel

    def lp_panel(
        self, preference: np.ndarray, face: _Face
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The panel of the face's LP vertex that maximises ``preference`` (rounded, repaired)
        and the vertex; (None, the vertex or None) when there is none."""
        self.attempt = Attempt()
        if self.lp is None:
            return None, None
        started = time.perf_counter()
        resets = self.lp.resets
        x = self.lp.vertex(
            preference,
            face.var_lo,
            face.var_hi,
            face.value_lo,
            face.value_hi,
            face.full,
            self.deadline,
        )
        self.tally.lp_resets += self.lp.resets - resets
        panel = None if x is None else self._repair(x, face, preference)
        self.tally.lp_seconds += time.perf_counter() - started
        if panel is not None:
            self.tally.lp_panels += 1
        return panel, x

    def whole(self) -> _Face:
        """The whole polytope as a face: no bound held tight."""
        inst = self.inst
        return _Face(
            var_lo=np.zeros(inst.n_units, dtype=np.int64),
            var_hi=inst.capacity.copy(),
            value_lo=inst.value_min.copy(),
            value_hi=inst.value_max.copy(),
            full=np.zeros(len(inst.households), dtype=bool),
        )

    def _row_bounds(self, face: _Face) -> tuple[np.ndarray, np.ndarray]:
        """The panel model's row bounds on the face."""
        lo, hi = self.rows.lo.copy(), self.rows.hi.copy()
        for v, index in enumerate(self.value_rows):
            if index is not None:
                lo[index], hi[index] = face.value_lo[v], face.value_hi[v]
        for index, floor, is_full in zip(
            self.household_rows, self.household_floor, face.full.tolist(), strict=True
        ):
            lo[index] = 1.0 if is_full else float(floor)
        return lo, hi

    def _repair(self, x: np.ndarray, face: _Face, preference: np.ndarray) -> np.ndarray | None:
        """The LP vertex ``x`` rounded to counts, if that meets every row of the panel model;
        else a panel that keeps every count of the rounding but those of the units near the
        fractional ones (themselves and the units that differ from one of them in at most
        ``radius`` features, radius 1 then 2), which the numpy search moves within the face's
        bounds, or failing that CP-SAT (radius 2 only on large instances; there a small model
        of those counts alone); None if none is found."""
        lo, hi = self._row_bounds(face)
        counts = np.clip(np.rint(x), face.var_lo, face.var_hi)
        if self._is_panel(counts, lo, hi):
            self.tally.rounded_panels += 1
            return counts.astype(np.int64)
        fractional = np.flatnonzero(np.abs(x - np.rint(x)) > _FRACTIONAL)
        attempt = self.attempt
        attempt.fractional = len(fractional)
        activity = self.rows.sparse.activity(counts)
        attempt.broken_rows = int(((activity < lo) | (activity > hi)).sum())
        if len(fractional) > _REPAIR_UNITS:
            return None
        movable = face.var_lo < face.var_hi
        # each unit's fewest features in which it differs from a fractional one (feature by
        # feature over a small dtype: a tenth of a millisecond a fractional count at 6,031
        # units, where comparing whole rows of int64 took half a millisecond; in chunks, so that
        # a million units take little memory)
        n_features = len(self.features)
        small: type[np.unsignedinteger[Any]] = np.uint8 if n_features < 255 else np.uint16
        nearest: np.ndarray = np.full(self.inst.n_units, n_features + 1, dtype=small)
        for start in range(0, len(fractional), 32):
            chunk = fractional[start : start + 32]
            differ = np.zeros((len(chunk), self.inst.n_units), dtype=small)
            for feature in self.features:
                differ += feature[None, :] != feature[chunk][:, None]
            nearest = np.minimum(nearest, differ.min(axis=0))
        frees: list[np.ndarray] = []
        for radius in _REPAIR_RADII:
            free = np.flatnonzero((nearest <= radius) & movable)
            if not frees or len(free) > len(frees[-1]):
                frees.append(free)
        attempt.frees = tuple(len(free) for free in frees)
        attempt.numpy = False
        started = time.perf_counter()
        for free in frees:
            panel = repair_counts(
                counts.astype(np.int64),
                face.var_lo,
                face.var_hi,
                self.rows.sparse,
                lo,
                hi,
                free,
                preference,
                moves=_NUMPY_MOVES,
                polish=_NUMPY_POLISH,
            )
            if panel is not None and self._is_panel(panel, lo, hi):
                self.tally.numpy_seconds += time.perf_counter() - started
                self.tally.numpy_panels += 1
                attempt.numpy = True
                return panel
        self.tally.numpy_seconds += time.perf_counter() - started
        if self.inst.n_units <= _SMALL_MODEL_ABOVE:
            frees = frees[:1]
        started = time.perf_counter()
        panel = self._cp_sat_repair(preference, face, lo, hi, counts, frees)
        self.tally.cp_repair_seconds += time.perf_counter() - started
        attempt.cp_repair = panel is not None
        if panel is not None:
            self.tally.cp_repair_panels += 1
        return panel

    def _is_panel(self, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        """``counts`` meet every row of the panel model within ``lo``/``hi`` (the face's) and
        the diversity bound, if any."""
        return not self.rows.violated(counts, lo, hi) and (
            self.diversity is None or self.diversity.allows(counts)
        )

    def _cp_sat_repair(
        self,
        preference: np.ndarray,
        face: _Face,
        lo: np.ndarray,
        hi: np.ndarray,
        counts: np.ndarray,
        frees: list[np.ndarray],
    ) -> np.ndarray | None:
        """CP-SAT's panel moving only the counts of ``frees`` (one set after the other, each
        with its budget); None if none is found."""
        large = self.inst.n_units > _SMALL_MODEL_ABOVE
        for free, budget in zip(frees, _REPAIR_BUDGETS, strict=False):
            if large:
                panel = self._small_cp_sat(preference, face, lo, hi, counts, free, budget)
            else:
                is_free = np.zeros(self.inst.n_units, dtype=bool)
                is_free[free] = True
                low = np.where(is_free, face.var_lo, counts)
                high = np.where(is_free, face.var_hi, counts)
                panel = self.repairs._cp_sat(preference, face, low, high, counts, (budget,))
            if panel is not None and (self.diversity is None or self.diversity.allows(panel)):
                return panel
        return None

    def _small_cp_sat(
        self,
        preference: np.ndarray,
        face: _Face,
        lo: np.ndarray,
        hi: np.ndarray,
        counts: np.ndarray,
        free: np.ndarray,
        budget: float,
    ) -> np.ndarray | None:
        """A panel equal to ``counts`` outside ``free``, its ``free`` counts found by a CP-SAT
        model of those counts alone (each within the face's bounds; each row of the panel
        model over them, its bounds less the fixed counts' part), maximising the preference
        from the rounding; None if that model has no solution within its budget.

        Loading CP-SAT's model of every unit cost more than the search for a few dozen free
        counts (realistic7 n = 10,000: 6,031 counts)."""
        rows = self.rows
        is_free = np.zeros(self.inst.n_units, dtype=bool)
        is_free[free] = True
        entry_free = is_free[rows.col]
        fixed = np.bincount(
            rows.row,
            weights=np.where(entry_free, 0.0, rows.coeff * counts[rows.col]),
            minlength=rows.n_rows,
        )
        touched = np.zeros(rows.n_rows, dtype=bool)
        touched[rows.row[entry_free]] = True
        if ((fixed < lo) | (fixed > hi))[~touched].any():
            return None  # a row the free counts cannot mend
        model = cp_model.CpModel()
        position = np.full(self.inst.n_units, -1, dtype=np.int64)
        position[free] = np.arange(len(free))
        x = [model.new_int_var(int(face.var_lo[u]), int(face.var_hi[u]), "") for u in free.tolist()]
        entries = np.flatnonzero(entry_free)  # in row order (the rows were read in order)
        entry_rows = rows.row[entries]
        # how far a row's free part can reach either way: its bounds are clipped to that
        reach = np.bincount(
            entry_rows,
            weights=np.abs(rows.coeff[entries]) * face.var_hi[rows.col[entries]],
            minlength=rows.n_rows,
        )
        starts = np.flatnonzero(np.r_[True, entry_rows[1:] != entry_rows[:-1]])
        ends = np.r_[starts[1:], len(entries)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            i = int(entry_rows[start])
            cols = position[rows.col[entries[start:end]]].tolist()
            coeffs = rows.coeff[entries[start:end]].astype(np.int64).tolist()
            low = max(float(lo[i] - fixed[i]), -float(reach[i]))
            high = min(float(hi[i] - fixed[i]), float(reach[i]))
            if np.ceil(low) > np.floor(high):
                return None  # the fixed counts alone break this row beyond the free ones' reach
            expr = cp_model.LinearExpr.weighted_sum([x[j] for j in cols], coeffs)
            model.add_linear_constraint(expr, int(np.ceil(low)), int(np.floor(high)))
        weights = preference[free]
        top = float(np.abs(weights).max(initial=0.0))
        scale = _PREFERENCE_SCALE / top if top > 0 else 1.0
        model.maximize(
            cp_model.LinearExpr.weighted_sum(x, np.rint(weights * scale).astype(np.int64).tolist())
        )
        for var, count in zip(x, counts[free].astype(np.int64).tolist(), strict=True):
            model.add_hint(var, count)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.seed
        solver.parameters.cp_model_presolve = False  # (with it, 0.01 found no panel at all)
        solver.parameters.max_deterministic_time = budget
        status = search(solver, model, self.deadline)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        panel = counts.astype(np.int64)
        panel[free] = [solver.value(var) for var in x]
        return None if self.rows.violated(panel, lo, hi) else panel

    def _cp_sat(
        self,
        preference: np.ndarray,
        face: _Face,
        var_lo: np.ndarray,
        var_hi: np.ndarray,
        hint: np.ndarray | None,
        budgets: tuple[float, ...],
    ) -> np.ndarray | None:
        """CP-SAT's panel on the face with each count within [var_lo, var_hi], or None if it
        finds none within its budgets; ``hint``: where CP-SAT starts its search."""
        proto = self.model.proto
        # only the domains that differ from the last call's (at scale, writing thousands of
        # domains into the proto each step cost more than CP-SAT's search)
        changed = (var_lo != self.domain_lo) | (var_hi != self.domain_hi)
        for u in np.flatnonzero(changed).tolist():
            domain = proto.variables[u].domain
            domain[0] = int(var_lo[u])
            domain[1] = int(var_hi[u])
        self.domain_lo = var_lo.astype(np.int64)
        self.domain_hi = var_hi.astype(np.int64)
        for v, index in enumerate(self.value_rows):
            if index is None:
                continue
            domain = proto.constraints[index].linear.domain
            domain[0] = int(face.value_lo[v])
            domain[1] = int(face.value_hi[v])
        for index, floor, is_full in zip(
            self.household_rows, self.household_floor, face.full.tolist(), strict=True
        ):
            proto.constraints[index].linear.domain[0] = 1 if is_full else floor
        set_objective(self.model, preference, _PREFERENCE_SCALE)
        proto.clear_solution_hint()
        if hint is not None:
            proto.solution_hint.vars.extend(range(len(hint)))
            proto.solution_hint.values.extend(hint.astype(np.int64).tolist())
        self.outcome = "unknown"
        for budget in budgets:
            self.budget = budget
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            solver.parameters.random_seed = self.seed
            solver.parameters.cp_model_presolve = False
            solver.parameters.max_deterministic_time = budget
            status = search(solver, self.model, self.deadline)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                self.outcome = "found"
                solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
                return solution[: self.inst.n_units]
            if status == cp_model.INFEASIBLE:
                self.outcome = "empty"
                return None
        return None


@dataclass(frozen=True)
class _Face:
    """The bounds of a face: each count's, each value's and which households are full."""

    var_lo: np.ndarray
    var_hi: np.ndarray
    value_lo: np.ndarray
    value_hi: np.ndarray
    full: np.ndarray


def face_walk(
    inst: UnitInstance,
    target: np.ndarray,
    *,
    deadline: float | None = None,
    seed: int = 0,
    jitter: float = 0.0,
    on_step: Callable[[int], None] | None = None,
    cheap: bool = True,
    tally: WalkTally | None = None,
    weights: list[float] | None = None,
    rest: list[np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Panels whose mixture is (nearly) ``target``, a point of the quota polytope in counts.

    Stops early, returning the panels found, when a face has no panel within CP-SAT's budget,
    when the walk would leave the polytope, or at ``deadline`` (perf_counter seconds). With
    ``jitter`` > 0 each unit's preference is multiplied by a factor drawn once from
    [1 - jitter, 1 + jitter] (from ``seed``), so that walks with different seeds take different
    panels. ``on_step`` is called with the number of panels taken after each step.

    ``weights``, when given, receives each panel's weight in the decomposition: a step
    y = (1 - 1/t) v + (1/t) y' gives v the weight (1 - 1/t) of what is left, and a last panel
    equal to y (up to round-off) all of it. They sum to 1 less the weight left at the last point
    (below ``_SMALLEST_WEIGHT`` when the walk ran to its end). ``rest``, when given, receives the
    last point y when weight is left there (the panels' mixture is the target less that weight
    times y): a walk from it decomposes what is left.
    """
    cap = inst.capacity.astype(np.float64)
    incidence = _ValueCounts(inst)
    lo = inst.value_min.astype(np.float64)
    hi = inst.value_max.astype(np.float64)
    households = [list(h) for h in inst.households]
    limit = 2 * inst.n_units + 10  # each step makes one more bound tight
    factor = np.ones(inst.n_units)
    if jitter > 0.0:
        factor = np.random.default_rng(seed).uniform(1.0 - jitter, 1.0 + jitter, inst.n_units)
    faces = _FaceModel(inst, seed, cheap, WalkTally() if tally is None else tally, deadline)
    y = np.clip(np.asarray(target, dtype=np.float64), 0.0, cap)
    weight = 1.0
    panels: list[np.ndarray] = []
    for _ in range(limit):
        if weight < _SMALLEST_WEIGHT or (deadline is not None and time.perf_counter() >= deadline):
            break
        tol = min(_TIGHT / weight, _TIGHT_CAP)
        row_tol = min(_TIGHT_ROW / weight, _TIGHT_CAP)
        at_zero = y <= tol
        at_cap = y >= cap - tol
        counts = incidence @ y
        at_lo = np.abs(counts - lo) <= row_tol
        at_hi = np.abs(counts - hi) <= row_tol
        full = [abs(float(y[h].sum()) - 1.0) <= row_tol for h in households]
        try:
            panel = faces.panel(factor * y / cap, at_zero, at_cap, at_lo, at_hi, full)
        except TimeLimitReached:
            break  # the deadline passed during a face LP's solve or CP-SAT's search
        if panel is None:
            break
        v = panel.astype(np.float64)
        direction = y - v
        if np.abs(direction).max() <= _STEP_EPS:
            _take(panels, weights, panel, weight)
            weight = 0.0
            break
        held = (at_zero | at_cap, at_lo | at_hi, full)
        t = _exit_time(v, direction, cap, incidence, lo, hi, households, held, counts)
        if t == np.inf:
            # the direction lies along bounds already tight: y is the panel up to round-off
            _take(panels, weights, panel, weight)
            weight = 0.0
            break
        if not t > 1.0:
            break
        _take(panels, weights, panel, weight * (1.0 - 1.0 / t))
        weight /= t
        y = np.clip(v + t * direction, 0.0, cap)
        if on_step is not None:
            on_step(len(panels))
    if rest is not None and weight > 0.0:
        rest.append(y)
    return panels


class _ValueCounts:
    """``incidence @ x``: each value's count at a point. Above _SMALL_MODEL_ABOVE units by
    adding up the units' entries (numpy's bincount) rather than a float matrix product: that
    calls OpenBLAS, whose threads cost milliseconds a call on a loaded machine (realistic7
    n = 100,000, 20,144 units: the step's three products took 44 ms of its 240)."""

    def __init__(self, inst: UnitInstance) -> None:
        self.n_values = inst.n_values
        self.dense = (
            inst.incidence.astype(np.float64) if inst.n_units <= _SMALL_MODEL_ABOVE else None
        )
        self.value, self.unit = np.nonzero(inst.incidence)
        self.entries = SparseRows(self.value, self.unit, np.ones(len(self.value)), self.n_values)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return np.asarray(self.dense @ x)
        return np.bincount(self.value, weights=x[self.unit], minlength=self.n_values)

    def of_panel(self, panel: np.ndarray) -> np.ndarray:
        """``self @ panel`` for a panel's whole counts, over its nonzero counts alone."""
        if self.dense is not None:
            return np.asarray(self.dense @ panel)
        return self.entries.activity(panel)


def _take(
    panels: list[np.ndarray], weights: list[float] | None, panel: np.ndarray, weight: float
) -> None:
    """Keep a walk's panel (compactly: ``compact_panel``) and, if asked, its weight."""
    panels.append(compact_panel(panel))
    if weights is not None:
        weights.append(weight)


def _exit_time(
    v: np.ndarray,
    direction: np.ndarray,
    cap: np.ndarray,
    incidence: _ValueCounts,
    lo: np.ndarray,
    hi: np.ndarray,
    households: list[list[int]],
    held: tuple[np.ndarray, np.ndarray, list[bool]],
    counts: np.ndarray,
) -> float:
    """The largest t with v + t * direction in the polytope; the bounds tight on the face
    (units, quota rows, households) are left out, the direction keeps them up to round-off.
    ``counts``: each value's count at the point v + direction (above _SMALL_MODEL_ABOVE units
    the direction's counts are those less the panel's, which take its few nonzero counts)."""
    held_units, held_values, held_households = held
    t = np.inf
    free = ~held_units
    down = free & (direction < -_STEP_EPS)
    up = free & (direction > _STEP_EPS)
    if down.any():
        t = min(t, float((v[down] / -direction[down]).min()))
    if up.any():
        t = min(t, float(((cap[up] - v[up]) / direction[up]).min()))
    if incidence.dense is not None:
        cv = incidence @ v
        cd = incidence @ direction
    else:
        cv = incidence.of_panel(v)
        cd = counts - cv
    down_v = ~held_values & (cd < -_STEP_EPS)
    up_v = ~held_values & (cd > _STEP_EPS)
    if down_v.any():
        t = min(t, float(((cv[down_v] - lo[down_v]) / -cd[down_v]).min()))
    if up_v.any():
        t = min(t, float(((hi[up_v] - cv[up_v]) / cd[up_v]).min()))
    for h, is_held in zip(households, held_households, strict=True):
        dh = float(direction[h].sum())
        if not is_held and dh > _STEP_EPS:
            t = min(t, (1.0 - float(v[h].sum())) / dh)
    return t
