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
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.pricing import panel_model, set_objective
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


class _FaceModel:
    """One CP-SAT model of the panels, whose bounds are tightened in place for each face."""

    def __init__(self, inst: UnitInstance, seed: int) -> None:
        self.inst = inst
        self.seed = seed
        built = panel_model(inst)
        self.model = built.model
        self.value_rows = built.value_rows
        self.household_rows = built.household_rows
        # a household row's lower bound when the household need not be on the panel
        proto = self.model.proto
        self.household_floor = [
            int(proto.constraints[i].linear.domain[0]) for i in self.household_rows
        ]

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
        proto = self.model.proto
        cap = inst.capacity
        for u in range(inst.n_units):
            domain = proto.variables[u].domain
            domain[0] = int(cap[u]) if at_cap[u] else 0
            domain[1] = 0 if at_zero[u] else int(cap[u])
        for v, index in enumerate(self.value_rows):
            if index is None:
                continue
            domain = proto.constraints[index].linear.domain
            domain[0] = int(inst.value_max[v]) if at_hi[v] else int(inst.value_min[v])
            domain[1] = int(inst.value_min[v]) if at_lo[v] else int(inst.value_max[v])
        for index, floor, is_full in zip(
            self.household_rows, self.household_floor, full, strict=True
        ):
            proto.constraints[index].linear.domain[0] = 1 if is_full else floor
        set_objective(self.model, preference, _PREFERENCE_SCALE)
        for budget in _PANEL_BUDGETS:
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            solver.parameters.random_seed = self.seed
            solver.parameters.cp_model_presolve = False
            solver.parameters.max_deterministic_time = budget
            status = solve_cp_sat(solver, self.model)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
                return solution[: inst.n_units]
            if status == cp_model.INFEASIBLE:
                return None
        return None


def face_walk(
    inst: UnitInstance,
    target: np.ndarray,
    *,
    deadline: float | None = None,
    seed: int = 0,
    jitter: float = 0.0,
    on_step: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """Panels whose mixture is (nearly) ``target``, a point of the quota polytope in counts.

    Stops early, returning the panels found, when a face has no panel within CP-SAT's budget,
    when the walk would leave the polytope, or at ``deadline`` (perf_counter seconds). With
    ``jitter`` > 0 each unit's preference is multiplied by a factor drawn once from
    [1 - jitter, 1 + jitter] (from ``seed``), so that walks with different seeds take different
    panels. ``on_step`` is called with the number of panels taken after each step.
    """
    cap = inst.capacity.astype(np.float64)
    incidence = inst.incidence.astype(np.float64)
    lo = inst.value_min.astype(np.float64)
    hi = inst.value_max.astype(np.float64)
    households = [list(h) for h in inst.households]
    limit = 2 * inst.n_units + 10  # each step makes one more bound tight
    factor = np.ones(inst.n_units)
    if jitter > 0.0:
        factor = np.random.default_rng(seed).uniform(1.0 - jitter, 1.0 + jitter, inst.n_units)
    faces = _FaceModel(inst, seed)
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
        panel = faces.panel(factor * y / cap, at_zero, at_cap, at_lo, at_hi, full)
        if panel is None:
            break
        v = panel.astype(np.float64)
        direction = y - v
        if np.abs(direction).max() <= _STEP_EPS:
            panels.append(panel)
            break
        held = (at_zero | at_cap, at_lo | at_hi, full)
        t = _exit_time(v, direction, cap, incidence, lo, hi, households, held)
        if t == np.inf:
            # the direction lies along bounds already tight: y is the panel up to round-off
            panels.append(panel)
            break
        if not t > 1.0:
            break
        panels.append(panel)
        weight /= t
        y = np.clip(v + t * direction, 0.0, cap)
        if on_step is not None:
            on_step(len(panels))
    return panels


def _exit_time(
    v: np.ndarray,
    direction: np.ndarray,
    cap: np.ndarray,
    incidence: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    households: list[list[int]],
    held: tuple[np.ndarray, np.ndarray, list[bool]],
) -> float:
    """The largest t with v + t * direction in the polytope; the bounds tight on the face
    (units, quota rows, households) are left out, the direction keeps them up to round-off."""
    held_units, held_values, held_households = held
    t = np.inf
    free = ~held_units
    down = free & (direction < -_STEP_EPS)
    up = free & (direction > _STEP_EPS)
    if down.any():
        t = min(t, float((v[down] / -direction[down]).min()))
    if up.any():
        t = min(t, float(((cap[up] - v[up]) / direction[up]).min()))
    cv = incidence @ v
    cd = incidence @ direction
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
